"""Where the local control plane's pieces live: pinned versions, binaries, state directories.

The versions come from the package data (``hypertopo/data/versions.env``, the file
``controlplane/build.sh`` builds from). The binaries are looked up in the version-keyed cache
folder that ``controlplane/build.sh`` fills (``make build-controlplane``); this package never
builds them.

Environment: ``HYPERTOPO_CACHE`` (cache root, default ``~/.cache/hypertopo``),
``HYPERTOPO_CP_BIN`` (another binary folder), ``HYPERTOPO_CLUSTER_DIR`` (the state directory
of the shared cluster, default ``<cache root>/cluster``) and
``HYPERTOPO_CLUSTER_EXTRA_ARGS_<COMPONENT>`` (see :func:`extra_args_from_env`).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from hypertopo.cluster.processes import ClusterError

#: The components of a control plane, in start order (kwok's program file carries its version:
#: :func:`binary_file`).
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "vc-webhook-manager",
    "vc-controller-manager",
    "vc-scheduler",
    "kwok",
)
#: The servers among :data:`COMPONENTS`, which the others talk to: stopped last, in reverse order.
SERVERS = frozenset(COMPONENTS[:2])
BUILD_HINT = (
    "build them with `make build-controlplane` in a hypertopo checkout (it runs "
    "controlplane/build.sh; the first build takes several minutes and needs Go >= 1.26 and "
    "the Go module proxy), or point HYPERTOPO_CP_BIN at a folder holding them"
)


@cache
def versions() -> dict[str, str]:
    """The pinned versions (``K8S_VERSION``, ``ETCD_VERSION``, ``VOLCANO_VERSION``, ...)."""
    text = resources.files("hypertopo.data").joinpath("versions.env").read_text()
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip().strip('"')
    return out


def cache_root() -> Path:
    """``$HYPERTOPO_CACHE``, default ``~/.cache/hypertopo``."""
    return Path(os.environ.get("HYPERTOPO_CACHE") or Path.home() / ".cache" / "hypertopo")


def build_key(pinned: Mapping[str, str] | None = None) -> str:
    """The name of the version-keyed cache folder (the same key as ``controlplane/build.sh``)."""
    v = pinned or versions()

    def bare(key: str) -> str:
        return v[key].removeprefix("v")

    return f"cp-k8s{bare('K8S_VERSION')}-etcd{bare('ETCD_VERSION')}-vc{bare('VOLCANO_VERSION')}"


def default_bin_dir() -> Path:
    """``$HYPERTOPO_CP_BIN``, default ``<cache root>/<build key>/bin``."""
    env = os.environ.get("HYPERTOPO_CP_BIN")
    return Path(env) if env else cache_root() / build_key() / "bin"


def default_state_dir() -> Path:
    """The shared cluster's state directory: ``$HYPERTOPO_CLUSTER_DIR``, default ``<cache root>/cluster``."""
    env = os.environ.get("HYPERTOPO_CLUSTER_DIR")
    return Path(env) if env else cache_root() / "cluster"


def binary_file(component: str) -> str:
    """The program file of ``component`` in the binary folder: its name, except kwok's, which
    is ``kwok-<KWOK_VERSION>`` (kwok is versioned apart from the folder's key)."""
    if component == "kwok":
        return f"kwok-{versions()['KWOK_VERSION']}"
    return component


def check_binaries(bin_dir: Path) -> None:
    """Raise :class:`ClusterError` naming the missing programs and how to build them."""
    missing = [binary_file(c) for c in COMPONENTS if not os.access(bin_dir / binary_file(c), os.X_OK)]
    if missing:
        raise ClusterError(f"control-plane binaries missing in {bin_dir}: {', '.join(missing)}; {BUILD_HINT}")


def extra_args_from_env(component: str) -> list[str]:
    """``HYPERTOPO_CLUSTER_EXTRA_ARGS_<COMPONENT>`` split like a shell would.

    The component name is upper-cased with ``-`` as ``_`` (e.g. ``..._KUBE_APISERVER``); the
    arguments are appended to that component's command line.
    """
    var = "HYPERTOPO_CLUSTER_EXTRA_ARGS_" + component.upper().replace("-", "_")
    return shlex.split(os.environ.get(var, ""))


@dataclass
class Layout:
    """The files of one control plane under its state directory ``root``."""

    root: Path

    def make_root(self) -> None:
        """Create the state directory, readable by its owner only (it holds the admin kubeconfig
        and the keys)."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root.chmod(0o700)

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    def kubeconfig_of(self, component: str) -> Path:
        """The kubeconfig of a component with an identity of its own."""
        return self.pki / f"{component}.kubeconfig"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def scheduler_dir(self) -> Path:
        """Holds only the configuration file: vc-scheduler watches the whole directory."""
        return self.root / "scheduler"

    @property
    def scheduler_conf(self) -> Path:
        return self.scheduler_dir / "volcano-scheduler.conf"

    @property
    def sockets(self) -> Path:
        return self.root / "sock"

    @property
    def dumps(self) -> Path:
        return self.root / "dump"

    @property
    def kwok_home(self) -> Path:
        """kwok's ``HOME`` (so that no ``~/.kwok/kwok.yaml`` is read)."""
        return self.root / "kwok"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def transient(self) -> list[Path]:
        """Everything ``down`` removes (logs and lock files stay)."""
        return [
            self.state_file,
            self.kubeconfig,
            self.pki,
            self.etcd_data,
            self.scheduler_dir,
            self.sockets,
            self.dumps,
            self.kwok_home,
        ]
