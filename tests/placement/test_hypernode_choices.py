"""A HyperNode-level tie reports the job's resulting HyperNode for each candidate. Found by
the agreement run (scenario a098): the extra replica of a job (replicas > minAvailable) went
to a tied leaf under another spine, so the job's lowest common HyperNode was the cluster
root, while the tie only listed leaves."""

from __future__ import annotations

from hypertopo.placement import predict
from hypertopo.placement.agreement import compare
from hypertopo.placement.tree import VIRTUAL_ROOT

from .helpers import GPU_BINPACK, conf, hard, job, leaf, node, parent, task, template


def _case():
    nodes = [node(n, gpus=8) for n in ("a0", "a1", "b0", "c0")]
    hns = [
        leaf("leaf-a", ["a0", "a1"]),
        leaf("leaf-b", ["b0"]),
        leaf("leaf-c", ["c0"]),
        parent("spine-1", ["leaf-a", "leaf-b"]),
        parent("spine-2", ["leaf-c"]),
    ]
    # the gang (2 x 8 GPUs) fills leaf-a; the third replica is placed alone afterwards, and
    # leaf-b and leaf-c (one empty 8-GPU node each) score the same
    work = job("w", [task("worker", 3, template(gpus=8), minAvailable=2)], min_available=2, topology=hard(3))
    result = predict(
        jobs=[work], nodes=nodes, hypernodes=hns, scheduler_conf=conf(GPU_BINPACK), baseline=False
    )
    return result, nodes, hns


def test_the_tie_lists_the_job_hypernode_of_each_candidate():
    result, _, _ = _case()
    j = result["jobs"][0]
    assert j["hypernode"] == "spine-1" and j["leaves"] == {"leaf-a": 2, "leaf-b": 1}
    tie = next(t for t in j["ties"] if t["level"] == "hypernode")
    assert tie["candidates"] == ["leaf-b", "leaf-c"]
    assert tie["job_hypernodes"] == [VIRTUAL_ROOT, "spine-1"]
    assert not any(k.startswith("_") for t in j["ties"] for k in t)


def test_compare_accepts_the_other_candidate_and_nothing_else():
    result, nodes, hns = _case()

    def pods(third: str) -> list[dict]:
        where = {"w-worker-0": "a0", "w-worker-1": "a1", "w-worker-2": third}
        return [
            {
                "metadata": {"name": p, "namespace": "default"},
                "spec": {"nodeName": n, "containers": [{"name": "c"}]},
            }
            for p, n in where.items()
        ]

    other = compare(result, pods("c0"), nodes, hns)[0]
    assert other["checks"]["hypernode"] and other["checks"]["leaves"] is None
    # the candidates themselves (leaves) are not the job's HyperNode: a placement whose
    # lowest common HyperNode were leaf-b would not be accepted
    assert "leaf-b" not in result["jobs"][0]["ties"][0]["job_hypernodes"]
