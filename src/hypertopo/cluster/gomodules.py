"""Files read from the Go modules the control plane is built from (Volcano's CRDs and Helm chart,
kwok's stages).

A module is looked up in the Go module cache first (``$GOMODCACHE``, else ``$GOPATH/pkg/mod``,
else ``~/go/pkg/mod``), which needs neither ``go`` nor the network; only when it is not there is
it fetched with the ordinary ``go`` client (``go mod download``). Nothing is vendored into the
repository, and the module cache is only ever read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path


class ModuleError(RuntimeError):
    """A module's files could not be located (not in the module cache, and no Go toolchain or
    module proxy to fetch them)."""


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


def _download(module: str, version: str) -> Path:
    go = shutil.which("go")
    if go is None:
        raise ModuleError(
            f"{module}@{version} is not in the Go module cache ({module_cache()}) and the Go "
            "toolchain ('go') is not on PATH to fetch it"
        )
    proc = subprocess.run(
        [go, "mod", "download", "-json", f"{module}@{version}"],
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
        raise ModuleError(f"go mod download {module}@{version} failed: {detail}")
    return Path(info["Dir"])


def module_dir(module: str, version: str, needed: Iterable[Path | str]) -> Path:
    """The root folder of ``module@version`` holding every file of ``needed`` (paths relative to
    the module root): from the module cache when it has them, downloaded with ``go`` otherwise."""
    files = [Path(f) for f in needed]
    cached = module_cache() / f"{escape_module_path(module)}@{version}"
    if all((cached / f).is_file() for f in files):
        return cached
    root = _download(module, version)
    missing = [str(f) for f in files if not (root / f).is_file()]
    if missing:
        raise ModuleError(f"{module}@{version} ({root}) has no {', '.join(missing)}")
    return root


@lru_cache(maxsize=8)
def module_file(module: str, version: str, path: str) -> Path:
    """One file of ``module@version`` (read-only; see :func:`module_dir`)."""
    return module_dir(module, version, [path]) / path
