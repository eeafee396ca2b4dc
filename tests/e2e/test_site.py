"""End to end: site.yml on the local control plane places the seed's PD services as predicted.

Runs the real playbook (validate, label, HyperNodes, scheduler config, hints preflight,
PD services, wait, verify, report) against etcd + kube-apiserver + vc-scheduler, then
reads the pods back from the API server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from hypertopo.cluster.nodes import hosts_from_inventory
from hypertopo.report.verify import predicted_outcomes
from hypertopo.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
SEED_INVENTORY = ROOT / "inventory" / "seed"
pytestmark = pytest.mark.cluster


def playbook_command(
    kubeconfig: Path, playbook: str, *extra: str, inventory: Path = SEED_INVENTORY
) -> tuple[list[str], dict[str, str]]:
    """The ``ansible-playbook`` command line and environment of a run on ``inventory``."""
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), playbook, *extra]
    return cmd, env


def run_playbook(
    kubeconfig: Path, playbook: str, *extra: str, inventory: Path = SEED_INVENTORY
) -> subprocess.CompletedProcess[str]:
    cmd, env = playbook_command(kubeconfig, playbook, *extra, inventory=inventory)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def remove_pd_workloads(kubeconfig: Path, namespace: str) -> subprocess.CompletedProcess[str]:
    """site.yml's PD stage with ``pd_services_state=absent``: our workloads in ``namespace`` go."""
    return run_playbook(
        kubeconfig,
        "playbooks/site.yml",
        "--tags",
        "pd_services",
        "-e",
        "pd_services_state=absent",
        "-e",
        f"pd_services_namespace={namespace}",
    )


def start_playbook(
    kubeconfig: Path, playbook: str, *extra: str, inventory: Path = SEED_INVENTORY
) -> subprocess.Popen[str]:
    """The same run in the background (read it with ``communicate()``)."""
    cmd, env = playbook_command(kubeconfig, playbook, *extra, inventory=inventory)
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def seed_rollout(cluster, tmp_path_factory):
    """site.yml with the seed layout in a fresh namespace; torn down afterwards."""
    cluster.create_nodes(hosts_from_inventory(SEED_INVENTORY))
    namespace = f"e2e-seed-{uuid.uuid4().hex[:6]}"
    report_dir = tmp_path_factory.mktemp("report")
    proc = run_playbook(
        cluster.kubeconfig,
        "playbooks/site.yml",
        "-e",
        "pd_services_layout=seed",
        "-e",
        f"pd_services_namespace={namespace}",
        "-e",
        f"placement_report_dir={report_dir}",
    )
    try:
        yield namespace, report_dir, proc
    finally:
        down = remove_pd_workloads(cluster.kubeconfig, namespace)
        if down.returncode != 0:
            # leave nothing bound behind even if the teardown path broke
            for pod in cluster.core.list_namespaced_pod(namespace).items:
                cluster.core.delete_namespaced_pod(pod.metadata.name, namespace, grace_period_seconds=0)


def test_site_exits_zero(seed_rollout):
    _, _, proc = seed_rollout
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]


def test_24_pods_bound_under_ib_switch4(seed_rollout, cluster):
    namespace, _, proc = seed_rollout
    assert proc.returncode == 0, proc.stdout[-3000:]
    topo = load_topology(str(SEED_INVENTORY))
    pods = cluster.core.list_namespaced_pod(namespace).items
    assert len(pods) == 24
    nodes = [p.spec.node_name for p in pods]
    assert all(nodes), "every pod is bound by vc-scheduler"
    leaves = {topo.hosts[n].leaf for n in nodes}
    assert leaves <= {"ib-switch0", "ib-switch1"}, leaves
    assert all("ib-switch4" in topo.ancestors(leaf) for leaf in leaves)
    models = {p.metadata.labels["volcano.sh/task-spec"]: set() for p in pods}
    for p in pods:
        models[p.metadata.labels["volcano.sh/task-spec"]].add(topo.hosts[p.spec.node_name].gpu_model)
    assert models == {"prefill-worker": {"h100"}, "decode-worker": {"rtx4090"}}


def test_predicted_equals_actual(seed_rollout):
    _, report_dir, proc = seed_rollout
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = json.loads((report_dir / "report.json").read_text())
    assert report["verified"] and report["ok"], report["failures"]
    assert len(report["jobs"]) == 2
    hints = json.loads((report_dir / "hints.json").read_text())
    engine = {j["name"]: j for j in hints["jobs"]}
    for job in report["jobs"]:
        # Volcano picks one of the seed's two identical IB leaves at random: the prediction lists
        # both outcomes (91/128 and 37/128: the job's pick follows Go map iteration order over the
        # IB aggregation's spec.members order) and the actual placement
        # must be one of them, every pod on a node of its predicted group of interchangeable nodes
        outcomes = predicted_outcomes(engine[job["name"]])
        assert [(o["hypernode"], o["probability"]) for o in outcomes] == [
            ("ib-switch0", 0.710938),
            ("ib-switch1", 0.289062),
        ], outcomes
        assert job["outcome"] == "predicted", (job["name"], job["actual"], outcomes)
        assert job["outcome_count"] == 2 and job["outcome_index"] in (1, 2)
        chosen = outcomes[job["outcome_index"] - 1]
        assert (chosen["hypernode"], chosen["leaves"]) == (
            job["actual"]["hypernode"],
            job["actual"]["pods_per_leaf"],
        )
        assert all(p["match"] and p["actual_node"] in p["candidates"] for p in job["pods"]), job["pods"]
    assert report["differences"] == []
    assert report["placement_summary"].startswith("the placement is a predicted outcome (")
    header = (report_dir / "report.txt").read_text().splitlines()[1]
    assert "the placement is a predicted outcome" in header and "0 difference(s)" in header, header


def test_report_files_and_svg_marks(seed_rollout):
    _, report_dir, proc = seed_rollout
    assert proc.returncode == 0, proc.stdout[-3000:]
    for name in ("report.txt", "report.json", "report.html"):
        assert (report_dir / name).is_file()
    html = (report_dir / "report.html").read_text()
    assert "<svg" in html
    assert html.count('class="pod-mark prefill') == 12
    assert html.count('class="pod-mark decode') == 12


def test_rerun_is_idempotent(seed_rollout, cluster):
    namespace, report_dir, proc = seed_rollout
    assert proc.returncode == 0, proc.stdout[-3000:]
    before = {
        p.metadata.name: p.metadata.resource_version
        for p in cluster.core.list_namespaced_pod(namespace).items
    }
    again = run_playbook(
        cluster.kubeconfig,
        "playbooks/site.yml",
        "-e",
        "pd_services_layout=seed",
        "-e",
        f"pd_services_namespace={namespace}",
        "-e",
        f"placement_report_dir={report_dir}",
    )
    assert again.returncode == 0, again.stdout[-6000:]
    recap = [line for line in again.stdout.splitlines() if line.startswith("localhost")]
    assert recap and " changed=0 " in recap[-1], recap
    after = {
        p.metadata.name: p.metadata.resource_version
        for p in cluster.core.list_namespaced_pod(namespace).items
    }
    assert after == before, "the rerun left the pods untouched"
    assert yaml.safe_load((report_dir / "report.json").read_text())["ok"]
