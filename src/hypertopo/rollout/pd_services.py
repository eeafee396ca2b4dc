"""Helpers of the ``pd_services`` role (pure logic over API objects, no API calls).

* the cluster as the placement preflight should see it (Nodes with the labels
  the rollout applies, HyperNodes as they will be);
* which PodGroups belong to our Jobs / ReplicaSets (teardown without a garbage
  collector: the local control plane runs no kube-controller-manager);
* the binding progress of our pods ("bound" = ``spec.nodeName`` set) and how
  many of them run (``Running`` and ``Ready``; a cluster without kubelets binds
  them but never runs them);
* a readable reason when they are not bound in time;
* whether the inventory has the GPUs the PD roles ask for, under one HyperNode the
  topology bound allows (:func:`inventory_misfits`, before anything is rendered).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hypertopo.placement.objects import ANN_GROUP_NAME
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
    unseen = unscheduled_podgroups(pgs, pods)
    if unseen:
        lines.append(
            f"the scheduler is not binding: PodGroup(s) {', '.join(unseen)} still Pending with no condition "
            "and no pod with a PodScheduled condition, so no scheduler has looked at them; check that "
            "vc-scheduler is running and healthy (its pod in volcano-system and its log) and that the "
            "workloads' schedulerName is its name"
        )
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


def unscheduled_podgroups(
    podgroups: Iterable[Mapping[str, Any]], pods: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Names of the PodGroups no scheduler has acted on yet.

    vc-controller-manager creates a PodGroup in phase ``Pending``; vc-scheduler's first session
    either admits it (phase ``Inqueue``, then ``Running``) or records why not (an
    ``Unschedulable`` condition on the PodGroup, ``PodScheduled=False`` on its pods). A PodGroup
    still ``Pending`` without any condition, none of whose pods carries a ``PodScheduled``
    condition, has not been seen by a scheduler at all.
    """
    pods = list(pods)
    out = []
    for pg in podgroups:
        status = pg.get("status") or {}
        if status.get("phase", "Pending") != "Pending" or status.get("conditions"):
            continue
        name = str(_meta(pg).get("name"))
        members = [p for p in pods if (_meta(p).get("annotations") or {}).get(ANN_GROUP_NAME) == name]
        if any(
            c.get("type") == "PodScheduled"
            for p in members
            for c in (p.get("status") or {}).get("conditions") or []
        ):
            continue
        out.append(name)
    return sorted(out)


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


# -- the PD settings against the inventory (before anything is rendered or applied) -------------

#: The role settings the check reads, per role: (GPU models, replicas, GPUs per pod) variables.
_ROLE_VARIABLES = {
    role: (f"pd_services_{role}_gpu_models", f"pd_services_{role}_replicas", f"pd_services_{role}_gpus")
    for role in ("prefill", "decode")
}
_LEAVES_SHOWN = 16


@dataclass(frozen=True)
class RoleAsk:
    """What one PD role asks for: ``replicas`` pods of ``gpus`` GPUs on nodes of ``models``."""

    role: str
    models: tuple[str, ...]
    replicas: int
    gpus: int

    @property
    def variables(self) -> tuple[str, str, str]:
        return _ROLE_VARIABLES[self.role]


@dataclass(frozen=True)
class Bound:
    """A workload's topology bound: HyperNodes of tier <= ``tier`` (None: the whole tree)."""

    tier: int | None
    why: str


