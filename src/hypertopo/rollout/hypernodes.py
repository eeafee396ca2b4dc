"""Plan the HyperNode writes of the ``hypernodes`` role (pure logic, no API calls).

The role applies the HyperNodes rendered from the inventory, carrying an
ownership label, and deletes owned HyperNodes that left the inventory. It never
touches HyperNodes it does not own (for example the ones Volcano's discovery
creates, labelled ``volcano.sh/network-topology-source``).

Before any write it checks the set the cluster would end up with (ours plus the
foreign ones that stay): if a Node would be a member of two leaf HyperNodes, or
a HyperNode would have two parents (or the parent links form a cycle), Volcano
would refuse to build its HyperNode tree and disable topology-aware scheduling
for the whole cluster; the plan names those offenders so the role can refuse.

Selector semantics are the placement engine's (:func:`hypertopo.placement.tree.member_nodes`,
Volcano v1.15.1's ``pkg/scheduler/api/hyper_node_info.go``): Node members match by
``exactMatch`` (name), ``regexMatch`` (unanchored) or ``labelMatch`` (a label selector; an
empty one matches nothing); HyperNode members match by ``exactMatch`` only; a member Volcano
cannot read selects nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.index import NodeIndex
from hypertopo.placement.objects import Member, Node, parse_member
from hypertopo.placement.selectors import parse_label_selector
from hypertopo.placement.tree import member_nodes
from hypertopo.rollout.objdiff import object_name

OWNER_LABELS: dict[str, str] = {"app.kubernetes.io/managed-by": "hypertopo"}


class HyperNodePlanError(ValueError):
    """An input object is malformed (no name, members not a list, ...)."""


def _name(obj: Mapping[str, Any], what: str) -> str:
    return object_name(obj, what, HyperNodePlanError)


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def is_owned(obj: Mapping[str, Any], owner_labels: Mapping[str, str] = OWNER_LABELS) -> bool:
    """True when ``obj`` carries every ownership label with our value."""
    labels = _labels(obj)
    return all(labels.get(k) == v for k, v in owner_labels.items())


def _members(hn: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    members = (hn.get("spec") or {}).get("members") or []
    if not isinstance(members, list):
        raise HyperNodePlanError(f"HyperNode {_name(hn, 'HyperNode')}: spec.members must be a list")
    return [m for m in members if isinstance(m, Mapping)]


def match_label_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` match a HyperNode ``labelMatch`` selector, as Volcano reads it (an empty or
    invalid selector matches nothing)."""
    try:
        parsed = parse_label_selector(selector, "HyperNode", "labelMatch")
    except PlacementInputError:
        return False
    return not parsed.empty and parsed.matches(labels)


def _parsed_members(hn: Mapping[str, Any], kind: str) -> list[Member]:
    """The ``kind`` members of ``hn`` that Volcano can read (a malformed one selects nothing)."""
    out = []
    for i, raw in enumerate(_members(hn)):
        if raw.get("type") != kind:
            continue
        try:
            out.append(parse_member(raw, f"HyperNode {_name(hn, 'HyperNode')}", f"spec.members[{i}]"))
        except PlacementInputError:
            continue
    return out


def leaf_members(
    hypernodes: Iterable[Mapping[str, Any]], nodes: Mapping[str, Mapping[str, str]]
) -> dict[str, list[str]]:
    """HyperNode name -> the Nodes its ``type: Node`` members select (``nodes``: name -> labels),
    for every HyperNode with such members; selection as the placement engine's HyperNode tree does."""
    parsed = [
        Node(i, name, {str(k): str(v) for k, v in labels.items()}, (), False, {})
        for i, (name, labels) in enumerate(nodes.items())
    ]
    index = NodeIndex(parsed)
    out: dict[str, list[str]] = {}
    for hn in hypernodes:
        node_members = [m for m in _members(hn) if m.get("type") == "Node"]
        if not node_members:
            continue
        selected: set[int] = set()
        for member in _parsed_members(hn, "Node"):
            selected.update(member_nodes(member, index))
        out[_name(hn, "HyperNode")] = sorted(parsed[i].name for i in selected)
    return out


