"""End to end: the three PD layouts through Volcano's real admission webhooks, run twice.

On a private control plane (etcd, kube-apiserver with an audit log of write requests,
kube-controller-manager, vc-webhook-manager, Volcano, kwok) with the seed inventory's nodes,
``site.yml`` rolls out each layout (``seed``, ``joint``, ``deployment``) in its own namespace:
every pod is bound, Running and Ready, every Volcano Job ``Running``, every Deployment
``Available``, and the placement is verified. A second run of the same layout reports
``changed=0``, leaves every object's resourceVersion as it was and sends no write request
(the audit log) but the rollout lock's (a Lease created, renewed and deleted): the fields the
roles write that Volcano's mutating webhook would also add are harmless.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hypertopo.cluster.nodes import hosts_from_inventory

from ..cluster_helpers import AuditedCluster, audited_cluster
from .test_site import SEED_INVENTORY, run_playbook

pytestmark = pytest.mark.cluster

LAYOUTS = ("seed", "joint", "deployment")
# the rollout lock (role rollout_lock): every writing run creates and deletes this Lease
LOCK_LEASE = "/apis/coordination.k8s.io/v1/namespaces/hypertopo-system/leases"


@pytest.fixture(scope="module")
def audited(cluster_factory, tmp_path_factory) -> AuditedCluster:
    audited = audited_cluster(cluster_factory, tmp_path_factory.mktemp("audit"))
    audited.cluster.create_nodes(hosts_from_inventory(SEED_INVENTORY))
    return audited


def site(audited: AuditedCluster, layout: str, namespace: str, report_dir: Path) -> Any:
    return run_playbook(
        audited.cluster.kubeconfig,
        "playbooks/site.yml",
        "-e",
        f"pd_services_layout={layout}",
        "-e",
        f"pd_services_namespace={namespace}",
        "-e",
        f"placement_report_dir={report_dir}",
    )


def recap(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("localhost")]
    return lines[-1] if lines else ""


@pytest.fixture(scope="module", params=LAYOUTS)
def rollout(request, audited, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """site.yml for one layout in a fresh namespace, then once more, with what each run did."""
    layout = request.param
    namespace = f"e2e-{layout}-{uuid.uuid4().hex[:6]}"
    report_dir = tmp_path_factory.mktemp(f"report-{layout}")
    start = audited.audit_lines()
    first = site(audited, layout, namespace, report_dir)
    first_writes = audited.writes_since(start)
    first_dry_runs = audited.dry_runs_since(start)
    before, line = audited.versions(namespace), audited.audit_lines()
    second = site(audited, layout, namespace, report_dir) if first.returncode == 0 else None
    yield {
        "layout": layout,
        "namespace": namespace,
        "report": json.loads((report_dir / "report.json").read_text()) if first.returncode == 0 else {},
        "first": first,
        "first_writes": first_writes,
        "first_dry_runs": first_dry_runs,
        "second": second,
        "unchanged": before == audited.versions(namespace),
        "writes": audited.writes_since(line),
        "dry_runs": audited.dry_runs_since(line),
    }


def test_every_pod_runs_and_the_placement_is_verified(rollout, audited):
    first = rollout["first"]
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]
    report = rollout["report"]
    assert report["ok"], report["failures"]
    pods = [p for job in report["jobs"] for p in job["pods"]]
    assert len(pods) == 24
    assert all(p["actual_node"] and p["phase"] == "Running" and p["ready"] for p in pods), pods
    phases = {job["name"]: job["state"]["phase"] for job in report["jobs"]}
    want = "Available" if rollout["layout"] == "deployment" else "Running"
    assert set(phases.values()) == {want}, phases
    # the placement is one of the predicted outcomes and every pod is in its predicted node group:
    # nothing to list as a difference
    assert [job["outcome"] for job in report["jobs"]] == ["predicted"] * len(report["jobs"]), [
        (job["name"], job["actual"], job["predicted"]) for job in report["jobs"]
    ]
    assert all(p["match"] for p in pods), [p for p in pods if not p["match"]]
    assert report["differences"] == [], report["differences"]
    live = audited.cluster.core.list_namespaced_pod(rollout["namespace"]).items
    assert sorted(p.metadata.name for p in live) == sorted(p["pod"] for p in pods)
    assert all(p.status.phase == "Running" for p in live)


def test_a_second_run_changes_nothing_and_writes_nothing(rollout):
    assert rollout["first"].returncode == 0, rollout["first"].stdout[-3000:]
    second = rollout["second"]
    assert second.returncode == 0, second.stdout[-6000:] + second.stderr[-3000:]
    assert " changed=0 " in recap(second.stdout), recap(second.stdout)
    # the audit log does record the rollout's writes: the first run created the workloads
    kind = "deployments" if rollout["layout"] == "deployment" else "jobs"
    assert any(w.startswith("create ") and f"/{kind}" in w for w in rollout["first_writes"]), rollout[
        "first_writes"
    ]
    assert rollout["unchanged"], "an object got a new resourceVersion"
    # the only writes: the rollout lock taken and given back (a Lease, not a managed object)
    lock = [w for w in rollout["writes"] if LOCK_LEASE in w]
    assert [w for w in rollout["writes"] if w not in lock] == [], rollout["writes"]
    # created without a holder, taken (a write conditioned on its resourceVersion), renewed for the
    # workloads' play, released
    assert [w.split(" ")[0] for w in lock] == ["create", "patch", "patch", "delete"], lock
    # the admission check sent the first run's objects through the admission chain as dry runs
    # before the writes; the second run's Jobs again (a Job is checked as a create, every run),
    # and those dry runs are not counted as writes
    first_dry = rollout["first_dry_runs"]
    # the HyperNodes are created by the module's first layout only (the later ones find them)
    if any(w.startswith("create ") and "/hypernodes" in w for w in rollout["first_writes"]):
        assert any(w.startswith("create ") and "/hypernodes" in w for w in first_dry), first_dry
    assert any(w.startswith("create ") and f"/{kind}" in w for w in first_dry), first_dry
    if kind == "jobs":
        assert any(w.startswith("create ") and "/jobs" in w for w in rollout["dry_runs"]), rollout["dry_runs"]
