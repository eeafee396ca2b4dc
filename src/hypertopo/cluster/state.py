"""What a running local control plane records about itself (``state.json``), and its status report."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypertopo.cluster.processes import Proc

STATE_VERSION = 1


@dataclass
class State:
    """PIDs (with start times), ports, server URL and owner of one control plane."""

    owner: str
    started_at: float
    bin_dir: str
    server: str
    kubeconfig: str
    ports: dict[str, int]
    procs: list[Proc] = field(default_factory=list)
    nta: bool = True  # vc-scheduler runs the network-topology-aware plugin

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "owner": self.owner,
            "started_at": self.started_at,
            "bin_dir": self.bin_dir,
            "server": self.server,
            "kubeconfig": self.kubeconfig,
            "ports": self.ports,
            "procs": [p.to_json() for p in self.procs],
            "nta": self.nta,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> State:
        return cls(
            owner=str(d.get("owner", "unknown")),
            started_at=float(d.get("started_at", 0)),
            bin_dir=str(d.get("bin_dir", "")),
            server=str(d.get("server", "")),
            kubeconfig=str(d.get("kubeconfig", "")),
            ports={k: int(v) for k, v in (d.get("ports") or {}).items()},
            procs=[Proc.from_json(p) for p in d.get("procs") or []],
            nta=bool(d.get("nta", True)),
        )


@dataclass(frozen=True)
class Health:
    """One component's health: ``ok`` and what was checked (or what failed)."""

    ok: bool
    detail: str


@dataclass
class Status:
    """The health of one control plane, as `hypertopo-cluster status` prints it."""

    state_dir: Path
    running: bool
    healthy: bool
    detail: str
    state: State | None = None
    components: dict[str, bool] = field(default_factory=dict)
    health: dict[str, Health] = field(default_factory=dict)
    nodes: int | None = None
    queue_state: str | None = None

    def lines(self) -> list[str]:
        out = [f"state dir:  {self.state_dir}"]
        if self.state is None:
            out.append("cluster:    down")
            return out
        out.append(f"cluster:    {'up, healthy' if self.healthy else 'UNHEALTHY'} ({self.detail})")
        out.append(
            f"owner:      {self.state.owner}; up since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(self.state.started_at))}"
        )
        out.append(f"apiserver:  {self.state.server}")
        for p in self.state.procs:
            alive = self.components.get(p.name, False)
            health = self.health.get(p.name)
            if health is None:
                shown = "running" if alive else "NOT RUNNING"
            else:
                shown = f"{'healthy' if health.ok else 'UNHEALTHY'} ({health.detail})"
            out.append(f"  {p.name:<24} pid {p.pid:<8} {shown}  log {p.log}")
        out.append(f"scheduler:  network-topology-aware {'enabled' if self.state.nta else 'DISABLED'}")
        if self.queue_state is not None:
            out.append(f"queue:      default is {self.queue_state or '(no state)'}")
        if self.nodes is not None:
            out.append(f"nodes:      {self.nodes}")
        out.append(f"KUBECONFIG={self.state.kubeconfig}")
        return out
