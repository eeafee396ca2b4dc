# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters over hypertopo's topology model (thin adapters over ``hypertopo.topology``).

Each filter's documentation is the sidecar ``<filter name>.yml`` next to this file
(``ansible-doc -t filter hypertopo.volcano.<filter name>``).
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and its filters fail when used
# (plugins/plugin_utils/core_missing.py of the collection).
try:
    from hypertopo.placement.errors import PlacementInputError
    from hypertopo.placement.netcost import network_model_from
    from hypertopo.rollout.plain import plain, plain_filters
    from hypertopo.topology import TopologyError, load_topology
    from hypertopo.topology.labels import GPU_RESOURCE, label_keys
    from hypertopo.topology.objects import model_node_objects as node_objects
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


#: The fields of the network cost overrides (``network_model_from`` reads these and ignores others).
NETWORK_FIELDS = (
    "classes",
    "kv_model",
    "switch_type_label",
    "gpu_type_label",
    "no_gpudirect",
    "host_copy",
    "roles",
)


def network_error(network: Any) -> str | None:
    """Why ``topology_network`` is not a valid set of network cost overrides (the predictor's schema)."""
    unknown = sorted(str(k) for k in network if k not in NETWORK_FIELDS)
    if unknown:
        return f".{unknown[0]}: unknown field (one of {', '.join(NETWORK_FIELDS)})"
    try:
        network_model_from(network, None)
    except PlacementInputError as exc:
        text = str(exc)
        return text.removeprefix("network") if text.startswith("network") else f".{text}"
    return None


def topology_model(sources: list[str] | str) -> dict[str, Any]:
    """See topology_model.yml."""
    paths = [sources] if isinstance(sources, str) else list(sources)
    try:
        model = load_topology(*paths, network_check=network_error).as_dict()
    except TopologyError as exc:
        raise AnsibleFilterError(str(exc)) from None
    # Plain, untagged data: nothing read from the inventory is ever trusted as a template.
    return plain(model)


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
