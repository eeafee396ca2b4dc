"""Lifecycle of a running hard-mode PD Job on the local control plane (issue #11, item 5).

``site.yml`` rolls out the ``joint`` layout (one Volcano Job, prefill and decode tasks,
``networkTopology: {mode: hard, highestTierAllowed: 2}``) on the seed inventory's nodes. Then:

* a running pod is deleted: Volcano's job controller creates it again, vc-scheduler binds it under
  the HyperNode the gang holds, kwok runs it, and ``verify.yml`` passes again;
* the node of a running decode pod is cordoned and the pod deleted: the prediction for its
  replacement, built from the live cluster (Nodes with the cordon, HyperNodes, every other pod
  bound and Running, the live Job, the scheduler configuration), names the node vc-scheduler
  binds it to, or, where the predictor reports a node-level tie, a node among the tied candidates.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hypertopo.cluster.nodes import hosts_from_inventory
from hypertopo.cluster.workloads import pod_running
from hypertopo.placement import predict
from hypertopo.topology import load_topology

from .test_site import SEED_INVENTORY, remove_pd_workloads, run_playbook

pytestmark = pytest.mark.cluster

JOB = "pd-joint-service"
HN = "/apis/topology.volcano.sh/v1alpha1/hypernodes"
JOBS = "/apis/batch.volcano.sh/v1alpha1/namespaces/{ns}/jobs/{name}"


def layout_args(namespace: str, report_dir: Path) -> list[str]:
    return [
        "-e",
        "pd_services_layout=joint",
        "-e",
        f"pd_services_namespace={namespace}",
        "-e",
        f"placement_report_dir={report_dir}",
    ]


@pytest.fixture(scope="module")
def joint(cluster, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """site.yml with the joint layout in a fresh namespace; torn down afterwards."""
    cluster.create_nodes(hosts_from_inventory(SEED_INVENTORY))
    namespace = f"e2e-life-{uuid.uuid4().hex[:6]}"
    report_dir = tmp_path_factory.mktemp("report")
    proc = run_playbook(cluster.kubeconfig, "playbooks/site.yml", *layout_args(namespace, report_dir))
    try:
        yield {"namespace": namespace, "report_dir": report_dir, "proc": proc}
    finally:
        remove_pd_workloads(cluster.kubeconfig, namespace)
        cluster.force_delete_pods(namespace)


def running_pod(cluster, namespace: str, task: str) -> dict[str, Any]:
    """The first (by name) Running and Ready pod of ``task`` in the joint Job."""
    pods = [
        p
        for p in cluster.pods(namespace, job=JOB)
        if p["metadata"]["labels"].get("volcano.sh/task-spec") == task and pod_running(p)
    ]
    assert pods, f"no running {task} pod in {namespace}"
    return min(pods, key=lambda p: p["metadata"]["name"])


def delete_and_wait_replacement(cluster, pod: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    """Delete ``pod`` (grace 0) and wait until the job controller's pod of the same name (a new
    UID) is bound, Running and Ready."""
    meta = pod["metadata"]
    cluster.delete(f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}")
    deadline = time.monotonic() + timeout
    seen: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        seen = cluster.get_or_none(f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}")
        if seen and seen["metadata"]["uid"] != meta["uid"] and pod_running(seen):
            return seen
        time.sleep(0.3)
    status = seen and {"uid": seen["metadata"]["uid"], "node": seen["spec"].get("nodeName"), **seen["status"]}
    raise AssertionError(
        f"{meta['name']} was not recreated and run within {timeout:.0f} s: {status}; "
        f"podgroup: {cluster.podgroup_summary(meta['namespace'], JOB)}"
    )


def test_a_deleted_pod_comes_back_under_the_gangs_hypernode(joint, cluster):
    assert joint["proc"].returncode == 0, joint["proc"].stdout[-6000:] + joint["proc"].stderr[-3000:]
    namespace = joint["namespace"]
    report = json.loads((joint["report_dir"] / "report.json").read_text())
    (job,) = report["jobs"]
    hypernode = job["actual"]["hypernode"]
    topo = load_topology(str(SEED_INVENTORY))
    pod = running_pod(cluster, namespace, "prefill-worker")
    siblings_leaves = {
        topo.hosts[p["spec"]["nodeName"]].leaf
        for p in cluster.pods(namespace, job=JOB)
        if p["metadata"]["labels"]["volcano.sh/task-spec"] == "prefill-worker"
        and p["metadata"]["name"] != pod["metadata"]["name"]
    }

    new = delete_and_wait_replacement(cluster, pod)

    leaf = topo.hosts[new["spec"]["nodeName"]].leaf
    assert hypernode in topo.ancestors(leaf), (new["spec"]["nodeName"], leaf, hypernode)
    assert leaf in siblings_leaves, (leaf, siblings_leaves)
    # kwok keeps the pods Ready only while their nodes' heartbeats arrive; on a loaded machine
    # kube-controller-manager can mark a node's pods not Ready for a while: verify runs once all
    # 24 are Running and Ready again (it requires that itself)
    cluster.wait_running(namespace, JOB, 24, timeout=120)
    again = run_playbook(
        cluster.kubeconfig, "playbooks/verify.yml", *layout_args(namespace, joint["report_dir"] / "after")
    )
    assert again.returncode == 0, again.stdout[-6000:] + again.stderr[-3000:]
    after = json.loads((joint["report_dir"] / "after" / "report.json").read_text())
    assert after["verified"] and after["ok"], after["failures"]
    assert after["jobs"][0]["actual"]["hypernode"] == hypernode


def live_prediction(cluster, namespace: str, exclude_uid: str) -> dict[str, Any]:
    """The prediction for the joint Job from the live cluster, without the pod ``exclude_uid``
    (the replacement, so the input is the state vc-scheduler saw before binding it)."""
    pods = [
        p
        for p in cluster.list("/api/v1/pods")
        if p["metadata"]["uid"] != exclude_uid and p["status"].get("phase") not in ("Succeeded", "Failed")
    ]
    result = predict(
        [cluster.get(JOBS.format(ns=namespace, name=JOB))],
        cluster.list("/api/v1/nodes"),
        cluster.list(HN),
        pods,
        cluster.scheduler_conf(),
        baseline=False,
    )
    (job,) = result["jobs"]
    return job


def test_the_replacement_of_a_pod_on_a_cordoned_node_lands_where_predicted(joint, cluster):
    assert joint["proc"].returncode == 0, joint["proc"].stdout[-3000:]
    namespace = joint["namespace"]
    pod = running_pod(cluster, namespace, "decode-worker")
    name, cordoned = pod["metadata"]["name"], pod["spec"]["nodeName"]
    cluster.core.patch_node(cordoned, {"spec": {"unschedulable": True}})
    try:
        new = delete_and_wait_replacement(cluster, pod)
        actual = new["spec"]["nodeName"]
        job = live_prediction(cluster, namespace, new["metadata"]["uid"])
    finally:
        cluster.core.patch_node(cordoned, {"spec": {"unschedulable": None}})
    assert job["feasible"], job["reasons"]
    (placed,) = [p for p in job["placements"] if p["pod"] == name]
    assert not placed["existing"], "the replacement is predicted as a new pod"
    assert actual != cordoned and placed["node"] != cordoned
    ties = [t for t in job["ties"] if t.get("level") == "node" and t.get("pod") == name]
    if not ties:
        assert actual == placed["node"], (actual, placed)
        return
    (tie,) = ties
    assert tie["chosen"] == placed["node"]
    if tie["count"] <= len(tie["candidates"]):
        assert actual in tie["candidates"], (actual, tie)
    else:
        topo = load_topology(str(SEED_INVENTORY))
        assert topo.hosts[actual].leaf in tie["leaves"], (actual, tie)
