"""The GPU model catalogue.

Each model has the value of the ``gpu-type`` node label and whether it supports
GPUDirect RDMA (data-centre parts do; GeForce parts do not, so a KV cache sent to
them is staged through host memory). An inventory can add models with the
``topology_gpu_models`` variable (same fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GpuModel:
    name: str
    label: str
    gpudirect_rdma: bool
    description: str


BUILTIN_GPU_MODELS: dict[str, GpuModel] = {
    m.name: m
    for m in (
        GpuModel("h100", "h100", True, "NVIDIA H100 (data centre, GPUDirect RDMA)"),
        GpuModel("h200", "h200", True, "NVIDIA H200 (data centre, GPUDirect RDMA)"),
        GpuModel("a100", "a100", True, "NVIDIA A100 (data centre, GPUDirect RDMA)"),
        GpuModel("l40s", "l40s", True, "NVIDIA L40S (data centre, GPUDirect RDMA)"),
        GpuModel("rtx4090", "rtx4090", False, "NVIDIA GeForce RTX 4090 (no GPUDirect RDMA)"),
        GpuModel("rtx5090", "rtx5090", False, "NVIDIA GeForce RTX 5090 (no GPUDirect RDMA)"),
    )
}


GPU_MODEL_KEYS = ("label", "gpudirect_rdma", "description")


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
    return None


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
        catalogue[str(name)] = GpuModel(
            str(name),
            str(spec.get("label", name)),
            bool(spec.get("gpudirect_rdma", False)),
            str(spec.get("description", name)),
        )
    return catalogue, errors
