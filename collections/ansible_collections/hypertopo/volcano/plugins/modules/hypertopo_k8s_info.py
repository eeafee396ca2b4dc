# Copyright: hypertopo contributors
# Apache-2.0
# Documentation only: the action plugin hypertopo_k8s_info (plugins/action/) is the code.

DOCUMENTATION = r"""
module: hypertopo_k8s_info
short_description: kubernetes.core.k8s_info, run in the controller process when the host is the controller
description:
  - Reads Kubernetes objects exactly as C(kubernetes.core.k8s_info) does, with its options, its
    client and authentication (kubeconfig, context, C(K8S_AUTH_*) variables, ...), its search and its
    result. When the task's host is the controller itself (a C(local) connection, as in every play of
    this collection), the module's own code runs in the controller's worker process, without a module
    process, which for C(kubernetes.core.k8s_info) costs 0.6-0.8 s of CPU per read (a Python start and
    the import of the Kubernetes client). The roles poll the cluster with it while they wait.
  - The options are those of C(kubernetes.core.k8s_info) (its authentication options included, and the
    C(K8S_AUTH_*) variables that stand in for them), checked with the module's own argument
    specification; the values of C(no_log) options are masked in the result as a module masks them.
  - The module_defaults of C(kubernetes.core.k8s_info) and of the groups holding it
    (C(group/kubernetes.core.k8s), C(group/hypertopo.volcano.k8s)) apply, under the task's own
    options.
  - Anywhere else the module C(kubernetes.core.k8s_info) runs instead, with the same options - on
    another connection, with a task C(environment) (a module process sees it, the controller process
    does not), or when the controller's Python lacks the Kubernetes client.
options:
  kind:
    description: The object kind, as for C(kubernetes.core.k8s_info).
    type: str
    required: true
  label_selectors:
    description: Label selectors that filter the result.
    type: list
    elements: str
    default: []
  field_selectors:
    description: Field selectors that filter the result.
    type: list
    elements: str
    default: []
  hidden_fields:
    description: Fields left out of the result, e.g. C(metadata.managedFields).
    type: list
    elements: str
  api_version:
    description: The API group and version of O(kind). As for C(kubernetes.core.k8s_info).
    type: str
    default: v1
    aliases: [api, version]
  name:
    description: The name of one object. As for C(kubernetes.core.k8s_info).
    type: str
  namespace:
    description: The namespace of namespaced objects. As for C(kubernetes.core.k8s_info).
    type: str
  wait:
    description: >-
      Wait for the objects to meet O(wait_condition) (or to exist). As for C(kubernetes.core.k8s_info).
    type: bool
    default: false
  wait_sleep:
    description: Seconds between checks while waiting. As for C(kubernetes.core.k8s_info).
    type: int
    default: 5
  wait_timeout:
    description: Seconds to wait at most. As for C(kubernetes.core.k8s_info).
    type: int
    default: 120
  wait_condition:
    description: The condition waited for (C(type), C(status), C(reason)). As for C(kubernetes.core.k8s_info).
    type: dict
  kubeconfig:
    description: Path to a kubeconfig, or a kubeconfig as a dictionary. As for C(kubernetes.core.k8s_info).
    type: raw
  context:
    description: The kubeconfig context to use. As for C(kubernetes.core.k8s_info).
    type: str
  host:
    description: The URL of the API server. As for C(kubernetes.core.k8s_info).
    type: str
  api_key:
    description: A token to authenticate with. As for C(kubernetes.core.k8s_info).
    type: str
  username:
    description: A user name to authenticate with. As for C(kubernetes.core.k8s_info).
    type: str
  password:
    description: A password to authenticate with. As for C(kubernetes.core.k8s_info).
    type: str
  client_cert:
    description: Path to a client certificate. As for C(kubernetes.core.k8s_info).
    type: path
    aliases: [cert_file]
  client_key:
    description: Path to the client certificate's key. As for C(kubernetes.core.k8s_info).
    type: path
    aliases: [key_file]
  ca_cert:
    description: Path to the CA certificate of the API server. As for C(kubernetes.core.k8s_info).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description: Whether to verify the API server's certificate. As for C(kubernetes.core.k8s_info).
    type: bool
    aliases: [verify_ssl]
  proxy:
    description: The URL of an HTTP proxy. As for C(kubernetes.core.k8s_info).
    type: str
  no_proxy:
    description: Hosts reached without the proxy (comma-separated). As for C(kubernetes.core.k8s_info).
    type: str
  proxy_headers:
    description: >-
      Headers for the proxy (C(proxy_basic_auth), C(basic_auth), C(user_agent)). As for
      C(kubernetes.core.k8s_info).
    type: dict
  persist_config:
    description: Whether to save refreshed tokens in the kubeconfig. As for C(kubernetes.core.k8s_info).
    type: bool
  impersonate_user:
    description: The user to impersonate. As for C(kubernetes.core.k8s_info).
    type: str
  impersonate_groups:
    description: The groups to impersonate. As for C(kubernetes.core.k8s_info).
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: Reads only, in check mode as well.
  diff_mode:
    support: none
    description: Reads only, nothing to show.
  platform:
    support: full
    platforms: posix
    description: Reads from the controller when the host is the controller; elsewhere the module runs.
seealso:
  - module: kubernetes.core.k8s_info
requirements:
  - kubernetes (the Python client) on the controller for the in-process read; else those of the module.
author: hypertopo contributors (@hypertopo)
"""

EXAMPLES = r"""
- name: List the Nodes without their status
  hypertopo.volcano.hypertopo_k8s_info:
    kind: Node
    hidden_fields: [metadata.managedFields, status]
  register: nodes

- name: Wait until every pod of the release is bound
  hypertopo.volcano.hypertopo_k8s_info:
    kind: Pod
    namespace: pd-seed
    label_selectors: [app.kubernetes.io/managed-by=hypertopo]
  register: pods
  until: pods.resources | map(attribute='spec.nodeName', default='') | select | list | length == 24
  retries: 60
  delay: 2
"""

RETURN = r"""
api_found:
  description: Whether the API of O(kind) and O(api_version) was found.
  type: bool
  returned: always
resources:
  description: The objects found, as the API returns them (less O(hidden_fields)).
  type: list
  elements: dict
  returned: success
msg:
  description: Why nothing was searched (no such API), or why the read failed.
  type: str
  returned: when the API was not found or the read failed
"""
