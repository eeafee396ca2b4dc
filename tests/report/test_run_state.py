"""run_state: whether pods and workloads run, read from their status."""

from __future__ import annotations

from hypertopo.report.run_state import pod_runs, workloads_state


def obj(kind: str, name: str) -> dict:
    return {"kind": kind, "metadata": {"name": name, "namespace": "pd"}}


def test_pod_runs_when_running_and_ready():
    assert pod_runs({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
    assert not pod_runs(
        {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}}
    )
    assert not pod_runs({"status": {"phase": "Pending"}})
    assert not pod_runs({})


def test_workloads_state_waits_for_running_jobs_and_available_deployments():
    job, dep = obj("Job", "prefill"), obj("Deployment", "decode")
    dep["spec"] = {"replicas": 2}
    desired = [job, dep, obj("ConfigMap", "ignored")]
    st = workloads_state([], desired)
    assert not st["done"]
    assert st["waiting"] == [
        "Job pd/prefill: not found in the cluster",
        "Deployment pd/decode: not found in the cluster",
    ]
    live_job = {**job, "status": {"state": {"phase": "Running"}, "running": 2}}
    live_dep = {
        **dep,
        "status": {"availableReplicas": 1, "conditions": [{"type": "Available", "status": "True"}]},
    }
    st = workloads_state([live_job, live_dep], desired)
    assert st["waiting"] == [
        "Deployment pd/decode: not Available: 1/2 replicas available, condition Available=True"
    ]
    live_dep["status"]["availableReplicas"] = 2
    st = workloads_state([live_job, live_dep], desired)
    assert st["done"] and {k: v["phase"] for k, v in st["states"].items()} == {
        "Job pd/prefill": "Running",
        "Deployment pd/decode": "Available",
    }
