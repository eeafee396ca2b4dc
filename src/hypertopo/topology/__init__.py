"""The cluster model: switches, hosts and GPU models, built from an Ansible inventory."""

from hypertopo.topology.errors import TopologyError
from hypertopo.topology.model import Host, Switch, Topology

__all__ = ["Host", "Switch", "Topology", "TopologyError", "load_topology"]


def load_topology(*sources: str) -> Topology:
    """Load and validate the inventory at ``sources`` (directories or files)."""
    from hypertopo.topology.inventory import load_raw_inventory
    from hypertopo.topology.validate import build_topology

    return build_topology(load_raw_inventory(*sources))
