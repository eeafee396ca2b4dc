"""``nvidia.com/gpu.product`` values -> the package's GPU models (``hypertopo/data/gpu_models.yml``).

Rule: a ``--gpu-map`` YAML entry for the exact product first; else the longest model name found in
the product lowercased with punctuation removed ("NVIDIA-H100-80GB-HBM3" -> h100,
"NVIDIA-GeForce-RTX-4090" -> rtx4090). A product neither finds is kept as a model of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import yaml

from hypertopo.importer.facts import SourceError, read_text
from hypertopo.topology.gpus import package_gpu_models

GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def read_gpu_map(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    data = yaml.safe_load(read_text(path))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise SourceError([f"{path}: --gpu-map must be a mapping of product: model name"])
    return {str(k): v for k, v in data.items()}


def product_model(product: str, overrides: Mapping[str, str] | None = None) -> str | None:
    """The package model a GPU product is, or None."""
    if overrides and product in overrides:
        return overrides[product]
    compact = _NOT_ALNUM.sub("", product.lower())
    found = [name for name in package_gpu_models() if _NOT_ALNUM.sub("", name) in compact]
    return max(found, key=len) if found else None


def own_model_name(product: str) -> str:
    """A model name (a valid label value) for a product the package does not know."""
    return _NOT_ALNUM.sub("-", product.lower()).strip("-")[:63].strip("-") or "unknown-gpu"
