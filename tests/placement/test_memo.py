"""The dry-run memo over interchangeable leaves must not change any prediction."""

import json

import pytest

from hypertopo.placement import memo, predict

from .helpers import GPU_BINPACK, conf
from .synthetic import (
    generated_cluster,
    pod_template,
    seed_cluster,
    seed_pd_jobs,
    task,
    volcano_job,
)


def scenario(nodes):
    busy = [
        {
            "metadata": {"name": f"busy-{i}", "namespace": "x"},
            "spec": {
                "nodeName": f"node{i}",
                "containers": [
                    {
                        "name": "c",
                        "resources": {"requests": {"nvidia.com/gpu": 6}, "limits": {"nvidia.com/gpu": 6}},
                    }
                ],
            },
            "status": {"phase": "Running"},
        }
        for i in (0, 1, 5, 70, 200)
    ]
    partition = {
        "totalPartitions": 2,
        "partitionSize": 4,
        "networkTopology": {"mode": "hard", "highestTierAllowed": 1},
    }
    jobs = [
        *seed_pd_jobs(),
        volcano_job(
            "train",
            [task("worker", 40, pod_template(["a100"], gpus=2))],
            topology={"mode": "hard", "highestTierAllowed": 2},
        ),
        volcano_job(
            "parts",
            [task("w", 8, pod_template(["h100"]), partitionPolicy=partition)],
            topology={"mode": "hard", "highestTierAllowed": 2},
        ),
        volcano_job(
            "extra",
            [task("w", 6, pod_template(["rtx5090"], gpus=8))],
            min_available=3,
            topology={"mode": "hard", "highestTierAllowed": 1},
        ),
    ]
    return jobs, busy


@pytest.mark.parametrize("size", [256, 1024])
@pytest.mark.parametrize("nta", [None, GPU_BINPACK])
def test_memo_is_transparent(monkeypatch, size, nta):
    nodes, hns = seed_cluster() if size == 256 else generated_cluster(size)
    jobs, pods = scenario(nodes)
    kw = dict(jobs=jobs, nodes=nodes, hypernodes=hns, pods=pods, scheduler_conf=conf(nta), baseline=False)
    with_memo = predict(**kw)
    monkeypatch.setattr(memo, "MEMO", False)
    without = predict(**kw)
    assert json.dumps(with_memo, sort_keys=True) == json.dumps(without, sort_keys=True)
    assert [j["feasible"] for j in with_memo["jobs"]] == [True, True, True, True, True]
