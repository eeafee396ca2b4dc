# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters over hypertopo's topology model (thin adapters over ``hypertopo.topology``).

Each filter's documentation is the sidecar ``<filter name>.yml`` next to this file
(``ansible-doc -t filter <filter name>``).
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from hypertopo.rollout.plain import plain_filters
from hypertopo.topology import TopologyError, load_topology
from hypertopo.topology.labels import GPU_RESOURCE, label_keys
from hypertopo.topology.objects import model_node_objects as node_objects


def topology_model(sources: list[str] | str) -> dict[str, Any]:
    """See topology_model.yml."""
    paths = [sources] if isinstance(sources, str) else list(sources)
    try:
        return load_topology(*paths).as_dict()
    except TopologyError as exc:
        raise AnsibleFilterError(str(exc)) from None


def topology_node_objects(model: dict[str, Any], with_topology_labels: bool = True) -> list[dict[str, Any]]:
    """See topology_node_objects.yml."""
    return node_objects(model, with_topology_labels=with_topology_labels)


def hypertopo_key(name: str) -> str:
    """See hypertopo_key.yml."""
    keys = {**label_keys(), "gpu_resource": GPU_RESOURCE}
    if name not in keys:
        raise AnsibleFilterError(f"hypertopo_key: unknown name {name!r}, expected one of {sorted(keys)}")
    return keys[name]


class FilterModule:
    """hypertopo topology filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters(
            {
                "topology_model": topology_model,
                "topology_node_objects": topology_node_objects,
                "hypertopo_key": hypertopo_key,
            }
        )
