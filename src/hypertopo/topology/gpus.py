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


def gpu_catalogue(extra: dict[str, Any] | None) -> tuple[dict[str, GpuModel], list[str]]:
    """Built-in models plus ``extra`` (from ``topology_gpu_models``); returns (catalogue, errors)."""
    catalogue = dict(BUILTIN_GPU_MODELS)
    errors: list[str] = []
    for name, spec in (extra or {}).items():
        if not isinstance(spec, dict):
            errors.append(f"topology_gpu_models.{name} must be a mapping with label and gpudirect_rdma")
            continue
        rdma = spec.get("gpudirect_rdma", False)
        if not isinstance(rdma, bool):
            errors.append(f"topology_gpu_models.{name}.gpudirect_rdma must be true or false")
            continue
        catalogue[str(name)] = GpuModel(
            str(name), str(spec.get("label", name)), rdma, str(spec.get("description", name))
        )
    return catalogue, errors
