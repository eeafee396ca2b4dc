# Copyright: hypertopo contributors
# Apache-2.0
"""``kubernetes.core.k8s_info`` without a module process when the task runs on the controller.

The roles read the cluster dozens of times per run: listings, and polls until pods are bound and
run. As a module each read starts a Python process that imports the Kubernetes client and
kubernetes.core's module_utils, 0.6-0.8 s of CPU every time (``bench/RESULTS-testsuite.md``). When the
task's host is the controller itself (``connection: local``, as in every play of this collection)
this plugin runs kubernetes.core.k8s_info's own code in the controller's worker process instead:

* the same options, checked with the module's own argument spec;
* the same module_defaults: those of ``kubernetes.core.k8s_info`` and of the groups holding it
  (``group/kubernetes.core.k8s``, ``group/hypertopo.volcano.k8s``) under the task's own options;
* the same client and authentication (kubernetes.core's ``get_api_client``: kubeconfig, context,
  ``K8S_AUTH_*`` variables, ...), the same search (``K8sService.find``) and the same result, with
  the values of ``no_log`` options masked as a module masks them.

Anywhere else it runs the module, as the task ``kubernetes.core.k8s_info`` would: another
connection, a task ``environment`` (a module process sees it, this process does not), or a
controller whose Python lacks the Kubernetes client.
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.hypertopo.volcano.plugins.plugin_utils.k8s_info import MODULE, read, runs_here

try:  # how ansible-core's own action plugins (package, service) apply a module's defaults
    from ansible.executor.module_common import _apply_action_arg_defaults
except ImportError:  # another ansible-core: the task's own options (and its group's defaults) only
    _apply_action_arg_defaults = None

# Documentation: plugins/modules/hypertopo_k8s_info.py of the collection
# (collections/ansible_collections/hypertopo/volcano/plugins/modules/;
# ansible-doc hypertopo.volcano.hypertopo_k8s_info). The code that reads:
# plugins/plugin_utils/k8s_info.py.


class ActionModule(ActionBase):
    """Read like kubernetes.core.k8s_info, in this process when the host is the controller."""

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        if _apply_action_arg_defaults is not None:
            args = _apply_action_arg_defaults(MODULE, self._task, args, self._templar)
        if runs_here(self._connection, self._task):
            result.update(read(args))
        else:
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
