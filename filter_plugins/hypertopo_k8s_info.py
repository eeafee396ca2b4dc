# Copyright: hypertopo contributors
# Apache-2.0
"""The filter behind the action plugin hypertopo_k8s_info: can it read in this process?"""

from __future__ import annotations

from typing import Any

DOCUMENTATION = r"""
name: hypertopo_k8s_in_process
short_description: Whether hypertopo_k8s_info can read in this controller process
description:
- True when the controller's Python has the Kubernetes client and kubernetes.core's code, so that
  C(hypertopo.volcano.hypertopo_k8s_info) reads without a module process on a local connection;
  false when it would run the module C(kubernetes.core.k8s_info) instead.
- Imports that code (the Kubernetes client, 0.3 s of CPU) into the process that evaluates it. The
  C(hypertopo.volcano.topology) role evaluates it in the condition of its first task, which
  ansible-playbook evaluates in its main process, so the worker of every later task inherits the
  import instead of repeating it.
positional: _input
options:
  _input:
    description: Ignored.
    type: raw
    required: false
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: Say when reads run as modules
  ansible.builtin.debug:
    msg: kubernetes.core.k8s_info runs as a module for every read (no Kubernetes client on the controller)
  when: not (none | hypertopo.volcano.hypertopo_k8s_in_process)
"""

RETURN = r"""
_value:
  description: Whether reads run in the controller process.
  type: bool
"""


def hypertopo_k8s_in_process(_value: Any = None) -> bool:
    """See the sidecar documentation."""
    # imported here, not at the top: a worker that loads this collection's filters for another one
    # does not pay for the Kubernetes client
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.k8s_info import MISSING

    return MISSING is None


class FilterModule:
    """hypertopo k8s_info filters."""

    def filters(self) -> dict[str, Any]:
        return {"hypertopo_k8s_in_process": hypertopo_k8s_in_process}
