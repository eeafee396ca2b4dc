"""site.yml checks everything before its first write, on the shared local control plane.

The inventory is the seed's plus one host whose Node exists but carries none of our labels, so
an onboarding that ran would write at least its labels (and the HyperNodes the cluster lacks).
A run with invalid PD variables or an unplaceable hard job must fail with the reason and leave
the labels of every inventory Node, the seed's HyperNodes and the scheduler ConfigMap as they
were.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from hypertopo.cluster import NodeSpec
from hypertopo.cluster.nodes import hosts_from_inventory
from hypertopo.topology import load_topology
from hypertopo.topology.labels import LABEL_SWITCH

from .test_site import SEED_INVENTORY, run_playbook

pytestmark = pytest.mark.cluster
HN = "/apis/topology.volcano.sh/v1alpha1/hypernodes"
SCHED_CM = "/api/v1/namespaces/volcano-system/configmaps/volcano-scheduler-configmap"


@pytest.fixture
def inventory_with_new_host(cluster, cluster_ws, tmp_path) -> tuple[Path, str]:
    cluster.create_nodes(hosts_from_inventory(SEED_INVENTORY))
    (node,) = cluster_ws.create_nodes([NodeSpec("new", gpu=8)])
    inv = tmp_path / "inventory"
    shutil.copytree(SEED_INVENTORY, inv)
    hosts = yaml.safe_load((inv / "hosts.yml").read_text())
    hosts["all"]["children"]["ib-switch0"]["hosts"][node] = {"gpu_model": "h100"}
    (inv / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    return inv, node


def snapshot(cluster, inventory: Path) -> dict[str, Any]:
    """The labels of the inventory's Nodes, the inventory's HyperNodes, the scheduler ConfigMap."""
    topo = load_topology(str(inventory))
    labels = {
        n["metadata"]["name"]: n["metadata"].get("labels") or {}
        for n in cluster.list("/api/v1/nodes")
        if n["metadata"]["name"] in topo.hosts
    }
    hypernodes = {
        h["metadata"]["name"]: h["metadata"]["resourceVersion"]
        for h in cluster.list(HN)
        if h["metadata"]["name"] in topo.switches
    }
    cm = cluster.control_plane.rest().get_or_none(SCHED_CM)
    return {
        "labels": labels,
        "hypernodes": hypernodes,
        "configmap": cm and cm["metadata"]["resourceVersion"],
    }


def site(cluster, inventory: Path, tmp_path: Path, *extra: str):
    return run_playbook(
        cluster.kubeconfig,
        "playbooks/site.yml",
        "-i",
        str(inventory),
        "-e",
        f"pd_services_namespace=pre-{uuid.uuid4().hex[:6]}",
        "-e",
        f"placement_report_dir={tmp_path / 'report'}",
        *extra,
    )


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (("-e", "pd_services_layout=bogus"), "pd_services_layout must be one of: seed, joint, deployment"),
        (("-e", "pd_services_prefill_replicas=0"), "Invalid pd_services settings"),
        (
            # enough H100 GPUs by count (the inventory check passes), but no node has 500 CPUs
            (
                "-e",
                "pd_services_layout=joint",
                "-e",
                '{"pd_services_prefill_resources": {"requests": {"cpu": "500"}}}',
            ),
            "predicts that Volcano cannot place these hard-constrained workloads",
        ),
        (
            ("-e", "pd_services_layout=joint", "-e", "pd_services_prefill_replicas=500"),
            "pd_services_prefill_gpu_models ['h100'] asks for 500 pods (pd_services_prefill_replicas)",
        ),
    ],
    ids=["unknown-layout", "zero-replicas", "unplaceable-hard-job", "more-pods-than-the-inventory-has-gpus"],
)
def test_invalid_pd_input_fails_before_any_write(cluster, inventory_with_new_host, tmp_path, extra, reason):
    inventory, node = inventory_with_new_host
    before = snapshot(cluster, inventory)
    assert LABEL_SWITCH not in before["labels"][node], "the new host starts unlabelled"
    proc = site(cluster, inventory, tmp_path, *extra)
    out = " ".join(proc.stdout.split())
    assert proc.returncode != 0
    assert reason in out, out[-3000:]
    assert "PLAY [Onboard the cluster topology]" not in out, "the onboarding never started"
    assert snapshot(cluster, inventory) == before


def test_an_object_the_admission_webhook_refuses_fails_the_preflight_with_its_message(
    cluster, inventory_with_new_host, tmp_path
):
    """A Job Volcano's validating webhook refuses (a queue that does not exist) is reported by the
    server-side dry run before any write: the object, the webhook and its own message."""
    inventory, _ = inventory_with_new_host
    before = snapshot(cluster, inventory)
    namespace = f"pre-{uuid.uuid4().hex[:6]}"
    proc = site(
        cluster,
        inventory,
        tmp_path,
        "-e",
        "pd_services_layout=joint",
        "-e",
        "pd_services_queue=no-such-queue",
        "-e",
        f"pd_services_namespace={namespace}",
    )
    out = " ".join(proc.stdout.split()).replace("\\", "")
    assert proc.returncode != 0
    refused = (
        f"Job {namespace}/pd-joint-service: webhook validatejob.volcano.sh: "
        'admission webhook "validatejob.volcano.sh" denied the request:'
    )
    assert refused in out, out[-3000:]
    assert "no-such-queue" in out.split(refused, 1)[1][:400], "the webhook's own message names the queue"
    assert "nothing of this run was written" in out
    assert "PLAY [Onboard the cluster topology]" not in out, "the onboarding never started"
    assert snapshot(cluster, inventory) == before
    assert cluster.get_or_none(f"/api/v1/namespaces/{namespace}") is None, "no namespace was created"
