"""Plan the node-label writes of the ``node_labels`` role (pure logic, no API calls).

Input: the labels the inventory wants (node -> labels, from the topology model)
and ONE listing of the cluster's Nodes. Output: a patch per node whose labels
differ (and only those), plus the reports the role prints:

* inventory hosts that have no Node in the cluster (``missing``);
* Nodes that carry GPUs but are not in the inventory (``unmanaged_gpu_nodes``);
* Nodes that carry our marker label but left the inventory (``pruned``).

The project owns only its label keys (:data:`hypertopo.topology.labels.MANAGED_LABEL_KEYS`):
every other key on a Node is left alone. A key is removed with a ``null`` value
in a strategic-merge (or JSON merge) patch.

:func:`labels_after` is the one definition of a Node's labels once the role has
run: the patches are its difference with the listing, and the other roles'
checks (:func:`overlay_node_labels`) see the cluster through it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from hypertopo.rollout.batches import per_definition_results
from hypertopo.rollout.objdiff import object_name
from hypertopo.topology.labels import GPU_RESOURCE, LABEL_MANAGED, MANAGED_LABEL_KEYS, natural_key

VANISHED = "the Node no longer exists (deleted after the listing)"


class LabelPlanError(ValueError):
    """The inputs cannot be planned (malformed desired labels or Node listing)."""


def _node_name(node: Mapping[str, Any]) -> str:
    return object_name(node, "Node in the listing", LabelPlanError)


def _gpu_count(node: Mapping[str, Any], resource: str) -> int:
    """Allocatable ``resource`` of a Node as an integer (0 when absent or not a plain integer)."""
    value = ((node.get("status") or {}).get("allocatable") or {}).get(resource)
    if value is None:
        return 0
    match = re.fullmatch(r"\s*(\d+)\s*", str(value))
    return int(match.group(1)) if match else 0


def _labels(node: Mapping[str, Any]) -> dict[str, str]:
    return dict((node.get("metadata") or {}).get("labels") or {})


def labels_after(
    current: Mapping[str, str],
    wanted: Mapping[str, Any] | None,
    managed_keys: Iterable[str],
    *,
    prune: bool = True,
    marker: str | None = None,
) -> dict[str, str]:
    """A Node's labels once the ``node_labels`` role has run.

    ``current`` are the Node's labels now, ``wanted`` the labels the inventory wants for it
    (None when the node is not in the inventory). An inventory node gets the wanted values,
    and with ``prune`` loses the managed keys the inventory no longer wants; a node outside
    the inventory that carries ``marker`` loses every managed key (with ``prune``). Every
    key outside ``managed_keys`` stays as it is.
    """
    labels = dict(current)
    keys = tuple(managed_keys)
    if wanted is not None:
        if prune:
            for key in keys:
                labels.pop(key, None)
        labels.update({k: str(v) for k, v in wanted.items()})
    elif prune and marker and marker in labels:
        for key in keys:
            labels.pop(key, None)
    return labels


def overlay_node_labels(
    nodes: Iterable[Mapping[str, Any]],
    node_labels: Mapping[str, Mapping[str, Any]] | None = None,
    managed_keys: Iterable[str] = (),
    *,
    prune: bool = True,
    marker: str | None = None,
) -> dict[str, dict[str, str]]:
    """Node name -> labels as they will be once the ``node_labels`` role has run (:func:`labels_after`).

    ``nodes`` is a Node listing; ``node_labels`` the labels the inventory wants.
    Nodes the inventory wants but the listing lacks are included too (they may
    join later and would then be selected).
    """
    keys = tuple(managed_keys)
    wanted = node_labels or {}
    out: dict[str, dict[str, str]] = {}
    for node in nodes:
        name = _node_name(node)
        out[name] = labels_after(_labels(node), wanted.get(name), keys, prune=prune, marker=marker)
    for name, labels in wanted.items():
        out.setdefault(name, {k: str(v) for k, v in labels.items()})
    return out


def plan_node_labels(
    desired: Mapping[str, Mapping[str, str]],
    nodes: Iterable[Mapping[str, Any]],
    *,
    managed_keys: Iterable[str] = MANAGED_LABEL_KEYS,
    marker: str = LABEL_MANAGED,
    prune: bool = True,
    gpu_resource: str = GPU_RESOURCE,
) -> dict[str, Any]:
    """Compare the wanted labels with the cluster's Nodes and return the writes to make.

    ``desired`` maps node name -> labels (only keys in ``managed_keys``; anything
    else is rejected, because the role must never write keys it does not own).
    ``nodes`` is the ``resources`` list of a ``kubernetes.core.k8s_info`` Node listing.

    For an inventory node, each managed key is set to its wanted value; a managed
    key the inventory no longer wants is removed (when ``prune``). For a cluster
    node that is not in the inventory but carries ``marker`` (we labelled it
    earlier), every managed key is removed (when ``prune``). Nodes whose labels
    already match get no patch at all.

    Returns a dict with ``patches`` (Node patch objects, ``null`` = remove the key),
    ``changes`` (node -> {set, remove}), ``missing``, ``unmanaged_gpu_nodes``,
    ``pruned``, ``unchanged`` (count), ``nodes_total``.
    """
    keys = tuple(managed_keys)
    key_set = set(keys)
    if marker not in key_set:
        raise LabelPlanError(f"the marker label {marker!r} must be one of the managed keys {sorted(key_set)}")
    for node, labels in desired.items():
        if not isinstance(labels, Mapping):
            raise LabelPlanError(f"labels for node {node!r} must be a mapping, got {labels!r}")
        foreign = sorted(set(labels) - key_set)
        if foreign:
            raise LabelPlanError(
                f"labels for node {node!r} include keys this project does not own: {foreign} "
                f"(owned: {sorted(key_set)})"
            )

    listed: dict[str, Mapping[str, Any]] = {}
    for node in nodes:
        listed[_node_name(node)] = node

    patches: list[dict[str, Any]] = []
    changes: dict[str, dict[str, Any]] = {}
    pruned: list[str] = []
    unchanged = 0
    for name in sorted(listed, key=natural_key):
        current = _labels(listed[name])
        after = labels_after(current, desired.get(name), keys, prune=prune, marker=marker)
        patch = {key: after.get(key) for key in keys if after.get(key) != current.get(key)}
        if patch and name not in desired:
            pruned.append(name)
        if not patch:
            unchanged += 1
            continue
        patches.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": patch}})
        changes[name] = {
            "set": {k: v for k, v in patch.items() if v is not None},
            "remove": sorted(k for k, v in patch.items() if v is None),
        }

    missing = sorted((n for n in desired if n not in listed), key=natural_key)
    unmanaged_gpu = sorted(
        (n for n, node in listed.items() if n not in desired and _gpu_count(node, gpu_resource) > 0),
        key=natural_key,
    )
    return {
        "patches": patches,
        "changes": changes,
        "missing": missing,
        "unmanaged_gpu_nodes": unmanaged_gpu,
        "pruned": pruned,
        "unchanged": unchanged,
        "nodes_total": len(listed),
    }


#: The reason of a patch whose batch's module run failed as a whole (it may have landed).
UNCONFIRMED = "not confirmed (the module run over its batch failed as a whole: it may have landed)"


def patch_failures(result: Mapping[str, Any], patches: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Nodes whose patch did not land, from a ``kubernetes.core.k8s`` result over a list of definitions.

    The module reports a vanished object under ``state: patched`` as a warning (not
    an error), and with ``continue_on_error`` a failed request as ``error``; both
    are returned here as ``{node, reason}`` so the role can fail with their names. Where the
    module run failed as a whole, the reason starts with :data:`UNCONFIRMED`.
    """
    names = [p["metadata"]["name"] for p in patches]
    results = per_definition_results(result, len(names))
    failures: list[dict[str, str]] = []
    for name, res in zip(names, results, strict=False):
        error = res.get("error")
        if error:
            msg = error.get("msg") if isinstance(error, Mapping) else str(error)
            if isinstance(error, Mapping) and error.get("whole_run"):
                msg = f"{UNCONFIRMED}: {msg}"
            failures.append({"node": name, "reason": _short(str(msg))})
            continue
        for warning in res.get("warnings") or []:
            if "was not found" in str(warning):
                failures.append({"node": name, "reason": VANISHED})
                break
    if len(results) < len(names) and not result.get("skipped"):
        for name in names[len(results) :]:
            failures.append({"node": name, "reason": "no result returned by the module"})
    return failures


def _short(msg: str, limit: int = 300) -> str:
    msg = " ".join(msg.split())
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."
