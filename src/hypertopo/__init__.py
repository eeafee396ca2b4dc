"""hypertopo: inventory-driven Volcano network-topology rollout and placement prediction."""

__version__ = "0.1.0"
