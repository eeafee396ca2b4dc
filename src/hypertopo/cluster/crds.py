"""Volcano's CRDs, taken from the ``volcano.sh/volcano`` Go module (the one the control plane is built from).

The module is fetched with the ordinary ``go`` client (``go mod download``), so a user's clone
needs nothing but Go and the module proxy; nothing is vendored into the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

NEEDED_CRDS = (
    "batch.volcano.sh_jobs.yaml",
    "bus.volcano.sh_commands.yaml",
    "scheduling.volcano.sh_podgroups.yaml",
    "scheduling.volcano.sh_queues.yaml",
    "topology.volcano.sh_hypernodes.yaml",
    "nodeinfo.volcano.sh_numatopologies.yaml",
)


class CrdError(RuntimeError):
    """The CRDs could not be located (no Go toolchain, or the module proxy is unreachable)."""


def _volcano_version() -> str:
    env = resources.files("hypertopo.data").joinpath("versions.env").read_text()
    for line in env.splitlines():
        if line.startswith("VOLCANO_VERSION="):
            return line.split("=", 1)[1].strip()
    raise CrdError("controlplane/versions.env has no VOLCANO_VERSION")


@lru_cache(maxsize=1)
def crd_dir() -> Path:
    """``config/crd/volcano/bases`` of the pinned ``volcano.sh/volcano`` module (downloaded if needed)."""
    go = shutil.which("go")
    if go is None:
        raise CrdError("the Go toolchain ('go') is not on PATH; it is needed to fetch Volcano's CRDs")
    version = _volcano_version()
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    proc = subprocess.run(
        [go, "mod", "download", "-json", f"volcano.sh/volcano@{version}"],
        cwd=tempfile.gettempdir(),  # outside any module: a plain module download
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        info = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        info = {}
    if proc.returncode != 0 or "Dir" not in info:
        detail = info.get("Error") or proc.stderr.strip() or "unknown error"
        raise CrdError(f"go mod download volcano.sh/volcano@{version} failed: {detail}")
    path = Path(info["Dir"]) / "config" / "crd" / "volcano" / "bases"
    if not path.is_dir():
        raise CrdError(f"{path} does not exist in the downloaded module")
    return path


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
