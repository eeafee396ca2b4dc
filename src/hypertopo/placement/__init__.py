"""Volcano-faithful placement prediction for network-topology-aware scheduling.

``predict(jobs=..., nodes=..., hypernodes=..., pods=..., scheduler_conf=..., network=..., kv_model=...)``
returns a JSON-serialisable dict; ``preflight(result)`` turns it into a table and a verdict.
"""

from hypertopo.placement.engine import predict
from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.preflight import preflight

__all__ = ["PlacementInputError", "predict", "preflight"]
