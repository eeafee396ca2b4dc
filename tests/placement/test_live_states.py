"""Live-cluster states the prediction treats as Volcano v1.15.1's cache does (issue 16)."""

from .helpers import by_name, job, node, nodes_of, run, task, template


def _job_pod(name: str, node_name: str, gpus: int = 2) -> dict:
    requests = {"nvidia.com/gpu": gpus}
    return {
        "metadata": {"name": name, "namespace": "default", "labels": {}},
        "spec": {
            "schedulerName": "volcano",
            "nodeName": node_name,
            "containers": [{"name": "c", "resources": {"requests": requests, "limits": requests}}],
        },
        "status": {"phase": "Running"},
    }


def test_pods_on_a_deleted_node_stay_running_and_only_the_pending_one_is_placed():
    """pkg/scheduler/cache/event_handlers.go (addTask): a pod whose spec.nodeName names no Node
    object is kept under a placeholder NodeInfo, which the snapshot leaves out; the task stays
    Running in its job, so the gang counts it and it is never placed again."""
    gang = job("j", [task("w", 3, template(gpus=2))], min_available=3)
    pods = [_job_pod("j-w-0", "gone"), _job_pod("j-w-1", "gone")]
    result = run([gang], [node("n0", gpus=8), node("n1", gpus=8)], pods=pods)
    got = by_name(result, "j")
    assert got["feasible"], got["reasons"]
    placed = nodes_of(got)
    assert placed.get("j-w-2") in {"n0", "n1"}, placed
    assert placed.get("j-w-0") in (None, "gone") and placed.get("j-w-1") in (None, "gone"), placed
    assert not got["pending"], got["pending"]
    assert any("do not exist" in w and "j-w-0 -> gone" in w for w in result["warnings"]), result["warnings"]
