"""The HyperNode tree as Volcano v1.15.1's scheduler sees it.

Rules (``pkg/scheduler/api/hyper_node_info.go``, ``framework/session.go``):

* ``type: Node`` members: ``exactMatch`` (a name, even of a missing node),
  ``regexMatch`` (Go's ``regexp``, an unanchored search over node names, ``GetMembers``;
  see :mod:`.goregexp`), ``labelMatch`` (an empty
  selector matches nothing). ``type: HyperNode`` members: only ``exactMatch``;
  regex/label selectors on them are ignored.
* A HyperNode's nodes are its own node members plus its children's nodes.
* A HyperNode with two parents, or a cycle, makes the cache build fail:
  ``HyperNodesReadyToSchedule=false`` and every job with a network topology is
  skipped. The engine still builds a best-effort tree (first parent in natural
  name order, cycles cut) for the scores of jobs without topology.
* A virtual root ``<cluster-top-hypernode>`` (tier = highest tier + 1, or 1 when
  there are no HyperNodes) adopts every parentless HyperNode and holds every node.
* ``FindHyperNodeForNode``: the HyperNode of the lowest tier present that holds
  the node; when a node is in several, Volcano takes one at random (map order),
  the engine the first in natural name order, with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.goregexp import RegexLimitError
from hypertopo.placement.index import NodeIndex
from hypertopo.placement.objects import HyperNodeObj, Member, Node
from hypertopo.topology.labels import natural_key

VIRTUAL_ROOT = "<cluster-top-hypernode>"
MAX_LISTED = 5


@dataclass(slots=True)
class HyperNode:
    name: str
    tier: int
    tier_name: str
    parent: str | None = None
    children: list[str] = field(default_factory=list)  # in natural name order
    #: the children in the parent's ``spec.members`` order, the order Volcano's cache fills its
    #: ``Children`` set in (:func:`hypertopo.placement.util.children_rotation_chances`); the
    #: virtual root's: natural name order (Volcano's comes from a Go map, not known)
    members: list[str] = field(default_factory=list)
    nodes: list[int] = field(default_factory=list)
    ancestors: tuple[str, ...] = ()
    _node_set: frozenset[int] | None = None

    def node_set(self) -> frozenset[int]:
        if self._node_set is None:
            self._node_set = frozenset(self.nodes)
        return self._node_set


def member_nodes(member: Member, index: NodeIndex) -> list[int]:
    """The nodes a ``type: Node`` member selects: ``exactMatch`` by name (a missing node: none),
    ``regexMatch`` by an unanchored search over node names, ``labelMatch`` by its label selector
    (an empty selector: none)."""
    if member.exact is not None:
        idx = index.by_name.get(member.exact)
        return [] if idx is None else [idx]
    if member.regex is not None:
        return index.select_regex(member.regex)
    if member.label is not None and not member.label.empty:
        return index.select_labels(member.label)
    return []


def _summarise(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" (and {len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else "")


class Tree:
    """HyperNodes, the virtual root, tiers and per-node lookups."""

    def __init__(self, hypernodes: Sequence[HyperNodeObj], nodes: Sequence[Node], index: NodeIndex) -> None:
        self.nodes = nodes
        self.index = index
        self.warnings: list[str] = []
        self.ready = True
        self.not_ready_reasons: list[str] = []
        self.hypernodes: dict[str, HyperNode] = {}
        self.has_real_hypernodes = bool(hypernodes)
        self._build(hypernodes)

    # ------------------------------------------------------------------ build

    def _build(self, objs: Sequence[HyperNodeObj]) -> None:
        by_name: dict[str, HyperNodeObj] = {}
        for obj in objs:
            if obj.name in by_name:
                raise PlacementInputError(
                    f"{obj.where}: metadata.name: duplicate HyperNode name {obj.name!r}"
                )
            by_name[obj.name] = obj
        own_nodes: dict[str, set[int]] = {}
        member_children: dict[str, list[str]] = {}
        parents: dict[str, list[str]] = {}
        dangling_nodes: list[str] = []
        for obj in objs:
            found: set[int] = set()
            kids: list[str] = []
            for member in obj.members:
                if member.type == "Node":
                    if member.exact is not None and member.exact not in self.index.by_name:
                        dangling_nodes.append(f"{obj.name}: {member.exact}")
                    try:
                        found.update(member_nodes(member, self.index))
                    except RegexLimitError as exc:
                        raise PlacementInputError(
                            f"{obj.where}: {member.path}.selector.regexMatch.pattern: {exc}"
                        ) from None
                    continue
                if member.exact is None:
                    self.warnings.append(
                        f"HyperNode {obj.name}: {member.path}: a "
                        f"{('regexMatch' if member.regex else 'labelMatch')} "
                        "selector on a type: HyperNode member is ignored by Volcano (only exactMatch is used)"
                    )
                    continue
                if member.exact not in by_name:
                    self.warnings.append(
                        f"HyperNode {obj.name}: {member.path}.selector.exactMatch.name: HyperNode "
                        f"{member.exact!r} does not exist (member ignored)"
                    )
                    continue
                if member.exact not in kids:
                    kids.append(member.exact)
                    parents.setdefault(member.exact, []).append(obj.name)
            if not found and not kids:
                # Volcano keeps it with an empty node set (api/hyper_node_info.go
                # BuildHyperNodeCache: realNodesSet = the union of no members); e.g. a leaf whose
                # only Node was deleted
                self.warnings.append(
                    f"HyperNode {obj.name}: spec.members: no member references an existing node or "
                    "HyperNode (kept empty, as Volcano does: no pod can be placed under it)"
                )
            own_nodes[obj.name] = found
            member_children[obj.name] = kids
        if dangling_nodes:
            self.warnings.append(
                f"HyperNode members name nodes that do not exist (ignored): {_summarise(dangling_nodes)}"
            )

        chosen_parent: dict[str, str] = {}
        for child, plist in parents.items():
            if len(plist) > 1:
                ordered = sorted(plist, key=natural_key)
                self._not_ready(
                    f"HyperNode {child} has {len(plist)} parents ({', '.join(ordered)}): "
                    "Volcano's HyperNode cache "
                    "build fails, so network-topology scheduling is disabled cluster-wide (jobs with a "
                    "networkTopology stay Pending)"
                )
                chosen_parent[child] = ordered[0]
            else:
                chosen_parent[child] = plist[0]
        self._cut_cycles(chosen_parent)

        for obj in objs:
            self.hypernodes[obj.name] = HyperNode(
                obj.name, obj.tier, obj.tier_name, chosen_parent.get(obj.name)
            )
        for child, parent in chosen_parent.items():
            self.hypernodes[parent].children.append(child)
        for hn in self.hypernodes.values():
            hn.children.sort(key=natural_key)
            hn.members = [kid for kid in member_children[hn.name] if chosen_parent.get(kid) == hn.name]
            if hn.parent is not None and self.hypernodes[hn.parent].tier <= hn.tier:
                self.warnings.append(
                    f"HyperNode {hn.parent} (tier {self.hypernodes[hn.parent].tier}) is the parent of "
                    f"{hn.name} (tier {hn.tier}): Volcano trusts spec.tier and does not check that "
                    "parents have higher tiers"
                )

        # real nodes: own members plus every descendant's
        done: dict[str, set[int]] = {}

        def collect(name: str) -> set[int]:
            if name in done:
                return done[name]
            acc = set(own_nodes[name])
            for kid in self.hypernodes[name].children:
                acc |= collect(kid)
            done[name] = acc
            return acc

        for name in self.hypernodes:
            self.hypernodes[name].nodes = sorted(collect(name))
        real_min = min((obj.tier for obj in objs), default=0)
        leaf_sizes = [len(own_nodes[o.name]) for o in objs if o.tier == real_min]
        self._simple = (
            all(not member_children[o.name] for o in objs if o.tier == real_min)
            and all(not own_nodes[o.name] for o in objs if o.tier != real_min)
            and sum(leaf_sizes) == len(set().union(*(own_nodes[o.name] for o in objs if o.tier == real_min)))
        )

        top_tier = max((hn.tier for hn in self.hypernodes.values()), default=0) + 1
        root = HyperNode(VIRTUAL_ROOT, top_tier, "", None, [], nodes=[n.index for n in self.nodes])
        for hn in self.hypernodes.values():
            if hn.parent is None:
                hn.parent = VIRTUAL_ROOT
                root.children.append(hn.name)
        root.children.sort(key=natural_key)
        root.members = list(root.children)
        self.hypernodes[VIRTUAL_ROOT] = root
        self.root = VIRTUAL_ROOT
        for hn in self.hypernodes.values():
            chain = [hn.name]
            cur = hn.parent
            while cur is not None:
                chain.append(cur)
                cur = self.hypernodes[cur].parent
            hn.ancestors = tuple(chain)

        self.tiers = sorted({hn.tier for hn in self.hypernodes.values()})
        self.min_tier = self.tiers[0]
        self.max_tier = self.tiers[-1]
        self.by_tier: dict[int, list[str]] = {}
        for hn in self.hypernodes.values():
            self.by_tier.setdefault(hn.tier, []).append(hn.name)
        for names in self.by_tier.values():
            names.sort(key=natural_key)

        self.tier_name_map: dict[str, int] = {}
        for obj in objs:
            if obj.tier_name:
                old = self.tier_name_map.get(obj.tier_name)
                if old is not None and old != obj.tier:
                    self.warnings.append(
                        f"tierName {obj.tier_name!r} is used by tiers {old} and {obj.tier}; Volcano keeps "
                        "whichever it reads last (map order)"
                    )
                self.tier_name_map[obj.tier_name] = obj.tier

        self._index_nodes()
        self._mixed_depth()

    def _mixed_depth(self) -> None:
        """Warn about a HyperNode tree of mixed depth, where Volcano's constraints silently do less.

        * a branch that skips a tier (a tier-1 HyperNode directly under a tier-3 one): Volcano's
          gradient search only takes HyperNodes of tier <= highestTierAllowed
          (``hyperNodeGradientFn`` in pkg/scheduler/plugins/network-topology-aware/
          network_topology_aware.go), so under that branch a skipped tier allows no more than the
          tier below it;
        * nodes whose lowest HyperNode is above the lowest tier: the network-topology node score
          looks a node up among the lowest tier's HyperNodes only (``FindHyperNodeForNode`` in
          pkg/scheduler/util/scheduler_helper.go, called by ``batchNodeOrderFnForNetworkAwarePods``)
          and scores these nodes 0, so it never pulls a job's later pods onto them;
        * nodes in no HyperNode while others are: only the virtual root holds them, so a job with a
          hard tier below the top never uses them.
        """
        if not self.has_real_hypernodes:
            return
        skips = []
        for hn in self.hypernodes.values():
            parent = self.hypernodes.get(hn.parent) if hn.parent and hn.parent != VIRTUAL_ROOT else None
            if parent is not None and parent.tier > hn.tier + 1:
                skips.append(f"{hn.name} (tier {hn.tier}) under {parent.name} (tier {parent.tier})")
        if skips:
            self.warnings.append(
                "HyperNode tree of mixed depth: branches skip a tier ("
                + _summarise(sorted(skips, key=natural_key))
                + "); Volcano searches only HyperNodes of tier <= highestTierAllowed, so below such a "
                "branch a skipped tier allows no more than the tier under it (Volcano v1.15.1 "
                "network_topology_aware.go, hyperNodeGradientFn)"
            )
        higher: list[str] = []
        bare: list[str] = []
        for i, node in enumerate(self.nodes):
            if self.node_leaf[i] is not None:
                continue
            real = [hn for hn in self.node_tier_hn[i] if hn is not None and hn != VIRTUAL_ROOT]
            (higher if real else bare).append(node.name)
        if higher:
            self.warnings.append(
                f"HyperNode tree of mixed depth: nodes whose lowest HyperNode is above tier {self.tiers[0]}: "
                + _summarise(sorted(higher, key=natural_key))
                + f"; Volcano's network-topology node score looks nodes up among tier-{self.tiers[0]} "
                "HyperNodes only and scores these 0, so it never draws a job's later pods to them "
                "(Volcano v1.15.1 scheduler_helper.go, FindHyperNodeForNode)"
            )
        if bare and len(bare) < len(self.nodes):
            self.warnings.append(
                "nodes in no HyperNode: "
                + _summarise(sorted(bare, key=natural_key))
                + "; only Volcano's virtual cluster root holds them, so a job with mode: hard and a "
                "tier below the top never uses them (Volcano v1.15.1 framework/session.go adds the "
                "root; network_topology_aware.go, hyperNodeGradientFn)"
            )

    def _not_ready(self, reason: str) -> None:
        self.ready = False
        self.not_ready_reasons.append(reason)
        self.warnings.append(reason)

    def _cut_cycles(self, parent: dict[str, str]) -> None:
        state: dict[str, int] = {}
        for start in sorted(parent, key=natural_key):
            path: list[str] = []
            cur: str | None = start
            while cur is not None and state.get(cur, 0) == 0:
                state[cur] = 1
                path.append(cur)
                cur = parent.get(cur)
            if cur is not None and state.get(cur) == 1:
                cycle = path[path.index(cur) :]
                self._not_ready(
                    "HyperNodes form a cycle (" + " -> ".join([*cycle, cur]) + "): Volcano's HyperNode cache "
                    "build fails, so network-topology scheduling is disabled cluster-wide (jobs with a "
                    "networkTopology stay Pending)"
                )
                del parent[min(cycle, key=natural_key)]
            for name in path:
                state[name] = 2

    def _index_nodes(self) -> None:
        if self._simple:
            self._index_simple()
            return
        count = len(self.nodes)
        tier_pos = {tier: i for i, tier in enumerate(self.tiers)}
        # node -> every HyperNode holding it (for the resource aggregates), and per tier the one Volcano uses
        self.node_hns: list[Sequence[str]] = [[] for _ in range(count)]
        per_tier: list[list[str | None]] = [[None] * len(self.tiers) for _ in range(count)]
        multi_leaf: list[str] = []
        for name in sorted(self.hypernodes, key=natural_key):
            hn = self.hypernodes[name]
            pos = tier_pos[hn.tier]
            for i in hn.nodes:
                self.node_hns[i].append(name)  # type: ignore[attr-defined]
                slot = per_tier[i]
                if slot[pos] is None:
                    slot[pos] = name
                elif pos == 0:
                    multi_leaf.append(f"{self.nodes[i].name} ({slot[pos]}, {name})")
        self.node_tier_hn: list[tuple[str | None, ...]] = [tuple(s) for s in per_tier]
        self.node_leaf: list[str | None] = [s[0] for s in per_tier]
        if multi_leaf:
            self.warnings.append(
                f"nodes in two HyperNodes of the lowest tier {self.tiers[0]}: "
                f"{_summarise(multi_leaf)}; Volcano "
                "picks one at random for the network-topology node score (the engine takes the first by name)"
            )

    def _index_simple(self) -> None:
        """Every node in at most one lowest-tier HyperNode, no node members above: use leaf chains."""
        count = len(self.nodes)
        root = self.hypernodes[VIRTUAL_ROOT]
        tier_pos = {tier: i for i, tier in enumerate(self.tiers)}
        bare_chain: tuple[str, ...] = (VIRTUAL_ROOT,)
        bare_tiers: list[str | None] = [None] * len(self.tiers)
        bare_tiers[tier_pos[root.tier]] = VIRTUAL_ROOT
        self.node_hns = [bare_chain] * count
        self.node_tier_hn = [tuple(bare_tiers)] * count
        self.node_leaf = [None] * count
        if not self.has_real_hypernodes:
            self.node_leaf = [VIRTUAL_ROOT] * count
            return
        for name in self.by_tier[self.tiers[0]]:
            hn = self.hypernodes[name]
            chain = hn.ancestors
            per_tier: list[str | None] = [None] * len(self.tiers)
            for anc in sorted(chain, key=natural_key):
                pos = tier_pos[self.hypernodes[anc].tier]
                if per_tier[pos] is None:
                    per_tier[pos] = anc
            tiers = tuple(per_tier)
            for i in hn.nodes:
                self.node_hns[i] = chain
                self.node_tier_hn[i] = tiers
                self.node_leaf[i] = name

    # ------------------------------------------------------------------ queries

    def tier(self, name: str) -> int:
        return self.hypernodes[name].tier

    def lca(self, a: str | None, b: str | None) -> str | None:
        """``GetLCAHyperNode``: an empty side yields the other."""
        if not a:
            return b
        if not b:
            return a
        if a == b:
            return a
        seen = set(self.hypernodes[a].ancestors)
        for anc in self.hypernodes[b].ancestors:
            if anc in seen:
                return anc
        return None

    def lca_of_nodes(self, nodes: Sequence[int]) -> str | None:
        """The lowest-tier HyperNode holding every node (via their lowest-tier HyperNodes)."""
        result: str | None = None
        for i in nodes:
            own = self.node_leaf[i] or self.root
            result = own if result is None else self.lca(result, own)
        return result

    def highest_allowed(self, allocated: str, tier: int) -> str | None:
        """``getHighestAllowedHyperNode``: highest ancestor (incl. itself) with tier <= ``tier``."""
        best = None
        for anc in self.hypernodes[allocated].ancestors:
            if self.hypernodes[anc].tier > tier:
                break
            best = anc
        return best
