"""Live-cluster states the prediction treats as Volcano v1.15.1's cache does (issue 16)."""

from hypertopo.placement.headroom import headroom

from .helpers import by_name, conf, job, node, nodes_of, run, task, template


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


def test_headroom_counts_pods_on_a_deleted_node_as_running():
    """The same rule in headroom (``places``): a job whose pods sit on a node with no Node object
    (pkg/scheduler/cache/event_handlers.go addTask, cache.go Snapshot) places when the rest of its
    pods do; its pods there hold nothing, so the search finds the room of the nodes it sees."""
    tasks = [task("a", 2, template(gpus=2)), task("b", 1, template(gpus=2)), task("c", 1, template(gpus=2))]
    gang = job("j", tasks, min_available=4)
    pods = [_job_pod("j-a-0", "gone"), _job_pod("j-a-1", "gone")]
    inputs = {"jobs": [gang], "nodes": [node("n0", gpus=8)], "pods": pods, "scheduler_conf": conf()}
    (got,) = headroom(inputs, job="default/j", task="b")["jobs"]
    # n0's 8 GPUs hold 4 pods of 2 GPUs, one of them c-0; the pods on the deleted node take none.
    # b-0 and c-0 share an index: their order is random in Volcano, so every order is replayed
    assert got["max_replicas"] == 3 and got["confirmed"], got
    assert got["every_order"], got
