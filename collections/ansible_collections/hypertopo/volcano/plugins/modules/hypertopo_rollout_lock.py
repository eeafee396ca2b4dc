# Copyright: hypertopo contributors
# Apache-2.0
# Documentation only: the action plugin hypertopo_rollout_lock (plugins/action/) is the code.

DOCUMENTATION = r"""
module: hypertopo_rollout_lock
short_description: Hold the rollout lock (a coordination.k8s.io/v1 Lease) while a run writes
description:
  - V(state=acquired) reads the Lease with the code of C(kubernetes.core.k8s_info) (in the controller's
    process when the host is the controller and the task sets no C(environment), as
    M(hypertopo.volcano.hypertopo_k8s_info) reads; else as that module) and creates, takes over (when it
    has no holder or its holder did not renew it in time) or renews it with C(kubernetes.core.k8s). A takeover
    and a renewal are writes conditioned on the Lease's C(resourceVersion). A missing Lease is first created
    without a holder and then taken the same way, so two runs starting at once never both hold it
    (C(kubernetes.core.k8s) patches an object that exists when its module runs, so a plain create would not
    be exclusive). A Lease held by another run is waited on for O(wait)
    seconds (polling every O(poll) seconds), then the task fails naming the holder and the expiry.
  - V(state=released) deletes the Lease when this run holds it (the delete is conditioned on the
    C(resourceVersion) read); a Lease another run holds is left alone (with a warning).
  - In check mode nothing is read or written (a check run writes nothing, so it needs no lock).
  - The result never counts as a change (the lock is bookkeeping, not the cluster state the roles manage).
options:
  state:
    description: V(acquired) takes or renews the lock; V(released) gives it back.
    type: str
    choices: [acquired, released]
    default: acquired
  name:
    description: The Lease's name.
    type: str
    default: hypertopo-rollout
  namespace:
    description: >-
      The Lease's namespace; created when it does not exist (a run with the ServiceAccount of
      C(deploy/rbac/) finds it there).
    type: str
    default: hypertopo-system
  holder:
    description: This run's identity. Empty = C(user@host pid N), N being the ansible-playbook process.
    type: str
    default: ""
  duration:
    description: Seconds the lock stays held without a renewal (a crashed run's lock expires after that).
    type: int
    default: 900
  wait:
    description: Seconds to wait for a lock another run holds; 0 = refuse at once.
    type: int
    default: 0
  poll:
    description: Seconds between two reads while waiting.
    type: int
    default: 5
  kubeconfig:
    description: Passed to the kubernetes.core modules.
    type: raw
  context:
    description: Passed to the kubernetes.core modules.
    type: str
author: hypertopo contributors (@hypertopo)
"""

EXAMPLES = r"""
- name: Take the rollout lock
  hypertopo.volcano.hypertopo_rollout_lock:
    state: acquired
    namespace: hypertopo-system
    wait: 60
"""

RETURN = r"""
lease:
  description: The Lease as this run left it (C(holder), C(expires), C(action) create/take/renew/release).
  type: dict
  returned: always
"""
