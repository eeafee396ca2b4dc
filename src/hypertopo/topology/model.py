"""Typed, validated model of the cluster: a tree of switches with hosts on the leaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypertopo.topology.gpus import GpuModel
from hypertopo.topology.labels import (
    LABEL_GPU_TYPE,
    LABEL_MANAGED,
    LABEL_SWITCH,
    LABEL_SWITCH_TYPE,
    label_keys,
    natural_key,
)
from hypertopo.topology.objects import model_node_objects

SWITCH_TYPES = ("ib", "ethernet")

SWITCH_TYPES = ("ib", "ethernet")


@dataclass(frozen=True)
class Switch:
    """A network switch: one HyperNode. ``tier`` 1 = leaf."""

    name: str
    tier: int
    type: str  # "ib" | "ethernet"
    parent: str | None
    children: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    source: str = ""

    @property
    def is_leaf(self) -> bool:
        return not self.children


@dataclass(frozen=True)
class Host:
    """A GPU server (a Kubernetes Node) on a leaf switch."""

    name: str
    leaf: str
    gpu_model: str
    gpu_count: int
    cpu: str
    memory: str
    pods: int
    source: str = ""


@dataclass(frozen=True)
class Topology:
    """The validated cluster model (see :func:`hypertopo.topology.validate.build_topology`)."""

    source: str
    switches: dict[str, Switch]
    hosts: dict[str, Host]
    gpu_models: dict[str, GpuModel]
    root: str
    network: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def leaves(self) -> list[Switch]:
        return [s for s in self.switches.values() if s.is_leaf]

    def ancestors(self, switch: str) -> list[str]:
        """``switch`` and its ancestors up to the root, lowest tier first."""
        chain: list[str] = []
        cur: str | None = switch
        while cur is not None:
            chain.append(cur)
            cur = self.switches[cur].parent
        return chain

    def node_labels(self) -> dict[str, dict[str, str]]:
        """Node name -> the labels this project owns and applies."""
        out: dict[str, dict[str, str]] = {}
        for host in sorted(self.hosts.values(), key=_host_order):
            leaf = self.switches[host.leaf]
            out[host.name] = {
                LABEL_SWITCH: leaf.name,
                LABEL_SWITCH_TYPE: leaf.type,
                LABEL_GPU_TYPE: self.gpu_models[host.gpu_model].label,
                LABEL_MANAGED: "true",
            }
        return out

    def node_objects(self, *, with_topology_labels: bool = True) -> list[dict[str, Any]]:
        """Kubernetes Node objects as this inventory describes them (for planning and simulation)."""
        return model_node_objects(self.as_dict(), with_topology_labels=with_topology_labels)

    def as_dict(self) -> dict[str, Any]:
        """Plain-data view for templates (switches ordered by tier, then name)."""
        switches = sorted(self.switches.values(), key=lambda s: (s.tier, natural_key(s.name)))
        return {
            "source": self.source,
            "root": self.root,
            "switches": [
                {
                    "name": s.name,
                    "tier": s.tier,
                    "type": s.type,
                    "parent": s.parent,
                    "children": list(s.children),
                    "hosts": list(s.hosts),
                    "leaf": s.is_leaf,
                }
                for s in switches
            ],
            "hosts": {
                h.name: {
                    "leaf": h.leaf,
                    "gpu_model": h.gpu_model,
                    "gpu_count": h.gpu_count,
                    "cpu": h.cpu,
                    "memory": h.memory,
                    "pods": h.pods,
                }
                for h in sorted(self.hosts.values(), key=_host_order)
            },
            "gpu_models": {
                m.name: {"label": m.label, "gpudirect_rdma": m.gpudirect_rdma}
                for m in self.gpu_models.values()
            },
            "node_labels": self.node_labels(),
            "network": self.network,
            "warnings": list(self.warnings),
            "label_keys": label_keys(),
        }


def _host_order(host: Host) -> tuple[tuple[int, int | str], ...]:
    return natural_key(host.name)
