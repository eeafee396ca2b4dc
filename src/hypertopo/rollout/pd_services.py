"""Helpers of the ``pd_services`` role (pure logic over API objects, no API calls).

* the cluster as the placement preflight should see it (Nodes with the labels
  the rollout applies, HyperNodes as they will be);
* which PodGroups belong to our Jobs / ReplicaSets (teardown without a garbage
  collector: the local control plane runs no kube-controller-manager);
* the binding progress of our pods ("bound" = ``spec.nodeName`` set) and how
  many of them run (``Running`` and ``Ready``; a cluster without kubelets binds
  them but never runs them);
* a readable reason when they are not bound in time.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from hypertopo.report.run_state import pod_runs
from hypertopo.rollout.node_labels import overlay_node_labels


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def owned_by(
    objects: Iterable[Mapping[str, Any]], owners: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Delete stubs for the ``objects`` whose ownerReferences point at one of ``owners`` (by uid)."""
    uids = {str(_meta(o).get("uid")) for o in owners if _meta(o).get("uid")}
    out = []
    for obj in objects:
        refs = _meta(obj).get("ownerReferences") or []
        if any(str(r.get("uid")) in uids for r in refs):
            out.append(
                {
                    "apiVersion": obj.get("apiVersion"),
                    "kind": obj.get("kind"),
                    "metadata": {"name": _meta(obj).get("name"), "namespace": _meta(obj).get("namespace")},
                }
            )
    return out


