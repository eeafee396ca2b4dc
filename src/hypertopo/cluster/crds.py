"""Volcano's CRDs, taken from the ``volcano.sh/volcano`` Go module (the one the control plane is built from).

The module is found in (or fetched into) the Go module cache by
:func:`hypertopo.cluster.gomodules.module_dir`; nothing is vendored into the repository, and the
module cache is only ever read.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from hypertopo.cluster.gomodules import ModuleError, escape_module_path, module_cache, module_dir
from hypertopo.cluster.paths import versions

__all__ = [
    "CRD_SUBDIR",
    "NEEDED_CRDS",
    "VOLCANO_MODULE",
    "CrdError",
    "crd_dir",
    "crd_for_kind",
    "escape_module_path",
    "load_crd",
    "module_cache",
    "schema_for",
]

VOLCANO_MODULE = "volcano.sh/volcano"
CRD_SUBDIR = Path("config") / "crd" / "volcano" / "bases"
NEEDED_CRDS = (
    "batch.volcano.sh_jobs.yaml",
    "bus.volcano.sh_commands.yaml",
    "scheduling.volcano.sh_podgroups.yaml",
    "scheduling.volcano.sh_queues.yaml",
    "topology.volcano.sh_hypernodes.yaml",
    "nodeinfo.volcano.sh_numatopologies.yaml",
)


class CrdError(ModuleError):
    """The CRDs could not be located (not in the module cache, and no Go toolchain or module proxy)."""


def _volcano_version() -> str:
    version = versions().get("VOLCANO_VERSION")
    if not version:
        raise CrdError("controlplane/versions.env has no VOLCANO_VERSION")
    return version


@lru_cache(maxsize=1)
def crd_dir() -> Path:
    """``config/crd/volcano/bases`` of the pinned ``volcano.sh/volcano`` module (read-only).

    Taken from the module cache when it holds the module; downloaded with ``go`` otherwise.
    """
    try:
        root = module_dir(VOLCANO_MODULE, _volcano_version(), [CRD_SUBDIR / f for f in NEEDED_CRDS])
    except ModuleError as exc:
        raise CrdError(str(exc)) from exc
    return root / CRD_SUBDIR


def load_crd(file_name: str) -> dict[str, Any]:
    return yaml.safe_load((crd_dir() / file_name).read_text())


def crd_for_kind(kind: str) -> dict[str, Any]:
    """The CRD document whose ``spec.names.kind`` is ``kind`` (among :data:`NEEDED_CRDS`)."""
    for name in NEEDED_CRDS:
        crd = load_crd(name)
        if crd["spec"]["names"]["kind"] == kind:
            return crd
    raise CrdError(f"no Volcano CRD for kind {kind}")


def schema_for(kind: str, version: str) -> dict[str, Any]:
    """The structural ``openAPIV3Schema`` of ``kind``/``version``."""
    crd = crd_for_kind(kind)
    for v in crd["spec"]["versions"]:
        if v["name"] == version:
            return v["schema"]["openAPIV3Schema"]
    raise CrdError(f"CRD for {kind} has no version {version}")
