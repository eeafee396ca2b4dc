"""The onboarding roles against a real control plane (a private one: these tests
move, prune and delete seed nodes and HyperNodes, which must not disturb the
shared cluster other tests use).

Covered: a foreign label key survives onboarding; a foreign HyperNode survives
pruning (and one that would put nodes in two leaves is refused before any
write); moving a host to another leaf moves its labels and HyperNode
membership; removing a host prunes only our keys; a Node deleted between the
listing and the patching gives a clear failure and a rerun converges.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hypertopo.cluster.nodes import apply_nodes_kubeconfig, hosts_from_inventory
from hypertopo.topology.labels import (
    LABEL_GPU_TYPE,
    LABEL_MANAGED,
    LABEL_SWITCH,
    LABEL_SWITCH_TYPE,
    MANAGED_LABEL_KEYS,
)

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "inventory" / "seed"
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
HN = ("topology.volcano.sh", "v1alpha1", "hypernodes")
OURS = MANAGED_LABEL_KEYS


class Env:
    """A private control plane with the seed inventory's nodes, and a way to run playbooks on it."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.kubeconfig = str(cluster.kubeconfig)

    def play(self, playbook: str, *args: str, inventory: Path = SEED) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "K8S_AUTH_KUBECONFIG": self.kubeconfig,
            "ANSIBLE_NOCOLOR": "1",
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        }
        cmd = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(inventory),
            str(PLAYBOOKS / playbook),
        ]
        return subprocess.run([*cmd, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)

    def ok(self, playbook: str, *args: str, inventory: Path = SEED) -> str:
        proc = self.play(playbook, *args, inventory=inventory)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        return proc.stdout

    def labels(self, node: str) -> dict[str, str]:
        return dict(self.cluster.core.read_node(node).metadata.labels or {})

    def patch_labels(self, node: str, labels: dict[str, str | None]) -> None:
        self.cluster.core.patch_node(node, {"metadata": {"labels": labels}})

    def hypernodes(self) -> dict[str, dict[str, Any]]:
        items = self.cluster.custom.list_cluster_custom_object(*HN)["items"]
        return {h["metadata"]["name"]: h for h in items}

    def create_hypernode(self, body: dict[str, Any]) -> None:
        self.cluster.custom.create_cluster_custom_object(*HN, body)

    def delete_hypernode(self, name: str) -> None:
        self.cluster.custom.delete_cluster_custom_object(*HN, name)

    def selected(self, leaf: str) -> set[str]:
        """Nodes the leaf HyperNode's label selector selects (evaluated by the API server)."""
        match = self.hypernodes()[leaf]["spec"]["members"][0]["selector"]["labelMatch"]["matchLabels"]
        selector = ",".join(f"{k}={v}" for k, v in match.items())
        return {n.metadata.name for n in self.cluster.core.list_node(label_selector=selector).items}

    def add_seed_nodes(self) -> None:
        apply_nodes_kubeconfig(self.kubeconfig, hosts_from_inventory(SEED))


@pytest.fixture(scope="module")
def env(cluster_factory) -> Iterator[Env]:
    e = Env(cluster_factory())
    e.add_seed_nodes()
    yield e


def changed_count(stdout: str) -> int:
    m = re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)", stdout)
    assert m, stdout[-2000:]
    return int(m.group(1))


