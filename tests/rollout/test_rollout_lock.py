"""The rollout lock's decisions and Lease objects (tests/e2e/test_faults.py runs it on the API server)."""

from __future__ import annotations

import datetime as dt

from hypertopo.rollout.rollout_lock import (
    MANAGED_BY,
    decide,
    format_time,
    held_message,
    lease_object,
    placeholder_object,
    read_lease,
)

NOW = dt.datetime(2026, 12, 2, 13, 0, 0, tzinfo=dt.UTC)


def lease(holder: str, renewed: dt.datetime, duration: int = 60, rv: str = "7") -> dict:
    return {
        "metadata": {"name": "hypertopo-rollout", "namespace": "hypertopo-system", "resourceVersion": rv},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": duration,
            "acquireTime": format_time(renewed - dt.timedelta(seconds=5)),
            "renewTime": format_time(renewed),
            "leaseTransitions": 2,
        },
    }


def test_decisions():
    assert decide(None, "me", NOW) == "create"
    assert decide(read_lease(lease("me", NOW)), "me", NOW) == "renew"
    assert decide(read_lease(lease("other", NOW)), "me", NOW) == "wait"
    # its holder did not renew it within the duration: crashed, taken over
    assert decide(read_lease(lease("other", NOW - dt.timedelta(seconds=61))), "me", NOW) == "take"
    assert decide(read_lease(lease("", NOW)), "me", NOW) == "take"
    # no renew time at all: nothing proves the holder alive
    assert decide(read_lease({"metadata": {}, "spec": {"holderIdentity": "x"}}), "me", NOW) == "take"


def test_a_takeover_is_conditioned_on_the_version_read_and_counts_a_transition():
    current = read_lease(lease("other", NOW - dt.timedelta(seconds=600)))
    obj = lease_object("hypertopo-rollout", "hypertopo-system", "me", 900, NOW, current)
    assert obj["apiVersion"] == "coordination.k8s.io/v1" and obj["kind"] == "Lease"
    assert obj["metadata"]["resourceVersion"] == "7"
    assert obj["spec"] == {
        "holderIdentity": "me",
        "leaseDurationSeconds": 900,
        "acquireTime": "2026-12-02T13:00:00.000000Z",
        "renewTime": "2026-12-02T13:00:00.000000Z",
        "leaseTransitions": 3,
    }


def test_a_renewal_keeps_the_acquire_time_and_a_create_has_no_version():
    current = read_lease(lease("me", NOW - dt.timedelta(seconds=30)))
    obj = lease_object("l", "ns", "me", 900, NOW, current)
    assert obj["spec"]["acquireTime"] == "2026-12-02T12:59:25.000000Z"
    assert obj["spec"]["leaseTransitions"] == 2
    assert "resourceVersion" not in lease_object("l", "ns", "me", 900, NOW)["metadata"]


def test_the_refusal_names_the_holder_the_expiry_and_what_to_do():
    current = read_lease(lease("ops@host pid 42", NOW, duration=900))
    msg = held_message(current, "hypertopo-rollout", "hypertopo-system", NOW + dt.timedelta(seconds=30), 0)
    assert "held by 'ops@host pid 42'" in msg
    assert "expires 2026-12-02T13:15:00.000000Z, in 870 s" in msg
    assert "nothing was written by this one" in msg
    assert "kubectl -n hypertopo-system delete lease hypertopo-rollout" in msg


def test_a_missing_lease_is_created_without_holder_and_then_taken_like_an_expired_one():
    """kubernetes.core patches a Lease that exists by the time its module runs, so a create is
    not exclusive: the placeholder carries no spec (written over another run's Lease it changes
    no holder), and the holder-less Lease read next is taken with a conditioned write."""
    placeholder = placeholder_object("lock", "ns")
    assert "spec" not in placeholder
    assert placeholder["metadata"] == {"name": "lock", "namespace": "ns", "labels": MANAGED_BY}
    created = read_lease({"metadata": {"resourceVersion": "7"}, "spec": {}})
    assert created is not None
    assert decide(created, "me", NOW) == "take"
    take = lease_object("lock", "ns", "me", 60, NOW, created)
    assert take["metadata"]["resourceVersion"] == "7"
    assert take["spec"]["holderIdentity"] == "me"
