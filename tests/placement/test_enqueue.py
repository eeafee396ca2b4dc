"""The enqueue action with the proportion plugin: a PodGroup stays Pending (a Volcano Job gets
no pods) while its minResources plus what the queue's jobs hold or reserve exceed the
cluster's allocatable. Found by the agreement run (scenario a180): an earlier job that is
admitted but cannot be placed still reserves its minimum, and the next job is never admitted."""

from __future__ import annotations

from .helpers import by_name, conf, job, node, run, task, template


def _nodes():
    return [node(f"n{i}", gpus=8) for i in range(4)]  # 32 GPUs


BUSY = {
    "metadata": {"name": "busy", "namespace": "default"},
    "spec": {
        "nodeName": "n0",
        "containers": [
            {"name": "c", "resources": {"requests": {"nvidia.com/gpu": 4}, "limits": {"nvidia.com/gpu": 4}}}
        ],
    },
}


def _big():  # 4 x 8 GPUs: admitted (32 <= 32) but never placed (4 GPUs are taken)
    return job("big", [task("w", 4, template(gpus=8))])


def _small():
    return job("small", [task("w", 2, template(gpus=4))])


def _pending_pods(name: str, count: int) -> list[dict]:
    return [
        {
            "metadata": {"name": f"{name}-w-{i}", "namespace": "default"},
            "spec": {"containers": [{"name": "c"}]},
        }
        for i in range(count)
    ]


def test_an_admitted_job_that_cannot_run_keeps_the_next_one_pending():
    # big already has its pods (so its PodGroup is Inqueue); small is new
    result = run([_big(), _small()], _nodes(), pods=[BUSY, *_pending_pods("big", 4)])
    big, small = by_name(result, "big"), by_name(result, "small")
    assert not big["feasible"] and "insufficient nvidia.com/gpu" in " ".join(big["reasons"])
    assert not small["feasible"]
    reason = " ".join(small["reasons"])
    assert reason.startswith("queue resource quota insufficient: insufficient nvidia.com/gpu")
    assert "needs 8; the queue's jobs hold or reserve 32 of the cluster's 32" in reason


def test_two_new_jobs_are_admitted_in_order():
    result = run([_big(), _small()], _nodes(), pods=[BUSY])
    assert not by_name(result, "small")["feasible"]  # big was admitted first and reserves 32 GPUs


def test_without_the_blocker_the_job_runs():
    result = run([_small()], _nodes(), pods=[BUSY])
    assert by_name(result, "small")["feasible"]


def test_bound_pods_of_other_schedulers_do_not_count():
    # the busy pod is not a Volcano job: the queue does not see it, so big is admitted
    result = run([_big()], _nodes(), pods=[BUSY])
    assert "queue resource quota" not in " ".join(by_name(result, "big")["reasons"])


def test_without_the_enqueue_action_every_job_is_admitted():
    no_enqueue = conf()
    no_enqueue["actions"] = "allocate, backfill"
    result = run([_big(), _small()], _nodes(), pods=[BUSY], scheduler_conf=no_enqueue)
    assert by_name(result, "small")["feasible"]
