"""Mutable scheduling-session state: per-node resources and pods, per-HyperNode aggregates.

Mirrors Volcano's ``NodeInfo`` (``Idle``, ``Used``, ``Releasing``, ``Pipelined``,
``FutureIdle = Idle + Releasing - Pipelined``), the k8s ``NodeInfo`` the
predicates and nodeorder plugins read (pods, requested, non-zero requested) and
the network-topology-aware plugin's HyperNode resource cache, whose ``used`` is
updated by every allocate/deallocate event while ``idle``/``futureIdle`` stay as
they were when the session opened (``initHyperNodeResourceCache``).

Node state is created lazily: an untouched node is described by its allocatable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.objects import Node
from hypertopo.placement.podspec import PodSpecInfo
from hypertopo.placement.resources import Resources
from hypertopo.placement.tree import Tree
from hypertopo.topology.labels import LABEL_HOSTNAME

#: Keep what is derived from nodes' pods between placements and catch it up with the nodes changed
#: since (:meth:`Cluster.node_memo`, the predicates' and InterPodAffinity's sums, per-HyperNode task
#: counts); off: recompute everything for every pod. Results are identical either way
#: (``tests/placement/test_incremental.py`` checks it).
INCREMENTAL = True


@dataclass(slots=True)
class PodOnNode:
    """A pod occupying a node, as the affinity and port filters see it."""

    key: str
    namespace: str
    labels: Mapping[str, str]
    spec: PodSpecInfo


@dataclass(slots=True)
class NodeState:
    idle: Resources
    used: Resources = field(default_factory=dict)
    releasing: Resources = field(default_factory=dict)
    pipelined: Resources = field(default_factory=dict)
    requested: Resources = field(default_factory=dict)  # k8s NodeInfo.Requested (all pods incl. pipelined)
    nz_cpu: int = 0
    nz_memory: int = 0
    pods: list[PodOnNode] = field(default_factory=list)
    ports: dict[tuple[str, str, int], int] = field(default_factory=dict)
    version: int = 0  # changes whenever ``pods`` does (a key for what is derived from them)


@dataclass(slots=True)
class NodeMemo:
    """Values derived from nodes' pods for one owner (see :meth:`Cluster.node_memo`)."""

    owner: object
    seen_at: int  # the length of ``Cluster.changed`` when last caught up
    values: dict[int, Any] = field(default_factory=dict)


def hostname_only(spec: PodSpecInfo) -> bool:
    """True when every pod (anti-)affinity term of ``spec`` is per host."""
    terms = [*spec.affinity_required, *spec.anti_affinity_required]
    terms += [t for _, t in (*spec.affinity_preferred, *spec.anti_affinity_preferred)]
    return all(t.topology_key == LABEL_HOSTNAME for t in terms)


def _add(target: Resources, res: Mapping[str, int], sign: int = 1) -> None:
    for key, val in res.items():
        target[key] = target.get(key, 0) + sign * val


