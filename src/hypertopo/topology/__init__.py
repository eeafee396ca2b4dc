"""The cluster model: switches, hosts and GPU models, built from an Ansible inventory."""

from collections.abc import Callable
from typing import Any

from hypertopo.topology.errors import TopologyError
from hypertopo.topology.model import Host, Switch, Topology

__all__ = ["Host", "Switch", "Topology", "TopologyError", "load_topology"]


def load_topology(*sources: str, network_check: Callable[[Any], str | None] | None = None) -> Topology:
    """Load and validate the inventory at ``sources`` (directories or files).

    ``network_check`` validates the ``topology_network`` overrides (see ``build_topology``).
    """
    from hypertopo.topology.inventory import load_raw_inventory
    from hypertopo.topology.validate import build_topology

    return build_topology(load_raw_inventory(*sources), network_check)
