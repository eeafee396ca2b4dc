"""End to end: the three PD layouts through Volcano's real admission webhooks, run twice.

On a private control plane (etcd, kube-apiserver with an audit log of write requests,
kube-controller-manager, vc-webhook-manager, Volcano, kwok) with the seed inventory's nodes,
``site.yml`` rolls out each layout (``seed``, ``joint``, ``deployment``) in its own namespace:
every pod is bound, Running and Ready, every Volcano Job ``Running``, every Deployment
``Available``, and the placement is verified. A second run of the same layout reports
``changed=0``, leaves every object's resourceVersion as it was and sends no write request
(the audit log): the fields the roles write that Volcano's mutating webhook would also add
are harmless.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from hypertopo.cluster.nodes import hosts_from_inventory

from .test_site import ROOT, SEED_INVENTORY, run_playbook

pytestmark = pytest.mark.cluster

AUDIT_POLICY = ROOT / "molecule" / "_shared" / "audit-policy.yaml"
LAYOUTS = ("seed", "joint", "deployment")
# the user agent of the Kubernetes Python client that kubernetes.core uses
ANSIBLE_CLIENT = "OpenAPI-Generator/"


class AuditedCluster:
    """A private control plane whose kube-apiserver logs every write request."""

    def __init__(self, cluster: Any, audit_log: Path) -> None:
        self.cluster = cluster
        self.audit_log = audit_log

    def audit_lines(self) -> int:
        return len(self.audit_log.read_text().splitlines()) if self.audit_log.exists() else 0

    def writes_since(self, line: int, *, dry_run: bool = False) -> list[str]:
        """Persisted write requests of the Ansible client after ``line`` of the audit log; with
        ``dry_run``, its server-side dry-run requests instead (``dryRun=All``: the admission check;
        they go through admission but persist nothing, so they are not writes)."""
        out = []
        for raw in self.audit_log.read_text().splitlines()[line:]:
            event = json.loads(raw)
            uri = event.get("requestURI", "")
            if event.get("userAgent", "").startswith(ANSIBLE_CLIENT) and ("dryRun=All" in uri) == dry_run:
                out.append(f"{event.get('verb')} {uri}")
        return out

    def versions(self, namespace: str) -> dict[str, str]:
        """The version of every object a rollout writes: resourceVersion of the HyperNodes, the
        scheduler ConfigMaps, the namespace and its workloads, PodGroups and pods; for a Node a
        digest of its labels and spec (kwok rewrites every Node's status on its heartbeat)."""
        c = self.cluster
        out = {
            f"Node/{n['metadata']['name']}": hashlib.sha1(
                json.dumps([n["metadata"].get("labels"), n.get("spec")], sort_keys=True).encode()
            ).hexdigest()
            for n in c.core.api_client.sanitize_for_serialization(c.core.list_node().items)
        }
        for hn in c.custom.list_cluster_custom_object("topology.volcano.sh", "v1alpha1", "hypernodes")[
            "items"
        ]:
            out[f"HyperNode/{hn['metadata']['name']}"] = hn["metadata"]["resourceVersion"]
        for cm in c.core.list_namespaced_config_map("volcano-system").items:
            out[f"ConfigMap/{cm.metadata.name}"] = cm.metadata.resource_version
        out["Namespace"] = c.core.read_namespace(namespace).metadata.resource_version
        for pod in c.core.list_namespaced_pod(namespace).items:
            out[f"Pod/{pod.metadata.name}"] = pod.metadata.resource_version
        for dep in client.AppsV1Api(c.api_client).list_namespaced_deployment(namespace).items:
            out[f"Deployment/{dep.metadata.name}"] = dep.metadata.resource_version
        for group, version, plural in (
            ("batch.volcano.sh", "v1alpha1", "jobs"),
            ("scheduling.volcano.sh", "v1beta1", "podgroups"),
        ):
            for obj in c.custom.list_namespaced_custom_object(group, version, namespace, plural)["items"]:
                out[f"{plural}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
        return out


@pytest.fixture(scope="module")
def audited(cluster_factory, tmp_path_factory) -> AuditedCluster:
    audit_log = tmp_path_factory.mktemp("audit") / "audit.log"
    cluster = cluster_factory(
        extra_args={
            "kube-apiserver": [
                f"--audit-policy-file={AUDIT_POLICY}",
                f"--audit-log-path={audit_log}",
                "--audit-log-format=json",
            ]
        }
    )
    cluster.create_nodes(hosts_from_inventory(SEED_INVENTORY))
    return AuditedCluster(cluster, audit_log)


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
    first_dry_runs = audited.writes_since(start, dry_run=True)
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
        "dry_runs": audited.writes_since(line, dry_run=True),
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
    assert rollout["writes"] == [], rollout["writes"]
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