def delete_objects(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Minimal (apiVersion, kind, name, namespace) objects for ``kubernetes.core.k8s state=absent``."""
    return [
        {
            "apiVersion": o.get("apiVersion"),
            "kind": o.get("kind"),
            "metadata": {
                k: v
                for k, v in (("name", _meta(o).get("name")), ("namespace", _meta(o).get("namespace")))
                if v
            },
        }
        for o in objects
    ]


def binding_status(pods: Iterable[Mapping[str, Any]], expected: int) -> dict[str, Any]:
    """How many of our pods exist, are bound (``spec.nodeName`` set) and run (``Running``, ``Ready``).

    ``done``: every expected pod is bound; ``running_done``: and every one runs.
    """
    pods = [p for p in pods if not _meta(p).get("deletionTimestamp")]
    bound = {
        str(_meta(p).get("name")): str((p.get("spec") or {}).get("nodeName"))
        for p in pods
        if (p.get("spec") or {}).get("nodeName")
    }
    pending = sorted(str(_meta(p).get("name")) for p in pods if not (p.get("spec") or {}).get("nodeName"))
    not_running = sorted(str(_meta(p).get("name")) for p in pods if not pod_runs(p))
    done = len(bound) >= int(expected) and not pending
    return {
        "expected": int(expected),
        "total": len(pods),
        "bound": len(bound),
        "pending": pending,
        "placements": dict(sorted(bound.items())),
        "done": done,
        "running": len(pods) - len(not_running),
        "not_running": not_running,
        "running_done": done and not not_running,
    }


def _owned_by_name(obj: Mapping[str, Any], owner_names: Iterable[str]) -> bool:
    names = tuple(owner_names)
    for ref in _meta(obj).get("ownerReferences") or []:
        ref_name = str(ref.get("name", ""))
        if any(ref_name == n or ref_name.startswith(n + "-") for n in names):
            return True
    return False


def scheduling_report(
    podgroups: Iterable[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]] = (),
    pods: Iterable[Mapping[str, Any]] = (),
    owner_names: Iterable[str] | None = None,
    limit: int = 10,
) -> list[str]:
    """Readable lines: each PodGroup's phase and conditions, the latest scheduler events, pod conditions.

    With ``owner_names`` only PodGroups owned by those workloads (or by their
    ReplicaSets, ``<name>-<hash>``) and events about them or about ``pods`` count.
    """
    names = tuple(owner_names) if owner_names is not None else None
    pods = list(pods)
    pgs = [pg for pg in podgroups if names is None or _owned_by_name(pg, names)]
    lines: list[str] = []
    for pg in pgs:
        status = pg.get("status") or {}
        lines.append(
            f"PodGroup {_meta(pg).get('name')}: phase={status.get('phase', '?')} "
            f"running={status.get('running', 0)} minMember={(pg.get('spec') or {}).get('minMember')}"
        )
        for c in status.get("conditions") or []:
            lines.append(
                f"  condition {c.get('type')}={c.get('status')} "
                f"reason={c.get('reason', '')}: {c.get('message', '')}"
            )
    about = {str(_meta(o).get("name")) for o in [*pgs, *pods]}
    evs = [e for e in events if names is None or str((e.get("involvedObject") or {}).get("name")) in about]
    evs.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    for e in evs[-limit:]:
        obj = e.get("involvedObject") or {}
        lines.append(f"event {obj.get('kind')}/{obj.get('name')} {e.get('reason')}: {e.get('message', '')}")
    seen: set[str] = set()
    for p in pods:
        for c in (p.get("status") or {}).get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("status") != "True":
                msg = f"pod condition PodScheduled=False reason={c.get('reason', '')}: {c.get('message', '')}"
                if msg not in seen:
                    seen.add(msg)
                    lines.append(msg)
    if not lines:
        lines.append("no PodGroup, event or pod condition found (is vc-controller-manager running?)")
    return lines


def has_labels(obj: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """True when ``obj`` carries every one of ``labels`` with the same value."""
    have = _meta(obj).get("labels") or {}
    return all(have.get(k) == v for k, v in labels.items())


def with_labels(objects: Iterable[Mapping[str, Any]], labels: Mapping[str, str]) -> list[Mapping[str, Any]]:
    """The ``objects`` carrying every one of ``labels``."""
    return [o for o in objects if has_labels(o, labels)]


def foreign_clashes(
    desired: Iterable[Mapping[str, Any]], existing: Iterable[Mapping[str, Any]], labels: Mapping[str, str]
) -> list[str]:
    """ "Kind ns/name" of rendered objects whose name is taken by an object without our labels."""
    have = {(o.get("kind"), _meta(o).get("namespace"), _meta(o).get("name")): o for o in existing}
    out = []
    for d in desired:
        key = (d.get("kind"), _meta(d).get("namespace"), _meta(d).get("name"))
        if key in have and not has_labels(have[key], labels):
            out.append(f"{key[0]} {key[1]}/{key[2]}")
    return out


def placement_summary(
    placements: Mapping[str, str], nodes: Iterable[Mapping[str, Any]], labels: Iterable[str]
) -> dict[str, dict[str, int]]:
    """For each label key: label value of the pods' nodes -> number of pods (``<none>`` when unset)."""
    node_labels = {str(_meta(n).get("name")): _meta(n).get("labels") or {} for n in nodes}
    out: dict[str, dict[str, int]] = {}
    for key in labels:
        counts: dict[str, int] = {}
        for node in placements.values():
            value = str(node_labels.get(node, {}).get(key, "<none>"))
            counts[value] = counts.get(value, 0) + 1
        out[key] = dict(sorted(counts.items()))
    return out


def other_pods(
    pods: Iterable[Mapping[str, Any]],
    objects: Iterable[Mapping[str, Any]],
    label_keys: Iterable[str] = ("volcano.sh/job-name", "app.kubernetes.io/name"),
) -> list[Mapping[str, Any]]:
    """``pods`` minus the ones of our workloads (same namespace, a label naming one of them)."""
    ours = {(_meta(o).get("namespace"), _meta(o).get("name")) for o in objects}
    keys = tuple(label_keys)
    out = []
    for p in pods:
        meta = _meta(p)
        labels = meta.get("labels") or {}
        if any((meta.get("namespace"), labels.get(k)) in ours for k in keys if k in labels):
            continue
        out.append(p)
    return out


def overlay_nodes(
    nodes: Iterable[Mapping[str, Any]],
    node_labels: Mapping[str, Mapping[str, str]] | None,
    managed_keys: Iterable[str] = (),
    marker: str | None = None,
) -> list[dict[str, Any]]:
    """Copies of ``nodes`` carrying the labels the ``node_labels`` role applies.

    In a normal run the labels are already there and nothing changes; in check
    mode (or before onboarding) the placement preflight then still sees the
    cluster as the rollout leaves it.
    """
    nodes = list(nodes)
    labels = overlay_node_labels(nodes, node_labels or {}, managed_keys, prune=True, marker=marker)
    out = []
    for node in nodes:
        copied = copy.deepcopy(dict(node))
        meta = dict(copied.get("metadata") or {})
        meta["labels"] = labels.get(str(meta.get("name")), dict(meta.get("labels") or {}))
        copied["metadata"] = meta
        out.append(copied)
    return out


def stale_workloads(
    owned: Iterable[Mapping[str, Any]],
    desired: Iterable[Mapping[str, Any]],
    changed: Iterable[Mapping[str, Any]] = (),
) -> list[Mapping[str, Any]]:
    """Owned workloads to delete before applying.

    Those the layout no longer renders (e.g. the seed's two Jobs after switching
    to the joint layout), and Volcano Jobs whose rendered spec changed (a Job's
    pods are created once, so a changed Job is recreated).
    """

    def key(o: Mapping[str, Any]) -> tuple[Any, Any, Any]:
        return (o.get("kind"), _meta(o).get("namespace"), _meta(o).get("name"))

    wanted = {key(d) for d in desired}
    changed_jobs = {key(c) for c in changed if c.get("kind") == "Job"}
    return [o for o in owned if key(o) not in wanted or key(o) in changed_jobs]
