"""The Kubernetes keys this project reads and writes: one definition for every other module.

Our label keys (the seed's switch, switch-type and GPU-type labels, plus our marker), the GPU
resource name, and the labels a kubelet registers on a new Node. Roles get them through the
``topology_model`` filter (``label_keys`` of the model), never by restating them.
"""

from __future__ import annotations

import re
from functools import cache

LABEL_SWITCH = "topology.kubernetes.io/switch"
LABEL_SWITCH_TYPE = "topology.kubernetes.io/switch-type"
LABEL_GPU_TYPE = "gpu-type"
# Marks the nodes whose topology labels this project manages, so pruning only ever
# touches nodes it labelled itself (a hand-set gpu-type on a node outside the
# inventory is left alone).
LABEL_MANAGED = "hypertopo.io/managed"
MANAGED_LABEL_KEYS = (LABEL_SWITCH, LABEL_SWITCH_TYPE, LABEL_GPU_TYPE, LABEL_MANAGED)
LABEL_HOSTNAME = "kubernetes.io/hostname"

#: The extended resource that counts a node's GPUs (NVIDIA's device plugin).
GPU_RESOURCE = "nvidia.com/gpu"


def label_keys() -> dict[str, str]:
    """Role-facing names of our label keys (``switch``, ``switch_type``, ``gpu_type``, ``managed``)."""
    return {
        "switch": LABEL_SWITCH,
        "switch_type": LABEL_SWITCH_TYPE,
        "gpu_type": LABEL_GPU_TYPE,
        "managed": LABEL_MANAGED,
    }


def kubelet_labels(name: str) -> dict[str, str]:
    """The labels a kubelet registers on a new node (and nothing else)."""
    return {
        LABEL_HOSTNAME: name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
    }


_DIGITS = re.compile(r"(\d+)")


@cache
def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``node2`` before ``node10`` and ``pod-2`` before ``pod-10``.

    Every run of digits compares as a number; text compares as text, and a number sorts after
    text at the same position, so mixed names never compare an int with a str.
    """
    return tuple((1, int(part)) if part.isdigit() else (0, part) for part in _DIGITS.split(name) if part)
