"""drift.yml and ``hypertopo-import drift --from-cluster`` on the local control plane (issue 14).

A private control plane (the shared one holds other tests' nodes, which are drift for the seed
inventory) with the seed's simulated nodes, onboarded with ``onboard.yml`` (labels and
HyperNodes): no drift and ``changed=0``; then a ``gpu-type`` label edited by hand, a GPU Node
added and a HyperNode created by someone else that puts nodes of two IB leaves in one tier-1
HyperNode: each reported, and the play ``changed``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from hypertopo.cluster import LocalCluster, NodeSpec
from hypertopo.cluster.nodes import hosts_from_inventory

from .test_site import ROOT, SEED_INVENTORY, run_playbook

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def onboarded(cluster_factory: Callable[..., LocalCluster]) -> LocalCluster:
    cluster = cluster_factory()
    cluster.create_nodes(hosts_from_inventory(SEED_INVENTORY))
    proc = run_playbook(cluster.kubeconfig, "playbooks/onboard.yml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return cluster


def _drift_cli(cluster: LocalCluster) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hypertopo.importer.cli",
            "drift",
            "-i",
            str(SEED_INVENTORY),
            "--from-cluster",
            "--kubeconfig",
            str(cluster.kubeconfig),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _recap_changed(stdout: str) -> int:
    line = next(line for line in stdout.splitlines() if line.startswith("localhost"))
    return int(line.split("changed=")[1].split()[0])


def test_a_freshly_onboarded_cluster_has_no_drift(onboarded: LocalCluster) -> None:
    proc = run_playbook(onboarded.kubeconfig, "playbooks/drift.yml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert _recap_changed(proc.stdout) == 0, proc.stdout[-3000:]
    code, report = _drift_cli(onboarded)
    assert code == 0 and not report["drift"] and not report["items"], report


def test_a_hand_edited_label_an_added_node_and_a_foreign_hypernode_are_drift(onboarded: LocalCluster) -> None:
    node = "node0"
    before = onboarded.get(f"/api/v1/nodes/{node}")["metadata"]["labels"]["gpu-type"]
    edited = "rtx4090" if before != "rtx4090" else "h100"
    onboarded.rest.merge_patch(f"/api/v1/nodes/{node}", {"metadata": {"labels": {"gpu-type": edited}}})
    onboarded.create_nodes([NodeSpec("drift-extra-0", gpu=8)])
    # node0 on ib-switch0 and node64 on ib-switch1 in one tier-1 HyperNode: contradicts the inventory
    members = [{"type": "Node", "selector": {"exactMatch": {"name": n}}} for n in ("node0", "node64")]
    onboarded.create(
        {
            "apiVersion": "topology.volcano.sh/v1alpha1",
            "kind": "HyperNode",
            "metadata": {"name": "discovered-leaf-0"},
            "spec": {"tier": 1, "members": members},
        }
    )
    try:
        proc = run_playbook(onboarded.kubeconfig, "playbooks/drift.yml")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        assert _recap_changed(proc.stdout) == 1, proc.stdout[-3000:]
        assert "drift-extra-0" in proc.stdout and "discovered-leaf-0" in proc.stdout
        code, report = _drift_cli(onboarded)
        assert code == 1 and report["drift"]
        kinds = {(i["kind"], i["name"]) for i in report["items"]}
        assert ("node-unknown", "drift-extra-0") in kinds, kinds
        assert ("hypernode-foreign", "discovered-leaf-0") in kinds, kinds
        assert any(k in ("label", "gpu-model") and n == node for k, n in kinds), kinds
        fail = run_playbook(onboarded.kubeconfig, "playbooks/drift.yml", "-e", "drift_fail=true")
        assert fail.returncode != 0 and "Drift:" in fail.stdout
    finally:
        onboarded.delete("/apis/topology.volcano.sh/v1alpha1/hypernodes/discovered-leaf-0")
        onboarded.delete_nodes(["drift-extra-0"])
        onboarded.rest.merge_patch(f"/api/v1/nodes/{node}", {"metadata": {"labels": {"gpu-type": before}}})
