"""tests/agreement/compare.py without a cluster: pods on a Node deleted under them."""

from __future__ import annotations

from .compare import compare


def _node(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"}},
    }


def _pod(name: str, node: str | None) -> dict:
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": {"nodeName": node}}


def _job(placements: list[tuple[str, str]]) -> dict:
    return {
        "name": "j1",
        "namespace": "ns",
        "podgroup": "j1-uid",
        "feasible": True,
        "hypernode": "<cluster-top-hypernode>",
        "placements": [{"pod": p, "node": n, "leaf": None} for p, n in placements],
        "pending": [],
        "leaves": {"<cluster-top-hypernode>": len(placements)} if placements else {},
        "ties": [],
    }


def test_pods_on_a_deleted_node_count_as_bound_on_both_sides():
    # j1-worker-1 sat on n2, deleted before the prediction: the engine holds it Running outside
    # ``placements``; the cluster still shows it bound to n2 (run a006 of the 60-scenario report)
    prediction = {"jobs": [_job([("j1-worker-0", "n1")])]}
    pods = [
        _pod("j1-worker-0", "n1"),
        {
            **_pod("j1-worker-1", "n2"),
            "metadata": {
                "name": "j1-worker-1",
                "namespace": "ns",
                "annotations": {"scheduling.k8s.io/group-name": "j1-uid"},
            },
        },
    ]
    (verdict,) = compare(prediction, pods, [_node("n1")], [])
    assert verdict["agree"], verdict["details"]
    # a pod bound to a node the prediction knew is still counted against ``placements``
    (verdict,) = compare(prediction, pods, [_node("n1"), _node("n2")], [])
    assert not verdict["agree"] and verdict["details"][0] == "pods bound: predicted 1, actual 2"


def test_an_infeasible_prediction_with_a_feasible_task_order_outcome_accepts_that_outcome():
    # a015/j2 of the 60-run: predicted pending, but the task-order tie lists a feasible outcome
    # (another order of equal-index pods of different tasks); vc-scheduler bound it in 2 of 3 runs
    job = {
        **_job([]),
        "feasible": False,
        "hypernode": None,
        "leaves": {},
        "pending": ["j1-decode-0", "j1-prefill-0"],
        "ties": [
            {
                "level": "task-order",
                "candidates": ["<cluster-top-hypernode>"],
                "feasibility_differs": True,
                "outcomes": [
                    {"feasible": False, "hypernode": None, "leaves": {}},
                    {
                        "feasible": True,
                        "hypernode": "<cluster-top-hypernode>",
                        "leaves": {"<cluster-top-hypernode>": 1},
                    },
                ],
            }
        ],
    }
    prediction = {"jobs": [job]}
    nodes = [_node("n1")]
    (verdict,) = compare(prediction, [_pod("j1-decode-0", "n1"), _pod("j1-prefill-0", None)], nodes, [])
    assert verdict["agree"], verdict["details"]
    (verdict,) = compare(prediction, [_pod("j1-decode-0", None), _pod("j1-prefill-0", None)], nodes, [])
    assert verdict["agree"], verdict["details"]
    (verdict,) = compare(prediction, [_pod("j1-decode-0", "n1"), _pod("j1-prefill-0", "n1")], nodes, [])
    assert not verdict["agree"] and "in no feasible outcome of a tie" in verdict["details"][0]