def inventory_copy(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    inv = tmp_path / "inventory"
    shutil.copytree(SEED, inv)
    return inv, yaml.safe_load((inv / "hosts.yml").read_text())


def write_hosts(inv: Path, data: dict[str, Any]) -> None:
    (inv / "hosts.yml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_onboarding_labels_every_node_and_keeps_a_foreign_key(env: Env):
    env.patch_labels("node0", {"example.com/rack": "r17"})
    out = env.ok("onboard.yml")
    labels = env.labels("node0")
    assert labels["example.com/rack"] == "r17"
    assert labels["kubernetes.io/hostname"] == "node0"
    assert {k: labels[k] for k in OURS} == {
        LABEL_SWITCH: "ib-switch0",
        LABEL_SWITCH_TYPE: "ib",
        LABEL_GPU_TYPE: "h100",
        LABEL_MANAGED: "true",
    }
    assert "256 nodes listed" in out
    assert changed_count(env.ok("onboard.yml")) == 0
    # changing the foreign key is none of our business either
    env.patch_labels("node0", {"example.com/rack": "r18"})
    assert changed_count(env.ok("onboard.yml")) == 0
    assert env.labels("node0")["example.com/rack"] == "r18"


def test_foreign_hypernode_survives_pruning(env: Env):
    env.ok("onboard.yml")
    env.create_hypernode(
        {
            "apiVersion": "topology.volcano.sh/v1alpha1",
            "kind": "HyperNode",
            "metadata": {"name": "ufm-leaf-7", "labels": {"volcano.sh/network-topology-source": "ufm"}},
            "spec": {
                "tier": 1,
                "members": [{"type": "Node", "selector": {"exactMatch": {"name": "ufm-only"}}}],
            },
        }
    )
    env.create_hypernode(
        {
            "apiVersion": "topology.volcano.sh/v1alpha1",
            "kind": "HyperNode",
            "metadata": {"name": "ib-switch9", "labels": {"app.kubernetes.io/managed-by": "hypertopo"}},
            "spec": {
                "tier": 1,
                "members": [{"type": "Node", "selector": {"exactMatch": {"name": "retired"}}}],
            },
        }
    )
    before = env.hypernodes()["ufm-leaf-7"]["metadata"]["resourceVersion"]
    out = env.ok("onboard.yml")
    after = env.hypernodes()
    assert "ib-switch9" not in after, "the stale owned HyperNode must be pruned"
    assert after["ufm-leaf-7"]["metadata"]["resourceVersion"] == before, (
        "the foreign HyperNode must be untouched"
    )
    assert "1 owned to delete ['ib-switch9']" in " ".join(out.split())
    env.delete_hypernode("ufm-leaf-7")


def test_a_set_with_a_node_in_two_leaves_is_refused_before_any_write(env: Env):
    env.ok("onboard.yml")
    env.create_hypernode(
        {
            "apiVersion": "topology.volcano.sh/v1alpha1",
            "kind": "HyperNode",
            "metadata": {
                "name": "discovered-rack",
                "labels": {"volcano.sh/network-topology-source": "label"},
            },
            "spec": {
                "tier": 1,
                "members": [{"type": "Node", "selector": {"regexMatch": {"pattern": "^node(3|4)$"}}}],
            },
        }
    )
    try:
        versions = {n: h["metadata"]["resourceVersion"] for n, h in env.hypernodes().items()}
        proc = env.play("onboard.yml")
        text = " ".join(proc.stdout.split())
        assert proc.returncode != 0
        assert "node node3 would be a member of 2 leaf HyperNodes: ['discovered-rack', 'ib-switch0']" in text
        assert "node node4 would be a member of 2 leaf HyperNodes" in text
        assert "Nothing was written" in text
        assert {n: h["metadata"]["resourceVersion"] for n, h in env.hypernodes().items()} == versions
    finally:
        env.delete_hypernode("discovered-rack")


def test_moving_a_host_moves_its_labels_and_hypernode_membership(env: Env, tmp_path: Path):
    env.ok("onboard.yml")
    assert "node5" in env.selected("ib-switch0")
    inv, hosts = inventory_copy(tmp_path)
    groups = hosts["all"]["children"]
    groups["ib-switch1"]["hosts"]["node5"] = groups["ib-switch0"]["hosts"].pop("node5")
    write_hosts(inv, hosts)
    out = env.ok("onboard.yml", inventory=inv)
    assert "1 to patch" in " ".join(out.split())
    assert env.labels("node5")[LABEL_SWITCH] == "ib-switch1"
    assert "node5" in env.selected("ib-switch1")
    assert "node5" not in env.selected("ib-switch0")
    assert changed_count(env.ok("onboard.yml", inventory=inv)) == 0
    # and back
    env.ok("onboard.yml")
    assert "node5" in env.selected("ib-switch0")


def test_removing_a_host_prunes_only_our_keys(env: Env, tmp_path: Path):
    env.ok("onboard.yml")
    env.patch_labels("node7", {"example.com/owner": "team-a"})
    inv, hosts = inventory_copy(tmp_path)
    del hosts["all"]["children"]["ib-switch0"]["hosts"]["node7"]
    write_hosts(inv, hosts)
    out = " ".join(env.ok("onboard.yml", inventory=inv).split())
    labels = env.labels("node7")
    assert not set(OURS) & set(labels), labels
    assert labels["example.com/owner"] == "team-a"
    assert labels["kubernetes.io/hostname"] == "node7"
    assert "(1 pruned)" in out
    # reported as a GPU node outside the inventory
    assert re.search(r"but are not in the inventory .{0,120}node7", out), out[-3000:]
    assert env.labels("node8")[LABEL_SWITCH] == "ib-switch0"  # the others untouched
    env.ok("onboard.yml")
    assert env.labels("node7")[LABEL_MANAGED] == "true"


def test_a_node_deleted_between_listing_and_patching_fails_clearly_and_a_rerun_converges(env: Env):
    env.ok("onboard.yml")
    for node in ("node9", "node10"):
        env.patch_labels(node, dict.fromkeys(OURS))
    proc = env.play("labels_race.yml", "-e", "race_node=node9")
    text = " ".join(proc.stdout.split())
    assert proc.returncode != 0
    assert "1 of 2 node patch(es) did not land" in text
    assert "'node': 'node9'" in text and "no longer exists" in text
    assert env.labels("node10")[LABEL_SWITCH] == "ib-switch0", "the other patch must land"

    # The rerun lists again: node9 is now missing from the cluster, which stops the
    # role before any write unless told to continue.
    proc = env.play("onboard.yml")
    text = " ".join(proc.stdout.split())
    assert (
        proc.returncode != 0
        and "have no Node in the cluster: ['node9']" in text
        and "Nothing was written" in text
    )
    out = env.ok("onboard.yml", "-e", "node_labels_allow_missing=true")
    assert "1 inventory hosts missing" in " ".join(out.split())

    # The node comes back (re-registers without our labels): the next run converges.
    env.add_seed_nodes()
    env.ok("onboard.yml")
    assert env.labels("node9")[LABEL_SWITCH] == "ib-switch0"
    assert changed_count(env.ok("onboard.yml")) == 0


def test_a_node_deleted_while_four_batches_patch_is_named_and_the_other_batches_land(env: Env):
    """All 256 nodes need a patch; the list goes out in four concurrent module runs and one
    node of the last batch vanishes after the listing: only that node fails, by name."""
    env.ok("onboard.yml")
    names = [h.name for h in hosts_from_inventory(SEED)]
    for node in names:
        env.patch_labels(node, dict.fromkeys(OURS))
    proc = env.play("labels_race.yml", "-e", "race_node=node250", "-e", "node_labels_patch_batches=4")
    text = " ".join(proc.stdout.split())
    assert proc.returncode != 0
    assert "Patched 255 of 256 node(s) in 4 concurrent kubernetes.core.k8s run(s)" in text
    assert "1 of 256 node patch(es) did not land" in text
    assert "'node': 'node250'" in text and "no longer exists" in text
    unlabelled = [n for n in names if n != "node250" and LABEL_SWITCH not in env.labels(n)]
    assert unlabelled == [], "every other batch's patches must land"

    env.add_seed_nodes()
    env.ok("onboard.yml")
    assert LABEL_SWITCH in env.labels("node250")
    assert changed_count(env.ok("onboard.yml")) == 0
