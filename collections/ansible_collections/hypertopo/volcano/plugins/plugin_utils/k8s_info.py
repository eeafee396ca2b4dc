# Copyright: hypertopo contributors
# Apache-2.0
"""kubernetes.core.k8s_info's code, run in the controller (the action plugin ``hypertopo_k8s_info``).

:func:`read` is the module's ``main`` on a dict of options, returning its result: the module's own
argument spec (``argspec``), client (``get_api_client``: kubeconfig, context, ``K8S_AUTH_*``...)
and search (``K8sService.find``), with ``no_log`` values masked as ``AnsibleModule.exit_json`` masks
them. ``MISSING`` is why it cannot run here (the controller's Python lacks the Kubernetes client),
or None. Importing this module imports the Kubernetes client (0.3 s of CPU, once per read task's
worker). Importing it in ansible-playbook's main process instead, so that the workers inherit it,
made every forked worker dearer (a larger parent to copy on write) and ``make test`` slower.
"""

from __future__ import annotations

from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError

MODULE = "kubernetes.core.k8s_info"

try:  # kubernetes.core arrives with the ansible package; the Kubernetes client is a pip requirement
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import K8sService
    from ansible_collections.kubernetes.core.plugins.modules.k8s_info import argspec
except ImportError as exc:
    MISSING: ImportError | None = exc
else:
    MISSING = None


def runs_here(connection: Any, task: Any) -> bool:
    """Whether an action plugin may read in its own process what the module would read: the task's
    host is the controller (``connection: local``), the task sets no ``environment`` (a module
    process would see it, the worker does not) and the Kubernetes client imports here."""
    return (
        MISSING is None
        and getattr(connection, "transport", None) == "local"
        and not any(task.environment or ())  # [{}] when no environment is set
    )


def read(args: dict[str, Any]) -> dict[str, Any]:
    """kubernetes.core.k8s_info's ``main`` on ``args``, in this process: its result as a dict."""
    if MISSING is not None:
        raise RuntimeError(f"{MODULE} cannot run in this process: {MISSING}")
    validated = ArgumentSpecValidator(argspec()).validate(args)
    if validated.error_messages:  # the module's first error, worded as AnsibleModule words it
        msg = validated.errors.msg
        if isinstance(validated.errors[0], UnsupportedError):
            msg = f"Unsupported parameters for ({MODULE}) module: {msg}"
        return {"failed": True, "msg": msg}
    params = validated.validated_parameters
    try:
        svc = K8sService(get_api_client(**params), None)
        facts = svc.find(
            params["kind"],
            params["api_version"],
            name=params["name"],
            namespace=params["namespace"],
            label_selectors=params["label_selectors"],
            field_selectors=params["field_selectors"],
            wait=params["wait"],
            wait_sleep=params["wait_sleep"],
            wait_timeout=params["wait_timeout"],
            condition=params["wait_condition"],
            hidden_fields=params["hidden_fields"],
        )
    except Exception as exc:  # the module fails with the exception's text (fail_from_exception)
        return {"failed": True, "msg": str(exc), "changed": False}
    return remove_values({"changed": False, **facts}, validated._no_log_values)