class Cluster:
    """Resources of every node and HyperNode during one simulated session."""

    def __init__(
        self, nodes: Sequence[Node], tree: Tree, hn_alloc: dict[str, Resources] | None = None
    ) -> None:
        self.nodes = nodes
        self.tree = tree
        self.states: list[NodeState | None] = [None] * len(nodes)
        self.pods_with_affinity: set[int] = set()  # nodes hosting a pod with (anti-)affinity terms
        self.pods_with_required_anti: set[int] = set()  # ... with required anti-affinity terms
        self.occupied: set[int] = set()  # nodes hosting any pod
        self.ns_nodes: dict[str, dict[int, int]] = {}  # namespace -> node -> its pods there
        self.non_hostname_affinity = 0  # pods with affinity terms over a key other than the hostname
        #: every node whose pods changed, in order (what is derived from pods catches up from here)
        self.changed: list[int] = []
        self._node_memos: dict[tuple[str, int], NodeMemo] = {}
        self.hn_used: dict[str, Resources] = {name: {} for name in tree.hypernodes}
        self.hn_alloc: dict[str, Resources] = hn_alloc or {}
        self.hn_idle0: dict[str, Resources] = {}
        self.hn_future0: dict[str, Resources] = {}
        if hn_alloc is None:
            self._aggregate_allocatable()

    def nodes_for(self, namespaces: frozenset[str] | None, *, required_anti: bool = False) -> set[int]:
        """Nodes hosting a pod of ``namespaces`` (None: any) or a pod with affinity terms (with
        ``required_anti``: a pod with required anti-affinity terms)."""
        if namespaces is None:
            return self.occupied
        out = set(self.pods_with_required_anti if required_anti else self.pods_with_affinity)
        for ns in namespaces:
            out.update(self.ns_nodes.get(ns, ()))
        return out

    def node_memo(self, kind: str, owner: object) -> dict[int, Any]:
        """Node -> a value of ``kind`` derived from that node's pods and ``owner`` (a pod spec, a
        request), to fill in: entries stay until the node's pods change (those of the nodes
        changed since the last call are dropped here)."""
        key = (kind, id(owner))
        changed = self.changed
        got = self._node_memos.get(key)
        if not INCREMENTAL:
            return {}
        if got is None or got.owner is not owner:
            got = self._node_memos[key] = NodeMemo(owner, len(changed))
        elif got.seen_at < len(changed):
            values = got.values
            for i in set(changed[got.seen_at :]):
                values.pop(i, None)
            got.seen_at = len(changed)
        return got.values

    def hosts_for(self, i: int, namespaces: frozenset[str] | None) -> bool:
        """Whether node ``i`` is one of :meth:`nodes_for` ``(namespaces)``."""
        if namespaces is None:
            return i in self.occupied
        return i in self.pods_with_affinity or any(i in self.ns_nodes.get(ns, ()) for ns in namespaces)

    # ------------------------------------------------------------------ setup

    def _aggregate_allocatable(self) -> None:
        tree = self.tree
        nodes = self.nodes
        cache: dict[str, Resources] = {}

        def direct(name: str) -> Resources:
            acc: Resources = {}
            groups: dict[int, tuple[Resources, int]] = {}
            for i in tree.hypernodes[name].nodes:
                alloc = nodes[i].allocatable
                key = id(alloc)
                got = groups.get(key)
                groups[key] = (alloc, 1) if got is None else (alloc, got[1] + 1)
            for alloc, count in groups.values():
                for res, val in alloc.items():
                    acc[res] = acc.get(res, 0) + val * count
            return acc

        def visit(name: str) -> Resources:
            got = cache.get(name)
            if got is not None:
                return got
            hn = tree.hypernodes[name]
            kids = hn.children
            if kids and sum(len(tree.hypernodes[k].nodes) for k in kids) == len(hn.nodes):
                acc: Resources = {}
                for kid in kids:
                    _add(acc, visit(kid))
            else:
                for kid in kids:
                    visit(kid)
                acc = direct(name)
            cache[name] = acc
            return acc

        for name in tree.hypernodes:
            visit(name)
        self.hn_alloc = cache

    def snapshot_session_open(self) -> None:
        """Freeze the HyperNode idle/futureIdle used by the gradient pre-filter."""
        releasing: dict[str, Resources] = {}
        for i, state in enumerate(self.states):
            if state is None:
                continue
            for name in self.tree.node_hns[i]:
                if state.releasing:
                    _add(releasing.setdefault(name, {}), state.releasing)
        for name, alloc in self.hn_alloc.items():
            idle = dict(alloc)
            _add(idle, self.hn_used[name], -1)
            self.hn_idle0[name] = idle
            future = dict(idle)
            _add(future, releasing.get(name, {}))
            self.hn_future0[name] = future

    # ------------------------------------------------------------------ node access

    def state(self, i: int) -> NodeState:
        st = self.states[i]
        if st is None:
            st = NodeState(idle=dict(self.nodes[i].allocatable))
            self.states[i] = st
        return st

    def idle(self, i: int) -> Mapping[str, int]:
        st = self.states[i]
        return self.nodes[i].allocatable if st is None else st.idle

    def future_idle(self, i: int) -> Mapping[str, int]:
        st = self.states[i]
        if st is None:
            return self.nodes[i].allocatable
        if not st.releasing and not st.pipelined:
            return st.idle
        out = dict(st.idle)
        _add(out, st.releasing)
        _add(out, st.pipelined, -1)
        return out

    # ------------------------------------------------------------------ mutations

    def place(self, i: int, pod: PodOnNode, resreq: Resources, status: str) -> None:
        """Add a pod to node ``i``. ``status``: Allocated/Running/Bound (uses idle),
        Releasing (uses idle, frees in the future) or Pipelined (waits for releasing resources)."""
        st = self.state(i)
        spec = pod.spec
        if status == "Pipelined":
            _add(st.pipelined, resreq)
        else:
            _add(st.idle, resreq, -1)
            _add(st.used, resreq)
            if status == "Releasing":
                _add(st.releasing, resreq)
        _add(st.requested, resreq)
        st.nz_cpu += spec.nonzero_cpu
        st.nz_memory += spec.nonzero_memory
        st.pods.append(pod)
        st.version += 1
        self.changed.append(i)
        self.occupied.add(i)
        on_nodes = self.ns_nodes.setdefault(pod.namespace, {})
        on_nodes[i] = on_nodes.get(i, 0) + 1
        if spec.has_pod_affinity and not hostname_only(spec):
            self.non_hostname_affinity += 1
        for port in spec.host_ports:
            st.ports[port] = st.ports.get(port, 0) + 1
        if spec.has_pod_affinity:
            self.pods_with_affinity.add(i)
        if spec.anti_affinity_required:
            self.pods_with_required_anti.add(i)
        for name in self.tree.node_hns[i]:
            _add(self.hn_used[name], resreq)

    def unplace(self, i: int, pod: PodOnNode, resreq: Resources, status: str) -> None:
        st = self.state(i)
        spec = pod.spec
        if status == "Pipelined":
            _add(st.pipelined, resreq, -1)
        else:
            _add(st.idle, resreq)
            _add(st.used, resreq, -1)
            if status == "Releasing":
                _add(st.releasing, resreq, -1)
        _add(st.requested, resreq, -1)
        st.nz_cpu -= spec.nonzero_cpu
        st.nz_memory -= spec.nonzero_memory
        for pos in range(len(st.pods) - 1, -1, -1):
            if st.pods[pos].key == pod.key:
                del st.pods[pos]
                st.version += 1
                self.changed.append(i)
                on_nodes = self.ns_nodes[pod.namespace]
                on_nodes[i] -= 1
                if not on_nodes[i]:
                    del on_nodes[i]
                break
        if not st.pods:
            self.occupied.discard(i)
        if spec.has_pod_affinity and not hostname_only(spec):
            self.non_hostname_affinity -= 1
        for port in spec.host_ports:
            st.ports[port] -= 1
        if spec.has_pod_affinity and not any(p.spec.has_pod_affinity for p in st.pods):
            self.pods_with_affinity.discard(i)
        if spec.anti_affinity_required and not any(p.spec.anti_affinity_required for p in st.pods):
            self.pods_with_required_anti.discard(i)
        for name in self.tree.node_hns[i]:
            _add(self.hn_used[name], resreq, -1)
