"""The ``binpack`` plugin's node score.

``sum w_r (used_r + req_r) / alloc_r / sum w_r * 100 * binpack.weight`` over the requested
resources that have a weight (cpu, memory, ``binpack.resources``); a node the pod would
overflow scores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypertopo.placement.conf import BinpackConf
from hypertopo.placement.objects import Node
from hypertopo.placement.plugins.nodeorder import MAX_NODE_SCORE
from hypertopo.placement.resources import MIN_RESOURCE
from hypertopo.placement.state import Cluster


class Binpack:
    def __init__(self, conf: BinpackConf, cluster: Cluster, nodes: Sequence[Node]) -> None:
        self.conf = conf
        self.cluster = cluster
        self.nodes = nodes

    def score(self, req: Mapping[str, int], candidates: Sequence[int], scores: dict[int, float]) -> None:
        conf = self.conf
        nodes = self.nodes
        states = self.cluster.states
        wanted = [
            (k, v, conf.resources[k]) for k, v in req.items() if v >= MIN_RESOURCE and k in conf.resources
        ]
        if not wanted:
            return
        for i in candidates:
            alloc = nodes[i].allocatable
            st = states[i]
            used = st.used if st else {}
            total = 0.0
            weight_sum = 0
            overflow = False
            for key, want, weight in wanted:
                cap = alloc.get(key, 0)
                weight_sum += weight
                if cap == 0 or weight == 0:
                    continue
                final = want + used.get(key, 0)
                if final > cap:
                    overflow = True
                    break
                total += final * weight / cap
            if overflow:
                continue
            if weight_sum > 0:
                total /= weight_sum
            scores[i] += total * MAX_NODE_SCORE * conf.weight
