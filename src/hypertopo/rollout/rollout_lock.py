"""The rollout lock: a ``coordination.k8s.io/v1`` Lease that one writing run holds at a time.

Pure logic behind the ``hypertopo_rollout_lock`` action plugin (which reads and writes the Lease
through ``kubernetes.core``): the Lease object (:func:`lease_object`), what a Lease as read says
(:func:`read_lease`), and what a run that wants the lock does next (:func:`decide`):

* no Lease: create it without a holder (:func:`placeholder_object`), then read it again and
  take it as below. ``kubernetes.core.k8s`` patches an object that exists by the time its
  module reads it, so a create is not exclusive; the conditioned take is: two runs creating at
  once both find the holder-less Lease, and the API server lets one take through (409 for the
  other, which reads again and finds the lock held);
* a Lease held by this run: renew it (the expiry moves on);
* a Lease without holder or past its expiry (a run that crashed): take it, with a write
  conditioned on the ``resourceVersion`` read (a 409 means another run was faster: read again);
* a Lease held by another run and not expired: wait, or refuse naming the holder and the expiry.

The expiry is ``renewTime + leaseDurationSeconds``, as Kubernetes' own leader election reads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

LEASE_API = "coordination.k8s.io/v1"
LEASE_KIND = "Lease"
#: The label that marks the Lease as ours (teardown and reports can find it).
MANAGED_BY = {"app.kubernetes.io/managed-by": "hypertopo"}

Action = Literal["create", "take", "renew", "wait"]


def format_time(moment: dt.datetime) -> str:
    """A Kubernetes MicroTime (``2026-12-02T13:07:00.123456Z``)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime | None:
    """A MicroTime or Time as the API server returns it, or None when absent or unreadable."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class LeaseState:
    """A Lease as read: who holds it until when, and the version a conditioned write needs."""

    holder: str
    acquired: dt.datetime | None
    renewed: dt.datetime | None
    duration: int
    resource_version: str
    transitions: int

    @property
    def expires(self) -> dt.datetime | None:
        if self.renewed is None:
            return None
        return self.renewed + dt.timedelta(seconds=self.duration)

    def expired(self, now: dt.datetime) -> bool:
        """True when nobody holds it, or its holder has not renewed it in time (crashed)."""
        expires = self.expires
        return not self.holder or expires is None or expires <= now


def read_lease(obj: Mapping[str, Any] | None) -> LeaseState | None:
    """The state of a Lease object (as ``kubernetes.core.k8s_info`` returns it), None when absent."""
    if not obj:
        return None
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    return LeaseState(
        holder=str(spec.get("holderIdentity") or ""),
        acquired=parse_time(spec.get("acquireTime") or ""),
        renewed=parse_time(spec.get("renewTime") or ""),
        duration=int(spec.get("leaseDurationSeconds") or 0),
        resource_version=str(meta.get("resourceVersion") or ""),
        transitions=int(spec.get("leaseTransitions") or 0),
    )


def decide(current: LeaseState | None, holder: str, now: dt.datetime) -> Action:
    """What a run identified by ``holder`` does next to hold the lock (see the module docstring)."""
    if current is None:
        return "create"
    if current.holder == holder:
        return "renew"
    if current.expired(now):
        return "take"
    return "wait"


def lease_object(
    name: str,
    namespace: str,
    holder: str,
    duration: int,
    now: dt.datetime,
    current: LeaseState | None = None,
) -> dict[str, Any]:
    """The Lease this run writes: held by ``holder``, renewed ``now``, for ``duration`` seconds.

    With ``current`` (the Lease as read) the object carries its ``resourceVersion``, so the API
    server refuses the write with 409 if anyone changed the Lease since; renewing keeps the
    acquire time, taking over counts a transition.
    """
    renew = current is not None and current.holder == holder
    acquired = current.acquired if renew and current is not None and current.acquired else now
    transitions = 0 if current is None else current.transitions + (0 if renew else 1)
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)}
    if current is not None:
        metadata["resourceVersion"] = current.resource_version
    return {
        "apiVersion": LEASE_API,
        "kind": LEASE_KIND,
        "metadata": metadata,
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": int(duration),
            "acquireTime": format_time(acquired),
            "renewTime": format_time(now),
            "leaseTransitions": transitions,
        },
    }


def placeholder_object(name: str, namespace: str) -> dict[str, Any]:
    """The Lease a run creates when there is none: metadata only, no holder. Written where a
    Lease appeared meanwhile, it changes nothing of that Lease (it is only our own label)."""
    return {
        "apiVersion": LEASE_API,
        "kind": LEASE_KIND,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)},
    }


def held_message(current: LeaseState, name: str, namespace: str, now: dt.datetime, waited: float) -> str:
    """Why the lock was refused: who holds it since when, and until when at the latest."""
    expires = current.expires
    left = f"{(expires - now).total_seconds():.0f} s" if expires else "unknown"
    since = format_time(current.acquired) if current.acquired else "an unknown time"
    until = format_time(expires) if expires else "unknown"
    return (
        f"the rollout lock Lease {namespace}/{name} is held by {current.holder!r} since {since} "
        f"(expires {until}, in {left} unless renewed); waited {waited:.0f} s. Another run is writing: "
        f"nothing was written by this one. Wait for it to finish (or set rollout_lock_wait), or, if "
        f"that run is known to be dead, let the Lease expire or delete it "
        f"(kubectl -n {namespace} delete lease {name})"
    )
