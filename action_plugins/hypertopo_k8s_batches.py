# Copyright: hypertopo contributors
# Apache-2.0
"""Run ``kubernetes.core.k8s`` in concurrent batches (``hypertopo.rollout.batches``)."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import require_core

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and fails when used.
try:
    from hypertopo.rollout.batches import (
        failure_message,
        flagged_positions,
        merge_batch_results,
        split_batches,
    )
    from hypertopo.rollout.retry import RetryPolicy, run_with_retries
except ImportError as exc:
    HYPERTOPO_MISSING: ImportError | None = exc
else:
    HYPERTOPO_MISSING = None

# Documentation: plugins/modules/hypertopo_k8s_batches.py of the collection
# (collections/ansible_collections/hypertopo/volcano/plugins/modules/;
# ansible-doc hypertopo.volcano.hypertopo_k8s_batches).

MODULE = "kubernetes.core.k8s"
MAX_BATCHES = 32
UNSUPPORTED = ("src", "template")
RETRY_OPTIONS = ("retries", "retry_delay", "retry_max_delay")


def _policy(options: dict[str, Any], continue_on_error: bool) -> tuple[RetryPolicy, str | None]:
    """The retry policy of the task's options, or a message naming the bad option."""
    values: dict[str, Any] = {}
    for key, value in options.items():
        try:
            values[key] = int(value) if key == "retries" else float(value)
        except (TypeError, ValueError):
            return RetryPolicy(retries=0), f"hypertopo_k8s_batches: {key} must be a number, got {value!r}"
    try:
        policy = RetryPolicy(
            retries=values.get("retries", 0),
            delay=values.get("retry_delay", 1.0),
            max_delay=values.get("retry_max_delay", 8.0),
        )
    except ValueError as exc:
        return RetryPolicy(retries=0), f"hypertopo_k8s_batches: {exc}"
    if policy.retries and not continue_on_error:
        return policy, (
            "hypertopo_k8s_batches: retries needs continue_on_error: true (errors are read per object)"
        )
    return policy, None


def _run_failure_message(
    definitions: list[Any], results: list[dict[str, Any]], failures: dict[int, str]
) -> str:
    """The module failed as a whole for some definitions: name them and the last answer."""
    names = [
        f"{d.get('kind', '?')}/{(d.get('metadata') or {}).get('name', '?')}" if isinstance(d, dict) else "?"
        for d in (definitions[i] for i in sorted(failures))
    ]
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    first = min(failures)
    error = results[first].get("error")
    msg = error.get("msg") if isinstance(error, dict) else failures[first]
    return f"kubernetes.core.k8s failed as a whole for {len(names)} definition(s) ({shown}): {msg}"


class ActionModule(ActionBase):
    """Concurrent ``kubernetes.core.k8s`` runs over parts of one definition list."""

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        require_core(HYPERTOPO_MISSING)
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        batches = args.pop("batches", 1)
        retry = {key: args.pop(key) for key in RETRY_OPTIONS if key in args}
        definitions = args.get("definition")
        error = self._check(batches, definitions, args)
        policy, policy_error = _policy(retry, bool(args.get("continue_on_error")))
        if error or policy_error:
            return {**result, "failed": True, "msg": error or policy_error}
        definitions = list(definitions)
        if not definitions:
            return {**result, "changed": False, "result": {"results": []}, "batches": [], "flagged": []}
        count = int(batches)
        if count > 1 and len(split_batches(definitions, count)) > 1 and not self._pipelining():
            count = 1
        first_sizes: list[int] = []
        run_failures: dict[int, str] = {}
        warnings: list[str] = []

        def run_part(part: list[Any]) -> dict[str, Any]:
            try:
                return self._execute_module(
                    module_name=MODULE, module_args={**args, "definition": part}, task_vars=task_vars
                )
            except AnsibleError as exc:  # e.g. the interpreter could not start: fail this batch only
                return {"failed": True, "msg": str(exc)}

        def run(positions: list[int]) -> list[dict[str, Any]]:
            parts = split_batches(positions, count)
            with ThreadPoolExecutor(max_workers=len(parts)) as pool:
                outputs = list(pool.map(run_part, [[definitions[i] for i in p] for p in parts]))
            merged = merge_batch_results(outputs, [len(p) for p in parts])
            if not first_sizes:
                first_sizes.extend(len(p) for p in parts)
            warnings.extend(merged.get("warnings", []))
            for part, output in zip(parts, outputs, strict=True):
                for pos in part:
                    run_failures.pop(pos, None)
                    if output.get("failed"):
                        run_failures[pos] = failure_message(output)
            results = list(merged["result"]["results"])
            missing = {"changed": False, "error": {"msg": "no result returned by the module"}}
            return results + [dict(missing) for _position in positions[len(results) :]]

        outcome = run_with_retries(len(definitions), run, policy)
        out: dict[str, Any] = {
            "changed": any(r.get("changed") for r in outcome.results),
            "result": {"results": outcome.results},
            "batches": first_sizes,
            "flagged": flagged_positions(outcome.results),
            "retried": outcome.rounds,
        }
        if warnings:
            out["warnings"] = warnings
        # with continue_on_error a module run that failed as a whole is an error of each of its
        # definitions (the caller names them); without it, the task fails naming them
        if run_failures and not args.get("continue_on_error"):
            out["failed"] = True
            out["msg"] = _run_failure_message(definitions, outcome.results, run_failures)
        return {**result, **out}

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
