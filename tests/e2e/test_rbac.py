"""Least privilege and audit-log proof, with the ServiceAccounts of ``deploy/rbac/``.

On a private control plane with a kube-apiserver audit log (``teardown.yml`` removes every
HyperNode we own and our label keys from every node carrying our marker, cluster-wide, so it
cannot share a control plane with other tests' rollouts), the manifests are applied as the
admin, tokens of the two ServiceAccounts are minted (TokenRequest API) and written into token
kubeconfigs, and a small inventory (two leaves, four nodes, a fresh name prefix and PD
namespace) is rolled out and torn down with them:

* ``site.yml`` with one verb removed from the ``hypertopo`` ClusterRole (``patch nodes``) fails
  in its check play naming the verb and resource, having written nothing;
* ``site.yml`` as ``hypertopo`` completes; ``site.yml --check`` as ``hypertopo`` and ``plan.yml``
  (from the cluster), ``verify.yml``, ``explain.yml`` and ``drift.yml`` as ``hypertopo-readonly``
  send no persisted write (the
  audit log; dry-run requests and access reviews are counted separately: neither is stored);
* ``teardown.yml`` with ``delete hypernodes`` removed fails naming it, having written nothing;
  then ``teardown.yml`` as ``hypertopo`` writes only objects we own: the labels of a node outside
  the inventory and a HyperNode without our label are never written (same resourceVersion, no
  write request in the audit log), and other label keys on our nodes stay.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hypertopo.cluster import NodeSpec
from hypertopo.cluster.local import HYPERNODES
from hypertopo.cluster.nodes import hosts_from_inventory
from hypertopo.rollout.access import LOCK_NAMESPACE
from hypertopo.topology.labels import LABEL_SWITCH
from hypertopo.topology.scheduler_conf import default_conf_from_role, dump_conf

from ..cluster_helpers import ROOT, AuditedCluster, AuditEvent, audited_cluster
from ..topology.invgen import write_inventory
from .test_site import run_playbook

pytestmark = pytest.mark.cluster

RBAC = ROOT / "deploy" / "rbac"
RBAC_API = "/apis/rbac.authorization.k8s.io/v1"
WRITER = f"system:serviceaccount:{LOCK_NAMESPACE}:hypertopo"
READER = f"system:serviceaccount:{LOCK_NAMESPACE}:hypertopo-readonly"
SCHED_CM = "/api/v1/namespaces/volcano-system/configmaps/volcano-scheduler-configmap"
FOREIGN_LABEL = "example.com/team"


def rbac_path(doc: dict[str, Any], namespace: str | None) -> str:
    kind = doc["kind"]
    plural = {"Namespace": "namespaces", "ServiceAccount": "serviceaccounts"}.get(kind, kind.lower() + "s")
    base = "/api/v1" if doc["apiVersion"] == "v1" else f"/apis/{doc['apiVersion']}"
    return f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"


def apply_manifests(cluster: Any, pd_namespace: str) -> None:
    """deploy/rbac/ as the README says: the numbered files, then pd-namespace.yaml with ``-n``."""
    for f in sorted(RBAC.glob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            if not doc:
                continue
            ns = doc["metadata"].get("namespace")
            if f.name == "pd-namespace.yaml":
                ns = pd_namespace
            if doc["kind"] in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
                ns = None
            path = rbac_path(doc, ns)
            if cluster.get_or_none(f"{path}/{doc['metadata']['name']}") is None:
                cluster.rest.post(path, doc)


def token_kubeconfig(cluster: Any, account: str, dest: Path) -> Path:
    """A kubeconfig with a fresh token of ServiceAccount ``account`` (TokenRequest API)."""
    token = cluster.rest.post(
        f"/api/v1/namespaces/{LOCK_NAMESPACE}/serviceaccounts/{account}/token",
        {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600},
        },
    )["status"]["token"]
    cfg = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    user = cfg["contexts"][0]["context"]["user"]
    cfg["users"] = [{"name": user, "user": {"token": token}}]
    dest.write_text(yaml.safe_dump(cfg))
    dest.chmod(0o600)
    return dest


def allowed(cluster: Any, user: str, attrs: dict[str, str]) -> bool:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user,
            "groups": [
                "system:serviceaccounts",
                f"system:serviceaccounts:{LOCK_NAMESPACE}",
                "system:authenticated",
            ],
            "resourceAttributes": attrs,
        },
    }
    return bool(
        cluster.rest.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", review)["status"]["allowed"]
    )


def without_verb(cluster: Any, resource: str, verb: str) -> Callable[[], None]:
    """Remove ``verb`` on ``resource`` from ClusterRole hypertopo; returns the undo. Both wait
    until the authorizer answers accordingly."""
    path = f"{RBAC_API}/clusterroles/hypertopo"
    original = cluster.get(path)
    changed = copy.deepcopy(original)
    for rule in changed["rules"]:
        if resource in rule["resources"]:
            rule["verbs"] = [v for v in rule["verbs"] if v != verb]
    group = next(r["apiGroups"][0] for r in original["rules"] if resource in r["resources"])
    attrs = {"verb": verb, "group": group, "resource": resource}

    def put(body: dict[str, Any], want: bool) -> None:
        body = {
            **body,
            "metadata": {
                **body["metadata"],
                "resourceVersion": cluster.get(path)["metadata"]["resourceVersion"],
            },
        }
        cluster.rest.request("PUT", path, body)
        deadline = time.monotonic() + 30
        while allowed(cluster, WRITER, attrs) != want:
            assert time.monotonic() < deadline, f"the authorizer did not pick up {verb} {resource} = {want}"
            time.sleep(0.2)

    put(changed, False)
    return lambda: put(original, True)


def service_accounts(cluster: Any, pd_namespace: str, dest: Path) -> tuple[Path, Path]:
    """deploy/rbac/ applied as the README says, with what it expects to exist (the scheduler
    ConfigMap, the PD namespace): token kubeconfigs of ``hypertopo`` and ``hypertopo-readonly``."""
    # Volcano's chart creates the scheduler ConfigMap; the account may only get and patch it
    if cluster.get_or_none("/api/v1/namespaces/volcano-system") is None:
        cluster.create_namespace("volcano-system")
    if cluster.get_or_none(SCHED_CM) is None:
        conf = dump_conf(default_conf_from_role(nta_enabled_override=False))
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "volcano-scheduler-configmap", "namespace": "volcano-system"},
                "data": {"volcano-scheduler.conf": conf},
            }
        )
    if cluster.get_or_none(f"/api/v1/namespaces/{pd_namespace}") is None:
        cluster.create_namespace(pd_namespace)
    apply_manifests(cluster, pd_namespace)
    return (
        token_kubeconfig(cluster, "hypertopo", dest / "hypertopo.kubeconfig"),
        token_kubeconfig(cluster, "hypertopo-readonly", dest / "readonly.kubeconfig"),
    )


def small_inventory(root: Path, prefix: str) -> Path:
    return write_inventory(
        root,
        {
            "switches": {
                f"{prefix}-agg": {"tier": 2, "type": "ib"},
                f"{prefix}-leaf0": {"tier": 1, "type": "ib", "parent": f"{prefix}-agg"},
                f"{prefix}-leaf1": {"tier": 1, "type": "ib", "parent": f"{prefix}-agg"},
            },
            "hosts": {
                f"{prefix}-leaf0": {
                    f"{prefix}-n0": {"gpu_model": "h100"},
                    f"{prefix}-n1": {"gpu_model": "h100"},
                },
                f"{prefix}-leaf1": {
                    f"{prefix}-n2": {"gpu_model": "rtx4090"},
                    f"{prefix}-n3": {"gpu_model": "rtx4090"},
                },
            },
            "all": {"gpu_count": 8, "node_cpu": "64", "node_memory": "512Gi"},
        },
    )


class Run:
    """One playbook run and the requests it sent (audit log)."""

    def __init__(
        self, audited: AuditedCluster, kubeconfig: Path, inventory: Path, playbook: str, *extra: str
    ):
        line = audited.audit_lines()
        start = time.monotonic()
        self.proc = run_playbook(kubeconfig, playbook, *extra, inventory=inventory)
        self.seconds = time.monotonic() - start
        time.sleep(0.5)  # the audit log backend writes after the response
        self.events: list[AuditEvent] = audited.events_since(line)

    def of(self, user: str) -> list[AuditEvent]:
        return [e for e in self.events if e.user == user]

    def writes(self, user: str) -> list[str]:
        return [str(e) for e in self.of(user) if e.persisted_write]

    def counts(self, user: str) -> dict[str, int]:
        mine = self.of(user)
        return {
            "persisted writes": sum(e.persisted_write for e in mine),
            "dry-run writes": sum(e.dry_run and not e.access_review for e in mine),
            "access reviews": sum(e.access_review for e in mine),
        }

    @property
    def output(self) -> str:
        return " ".join(self.proc.stdout.split())

    def tail(self) -> str:
        return self.proc.stdout[-5000:] + self.proc.stderr[-2000:]


@pytest.fixture(scope="module")
def rbac(cluster_factory, tmp_path_factory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("rbac")
    audited = audited_cluster(cluster_factory, tmp)
    c = audited.cluster
    prefix = f"rb{secrets.token_hex(3)}"
    ns = f"pd-{prefix}"
    inv = small_inventory(tmp, prefix)
    c.create_nodes(hosts_from_inventory(inv))
    # what is not ours: a label key on our nodes, a node outside the inventory, a HyperNode
    for node in hosts_from_inventory(inv):
        c.rest.merge_patch(f"/api/v1/nodes/{node.name}", {"metadata": {"labels": {FOREIGN_LABEL: "infra"}}})
    c.create_nodes([NodeSpec(f"{prefix}-other", gpu=8, labels={FOREIGN_LABEL: "other"})])
    c.create_hypernode(f"{prefix}-foreign", 1, nodes=[f"{prefix}-other"])
    rw, ro = service_accounts(c, ns, tmp)
    pd = ("-e", f"pd_services_namespace={ns}", "-e", "pd_services_prefill_replicas=2")
    pd += ("-e", "pd_services_decode_replicas=2", "-e", f"placement_report_dir={tmp / 'report'}")

    def run(kc: Path, playbook: str, *extra: str) -> Run:
        return Run(audited, kc, inv, playbook, *extra)

    out: dict[str, Any] = {"prefix": prefix, "namespace": ns, "cluster": c}
    undo = without_verb(c, "nodes", "patch")
    try:
        out["site_denied"] = run(rw, "playbooks/site.yml", *pd)
    finally:
        undo()
    out["site"] = run(rw, "playbooks/site.yml", *pd)
    out["site_check"] = run(rw, "playbooks/site.yml", "--check", *pd)
    out["plan"] = run(
        ro,
        "playbooks/plan.yml",
        "-e",
        "plan_from_cluster=true",
        # the admission check's dry runs are authorized like writes: a read-only account skips it
        "-e",
        "plan_admission_check=false",
        "-e",
        f"plan_dir={tmp / 'plan'}",
        *pd,
    )
    out["verify"] = run(ro, "playbooks/verify.yml", *pd)
    out["explain"] = run(ro, "playbooks/explain.yml", "-e", f"explain_job={ns}/pd-prefill-service")
    out["drift"] = run(ro, "playbooks/drift.yml")
    undo = without_verb(c, "hypernodes", "delete")
    try:
        out["teardown_denied"] = run(rw, "playbooks/teardown.yml", *pd)
    finally:
        undo()
    foreign_hn = c.get(f"{HYPERNODES}/{prefix}-foreign")["metadata"]["resourceVersion"]
    other = c.get(f"/api/v1/nodes/{prefix}-other")["metadata"]["labels"]
    out["teardown"] = run(rw, "playbooks/teardown.yml", *pd)
    out["foreign_hypernode_kept"] = (
        c.get(f"{HYPERNODES}/{prefix}-foreign")["metadata"]["resourceVersion"] == foreign_hn
    )
    out["other_labels_kept"] = c.get(f"/api/v1/nodes/{prefix}-other")["metadata"]["labels"] == other
    out["our_nodes"] = {
        n.name: c.get(f"/api/v1/nodes/{n.name}")["metadata"]["labels"] for n in hosts_from_inventory(inv)
    }
    return out


def test_site_without_a_verb_fails_naming_it_before_any_write(rbac):
    denied = rbac["site_denied"]
    assert denied.proc.returncode != 0
    assert "Missing permissions for site.yml, nothing was written" in denied.output, denied.tail()
    assert "patch nodes (cluster-wide)" in denied.output, denied.tail()
    assert "PLAY [Onboard the cluster" not in denied.output
    assert denied.writes(WRITER) == []
    assert denied.counts(WRITER)["access reviews"] > 0


def test_site_runs_with_the_hypertopo_account(rbac):
    site = rbac["site"]
    assert site.proc.returncode == 0, site.tail()
    writes = site.writes(WRITER)
    assert any(w.startswith("patch /api/v1/nodes/") for w in writes), writes
    assert any("/hypernodes" in w and w.startswith(("create", "patch")) for w in writes), writes
    assert any(w.startswith("patch " + SCHED_CM) for w in writes), writes
    assert any(w.startswith("create") and "/jobs" in w for w in writes), writes
    assert not any(f"/nodes/{rbac['prefix']}-other" in w for w in writes), writes
    print(f"site.yml as hypertopo: {site.seconds:.1f} s, {site.counts(WRITER)}")


@pytest.mark.parametrize(
    ("name", "user"),
    [
        ("site_check", WRITER),
        ("plan", READER),
        ("verify", READER),
        ("explain", READER),
        ("drift", READER),
    ],
    ids=["site-check", "plan", "verify", "explain", "drift"],
)
def test_check_plan_and_verify_send_no_persisted_write(rbac, name, user):
    assert rbac["site"].proc.returncode == 0, rbac["site"].tail()
    r = rbac[name]
    assert r.proc.returncode == 0, r.tail()
    assert r.writes(user) == []
    assert [str(e) for e in r.events if e.persisted_write and e.user in (WRITER, READER)] == []
    counts = r.counts(user)
    if user == READER:
        # the read-only account sends nothing but reads: not even a dry run or an access review
        assert counts == {"persisted writes": 0, "dry-run writes": 0, "access reviews": 0}, counts
    else:
        # --check after a converged rollout: the access preflight's reviews (answered, stored
        # nowhere) and the admission check's dry runs, one per HyperNode and PD workload the run
        # would write (issue #11: every object goes through the webhooks before any write)
        assert counts["access reviews"] > 0, counts
        dry = [str(e) for e in r.of(user) if e.dry_run]
        assert dry and all("/hypernodes" in d or "/jobs" in d for d in dry), dry
    print(f"{name}: {r.seconds:.1f} s, {counts}")


def test_teardown_without_a_verb_fails_naming_it_before_any_write(rbac):
    denied = rbac["teardown_denied"]
    assert denied.proc.returncode != 0
    assert "Missing permissions for teardown.yml, nothing was written" in denied.output, denied.tail()
    assert "delete hypernodes.topology.volcano.sh (cluster-wide)" in denied.output, denied.tail()
    assert denied.writes(WRITER) == []


def test_teardown_writes_only_what_we_own(rbac):
    teardown = rbac["teardown"]
    assert teardown.proc.returncode == 0, teardown.tail()
    prefix, ns = rbac["prefix"], rbac["namespace"]
    ours = (
        *(f"/api/v1/nodes/{prefix}-n{i}" for i in range(4)),
        *(f"{HYPERNODES}/{prefix}-{s}" for s in ("agg", "leaf0", "leaf1")),
        f"/namespaces/{ns}/",
        # the rollout lock, taken and given back by the run itself
        f"/apis/coordination.k8s.io/v1/namespaces/{LOCK_NAMESPACE}/leases",
    )
    writes = teardown.writes(WRITER)
    assert writes, "the teardown wrote"
    assert [w for w in writes if not any(o in w.split()[1] for o in ours)] == []
    assert rbac["foreign_hypernode_kept"], "the foreign HyperNode kept its resourceVersion"
    assert rbac["other_labels_kept"]
    for name, labels in rbac["our_nodes"].items():
        assert labels.get(FOREIGN_LABEL) == "infra", name
        assert LABEL_SWITCH not in labels, name
    print(f"teardown.yml: {teardown.seconds:.1f} s, {teardown.counts(WRITER)}; writes: {json.dumps(writes)}")
