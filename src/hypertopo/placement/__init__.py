"""Volcano-faithful placement prediction for network-topology-aware scheduling.

``predict(jobs=..., nodes=..., hypernodes=..., pods=..., scheduler_conf=..., network=..., kv_model=...)``
returns a JSON-serialisable dict; ``preflight(result)`` turns it into a table and a verdict;
``coerce_scheduler_conf(value)`` reads a scheduler configuration from YAML text or a ConfigMap.
"""

from hypertopo.placement.engine import predict
from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.inputs import coerce_scheduler_conf
from hypertopo.placement.preflight import preflight

__all__ = ["PlacementInputError", "coerce_scheduler_conf", "predict", "preflight"]
