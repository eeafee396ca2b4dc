"""The real vc-scheduler is in the loop: binding, hard network-topology limits, and
evidence that the network-topology-aware plugin in our scheduler configuration
is what enforces them.

Every test builds its own nodes (unique names, pinned with a unique label) and
HyperNodes (exact members: only its own nodes), so tests sharing one cluster
do not see each other's capacity.
"""

from __future__ import annotations

import time

import pytest

from hypertopo.cluster import NodeSpec, Task

from ..cluster_helpers import Workspace

pytestmark = pytest.mark.cluster

HARD_TIER1 = {"mode": "hard", "highestTierAllowed": 1}
HARD_TIER2 = {"mode": "hard", "highestTierAllowed": 2}
# long enough for ~10 scheduling cycles (--schedule-period=1s)
PENDING_OBSERVATION_S = 10.0


def leaf_of(layout: dict[str, list[str]], node: str) -> str:
    return next(leaf for leaf, nodes in layout.items() if node in nodes)


def assert_stays_pending(ws: Workspace, job: str, pods: int) -> None:
    ws.wait_pods_created(job, pods)
    deadline = time.monotonic() + PENDING_OBSERVATION_S
    while time.monotonic() < deadline:
        bound = {p: n for p, n in ws.placement(job).items() if n}
        assert not bound, f"{job}: pods bound although no single leaf fits the job: {bound}"
        time.sleep(0.5)
    pg = ws.podgroup(job)
    assert pg is not None, f"{job}: no PodGroup"
    status = pg.get("status") or {}
    assert status.get("phase") in ("Pending", "Inqueue"), ws.podgroup_summary(job)
    unsched = [c for c in status.get("conditions") or [] if c.get("type") == "Unschedulable"]
    assert unsched and unsched[-1].get("status") == "True", ws.podgroup_summary(job)


def test_a_two_task_job_is_bound_by_vc_scheduler(cluster, cluster_ws: Workspace) -> None:
    ws = cluster_ws
    nodes = ws.create_nodes([NodeSpec("n0", gpu=8), NodeSpec("n1", gpu=8)])
    t0 = time.monotonic()
    ws.create_job("pd", [Task("prefill", 2, gpus=4), Task("decode", 2, gpus=2)])
    bound = ws.wait_bound("pd", 4, timeout=30)
    took = time.monotonic() - t0
    assert set(bound.values()) <= set(nodes)
    assert {p.rsplit("-", 1)[0] for p in bound} == {"pd-prefill", "pd-decode"}
    # read back through the official client with the generated kubeconfig
    pods = cluster.core.list_namespaced_pod(ws.namespace, label_selector="volcano.sh/job-name=pd").items
    assert len(pods) == 4
    for pod in pods:
        assert pod.spec.scheduler_name == "volcano"
        assert pod.spec.node_name in nodes
        assert any(c.type == "PodScheduled" and c.status == "True" for c in pod.status.conditions or [])
    # the binder is vc-scheduler: PodGroup goes Running once minMember pods are bound
    deadline = time.monotonic() + 10
    while (ws.podgroup("pd") or {}).get("status", {}).get("phase") != "Running":
        assert time.monotonic() < deadline, ws.podgroup_summary("pd")
        time.sleep(0.2)
    assert took < 30


def test_b_hard_tier1_job_that_fits_lands_in_one_leaf(cluster_ws: Workspace) -> None:
    ws = cluster_ws
    layout = ws.two_leaf_topology(nodes_per_leaf=2, gpus=8)
    # 2 x 8 GPUs: exactly one leaf
    ws.create_job("fits", [Task("worker", 2, gpus=8)], network_topology=HARD_TIER1)
    bound = ws.wait_bound("fits", 2, timeout=30)
    leaves = {leaf_of(layout, n) for n in bound.values()}
    assert len(leaves) == 1, f"expected one leaf, got {bound}"
    assert len(set(bound.values())) == 2


def test_b_hard_tier1_job_that_fits_no_leaf_stays_pending(cluster_ws: Workspace) -> None:
    ws = cluster_ws
    ws.two_leaf_topology(nodes_per_leaf=2, gpus=8)
    # 3 x 8 GPUs: fits the two leaves together (32 GPUs) but no single leaf (16)
    ws.create_job("spans", [Task("worker", 3, gpus=8)], network_topology=HARD_TIER1)
    assert_stays_pending(ws, "spans", 3)


def test_c_hard_tier2_job_is_placed_across_leaves(cluster_ws: Workspace) -> None:
    ws = cluster_ws
    layout = ws.two_leaf_topology(nodes_per_leaf=2, gpus=8)
    ws.create_job("spans", [Task("worker", 3, gpus=8)], network_topology=HARD_TIER2)
    bound = ws.wait_bound("spans", 3, timeout=30)
    assert {leaf_of(layout, n) for n in bound.values()} == set(layout), bound
    assert len(set(bound.values())) == 3


@pytest.fixture(scope="module")
def cluster_without_nta(cluster_factory):
    """A private control plane whose vc-scheduler runs the role's configuration
    minus the network-topology-aware plugin (the shared one is never changed)."""
    return cluster_factory(nta=False)


def test_d_without_the_nta_plugin_the_tier1_limit_is_not_enforced(cluster_without_nta) -> None:
    c = cluster_without_nta
    conf = c.control_plane.scheduler_conf_text()
    assert "network-topology-aware" not in conf
    ws = Workspace.create(c, "d-no-nta")
    try:
        layout = ws.two_leaf_topology(nodes_per_leaf=2, gpus=8)
        # the very job of test (b) that stays Pending with the plugin
        ws.create_job("spans", [Task("worker", 3, gpus=8)], network_topology=HARD_TIER1)
        bound = ws.wait_bound("spans", 3, timeout=30)
        assert {leaf_of(layout, n) for n in bound.values()} == set(layout), bound
    finally:
        ws.cleanup()


def test_d_switching_the_plugin_back_on_enforces_the_limit_again(cluster_without_nta) -> None:
    """The hot switch (`hypertopo-cluster conf --nta`): same binary, same cluster,
    only the configuration file differs."""
    c = cluster_without_nta
    with c.using_scheduler_conf(nta=True):
        ws = Workspace.create(c, "d-nta-again")
        try:
            ws.two_leaf_topology(nodes_per_leaf=2, gpus=8)
            ws.create_job("spans", [Task("worker", 3, gpus=8)], network_topology=HARD_TIER1)
            assert_stays_pending(ws, "spans", 3)
        finally:
            ws.cleanup()