class _Tree:
    """The inventory model (``topology_model`` plain data) as the check needs it."""

    def __init__(self, model: Mapping[str, Any], switch_types: Iterable[str]) -> None:
        self.switches = {str(s["name"]): s for s in model.get("switches") or []}
        self.root = str(model.get("root"))
        self.hosts = dict(model.get("hosts") or {})
        labels = {str(k): str((v or {}).get("label", k)) for k, v in (model.get("gpu_models") or {}).items()}
        self.label = {
            name: labels.get(str(h["gpu_model"]), str(h["gpu_model"])) for name, h in self.hosts.items()
        }
        types = tuple(switch_types)
        self.typed = {
            n for n, h in self.hosts.items() if not types or self.switches[h["leaf"]]["type"] in types
        }
        self.under: dict[str, list[str]] = {}
        for name in self.switches:
            self._hosts_under(name)

    def _hosts_under(self, name: str) -> list[str]:
        if name not in self.under:
            s = self.switches[name]
            found = list(s.get("hosts") or [])
            for child in s.get("children") or []:
                found += self._hosts_under(str(child))
            self.under[name] = found
        return self.under[name]

    def domains(self, tier: int | None) -> list[str]:
        if tier is None:
            return [self.root]
        return [n for n, s in self.switches.items() if int(s["tier"]) <= tier]

    def eligible(self, ask: RoleAsk, within: str) -> list[str]:
        return [h for h in self.under[within] if h in self.typed and self.label[h] in ask.models]

    def capacity(self, ask: RoleAsk, within: str, partition: int | None) -> int:
        """Pods of ``ask`` that fit under ``within`` (with ``partition``: under one switch of that tier)."""
        if partition is not None:
            inner = [n for n in self.domains(partition) if n == within or n in self._below(within)]
            return max((self.capacity(ask, n, None) for n in inner), default=0)
        hosts = self.eligible(ask, within)
        if ask.gpus < 1:  # pods without GPUs: the GPU count does not bound them
            return ask.replicas if hosts else 0
        return sum(int(self.hosts[h]["gpu_count"]) // ask.gpus for h in hosts)

    def _below(self, name: str) -> set[str]:
        out: set[str] = set()
        for child in self.switches[name].get("children") or []:
            out |= {str(child)} | self._below(str(child))
        return out

    def fits(self, asks: list[RoleAsk], within: str, partition: int | None) -> bool:
        if any(self.capacity(a, within, partition) < a.replicas for a in asks):
            return False
        if len(asks) < 2:
            return True
        shared = set(self.eligible(asks[0], within)) & set(self.eligible(asks[1], within))
        if not shared:
            return True
        union = set(self.eligible(asks[0], within)) | set(self.eligible(asks[1], within))
        return sum(int(self.hosts[h]["gpu_count"]) for h in union) >= sum(a.replicas * a.gpus for a in asks)

    def per_leaf(self) -> str:
        leaves = [s for s in self.switches.values() if s.get("leaf")]
        parts = []
        for leaf in leaves[:_LEAVES_SHOWN]:
            counts: dict[str, list[int]] = {}
            for h in leaf.get("hosts") or []:
                entry = counts.setdefault(self.label[h], [0, 0])
                entry[0] += 1
                entry[1] += int(self.hosts[h]["gpu_count"])
            models = ", ".join(
                f"{m} {g} GPUs on {n} node{'s' * (n > 1)}" for m, (n, g) in sorted(counts.items())
            )
            parts.append(
                f"{leaf['name']} ({leaf['type']}, under {leaf.get('parent') or 'no switch'}): {models}"
            )
        more = f"; and {len(leaves) - _LEAVES_SHOWN} more leaves" if len(leaves) > _LEAVES_SHOWN else ""
        return "; ".join(parts) + more

    def models(self) -> list[str]:
        return sorted(set(self.label.values()))


def _bound(mode: str, tier: int, variable: str) -> Bound:
    if mode == "soft":
        return Bound(
            None,
            "anywhere in the cluster (mode soft: since Volcano v1.14.3 only the top of the tree bounds it)",
        )
    return Bound(tier, f"under one HyperNode of tier <= {tier} ({variable}, mode hard)")


def _ask_text(ask: RoleAsk, switch_types: tuple[str, ...]) -> str:
    models_var, replicas_var, gpus_var = ask.variables
    on = f" on {'/'.join(switch_types)} leaves (pd_services_switch_types)" if switch_types else ""
    return (
        f"{models_var} {list(ask.models)} asks for {ask.replicas} pods ({replicas_var}) of {ask.gpus} GPU"
        f"{'s' * (ask.gpus > 1)} ({gpus_var}){on}"
    )


def inventory_misfits(
    model: Mapping[str, Any],
    *,
    layout: str,
    prefill: RoleAsk,
    decode: RoleAsk,
    switch_types: Iterable[str] = (),
    mode: str = "soft",
    highest_tier: int = 2,
    joint_mode: str = "hard",
    joint_highest_tier: int = 2,
    partition_tier: int | None = None,
) -> list[str]:
    """Why the PD roles cannot be placed on the inventory ``model`` at all (empty: they may be).

    One line per workload that cannot be placed, then one line with the inventory's GPU models
    and their counts per leaf.

    A necessary check on GPU counts only, before anything is rendered: every role's GPU models
    must exist on nodes of an allowed switch type in enough quantity under one HyperNode the
    workload's topology bound allows (the joint layout: both roles under the same one). The
    placement predictor decides the rest (CPU, memory, pods already running, ties).
    """
    types = tuple(switch_types)
    tree = _Tree(model, types)
    if layout == "joint":
        workloads = [
            ([prefill, decode], _bound(joint_mode, joint_highest_tier, "pd_services_joint_highest_tier"))
        ]
    else:
        bound = _bound(mode, highest_tier, "pd_services_highest_tier")
        workloads = [([prefill], bound), ([decode], bound)]
    partition = partition_tier if layout == "joint" else None
    lines: list[str] = []
    for asks, bound in workloads:
        domains = tree.domains(bound.tier)
        if any(tree.fits(asks, d, partition) for d in domains):
            continue
        alone = [a for a in asks if not any(tree.fits([a], d, partition) for d in domains)]
        culprits = alone or asks
        what = "; ".join(_ask_text(a, types) for a in culprits)
        most = ", ".join(
            f"{max((tree.capacity(a, d, partition) for d in domains), default=0)} {a.role} pods"
            for a in culprits
        )
        together = "" if alone else ", together"
        within = (
            f" within one tier-{partition} switch each (pd_services_partition_policy)" if partition else ""
        )
        lines.append(
            f"pd_services_layout {layout}: {what}{together}, {bound.why}{within}; the inventory has room for "
            f"at most {most} there. Fix: set {' / '.join(a.variables[0] for a in culprits)} to models the "
            "inventory has (or lower the replicas, or add hosts)"
        )
    if lines:
        lines.append(f"GPU models in the inventory: {', '.join(tree.models())}; per leaf: {tree.per_leaf()}")
    return lines
