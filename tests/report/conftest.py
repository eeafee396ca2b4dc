"""Seed fixtures: the seed inventory's model, a hand-made prediction of the seed's PD jobs, and the pods."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from hypertopo.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
PREFILL_NODES = [f"node{i}" for i in (0, 1, 5, 10, 15, 20, 64, 65, 70, 75, 80, 85)]
DECODE_NODES = [f"node{i}" for i in (2, 3, 6, 11, 16, 21, 66, 67, 71, 76, 81, 86)]
# What plain GPU-model affinity might do: H100 / RTX 4090 nodes, IB and Ethernet mixed.
BASELINE_PREFILL = [f"node{i}" for i in (0, 1, 5, 64, 128, 132, 136, 140, 192, 196, 200, 204)]
BASELINE_DECODE = [f"node{i}" for i in (2, 3, 66, 67, 129, 133, 137, 141, 145, 149, 153, 157)]
SOFT_WARNING = (
    "pd-prefill-service: mode soft does not bound the tier in Volcano >= 1.14.3 "
    "(highestTierAllowed 2 ignored)"
)


def engine_job(
    name: str, task: str, nodes: list[str], hypernode: str | None, tier: int | None
) -> dict[str, Any]:
    return {
        "kind": "Job",
        "name": name,
        "namespace": "default",
        "feasible": True,
        "hypernode": hypernode,
        "tier": tier,
        "placements": [{"pod": f"{name}-{task}-{i}", "task": task, "node": n} for i, n in enumerate(nodes)],
        "ties": [],
        "reasons": [],
        "warnings": [],
        "network": {},
    }


def make_predicted() -> dict[str, Any]:
    return {
        "jobs": [
            engine_job("pd-prefill-service", "prefill-worker", PREFILL_NODES, "ib-switch4", 2),
            engine_job("pd-decode-service", "decode-worker", DECODE_NODES, "ib-switch4", 2),
        ],
        "warnings": [SOFT_WARNING],
        "baseline": {
            "jobs": [
                engine_job("pd-prefill-service", "prefill-worker", BASELINE_PREFILL, "eth-switch6", 3),
                engine_job("pd-decode-service", "decode-worker", BASELINE_DECODE, "eth-switch6", 3),
            ],
            "warnings": [],
        },
    }


IB_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {"key": "gpu-type", "operator": "In", "values": ["h100"]},
                        {"key": "topology.kubernetes.io/switch-type", "operator": "In", "values": ["ib"]},
                    ]
                }
            ]
        }
    }
}


def make_pod(name: str, job: str, task: str, node: str | None, *, ib: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {"nodeName": node, "schedulerName": "volcano"}
    if ib:
        spec["affinity"] = copy.deepcopy(IB_AFFINITY)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": {"volcano.sh/job-name": job, "volcano.sh/task-spec": task},
            "annotations": {"scheduling.k8s.io/group-name": f"{job}-0b6c1f5e-7d1a-4a57-9a6e-3c1f0d1e2a3b"},
        },
        "spec": spec,
        # a bound pod as a kubelet (or kwok) reports it: Running and Ready
        "status": (
            {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
            if node
            else {"phase": "Pending"}
        ),
    }


def pods_from(predicted: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        make_pod(p["pod"], job["name"], p["task"], p["node"])
        for job in predicted["jobs"]
        for p in job["placements"]
    ]


@pytest.fixture(scope="session")
def seed_model() -> dict[str, Any]:
    return load_topology(str(ROOT / "inventory" / "seed")).as_dict()


@pytest.fixture
def predicted() -> dict[str, Any]:
    return make_predicted()


@pytest.fixture
def pods(predicted) -> list[dict[str, Any]]:
    return pods_from(predicted)
