"""The GPU model catalogue.

The built-in models and what a typical server of each has (the ``gpu-type`` label value,
GPUDirect RDMA or not, the NVLink domain, GPUs per server, allocatable CPU and memory) are
package data, ``hypertopo/data/gpu_models.yml``: one definition read by validation, the render,
the local control plane's simulated nodes and the predictor. An inventory adds models or
overrides fields of a built-in one with ``topology_gpu_models`` (``label``, ``gpudirect_rdma``,
``nvlink_domain``, ``gpu_count``, ``description``); CPU and memory per model are overridden with
``topology_node_resources`` (see :mod:`hypertopo.topology.hostvars`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import yaml

#: GPUs per server when neither the host, its groups nor its model say otherwise.
DEFAULT_GPU_COUNT = 8
PACKAGE_DATA = "gpu_models.yml"  # hypertopo/data/


@dataclass(frozen=True)
class GpuModel:
    name: str
    label: str
    gpudirect_rdma: bool
    description: str
    #: GPUs joined by NVLink/NVSwitch in one server; None: PCIe only.
    nvlink_domain: int | None = None
    gpu_count: int = DEFAULT_GPU_COUNT
    #: Allocatable CPU and memory of a typical server (Kubernetes quantities); None: not known.
    cpu: str | None = None
    memory: str | None = None


@cache
def package_gpu_models() -> dict[str, GpuModel]:
    """The built-in models, read from the package data file."""
    text = resources.files("hypertopo.data").joinpath(PACKAGE_DATA).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {
        str(name): GpuModel(
            name=str(name),
            label=str(spec["label"]),
            gpudirect_rdma=bool(spec["gpudirect_rdma"]),
            description=str(spec["description"]),
            nvlink_domain=spec.get("nvlink_domain"),
            gpu_count=int(spec["gpu_count"]),
            cpu=str(spec["cpu"]),
            memory=str(spec["memory"]),
        )
        for name, spec in data.items()
    }


BUILTIN_GPU_MODELS: dict[str, GpuModel] = package_gpu_models()

#: Keys of a ``topology_gpu_models`` entry.
GPU_MODEL_KEYS = ("label", "gpudirect_rdma", "description", "nvlink_domain", "gpu_count")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**31 - 1


def _model_error(name: object, spec: object) -> str | None:
    if not isinstance(name, str) or not name:
        return f"model name {name!r} is not text (quote it)"
    if not isinstance(spec, dict):
        return f"{name} must be a mapping with label and gpudirect_rdma"
    unknown = sorted(str(k) for k in spec if k not in GPU_MODEL_KEYS)
    if unknown:
        return f"{name} has the key '{unknown[0]}' (only {', '.join(GPU_MODEL_KEYS)})"
    if not isinstance(spec.get("gpudirect_rdma", False), bool):
        return f"{name}.gpudirect_rdma must be true or false"
    for key in ("label", "description"):
        if key in spec and not isinstance(spec[key], str):
            return f"{name}.{key} must be text"
    if "gpu_count" in spec and not _positive_int(spec["gpu_count"]):
        return f"{name}.gpu_count must be a positive integer"
    if spec.get("nvlink_domain") is not None and not _positive_int(spec["nvlink_domain"]):
        return f"{name}.nvlink_domain must be a positive integer (GPUs per NVLink domain) or null"
    return None


def _model(name: str, spec: dict[str, Any]) -> GpuModel:
    """``spec`` over the built-in model ``name`` (a new model: label = name, no RDMA, no NVLink)."""
    base = BUILTIN_GPU_MODELS.get(name) or GpuModel(name, name, False, name)
    fields = {key: spec[key] for key in GPU_MODEL_KEYS if key in spec}
    return replace(base, **fields)


def gpu_catalogue(extra: Any) -> tuple[dict[str, GpuModel], list[str]]:
    """Built-in models plus ``extra`` (from ``topology_gpu_models``); returns (catalogue, errors)."""
    catalogue = dict(BUILTIN_GPU_MODELS)
    if extra is None:
        return catalogue, []
    if not isinstance(extra, dict):
        return catalogue, ["topology_gpu_models must be a mapping of model name to {label, gpudirect_rdma}"]
    errors: list[str] = []
    for name, spec in extra.items():
        error = _model_error(name, spec)
        if error:
            errors.append(f"topology_gpu_models.{error}")
            continue
        catalogue[str(name)] = _model(str(name), spec)
    return catalogue, errors