def parents_of(hypernodes: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Child HyperNode name -> the HyperNodes listing it as a ``type: HyperNode`` exactMatch member."""
    out: dict[str, list[str]] = {}
    for hn in hypernodes:
        parent = _name(hn, "HyperNode")
        for member in _parsed_members(hn, "HyperNode"):
            child = member.exact
            if child and parent not in out.setdefault(child, []):
                out[child].append(parent)
    return out


def check_hypernode_set(
    hypernodes: list[Mapping[str, Any]], nodes: Mapping[str, Mapping[str, str]]
) -> list[str]:
    """Problems that would make Volcano disable topology scheduling, each naming the offenders."""
    problems: list[str] = []
    by_node: dict[str, list[str]] = {}
    for hn, members in leaf_members(hypernodes, nodes).items():
        for n in members:
            by_node.setdefault(n, []).append(hn)
    for n in sorted(by_node):
        if len(by_node[n]) > 1:
            problems.append(
                f"node {n} would be a member of {len(by_node[n])} leaf HyperNodes: {sorted(by_node[n])}"
            )
    parents = parents_of(hypernodes)
    for child in sorted(parents):
        if len(parents[child]) > 1:
            problems.append(
                f"HyperNode {child} would have {len(parents[child])} parents: {sorted(parents[child])}"
            )
    # cycles along single-parent links
    for start in sorted(parents):
        seen = [start]
        cur = start
        while parents.get(cur):
            cur = parents[cur][0]
            if cur == start:
                problems.append(f"HyperNodes form a cycle: {' -> '.join([*seen, start])}")
                break
            if cur in seen:
                break
            seen.append(cur)
    return sorted(set(problems), key=problems.index)


def plan_hypernodes(
    desired: list[Mapping[str, Any]],
    existing: Iterable[Mapping[str, Any]],
    nodes: Mapping[str, Mapping[str, str]],
    *,
    owner_labels: Mapping[str, str] = OWNER_LABELS,
    prune: bool = True,
) -> dict[str, Any]:
    """What to apply and delete, and whether it is safe.

    ``desired``: the HyperNodes rendered from the inventory (each must carry the
    ownership labels); ``existing``: a HyperNode listing; ``nodes``: node name ->
    labels after labelling (see :func:`hypertopo.rollout.node_labels.overlay_node_labels`).

    Returns ``apply`` (desired objects), ``delete`` (owned names no longer in the
    inventory, when ``prune``), ``delete_objects`` (the same as minimal objects),
    ``foreign`` (names we leave alone), ``problems`` (each naming its offenders;
    the role refuses to write when non-empty),
    ``resulting``/``resulting_objects`` (the HyperNodes the cluster holds afterwards).
    """
    existing_by_name = {_name(h, "HyperNode"): h for h in existing}
    desired_names = [_name(h, "HyperNode") for h in desired]
    problems: list[str] = []
    for hn in desired:
        if not is_owned(hn, owner_labels):
            problems.append(
                f"rendered HyperNode {_name(hn, 'HyperNode')} lacks the ownership labels {dict(owner_labels)}"
            )
        if not _members(hn):
            problems.append(f"rendered HyperNode {_name(hn, 'HyperNode')} has no members")
    dupes = sorted({n for n in desired_names if desired_names.count(n) > 1})
    if dupes:
        problems.append(f"the inventory renders these HyperNode names more than once: {dupes}")
    foreign = sorted(n for n, h in existing_by_name.items() if not is_owned(h, owner_labels))
    clashes = sorted(set(desired_names) & set(foreign))
    for n in clashes:
        problems.append(
            f"HyperNode {n} already exists and is not ours (no {dict(owner_labels)} label); "
            "rename the switch in the inventory or remove that HyperNode"
        )
    delete = (
        sorted(n for n, h in existing_by_name.items() if is_owned(h, owner_labels) and n not in desired_names)
        if prune
        else []
    )
    kept_owned = (
        []
        if prune
        else [h for n, h in existing_by_name.items() if is_owned(h, owner_labels) and n not in desired_names]
    )
    resulting = [*desired, *kept_owned, *(existing_by_name[n] for n in foreign if n not in clashes)]
    problems.extend(check_hypernode_set(resulting, nodes))
    return {
        "apply": list(desired),
        "delete": delete,
        "delete_objects": [
            {
                "apiVersion": existing_by_name[n].get("apiVersion", "topology.volcano.sh/v1alpha1"),
                "kind": "HyperNode",
                "metadata": {"name": n},
            }
            for n in delete
        ],
        "foreign": foreign,
        "problems": problems,
        "resulting": sorted(_name(h, "HyperNode") for h in resulting),
        "resulting_objects": resulting,
    }
