"""Split a ``kubernetes.core.k8s`` definition list into concurrent batches, and merge the results.

The ``hypertopo_k8s_batches`` action plugin runs the ``kubernetes.core.k8s`` module
once per batch, the batches at the same time (the module itself sends one request
after the other, and ``kubernetes.core`` refuses ``async``). This module holds the
pure part: where the list is cut, and how the per-batch module results become one
result shaped like a single module run over the whole list, so that callers
(e.g. :func:`hypertopo.rollout.node_labels.patch_failures`) cannot tell the difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

#: Fewer definitions than this per batch are not worth another module process
#: (each one starts the Kubernetes client, about a second of CPU).
MIN_PER_BATCH = 64


def split_batches(items: Sequence[T], batches: int, min_per_batch: int = MIN_PER_BATCH) -> list[list[T]]:
    """``items`` cut into at most ``batches`` contiguous, near-equal parts, in order.

    No part is smaller than ``min_per_batch`` unless there is only one part, and
    an empty input gives no part at all.
    """
    if batches < 1:
        raise ValueError(f"batches must be at least 1, got {batches}")
    if min_per_batch < 1:
        raise ValueError(f"min_per_batch must be at least 1, got {min_per_batch}")
    count = min(batches, max(1, len(items) // min_per_batch))
    if not items:
        return []
    size, extra = divmod(len(items), count)
    parts: list[list[T]] = []
    start = 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        parts.append(list(items[start:end]))
        start = end
    return parts


def failure_message(result: Mapping[str, Any]) -> str:
    """The message of a failed module run: ``msg``, or (ansible-core 2.19, a module that raised)
    the message of the captured ``exception``."""
    msg = result.get("msg")
    if msg:
        return str(msg)
    exception = result.get("exception")
    event = getattr(exception, "event", None)
    text = getattr(event, "msg", None) or (str(exception) if exception else "")
    return str(text) or "the module failed without a message"


def per_definition_results(result: Mapping[str, Any], size: int) -> list[dict[str, Any]]:
    """The per-definition results of one module run over ``size`` definitions.

    ``kubernetes.core.k8s`` returns ``result.results`` for several definitions but
    the lone result at the top level for one. A run that failed as a whole (no
    per-definition results) gives an ``error`` entry with ``whole_run`` for each of its
    definitions: some of them may have been applied.
    """
    inner = result.get("result")
    if isinstance(inner, Mapping) and isinstance(inner.get("results"), list):
        return [dict(r) if isinstance(r, Mapping) else {"result": r} for r in inner["results"]]
    if result.get("failed"):
        # ``whole_run``: nothing says which of these definitions the run had applied before it
        # failed (e.g. kubernetes.core cannot serialize a connection error and loses every result)
        error = {"msg": failure_message(result), "whole_run": True}
        return [{"changed": False, "error": dict(error)} for _ in range(size)]
    single = {k: v for k, v in result.items() if k not in _RUN_KEYS}
    return [single] if size == 1 else []


# Keys of a module run (not of one definition's result).
_RUN_KEYS = frozenset({"invocation", "failed", "msg", "deprecations", "_ansible_no_log"})


def flagged_positions(results: Sequence[Mapping[str, Any]]) -> list[int]:
    """Positions (0-based) of the per-definition results that carry an ``error`` or ``warnings``.

    A caller can skip reading thousands of results when this is empty.
    """
    return [i for i, r in enumerate(results) if r.get("error") or r.get("warnings")]


def merge_batch_results(results: Sequence[Mapping[str, Any]], sizes: Sequence[int]) -> dict[str, Any]:
    """One result, as if one module run had handled every batch's definitions in order.

    ``results[i]`` is the module result for a batch of ``sizes[i]`` definitions.
    The merged result fails when any batch failed as a whole; its message names
    each failed batch by its definition range (1-based, inclusive). ``flagged``
    lists the positions of the results with an error or warnings.
    """
    if len(results) != len(sizes):
        raise ValueError(f"{len(results)} results for {len(sizes)} batches")
    merged: list[dict[str, Any]] = []
    failures: list[str] = []
    warnings: list[str] = []
    changed = False
    start = 1
    for index, (result, size) in enumerate(zip(results, sizes, strict=True)):
        end = start + size - 1
        merged.extend(per_definition_results(result, size))
        changed = changed or bool(result.get("changed"))
        warnings.extend(str(w) for w in result.get("warnings") or [] if size > 1)
        if result.get("failed"):
            msg = failure_message(result)
            failures.append(f"batch {index + 1}/{len(sizes)} (definitions {start}-{end}): {msg}")
        start = end + 1
    out: dict[str, Any] = {
        "changed": changed,
        "result": {"results": merged},
        "batches": list(sizes),
        "flagged": flagged_positions(merged),
    }
    if warnings:
        out["warnings"] = warnings
    if failures:
        out["failed"] = True
        out["msg"] = "kubernetes.core.k8s failed in " + "; ".join(failures)
    return out
