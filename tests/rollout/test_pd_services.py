"""Unit tests of hypertopo.rollout.pd_services (pd_services helpers): pure, no cluster."""

from __future__ import annotations

from hypertopo.rollout.pd_services import (
    binding_status,
    delete_objects,
    foreign_clashes,
    other_pods,
    overlay_nodes,
    owned_by,
    placement_summary,
    scheduling_report,
    stale_workloads,
    unscheduled_podgroups,
    with_labels,
)

OURS = {"app.kubernetes.io/managed-by": "hypertopo"}


def obj(
    kind: str, name: str, ns: str = "pd", labels: dict | None = None, uid: str = "", owner: str = ""
) -> dict:
    meta: dict = {"name": name, "namespace": ns, "labels": dict(labels or {})}
    if uid:
        meta["uid"] = uid
    if owner:
        meta["ownerReferences"] = [{"uid": owner, "name": owner, "kind": "Job"}]
    return {"apiVersion": "v1", "kind": kind, "metadata": meta}


def pod(name: str, job: str, node: str | None = None, ns: str = "pd") -> dict:
    p = obj("Pod", name, ns, {"volcano.sh/job-name": job})
    p["spec"] = {"nodeName": node} if node else {}
    return p


def test_binding_status():
    pods = [pod("a", "j", "n1"), pod("b", "j")]
    st = binding_status(pods, 2)
    assert st["bound"] == 1 and st["pending"] == ["b"] and not st["done"]
    assert binding_status([pod("a", "j", "n1"), pod("b", "j", "n2")], 2)["done"]
    assert not binding_status([pod("a", "j", "n1")], 2)["done"]


def test_binding_status_counts_the_pods_that_run():
    running = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    a, b = pod("a", "j", "n1"), pod("b", "j", "n2")
    a["status"] = running
    b["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}
    st = binding_status([a, b], 2)
    assert st["done"] and st["running"] == 1 and st["not_running"] == ["b"] and not st["running_done"]
    b["status"] = running
    assert binding_status([a, b], 2)["running_done"]


def test_ownership_helpers():
    job = obj("Job", "j", labels=OURS, uid="u1")
    foreign = obj("Job", "k", labels={}, uid="u2")
    assert with_labels([job, foreign], OURS) == [job]
    pgs = [obj("PodGroup", "j-u1", owner="u1"), obj("PodGroup", "k-u2", owner="u2")]
    assert [o["metadata"]["name"] for o in owned_by(pgs, [job])] == ["j-u1"]
    assert delete_objects([job]) == [
        {"apiVersion": "v1", "kind": "Job", "metadata": {"name": "j", "namespace": "pd"}}
    ]
    assert foreign_clashes([obj("Job", "k")], [foreign], OURS) == ["Job pd/k"]
    assert foreign_clashes([obj("Job", "j")], [job], OURS) == []


def test_stale_workloads_of_another_layout_and_changed_jobs():
    seed = [obj("Job", "pd-prefill-service"), obj("Job", "pd-decode-service")]
    joint = [obj("Job", "pd-joint-service")]
    assert stale_workloads(seed, joint) == seed
    assert stale_workloads(seed, seed) == []
    assert stale_workloads(seed, seed, [seed[0]]) == [seed[0]]
    dep = obj("Deployment", "pd-prefill-service")
    assert stale_workloads([dep], [dep], [dep]) == []  # Deployments are updated in place


def test_other_pods_excludes_only_our_workloads_pods():
    ours = [obj("Job", "j")]
    pods = [pod("a", "j"), pod("b", "other"), pod("c", "j", ns="elsewhere")]
    assert [p["metadata"]["name"] for p in other_pods(pods, ours)] == ["b", "c"]


def test_placement_summary_and_overlay():
    nodes = [{"metadata": {"name": "n1", "labels": {"sw": "a"}}}, {"metadata": {"name": "n2", "labels": {}}}]
    assert placement_summary({"p1": "n1", "p2": "n2"}, nodes, ["sw"]) == {"sw": {"<none>": 1, "a": 1}}
    over = overlay_nodes(nodes, {"n2": {"sw": "b"}}, ["sw"])
    assert [n["metadata"]["labels"] for n in over] == [{"sw": "a"}, {"sw": "b"}]
    assert nodes[1]["metadata"]["labels"] == {}  # input untouched


def test_scheduling_report_names_conditions_and_events():
    pg = obj("PodGroup", "j-u1", owner="j")
    pg["status"] = {
        "phase": "Pending",
        "conditions": [
            {
                "type": "Unschedulable",
                "status": "True",
                "reason": "NotEnoughResources",
                "message": "3/12 tasks",
            }
        ],
    }
    other_pg = obj("PodGroup", "x-u9", owner="x")
    ev = {
        "involvedObject": {"kind": "PodGroup", "name": "j-u1"},
        "reason": "Unschedulable",
        "message": "no fit",
    }
    lines = scheduling_report([pg, other_pg], [ev], [], ["j"])
    assert any("NotEnoughResources: 3/12 tasks" in line for line in lines)
    assert any("no fit" in line for line in lines)
    assert not any("x-u9" in line for line in lines)
    assert scheduling_report([], [], [], ["j"]) != []


def member(name: str, group: str, scheduled: str | None = None) -> dict:
    p = pod(name, "j")
    p["metadata"]["annotations"] = {"scheduling.k8s.io/group-name": group}
    if scheduled is not None:
        p["status"] = {"conditions": [{"type": "PodScheduled", "status": scheduled}]}
    return p


def test_podgroups_no_scheduler_looked_at_are_named_with_what_to_check():
    fresh = obj("PodGroup", "j-u1", owner="j")
    fresh["status"] = {"phase": "Pending"}
    inqueue = obj("PodGroup", "k-u2", owner="k")
    inqueue["status"] = {"phase": "Inqueue"}
    refused = obj("PodGroup", "l-u3", owner="l")
    refused["status"] = {"phase": "Pending", "conditions": [{"type": "Unschedulable", "status": "True"}]}
    tried = obj("PodGroup", "m-u4", owner="m")  # a scheduler tried its pods, the PodGroup has no status yet
    pods = [member("j-0", "j-u1"), member("m-0", "m-u4", scheduled="False")]
    assert unscheduled_podgroups([fresh, inqueue, refused, tried], pods) == ["j-u1"]
    lines = scheduling_report([fresh, inqueue, refused, tried], [], pods, ["j", "k", "l", "m"])
    assert lines[0].startswith("the scheduler is not binding: PodGroup(s) j-u1 still Pending")
    assert "check that vc-scheduler is running" in lines[0]
    # once the scheduler has looked (a condition), no such line
    assert not any("not binding" in line for line in scheduling_report([refused], [], [], ["l"]))
