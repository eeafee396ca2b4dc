"""Unit tests of hypertopo.rollout.admission_check (dry-run requests, refusals read back): pure."""

from __future__ import annotations

import json

import pytest

from hypertopo.rollout.admission_check import GENERATED_SUFFIX, failure_lines, failures, requests

JOB = {
    "apiVersion": "batch.volcano.sh/v1alpha1",
    "kind": "Job",
    "metadata": {"name": "pd-joint-service", "namespace": "pd", "labels": {"a": "b"}},
    "spec": {"minAvailable": 2},
}
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "pd"}}
HYPERNODE = {"apiVersion": "topology.volcano.sh/v1alpha1", "kind": "HyperNode", "metadata": {"name": "s0"}}


def k8s_error(message: str, verb: str = "create", *, as_bytes: bool = False) -> dict:
    """A kubernetes.core.k8s per-object error as the module reports it (continue_on_error): the
    API Status as text (what the local control plane's refusals look like) or a bytes literal."""
    status = {"kind": "Status", "status": "Failure", "message": message, "reason": "BadRequest", "code": 400}
    body = json.dumps(status)
    quoted = repr(body.encode() + b"\n") if as_bytes else body
    return {"error": {"msg": f"Failed to {verb} object: {quoted}", "reason": "Bad Request"}}


def test_a_volcano_job_is_a_create_under_a_generated_name_of_the_same_length():
    (req,) = requests([JOB], ["pd"], "default")
    meta = req["object"]["metadata"]
    assert req["method"] == "create" and req["name"] == "Job pd/pd-joint-service"
    assert "name" not in meta and len(meta["generateName"]) + GENERATED_SUFFIX == len("pd-joint-service")
    assert meta["namespace"] == "pd" and meta["labels"] == {"a": "b"}
    assert req["object"]["spec"] == JOB["spec"]
    assert JOB["metadata"]["name"] == "pd-joint-service", "the input is left as it was"


def test_other_objects_are_applied_and_a_missing_namespace_is_created_first():
    reqs = requests([HYPERNODE, DEPLOYMENT], [], "default")
    assert [(r["method"], r["name"]) for r in reqs] == [
        ("create", "Namespace pd"),
        ("apply", "HyperNode s0"),
        ("apply", "Deployment pd/d"),
    ]
    assert reqs[2]["object"]["metadata"] == {"name": "d", "namespace": "default"}
    assert DEPLOYMENT["metadata"]["namespace"] == "pd"


def test_a_webhook_refusal_names_the_object_the_webhook_and_its_message():
    msg = 'admission webhook "validatejob.volcano.sh" denied the request: unable to find job queue: "nope"'
    reqs = requests([JOB, DEPLOYMENT], ["pd"], "default")
    found = failures(reqs, [k8s_error(msg), {"changed": False, "result": {}}])
    assert found == [
        {"object": "Job pd/pd-joint-service", "webhook": "validatejob.volcano.sh", "message": msg}
    ]
    assert failure_lines(found) == [f"Job pd/pd-joint-service: webhook validatejob.volcano.sh: {msg}"]


def test_a_webhook_that_is_down_and_an_error_without_a_status():
    down = (
        'Internal error occurred: failed calling webhook "mutatejob.volcano.sh": failed to call webhook: '
        'Post "https://127.0.0.1:1/jobs/mutate?timeout=10s": dial tcp 127.0.0.1:1: '
        "connect: connection refused"
    )
    reqs = requests([JOB, HYPERNODE], ["pd"], "default")
    timed_out = {"error": {"msg": "Failed to apply object: timed out"}}
    found = failures(reqs, [k8s_error(down, as_bytes=True), timed_out])
    assert found[0]["webhook"] == "mutatejob.volcano.sh" and found[0]["message"] == down
    assert found[1] == {
        "object": "HyperNode s0",
        "webhook": None,
        "message": "Failed to apply object: timed out",
    }
    assert failure_lines(found)[1] == "HyperNode s0: Failed to apply object: timed out"


def test_results_must_match_the_requests():
    with pytest.raises(ValueError):
        failures(requests([JOB], ["pd"], "default"), [])


def test_a_refusal_by_rbac_says_how_a_read_only_identity_plans() -> None:
    denied = {
        "object": "HyperNode s1",
        "webhook": None,
        "message": 'hypernodes.topology.volcano.sh "s1" is forbidden: User "ro" cannot patch resource',
    }
    (line,) = failure_lines([denied])
    assert line.startswith("HyperNode s1: hypernodes") and "plan_admission_check=false" in line
    (plain,) = failure_lines(
        [{**denied, "message": "denied: queue not found", "webhook": "validatejob.volcano.sh"}]
    )
    assert "plan_admission_check" not in plain
