# Copyright: hypertopo contributors
# Apache-2.0
"""The filter behind the action plugin hypertopo_k8s_info: can it read in this process?"""

from __future__ import annotations

from typing import Any


def hypertopo_k8s_in_process(_value: Any = None) -> bool:
    """See the sidecar documentation."""
    # imported here, not at the top: a worker that loads this collection's filters for another one
    # does not pay for the Kubernetes client
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.k8s_info import MISSING

    return MISSING is None


class FilterModule:
    """hypertopo k8s_info filters."""

    def filters(self) -> dict[str, Any]:
        return {"hypertopo_k8s_in_process": hypertopo_k8s_in_process}
