"""Fabric facts -> an inventory: tiers from the graph, the fat-tree rule, the multi-rail policy.

Tiers: the switches hosts connect to are tier 1 (leaves); the switches linked to tier ``t`` that
are not already placed are tier ``t + 1``. A link between two switches of one tier is a loop
(Volcano's HyperNodes form a tree) and refused.

Fat-tree rule: a HyperNode has one parent, so the switches of tier ``t + 1`` that share a child
(a leaf with uplinks to several spines) are merged into ONE group of tier ``t + 1``, named after
its lowest-named member (natural order) and listing every member in the output's comments. In a
fat-tree every leaf under such a group reaches every other one through any of its spines at the
same cost, which is what one tier-2 HyperNode says; picking one spine as "the" parent would split
leaves that are in fact equally close.

Multi-rail policy (a host whose adapters connect to several leaves): the host goes on the leaf
most of its adapters share; a tie goes to the leaf of its first adapter in source order. Every
such host is reported. ``multi_rail="refuse"`` makes it an error instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypertopo.importer.facts import Fabric, SourceError, Where
from hypertopo.topology.labels import natural_key

MULTI_RAIL = ("majority", "refuse")


@dataclass
class Group:
    """One switch of the inventory (several merged switches under the fat-tree rule)."""

    name: str
    tier: int
    type: str
    members: list[str]
    where: list[Where]
    parent: str | None = None
    hosts: list[str] = field(default_factory=list)


@dataclass
class Imported:
    groups: dict[str, Group]
    #: host -> (leaf group, gpu model, where the facts came from)
    hosts: dict[str, tuple[str, str, list[Where]]]
    notes: list[str]
    warnings: list[str]
    new_models: dict[str, tuple[dict[str, object], dict[str, str]]]
    sources: list[str]


def _leaf_of(
    host: str, leaves: list[tuple[str, Where]], policy: str, notes: list[str], problems: list[str]
) -> str:
    counts = Counter(leaf for leaf, _ in leaves)
    if len(counts) == 1:
        return leaves[0][0]
    lines = "; ".join(
        f"{leaf} ({n}: {', '.join(str(w) for s, w in leaves if s == leaf)})" for leaf, n in counts.items()
    )
    if policy == "refuse":
        problems.append(
            f"host '{host}' is on {len(counts)} leaves: {lines}. Fix: connect it to one "
            "leaf, or import with --multi-rail majority"
        )
        return leaves[0][0]
    best = max(counts.values())
    chosen = next(leaf for leaf, _ in leaves if counts[leaf] == best)
    notes.append(
        f"multi-rail host {host}: adapters on {lines}; placed on {chosen} "
        "(the leaf most adapters share, ties: the first adapter's)"
    )
    return chosen


def _tiers(fabric: Fabric, leaves: set[str], problems: list[str]) -> dict[str, int]:
    adjacent: dict[str, dict[str, Where]] = {}
    for a, b, where in fabric.links:
        if a == b:
            problems.append(f"{where}: switch '{a}' is linked to itself (a loop). Fix: drop this link")
            continue
        adjacent.setdefault(a, {}).setdefault(b, where)
        adjacent.setdefault(b, {}).setdefault(a, where)
    tier = dict.fromkeys(leaves, 1)
    frontier, level = sorted(leaves, key=natural_key), 1
    while frontier:
        following: list[str] = []
        for switch in frontier:
            for peer, where in adjacent.get(switch, {}).items():
                if peer not in tier:
                    tier[peer] = level + 1
                    following.append(peer)
                elif tier[peer] == level and natural_key(switch) < natural_key(peer):
                    problems.append(
                        f"{where}: switches '{switch}' and '{peer}' are both tier {level} and linked "
                        "(a switch loop: HyperNodes form a tree). Fix: leave this link out of the source"
                    )
        frontier, level = following, level + 1
    for name, (_kind, where) in fabric.switches.items():
        if name not in tier:
            fabric.warnings.append(f"{where}: switch '{name}' reaches no host; left out")
    return tier


def _groups(fabric: Fabric, tier: dict[str, int], problems: list[str]) -> dict[str, Group]:
    adjacent: dict[str, set[str]] = {}
    for a, b, _ in fabric.links:
        adjacent.setdefault(a, set()).add(b)
        adjacent.setdefault(b, set()).add(a)
    top = max(tier.values(), default=0)
    units = [[leaf] for leaf, t in tier.items() if t == 1]
    groups: dict[str, Group] = {}
    for level in range(1, top + 1):
        ups: list[set[str]] = [
            {p for m in unit for p in adjacent.get(m, ()) if tier.get(p) == level + 1} for unit in units
        ]
        next_units = _components(ups)
        named = {m: min(members, key=natural_key) for members in next_units for m in members}
        for unit, up in zip(units, ups, strict=True):
            name = min(unit, key=natural_key)
            kinds = sorted({fabric.switches[m][0] for m in unit})
            if len(kinds) > 1:
                problems.append(
                    f"switches {', '.join(unit)} are merged (fat-tree rule) but of types "
                    f"{' and '.join(kinds)}. Fix: check the links between them"
                )
            parent = named[next(iter(up))] if up else None
            groups[name] = Group(
                name,
                level,
                kinds[0],
                sorted(unit, key=natural_key),
                [fabric.switches[m][1] for m in sorted(unit, key=natural_key)],
                parent,
            )
        units = next_units
    return groups


def _components(ups: list[set[str]]) -> list[list[str]]:
    """Switches that share a child are one component (union-find)."""
    owner: dict[str, str] = {}

    def find(x: str) -> str:
        while owner[x] != x:
            owner[x] = owner[owner[x]]
            x = owner[x]
        return x

    for up in ups:
        items = sorted(up, key=natural_key)
        for p in items:
            owner.setdefault(p, p)
        for p in items[1:]:
            owner[find(p)] = find(items[0])
    comps: dict[str, list[str]] = {}
    for p in owner:
        comps.setdefault(find(p), []).append(p)
    return [sorted(c, key=natural_key) for c in comps.values()]


def build(fabric: Fabric, *, multi_rail: str = "majority", gpu_model: str | None = None) -> Imported:
    """The inventory the facts describe (raises :class:`SourceError` with every problem)."""
    problems: list[str] = []
    notes: list[str] = []
    chosen = {h: _leaf_of(h, leaves, multi_rail, notes, problems) for h, leaves in fabric.attach.items()}
    all_leaves = {leaf for leaves in fabric.attach.values() for leaf, _ in leaves}
    tier = _tiers(fabric, all_leaves, problems)
    if problems:
        raise SourceError(problems)
    groups = _groups(fabric, tier, problems)
    leaf_group = {m: g.name for g in groups.values() if g.tier == 1 for m in g.members}
    hosts: dict[str, tuple[str, str, list[Where]]] = {}
    missing: list[str] = []
    for host in sorted(chosen, key=natural_key):
        where = [w for _, w in fabric.attach[host]]
        gpu = fabric.gpus.get(host)
        if gpu is None and gpu_model is None:
            missing.append(f"{host} ({where[0]})")
            continue
        model = gpu[0] if gpu else str(gpu_model)
        hosts[host] = (leaf_group[chosen[host]], model, where + ([gpu[1]] if gpu else []))
        groups[leaf_group[chosen[host]]].hosts.append(host)
    if missing:
        problems.append(
            f"{len(missing)} host(s) without a GPU model: {', '.join(missing[:5])}"
            f"{', ...' if len(missing) > 5 else ''}. Fix: add a node labels source "
            "(nvidia.com/gpu.product) or pass --gpu-model"
        )
    for host, (model, where) in fabric.gpus.items():
        if host not in chosen:
            fabric.warnings.append(f"{where}: node {host} ({model}) is on no switch of the fabric; left out")
    _prune(groups, notes)
    if problems:
        raise SourceError(problems)
    for g in groups.values():
        if len(g.members) > 1:
            notes.append(
                f"fat-tree: {', '.join(g.members)} (tier {g.tier}) share children; merged as {g.name}"
            )
    return Imported(groups, hosts, notes, fabric.warnings, fabric.new_models, fabric.sources)


def _prune(groups: dict[str, Group], notes: list[str]) -> None:
    """Drop switches with no host below them (leaves of secondary rails only)."""
    used: set[str] = set()
    for g in groups.values():
        if g.hosts:
            cur: str | None = g.name
            while cur is not None and cur not in used:
                used.add(cur)
                cur = groups[cur].parent
    for name in sorted(set(groups) - used, key=natural_key):
        notes.append(f"switch {name}: no host is placed below it (only secondary rails); left out")
        del groups[name]
