"""One definition of the permissions (``hypertopo.rollout.access.NEEDS``): ``deploy/rbac/`` grants
each ServiceAccount exactly what its playbooks need, the README's table is generated from the
list, and the access preflight asks for each need and names what is denied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hypertopo.rollout.access import (
    ACCOUNTS,
    NEEDS,
    access_denied,
    access_reviews,
    account_needs,
    grants,
    markdown_table,
)

ROOT = Path(__file__).resolve().parents[2]
RBAC = ROOT / "deploy" / "rbac"
NAMESPACES = {"pd": "pd-x", "scheduler": "volcano-system"}


def manifests() -> list[dict[str, Any]]:
    return [d for f in sorted(RBAC.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


@pytest.mark.parametrize("account", sorted(ACCOUNTS))
def test_the_manifests_grant_exactly_what_the_playbooks_need(account):
    granted, needed = grants(manifests(), account), account_needs(account)
    assert granted - needed == set(), f"{account}: granted but not needed"
    assert needed - granted == set(), f"{account}: needed but not granted"


def test_no_wildcards_and_the_readonly_account_only_reads():
    for doc in manifests():
        for rule in doc.get("rules") or []:
            for key in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule.get(key, []), (doc["metadata"]["name"], rule)
    assert {g[3] for g in grants(manifests(), "hypertopo-readonly")} <= {"get", "list", "watch"}


def test_every_binding_names_a_role_in_the_manifests_and_a_shipped_account():
    docs = manifests()
    accounts = {d["metadata"]["name"] for d in docs if d["kind"] == "ServiceAccount"}
    assert accounts == set(ACCOUNTS)
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs}
    for b in (d for d in docs if d["kind"].endswith("Binding")):
        ns = b["metadata"].get("namespace") if b["roleRef"]["kind"] == "Role" else None
        assert (b["roleRef"]["kind"], ns, b["roleRef"]["name"]) in roles, b["metadata"]["name"]
        assert {s["name"] for s in b["subjects"]} <= accounts


@pytest.mark.parametrize("playbook", ["plan", "verify", "explain"])
def test_the_readers_of_the_live_cluster_may_list_priority_classes(playbook):
    """A job's priority is its PriorityClass's value: plan_from_cluster, verify and explain list
    them (cluster-scoped, read only), and deploy/rbac grants the read-only account that."""
    wanted = ("cluster", "scheduling.k8s.io", "priorityclasses", "list", "")
    assert wanted in {(n.scope, n.group, n.resource, v, "") for n in NEEDS[playbook] for v in n.verbs}
    assert wanted in grants(manifests(), "hypertopo-readonly")
    assert not any(
        g[2] == "priorityclasses" and g[3] != "list" for g in grants(manifests(), "hypertopo-readonly")
    )


def test_the_readme_table_is_generated_from_the_list():
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- rbac-table:start -->\n", 1)[1].split("<!-- rbac-table:end -->", 1)[0]
    assert table == markdown_table(), "regenerate the README table (README, 'Least-privilege RBAC')"


def test_one_review_per_verb_and_resource_scoped_as_the_need():
    reviews = access_reviews("site", NAMESPACES, "sched-cm")
    attrs = [r["spec"]["resourceAttributes"] for r in reviews]
    assert len(attrs) == sum(len(n.verbs) * max(1, len(n.names)) for n in NEEDS["site"])
    assert {"verb": "patch", "group": "", "resource": "nodes"} in attrs  # cluster-wide: no namespace
    cm = {
        "verb": "patch",
        "group": "",
        "resource": "configmaps",
        "namespace": "volcano-system",
        "name": "sched-cm",
    }
    assert cm in attrs
    assert {
        "verb": "get",
        "group": "",
        "resource": "namespaces",
        "namespace": "pd-x",
        "name": "pd-x",
    } in attrs
    lease = {
        "verb": "create",
        "group": "coordination.k8s.io",
        "resource": "leases",
        "namespace": "hypertopo-system",
    }
    assert lease in attrs
    assert all(r["kind"] == "SelfSubjectAccessReview" and "metadata" not in r for r in reviews)


def test_unknown_playbook_or_missing_namespace_is_refused():
    with pytest.raises(ValueError, match="playbook"):
        access_reviews("render", NAMESPACES, "cm")
    with pytest.raises(ValueError, match="scheduler"):
        access_reviews("site", {"pd": "x"}, "cm")


def _result(attrs: dict[str, Any], allowed: bool, reason: str = "") -> dict[str, Any]:
    status: dict[str, Any] = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return {"changed": False, "result": {"spec": {"resourceAttributes": attrs}, "status": status}}


def test_denied_reviews_are_named_with_verb_resource_and_scope():
    ok = _result({"verb": "list", "group": "", "resource": "nodes"}, True)
    no_patch = _result({"verb": "patch", "group": "", "resource": "nodes"}, False)
    no_delete = _result(
        {"verb": "delete", "group": "topology.volcano.sh", "resource": "hypernodes"},
        False,
        "no RBAC policy matched",
    )
    no_cm = _result(
        {"verb": "get", "group": "", "resource": "configmaps", "namespace": "volcano-system", "name": "cm"},
        False,
    )
    assert access_denied({"result": {"results": [ok, no_patch, no_delete, no_cm]}}) == [
        "patch nodes (cluster-wide)",
        "delete hypernodes.topology.volcano.sh (cluster-wide) (no RBAC policy matched)",
        'get configmaps "cm" in namespace volcano-system',
    ]
    # one definition: the module returns that one result itself
    assert access_denied(no_patch) == ["patch nodes (cluster-wide)"]
    assert access_denied(ok) == []
