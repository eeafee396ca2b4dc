"""Unit tests of hypertopo.rollout.objdiff (which rendered objects need a write): pure, no cluster."""

from __future__ import annotations

import json

import pytest

from hypertopo.rollout.objdiff import LAST_APPLIED, contained, pending_writes, quantity


def hn(members: list, **meta) -> dict:
    return {
        "apiVersion": "topology.volcano.sh/v1alpha1",
        "kind": "HyperNode",
        "metadata": {"name": "leaf", **meta},
        "spec": {"tier": 1, "members": members},
    }


MEMBERS = [{"type": "Node", "selector": {"exactMatch": {"name": "n0"}}}]


def applied(obj: dict, server_extra: dict | None = None) -> dict:
    live = json.loads(json.dumps(obj))
    live["metadata"].update(
        {"uid": "u", "resourceVersion": "7", "annotations": {LAST_APPLIED: json.dumps(obj)}}
    )
    live.update(server_extra or {})
    return live


def test_unchanged_object_needs_no_write_even_with_lists():
    desired = hn(MEMBERS)
    assert pending_writes([desired], [applied(desired, {"status": {"nodeCount": 1}})])["write"] == []


def test_missing_and_changed_objects_are_written():
    desired = hn(MEMBERS)
    changed = applied(hn([{"type": "Node", "selector": {"exactMatch": {"name": "n9"}}}]))
    out = pending_writes([desired], [changed])
    assert out["write"] == [desired] and out["reasons"] == {"HyperNode leaf": "differs"}
    assert pending_writes([desired], [])["reasons"] == {"HyperNode leaf": "missing"}


def test_a_field_we_stopped_rendering_is_caught_by_the_last_applied_annotation():
    old = hn(MEMBERS)
    old["spec"]["tierName"] = "leaf"
    live = applied(old)
    out = pending_writes([hn(MEMBERS)], [live])
    assert out["reasons"] == {"HyperNode leaf": "rendered fields changed since the last apply"}


def test_an_object_not_applied_by_us_is_written_once():
    desired = hn(MEMBERS)
    live = json.loads(json.dumps(desired))
    assert pending_writes([desired], [live])["reasons"] == {"HyperNode leaf": "not applied by us yet"}


def test_quantities_compare_by_value_and_server_defaults_are_ignored():
    want = {"resources": {"limits": {"memory": "1024Mi", "nvidia.com/gpu": "1"}}, "name": "c"}
    have = {
        "resources": {"limits": {"memory": "1Gi", "nvidia.com/gpu": 1}},
        "name": "c",
        "terminationMessagePath": "/x",
    }
    assert contained(want, have)
    assert not contained({"a": [1, 2]}, {"a": [1, 2, 3]})
    assert not contained({"a": "true"}, {"a": True})
    assert quantity("100m") == quantity("0.1") and quantity("2Ki") == 2048 and quantity("abc") is None
    # the one Kubernetes grammar (topology.quantity): exponents, signs, n/u suffixes, bounds
    assert quantity("1E3") == quantity("1k") == 1000 and quantity("+1") == 1
    assert quantity("500u") == quantity("0.5m")
    assert quantity("1.5.2") is None and quantity("1e99999") is None and quantity("9" * 65) is None
    assert contained({"cpu": "1e3"}, {"cpu": "1k"}) and not contained({"cpu": "1e3"}, {"cpu": "1M"})


def test_namespaced_objects_are_matched_by_namespace():
    a = {"kind": "Job", "metadata": {"name": "j", "namespace": "a"}}
    b = applied({"kind": "Job", "metadata": {"name": "j", "namespace": "b"}})
    assert pending_writes([a], [b])["reasons"] == {"Job a/j": "missing"}


def test_objects_without_name_are_rejected():
    with pytest.raises(ValueError, match=r"metadata\.name"):
        pending_writes([{"kind": "Job", "metadata": {}}], [])
