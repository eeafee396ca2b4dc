"""Node scores summed over the enabled plugins (``util.PrioritizeNodes`` of Volcano v1.15.1).

:mod:`.plugins.nodeorder`, :mod:`.plugins.binpack` and :mod:`.plugins.network_topology_aware`
each add their weighted score; equal totals (within :data:`TIE_EPSILON`) are ties.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from hypertopo.placement.conf import SchedulerConf
from hypertopo.placement.objects import Node
from hypertopo.placement.plugins.binpack import Binpack
from hypertopo.placement.plugins.network_topology_aware import NetworkTopologyAware
from hypertopo.placement.plugins.nodeorder import NodeOrder
from hypertopo.placement.podspec import PodSpecInfo
from hypertopo.placement.state import Cluster
from hypertopo.placement.tree import Tree

TIE_EPSILON = 1e-9


def same_score(a: float, b: float) -> bool:
    return abs(a - b) <= TIE_EPSILON * max(1.0, abs(a), abs(b))


class Scorer:
    def __init__(self, conf: SchedulerConf, cluster: Cluster, tree: Tree, nodes: Sequence[Node]) -> None:
        self.conf = conf
        self.nodeorder = NodeOrder(conf.nodeorder, cluster, nodes)
        self.binpack = Binpack(conf.binpack, cluster, nodes)
        self.nta = NetworkTopologyAware(conf.nta, cluster, tree)

    def score_nodes(
        self,
        spec: PodSpecInfo,
        namespace: str,
        labels: Mapping[str, str],
        candidates: Sequence[int],
        network_aware: bool,
        allocated_hn: str | None,
        task_num: Callable[[str], int],
        total_tasks: int,
    ) -> dict[int, float]:
        scores = dict.fromkeys(candidates, 0.0)
        if self.conf.nodeorder.enabled:
            self.nodeorder.score(spec, namespace, labels, candidates, scores)
        if self.conf.binpack.enabled and self.conf.binpack.weight != 0:
            self.binpack.score(spec.resreq, candidates, scores)
        nta = self.conf.nta
        if nta.enabled and nta.node_order:
            if network_aware:
                self.nta.network_score(candidates, allocated_hn, task_num, total_tasks, scores)
            elif nta.normal_pod_enable:
                self.nta.normal_score(spec.resreq, candidates, scores)
        return scores
