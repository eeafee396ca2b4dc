"""Volcano's CRDs, taken from the ``volcano.sh/volcano`` Go module (the one the control plane is built from).

The module is looked up in the Go module cache first (``$GOMODCACHE``, else
``$GOPATH/pkg/mod``, else ``~/go/pkg/mod``), which needs neither ``go`` nor the network; only
when it is not there is it fetched with the ordinary ``go`` client (``go mod download``).
Nothing is vendored into the repository, and the module cache is only ever read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from hypertopo.cluster.paths import versions

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


class CrdError(RuntimeError):
    """The CRDs could not be located (not in the module cache, and no Go toolchain or module proxy)."""


def module_cache() -> Path:
    """The Go module cache the ``go`` client would use, from the environment alone.

    ``$GOMODCACHE``; else ``<first entry of $GOPATH>/pkg/mod``; else ``~/go/pkg/mod``.
    """
    if os.environ.get("GOMODCACHE"):
        return Path(os.environ["GOMODCACHE"])
    gopath = [p for p in os.environ.get("GOPATH", "").split(os.pathsep) if p]
    return Path(gopath[0] if gopath else Path.home() / "go") / "pkg" / "mod"


def escape_module_path(path: str) -> str:
    """Go's case encoding of module paths in the cache (``A`` -> ``!a``)."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in path)


def _volcano_version() -> str:
    version = versions().get("VOLCANO_VERSION")
    if not version:
        raise CrdError("controlplane/versions.env has no VOLCANO_VERSION")
    return version


def _complete(path: Path) -> bool:
    return all((path / f).is_file() for f in NEEDED_CRDS)


def _download(version: str) -> Path:
    go = shutil.which("go")
    if go is None:
        raise CrdError(
            f"{VOLCANO_MODULE}@{version} is not in the Go module cache ({module_cache()}) and the Go "
            "toolchain ('go') is not on PATH to fetch it"
        )
    proc = subprocess.run(
        [go, "mod", "download", "-json", f"{VOLCANO_MODULE}@{version}"],
        cwd=tempfile.gettempdir(),  # outside any module: a plain module download
        env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"},
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
        raise CrdError(f"go mod download {VOLCANO_MODULE}@{version} failed: {detail}")
    return Path(info["Dir"])


@lru_cache(maxsize=1)
def crd_dir() -> Path:
    """``config/crd/volcano/bases`` of the pinned ``volcano.sh/volcano`` module (read-only).

    Taken from the module cache when it holds the module; downloaded with ``go`` otherwise.
    """
    version = _volcano_version()
    cached = module_cache() / f"{escape_module_path(VOLCANO_MODULE)}@{version}" / CRD_SUBDIR
    if _complete(cached):
        return cached
    path = _download(version) / CRD_SUBDIR
    if not _complete(path):
        raise CrdError(f"{path} does not hold the CRDs {', '.join(NEEDED_CRDS)}")
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
