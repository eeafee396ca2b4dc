# Copyright: hypertopo contributors
# Apache-2.0
"""Run ``kubernetes.core.k8s`` in concurrent batches (``hypertopo.rollout.batches``)."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from hypertopo.rollout.batches import merge_batch_results, split_batches

DOCUMENTATION = r"""
action: hypertopo_k8s_batches
short_description: Run kubernetes.core.k8s over a list of definitions, several batches at once
description:
  - Cuts O(definition) into up to O(batches) contiguous parts and runs the C(kubernetes.core.k8s)
    module once per part, all parts at the same time. Every API request is the module's own; this
    plugin only starts several module processes and merges their results.
  - The result has the shape of one C(kubernetes.core.k8s) run over the whole list
    (C(result.results), one entry per definition, in order), plus C(batches), the part sizes.
  - Why it exists, C(kubernetes.core.k8s) sends its requests one after the other and its action
    plugin refuses C(async), so a list of thousands of definitions takes one round trip per object
    in sequence. Two to four batches overlap the client's CPU with the API server's.
  - Needs module pipelining on the connection (it is switched on for this task); when the
    connection cannot pipeline, the whole list runs as one batch.
  - Parts are never smaller than 64 definitions, so short lists run as one batch.
  - V(src) and V(template) are not supported; pass the objects in O(definition).
options:
  batches:
    description: The most module runs at once.
    type: int
    default: 1
  definition:
    description: The objects, as for C(kubernetes.core.k8s).
    type: list
    elements: dict
    required: true
  other options:
    description:
      - Every other option goes unchanged to each C(kubernetes.core.k8s) run
        (O(state), O(kubeconfig), O(context), O(continue_on_error), O(hidden_fields), ...).
    type: raw
notes:
  - O(kubeconfig) is passed to the module as given (no lookup in a role's C(files/)).
  - Supports check mode and diff mode exactly as C(kubernetes.core.k8s) does (each run gets them).
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: Patch 8,000 Nodes, four module runs at once
  hypertopo_k8s_batches:
    batches: 4
    state: patched
    continue_on_error: true
    definition: "{{ node_patches }}"
  register: patched
"""

RETURN = r"""
result:
  description: C(results), one entry per definition in input order, as C(kubernetes.core.k8s) returns them.
  type: dict
  returned: always
flagged:
  description:
    - Positions (0-based) of the definitions whose result carries an C(error) or C(warnings) (for
      O(state=patched), a vanished object is a warning). Empty when every definition went through cleanly.
  type: list
  elements: int
  returned: always
  sample: [17]
batches:
  description: The number of definitions in each batch that ran.
  type: list
  elements: int
  returned: always
  sample: [2048, 2048, 2048, 2048]
"""

MODULE = "kubernetes.core.k8s"
MAX_BATCHES = 32
UNSUPPORTED = ("src", "template")


class ActionModule(ActionBase):
    """Concurrent ``kubernetes.core.k8s`` runs over parts of one definition list."""

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        batches = args.pop("batches", 1)
        definitions = args.get("definition")
        error = self._check(batches, definitions, args)
        if error:
            return {**result, "failed": True, "msg": error}
        parts = split_batches(list(definitions), int(batches))
        if len(parts) > 1 and not self._pipelining():
            parts = [list(definitions)]
        if not parts:
            return {**result, "changed": False, "result": {"results": []}, "batches": [], "flagged": []}

        def run_part(part: list[Any]) -> dict[str, Any]:
            try:
                return self._execute_module(
                    module_name=MODULE, module_args={**args, "definition": part}, task_vars=task_vars
                )
            except AnsibleError as exc:  # e.g. the interpreter could not start: fail this batch only
                return {"failed": True, "msg": str(exc)}

        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            outputs = list(pool.map(run_part, parts))
        return {**result, **merge_batch_results(outputs, [len(p) for p in parts])}

    @staticmethod
    def _check(batches: Any, definitions: Any, args: dict[str, Any]) -> str | None:
        """One clear message for bad arguments, or None."""
        if isinstance(batches, str) and batches.strip().isdigit():
            batches = int(batches)
        if isinstance(batches, bool) or not isinstance(batches, int) or not 1 <= batches <= MAX_BATCHES:
            return (
                f"hypertopo_k8s_batches: batches must be an integer from 1 to {MAX_BATCHES}, got {batches!r}"
            )
        if not isinstance(definitions, list):
            return "hypertopo_k8s_batches: definition must be a list of objects"
        bad = [key for key in UNSUPPORTED if args.get(key)]
        if bad:
            return f"hypertopo_k8s_batches: {', '.join(bad)} not supported; pass the objects in definition"
        return None

    def _pipelining(self) -> bool:
        """Switch module pipelining on for this task's connection (no shared remote tmp dir)."""
        with contextlib.suppress(AnsibleError, KeyError):
            self._connection.set_option("pipelining", True)
        return bool(self._connection.is_pipelining_enabled())
