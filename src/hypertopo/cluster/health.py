"""Health of each component of a running control plane, as ``status`` reports it."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from datetime import datetime

from hypertopo.cluster import pki as pki_mod
from hypertopo.cluster.components import LOOPBACK, etcd_healthy, http_ok, tls_handshake_ok
from hypertopo.cluster.kwok import NODE_LEASE_SECONDS
from hypertopo.cluster.processes import Proc, is_alive
from hypertopo.cluster.rest import Rest
from hypertopo.cluster.state import Health, State

NODE_LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"


def _probe(check: Callable[[], bool], what: str) -> Health:
    try:
        return Health(True, what) if check() else Health(False, f"{what} failed")
    except Exception as exc:
        return Health(False, f"{what} failed: {exc}")


def node_leases(rest: Rest, now: float | None = None) -> tuple[int, int]:
    """``(fresh, expired)`` node Leases: renewed within their duration or not."""
    now = time.time() if now is None else now
    fresh = expired = 0
    for lease in rest.get(NODE_LEASES)["items"]:
        spec = lease.get("spec") or {}
        renewed = spec.get("renewTime")
        if not renewed:
            expired += 1
            continue
        at = datetime.fromisoformat(renewed.replace("Z", "+00:00")).timestamp()
        if now - at <= float(spec.get("leaseDurationSeconds") or NODE_LEASE_SECONDS):
            fresh += 1
        else:
            expired += 1
    return fresh, expired


def component_health(
    state: State, p: pki_mod.Pki, rest: Rest, *, only: str | None = None
) -> dict[str, Health]:
    """One :class:`Health` per recorded component: its process, and its own check where it has one
    (etcd ``/health`` with kube-apiserver's etcd client certificate, kube-apiserver ``/readyz``,
    kube-controller-manager ``/healthz``, vc-webhook-manager's TLS certificate, kwok's node
    Leases). ``only``: check just the component of that name."""
    port = state.ports.get
    checks: dict[str, Callable[[], Health]] = {
        "etcd": lambda: _probe(lambda: etcd_healthy(int(port("etcd-client") or 0), p), "/health"),
        "kube-apiserver": lambda: _probe(
            lambda: rest.request("GET", "/readyz", raw=True).strip() == "ok", "/readyz"
        ),
        "kube-controller-manager": lambda: _probe(
            lambda: http_ok(
                f"https://{LOOPBACK}:{port('kube-controller-manager')}/healthz",
                "ok",
                context=ssl._create_unverified_context(),
            ),
            f"/healthz on port {port('kube-controller-manager')}",
        ),
        "vc-webhook-manager": lambda: _probe(
            lambda: tls_handshake_ok(int(port("vc-webhook-manager") or 0), p.ca_cert),
            f"TLS on port {port('vc-webhook-manager')} with a certificate of the cluster CA",
        ),
        "kwok": lambda: _leases(rest),
    }
    out: dict[str, Health] = {}
    for proc in state.procs:
        if only is None or proc.name == only:
            out[proc.name] = _of(proc, checks.get(proc.name))
    return out


def _of(proc: Proc, check: Callable[[], Health] | None) -> Health:
    if not is_alive(proc):
        return Health(False, "not running")
    return check() if check else Health(True, "running")


def _leases(rest: Rest) -> Health:
    """kwok is healthy while it renews node Leases; a few expired ones next to renewed ones are a
    busy machine, not a dead heartbeat (the node lifecycle controller then marks those nodes)."""
    try:
        fresh, expired = node_leases(rest)
    except Exception as exc:
        return Health(False, f"node leases unreadable: {exc}")
    detail = f"{fresh} node lease(s) renewed, {expired} expired"
    return Health(fresh > 0 or expired == 0, detail)
