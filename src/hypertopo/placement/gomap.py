"""The iteration order of Go's small maps, as Volcano v1.15.1 (Go 1.25) meets it.

A Go map of at most 8 entries is one group whose i-th inserted entry sits in slot i; ``for k :=
range m`` starts at a uniformly random slot of the 8 and wraps. Volcano's random-looking choices
that are not ``rand.Intn`` come from here: the job's pick among equal job scores
(:func:`hypertopo.placement.util.job_tie_chances`) and the float sum of a HyperNode's binpack
score (:meth:`hypertopo.placement.plugins.network_topology_aware.NetworkTopologyAware.binpack_law`).
"""

from __future__ import annotations

from collections.abc import Sequence

#: slots of a Go map's first group: a map of at most this many entries is one group (swiss tables,
#: Go >= 1.24, and the buckets of older Go alike)
GO_MAP_GROUP_SLOTS = 8
#: the most combinations (orders times scores) :func:`hypertopo.placement.util.job_tie_chances`
#: enumerates (more: None)
MAX_ORDER_COMBINATIONS = 4096


def map_first_chances(order: Sequence[str], wanted: Sequence[str]) -> dict[str, float] | None:
    """The chance of each of ``wanted`` being the first of them met when Volcano iterates a small
    Go map filled in ``order`` (None: more than 8 entries).

    A map of at most 8 entries is one group whose i-th inserted entry sits in slot i (an insert
    takes the first empty slot); ``for k := range m`` starts at a uniformly random slot of the 8
    and wraps (Go >= 1.24: ``internal/runtime/maps`` ``Iter.Init``/``Iter.Next``, ``entryOffset =
    rand()``; Go <= 1.23 ``runtime/map.go`` ``mapiterinit``: ``it.offset``, slot ``(i + offset) &
    7``). So one of ``wanted`` is met first when the start falls after the previous one of them:
    its chance is the gap to it, over 8. All of ``order`` wanted: the first inserted entry comes
    first with chance (9 - n)/8, each other one with 1/8 (the iteration is the slot order
    rotated)."""
    if len(order) > GO_MAP_GROUP_SLOTS:
        return None
    keep = set(wanted)
    slots = [i for i, hn in enumerate(order) if hn in keep]
    return {
        order[slot]: (slot - (slots[k - 1] if k else slots[-1] - GO_MAP_GROUP_SLOTS)) / GO_MAP_GROUP_SLOTS
        for k, slot in enumerate(slots)
    }


def children_rotation_chances(n: int) -> list[float] | None:
    """The chance of each rotation ``r`` (iterated order ``members[r:] + members[:r]``) of a
    HyperNode's ``n`` children as Volcano's gradient search meets them, None when ``n > 8``.

    The scheduler cache fills a HyperNode's ``Children`` (``sets.Set``, a Go map) in its
    ``spec.members`` order (``pkg/scheduler/api/hyper_node_info.go``: ``BuildHyperNodeCache``
    calls ``addChild`` per member; ``rebuildCache`` clears them, ``resetChildren``, and builds
    them again the same way): child k sits in slot k. Every session copies them
    (``cache.Snapshot`` -> ``HyperNodesInfo.HyperNodes`` -> ``HyperNodeInfo.DeepCopy`` ->
    ``Children.Clone``, k8s.io/apimachinery ``sets``: ``for key := range s { result.Insert(key)
    }``): one rotation. ``hyperNodeGradientFn``'s BFS
    (``plugins/network-topology-aware/network_topology_aware.go``) iterates the copy, ``for child
    := range current.Children``: a second one. Each follows :func:`map_first_chances`; the two
    compose (rotations add up modulo n)."""
    if n > GO_MAP_GROUP_SLOTS:
        return None
    if n <= 1:
        return [1.0]
    names = [str(k) for k in range(n)]
    first = map_first_chances(names, names)
    assert first is not None
    step = [first[name] for name in names]
    return [sum(step[a] * step[(r - a) % n] for a in range(n)) for r in range(n)]
