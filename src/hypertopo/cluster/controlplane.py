"""Start, check and stop the local control plane.

Components (all bound to 127.0.0.1, started in this order, stopped in reverse):

1. ``etcd`` (3.6, ``--unsafe-no-fsync``) on two free ports;
2. ``kube-apiserver`` (TLS with a generated CA, x509 client-certificate admin
   user in ``system:masters``, RBAC authorization, admission plugins
   ServiceAccount and TaintNodesByCondition disabled so API-only nodes are
   schedulable);
3. the six Volcano CRDs, taken from the ``volcano.sh/volcano`` module the build
   downloaded (cached next to the binaries), waited on until Established;
4. ``vc-controller-manager`` (job, pg, queue and gc controllers) and
   ``vc-scheduler`` with the configuration the ``scheduler_config`` role
   renders (:func:`hypertopo.rollout.scheduler_config.default_conf_from_role`), both with
   leader election, healthz and metrics off;
5. readiness: queue ``default`` exists and is ``Open``.

Everything lives in one state directory (default ``~/.cache/hypertopo/cluster``,
or ``$HYPERTOPO_CLUSTER_DIR``): ``state.json`` (PIDs, ports), ``kubeconfig``,
``pki/``, ``etcd/``, ``scheduler/volcano-scheduler.conf`` and ``logs/``.
``down`` stops exactly the PIDs recorded in ``state.json`` and removes
everything but ``logs/`` (which the next ``up`` moves to ``logs.previous/``).

Fault-injection / tuning hook: ``HYPERTOPO_CLUSTER_EXTRA_ARGS_<COMPONENT>``
(component upper-cased, ``-`` as ``_``; e.g. ``..._KUBE_APISERVER``) is split
with :func:`shlex.split` and appended to that component's command line.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hypertopo.cluster import pki as pki_mod
from hypertopo.cluster.crds import NEEDED_CRDS
from hypertopo.cluster.processes import (
    LOOPBACK,
    ClusterError,
    ComponentDied,
    Proc,
    free_port,
    is_alive,
    listens_on,
    log_tail,
    spawn,
    stop_all,
    wait_ready,
)
from hypertopo.cluster.rest import ApiError, Rest
from hypertopo.rollout import scheduler_config as schedconf

REPO_ROOT = Path(__file__).resolve().parents[3]
CONTROLPLANE_DIR = REPO_ROOT / "controlplane"
VERSIONS_FILE = CONTROLPLANE_DIR / "versions.env"

BINARIES = ("etcd", "kube-apiserver", "vc-scheduler", "vc-controller-manager")
CRD_FILES = NEEDED_CRDS  # the six CRDs a minimal Volcano needs (one list: hypertopo.cluster.crds)
VC_CONTROLLERS = "job-controller,pg-controller,queue-controller,gc-controller"
KUBE_CONTEXT = "hypertopo-local"
STATE_VERSION = 1
PORT_RETRIES = 5

Logger = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- paths


def versions() -> dict[str, str]:
    """The pinned versions from ``controlplane/versions.env``."""
    out: dict[str, str] = {}
    for line in VERSIONS_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip().strip('"')
    return out


def cache_root() -> Path:
    return Path(os.environ.get("HYPERTOPO_CACHE") or Path.home() / ".cache" / "hypertopo")


def build_key(v: Mapping[str, str] | None = None) -> str:
    """Same key as ``controlplane/build.sh``."""
    v = v or versions()
    strip = lambda s: s.removeprefix("v")  # noqa: E731
    return f"cp-k8s{strip(v['K8S_VERSION'])}-etcd{strip(v['ETCD_VERSION'])}-vc{strip(v['VOLCANO_VERSION'])}"


def default_bin_dir() -> Path:
    env = os.environ.get("HYPERTOPO_CP_BIN")
    return Path(env) if env else cache_root() / build_key() / "bin"


def default_crd_dir() -> Path:
    return cache_root() / build_key() / "crds"


def default_state_dir() -> Path:
    env = os.environ.get("HYPERTOPO_CLUSTER_DIR")
    return Path(env) if env else cache_root() / "cluster"


def check_binaries(bin_dir: Path) -> None:
    missing = [b for b in BINARIES if not os.access(bin_dir / b, os.X_OK)]
    if missing:
        raise ClusterError(
            f"control-plane binaries missing in {bin_dir}: {', '.join(missing)}. "
            "Build them with `make build-controlplane` (controlplane/build.sh; the first build "
            "takes several minutes and needs Go >= 1.25 and the Go module proxy)."
        )


def ensure_crds(crd_dir: Path | None = None, *, log: Logger = _stderr) -> Path:
    """Copy the six CRDs from the ``volcano.sh/volcano`` module into ``crd_dir``.

    The module is the one the build downloaded (located with the ``go`` client
    by :func:`hypertopo.cluster.crds.crd_dir`). Done once per version key; later calls
    need neither ``go`` nor the network.
    """
    from hypertopo.cluster import crds

    crd_dir = crd_dir or default_crd_dir()
    if all((crd_dir / f).is_file() for f in CRD_FILES):
        return crd_dir
    try:
        src = crds.crd_dir()
    except crds.CrdError as exc:
        raise ClusterError(
            f"the Volcano CRDs are not cached in {crd_dir} and cannot be taken from the "
            f"volcano.sh/volcano module: {exc}; run `make build-controlplane`"
        ) from exc
    tmp = crd_dir.with_name(crd_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in CRD_FILES:
        if not (src / f).is_file():
            raise ClusterError(f"CRD {f} not found in {src}")
        shutil.copyfile(src / f, tmp / f)
    shutil.rmtree(crd_dir, ignore_errors=True)
    tmp.rename(crd_dir)
    log(f"cached the Volcano CRDs from {src} in {crd_dir}")
    return crd_dir


def extra_args(component: str) -> list[str]:
    var = "HYPERTOPO_CLUSTER_EXTRA_ARGS_" + component.upper().replace("-", "_")
    return shlex.split(os.environ.get(var, ""))


# --------------------------------------------------------------------------- state


@dataclass
class Layout:
    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def scheduler_dir(self) -> Path:
        # only the conf file lives here: vc-scheduler watches the whole directory
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
        ]


@dataclass
class State:
    owner: str
    started_at: float
    bin_dir: str
    server: str
    kubeconfig: str
    ports: dict[str, int]
    procs: list[Proc] = field(default_factory=list)
    nta: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "owner": self.owner,
            "started_at": self.started_at,
            "bin_dir": self.bin_dir,
            "server": self.server,
            "kubeconfig": self.kubeconfig,
            "ports": self.ports,
            "procs": [p.to_json() for p in self.procs],
            "nta": self.nta,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> State:
        return cls(
            owner=str(d.get("owner", "unknown")),
            started_at=float(d.get("started_at", 0)),
            bin_dir=str(d.get("bin_dir", "")),
            server=str(d.get("server", "")),
            kubeconfig=str(d.get("kubeconfig", "")),
            ports={k: int(v) for k, v in (d.get("ports") or {}).items()},
            procs=[Proc.from_json(p) for p in d.get("procs") or []],
            nta=bool(d.get("nta", True)),
        )


@dataclass
class Status:
    state_dir: Path
    running: bool
    healthy: bool
    detail: str
    state: State | None = None
    components: dict[str, bool] = field(default_factory=dict)
    nodes: int | None = None
    queue_state: str | None = None

    def lines(self) -> list[str]:
        out = [f"state dir:  {self.state_dir}"]
        if self.state is None:
            out.append("cluster:    down")
            return out
        out.append(f"cluster:    {'up, healthy' if self.healthy else 'UNHEALTHY'} ({self.detail})")
        out.append(
            f"owner:      {self.state.owner}; up since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(self.state.started_at))}"
        )
        out.append(f"apiserver:  {self.state.server}")
        for p in self.state.procs:
            alive = self.components.get(p.name, False)
            out.append(f"  {p.name:<22} pid {p.pid:<8} {'running' if alive else 'NOT RUNNING'}  log {p.log}")
        out.append(f"scheduler:  network-topology-aware {'enabled' if self.state.nta else 'DISABLED'}")
        if self.queue_state is not None:
            out.append(f"queue:      default is {self.queue_state or '(no state)'}")
        if self.nodes is not None:
            out.append(f"nodes:      {self.nodes}")
        out.append(f"KUBECONFIG={self.state.kubeconfig}")
        return out


# --------------------------------------------------------------------------- control plane


class ControlPlane:
    """One local control plane rooted in a state directory."""

    def __init__(
        self,
        state_dir: Path | str | None = None,
        *,
        bin_dir: Path | str | None = None,
        crd_dir: Path | str | None = None,
        preferred_ports: Mapping[str, int] | None = None,
        log: Logger = _stderr,
        start_timeout: float = 90.0,
    ) -> None:
        self.layout = Layout(Path(state_dir) if state_dir else default_state_dir())
        self.bin_dir = Path(bin_dir) if bin_dir else default_bin_dir()
        self.crd_dir = Path(crd_dir) if crd_dir else None
        self.preferred_ports = dict(preferred_ports or {})
        env_port = os.environ.get("HYPERTOPO_CLUSTER_APISERVER_PORT")
        if env_port and "apiserver" not in self.preferred_ports:
            self.preferred_ports["apiserver"] = int(env_port)
        self.log = log
        self.start_timeout = start_timeout

    # ---- state helpers

    @property
    def state_dir(self) -> Path:
        return self.layout.root

    @property
    def kubeconfig(self) -> Path:
        return self.layout.kubeconfig

    def load_state(self) -> State | None:
        try:
            return State.from_json(json.loads(self.layout.state_file.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            raise ClusterError(f"corrupt cluster state {self.layout.state_file}: {exc}") from exc

    def _save_state(self, state: State) -> None:
        tmp = self.layout.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n")
        tmp.replace(self.layout.state_file)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise up/down/conf between processes sharing this state dir."""
        self.layout.root.mkdir(parents=True, exist_ok=True)
        with self.layout.lock_file.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def rest(self, *, pool_size: int = 8) -> Rest:
        p = pki_mod.Pki.at(self.layout.pki)
        state = self.load_state()
        if state is None:
            raise ClusterError(f"the cluster is not up (no {self.layout.state_file})")
        return Rest(
            state.server,
            ca_file=str(p.ca_cert),
            cert_file=str(p.admin_cert),
            key_file=str(p.admin_key),
            pool_size=pool_size,
        )

    # ---- status

    def status(self, *, deep: bool = True) -> Status:
        state = self.load_state()
        if state is None:
            return Status(self.state_dir, running=False, healthy=False, detail="no state")
        comps = {p.name: is_alive(p) for p in state.procs}
        dead = [n for n, ok in comps.items() if not ok]
        st = Status(
            self.state_dir,
            running=any(comps.values()),
            healthy=False,
            detail="",
            state=state,
            components=comps,
        )
        if dead:
            st.detail = f"not running: {', '.join(dead)}"
            return st
        if set(comps) != set(BINARIES):
            st.detail = f"incomplete start (components: {', '.join(comps) or 'none'})"
            return st
        if not deep:
            st.healthy, st.detail = True, "all processes running"
            return st
        try:
            rest = self.rest(pool_size=1)
            try:
                ready = rest.request("GET", "/readyz", raw=True).strip()
                queue = rest.get_or_none("/apis/scheduling.volcano.sh/v1beta1/queues/default")
                nodes = rest.get("/api/v1/nodes?limit=1")
            finally:
                rest.close()
        except Exception as exc:
            st.detail = f"apiserver not answering: {exc}"
            return st
        st.queue_state = ((queue or {}).get("status") or {}).get("state", "") if queue else "missing"
        meta = nodes.get("metadata") or {}
        st.nodes = len(nodes.get("items") or []) + int(meta.get("remainingItemCount") or 0)
        if ready != "ok":
            st.detail = f"/readyz says {ready!r}"
        elif st.queue_state != "Open":
            st.detail = f"queue default is {st.queue_state or 'not Open yet'}"
        else:
            st.healthy, st.detail = True, "all components running, apiserver ready, queue default Open"
        return st

    # ---- up

    def up(self, *, owner: str = "cli", nta: bool | None = None) -> State:
        """Start the control plane, or return the running one if it is healthy.

        A new vc-scheduler gets the ``scheduler_config`` role's default
        configuration; ``nta=False``/``True`` forces the network-topology-aware
        plugin out/in (an already running cluster is left as it is).
        """
        with self.locked():
            st = self.status()
            if st.healthy and st.state is not None:
                self.log(f"already up and healthy ({st.state.server}); nothing to start")
                return st.state
            if st.state is not None:
                self.log(
                    f"found a cluster state that is not healthy ({st.detail}); "
                    "stopping what is left of it and starting afresh"
                )
                self._teardown(st.state)
            return self._start(owner, nta)

    def _start(self, owner: str, nta: bool | None = None) -> State:
        t_start = time.monotonic()
        check_binaries(self.bin_dir)
        crd_dir = ensure_crds(self.crd_dir, log=self.log)
        L = self.layout
        # fresh state; keep the previous run's logs one generation back
        for p in L.transient():
            _remove(p)
        if L.logs.exists():
            _remove(L.logs.with_name("logs.previous"))
            L.logs.rename(L.logs.with_name("logs.previous"))
        for d in (L.logs, L.scheduler_dir, L.sockets, L.dumps):
            d.mkdir(parents=True, exist_ok=True)
        p = pki_mod.generate(L.pki)
        state = State(
            owner=owner,
            started_at=time.time(),
            bin_dir=str(self.bin_dir),
            server="",
            kubeconfig=str(L.kubeconfig),
            ports={},
        )
        try:
            self._start_etcd(state)
            self._start_apiserver(state, p)
            write_kubeconfig(L.kubeconfig, state.server, p)
            self._save_state(state)
            rest = self.rest(pool_size=4)
            try:
                t0 = time.monotonic()
                apply_crds(rest, crd_dir)
                self.log(f"Volcano CRDs established ({time.monotonic() - t0:.1f} s)")
                state.nta = write_scheduler_conf(L, nta=nta)
                self._start_volcano(state)
                t0 = time.monotonic()
                wait_ready(
                    state.procs[-1],
                    lambda: _queue_open(rest),
                    timeout=self.start_timeout,
                    what="queue 'default' (Open)",
                    watch=state.procs[:-1],
                )
                self.log(f"queue 'default' is Open ({time.monotonic() - t0:.1f} s)")
            finally:
                rest.close()
        except BaseException as exc:
            self.log(f"start-up failed; stopping the {len(state.procs)} process(es) started so far")
            self._teardown(state)
            if isinstance(exc, ClusterError):
                raise
            if isinstance(exc, ApiError | OSError):
                raise ClusterError(f"start-up failed: {exc}") from exc
            raise
        self._save_state(state)
        self.log(f"control plane up in {time.monotonic() - t_start:.1f} s; logs in {L.logs}")
        return state

    def _record(self, state: State, proc: Proc) -> None:
        state.procs.append(proc)
        if self.layout.state_file.parent.exists():
            self._save_state(state)

    def _forget(self, state: State, proc: Proc) -> None:
        state.procs = [p for p in state.procs if p.pid != proc.pid]
        self._save_state(state)

    def _ports(self, names: Sequence[str], state: State, *, retry: bool) -> dict[str, int]:
        used = set(state.ports.values())
        out: dict[str, int] = {}
        for n in names:
            pref = None if retry else self.preferred_ports.get(n)
            port = pref if pref else free_port(exclude=used)
            used.add(port)
            out[n] = port
        return out

    def _start_with_port_retry(
        self,
        state: State,
        component: str,
        port_names: Sequence[str],
        argv_for: Callable[[dict[str, int]], list[str]],
        ready_for: Callable[[dict[str, int]], Callable[[], bool]],
        *,
        env: Mapping[str, str] | None = None,
        before_retry: Callable[[], None] | None = None,
    ) -> dict[str, int]:
        retry = False
        for attempt in range(1, PORT_RETRIES + 1):
            ports = self._ports(port_names, state, retry=retry)
            argv = [str(self.bin_dir / component), *argv_for(ports), *extra_args(component)]
            proc = spawn(component, argv, self.layout.log(component), env=env)
            self._record(state, proc)
            ready = _owns_ports_and(proc, ports, ready_for(ports))
            try:
                took = wait_ready(
                    proc, ready, timeout=self.start_timeout, what=component, watch=state.procs[:-1]
                )
            except ComponentDied as exc:
                if exc.name == component and exc.port_in_use and attempt < PORT_RETRIES:
                    self._forget(state, proc)
                    self.log(
                        f"{component}: port in use ({', '.join(f'{k}={v}' for k, v in ports.items())}); "
                        f"retrying on other free ports (attempt {attempt + 1}/{PORT_RETRIES})"
                    )
                    if before_retry:
                        before_retry()
                    retry = True
                    continue
                raise
            state.ports.update(ports)
            shown = ", ".join(f"{k}={v}" for k, v in ports.items())
            self.log(f"{component} ready ({shown}; pid {proc.pid}; {took:.1f} s)")
            return ports
        raise AssertionError("unreachable")

    def _start_etcd(self, state: State) -> None:
        L = self.layout

        def argv(ports: dict[str, int]) -> list[str]:
            client = f"http://{LOOPBACK}:{ports['etcd-client']}"
            peer = f"http://{LOOPBACK}:{ports['etcd-peer']}"
            return [
                "--name=n0",
                f"--data-dir={L.etcd_data}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=n0={peer}",
                "--initial-cluster-state=new",
                "--unsafe-no-fsync=true",
                "--quota-backend-bytes=4294967296",
                "--log-level=warn",
            ]

        def ready(ports: dict[str, int]) -> Callable[[], bool]:
            return lambda: _http_ok(f"http://{LOOPBACK}:{ports['etcd-client']}/health", '"health":"true"')

        self._start_with_port_retry(
            state,
            "etcd",
            ("etcd-client", "etcd-peer"),
            argv,
            ready,
            before_retry=lambda: _remove(L.etcd_data),
        )

    def _start_apiserver(self, state: State, p: pki_mod.Pki) -> None:
        etcd = f"http://{LOOPBACK}:{state.ports['etcd-client']}"

        def argv(ports: dict[str, int]) -> list[str]:
            return [
                f"--etcd-servers={etcd}",
                f"--bind-address={LOOPBACK}",
                f"--advertise-address={LOOPBACK}",
                f"--secure-port={ports['apiserver']}",
                "--endpoint-reconciler-type=none",
                f"--cert-dir={p.dir}",
                f"--tls-cert-file={p.serving_cert}",
                f"--tls-private-key-file={p.serving_key}",
                f"--client-ca-file={p.ca_cert}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={p.sa_pub}",
                f"--service-account-signing-key-file={p.sa_key}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--authorization-mode=RBAC",
                "--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
                "--allow-privileged=true",
                "--profiling=false",
                # a test harness: no request throttling (node simulator bursts)
                "--enable-priority-and-fairness=false",
                "--max-requests-inflight=0",
                "--max-mutating-requests-inflight=0",
            ]

        def ready(ports: dict[str, int]) -> Callable[[], bool]:
            url = f"https://{LOOPBACK}:{ports['apiserver']}"

            def check() -> bool:
                r = Rest(
                    url,
                    ca_file=str(p.ca_cert),
                    cert_file=str(p.admin_cert),
                    key_file=str(p.admin_key),
                    pool_size=1,
                    timeout=2,
                )
                try:
                    return r.request("GET", "/readyz", raw=True).strip() == "ok"
                finally:
                    r.close()

            return check

        ports = self._start_with_port_retry(state, "kube-apiserver", ("apiserver",), argv, ready)
        state.server = f"https://{LOOPBACK}:{ports['apiserver']}"

    def _start_volcano(self, state: State) -> None:
        L = self.layout
        common = [
            f"--kubeconfig={L.kubeconfig}",
            "--leader-elect=false",
            "--enable-healthz=false",
            "--enable-metrics=false",
            f"--healthz-address={LOOPBACK}:0",
            f"--listen-address={LOOPBACK}:0",
        ]
        for comp, args in (
            ("vc-controller-manager", [*common, f"--controllers={VC_CONTROLLERS}", "--v=2"]),
            (
                "vc-scheduler",
                [
                    *common,
                    f"--scheduler-conf={L.scheduler_conf}",
                    "--schedule-period=1s",
                    f"--cache-dump-dir={L.dumps}",
                    "--v=2",
                ],
            ),
        ):
            sock = L.sockets / comp
            sock.mkdir(parents=True, exist_ok=True)
            argv = [str(self.bin_dir / comp), *args, *extra_args(comp)]
            proc = spawn(comp, argv, L.log(comp), env={"DEBUG_SOCKET_DIR": str(sock)}, cwd=L.root)
            self._record(state, proc)
            self.log(f"{comp} started (pid {proc.pid})")

    # ---- scheduler configuration

    def set_scheduler_conf(self, *, nta: bool | None, timeout: float = 30.0) -> bool:
        """Rewrite vc-scheduler's configuration and wait until the running scheduler has
        reloaded it (it watches the file's directory).

        ``nta=None`` restores the role's default; ``False``/``True`` force the
        network-topology-aware plugin out/in. Returns whether the plugin is enabled.
        """
        with self.locked():
            state = self.load_state()
            if state is None:
                raise ClusterError("the cluster is not up")
            sched = next((p for p in state.procs if p.name == "vc-scheduler"), None)
            if sched is None or not is_alive(sched):
                raise ClusterError("vc-scheduler is not running")
            log = Path(sched.log)
            offset = log.stat().st_size
            enabled = write_scheduler_conf(self.layout, nta=nta)

            def reloaded() -> bool:
                with log.open("rb") as f:
                    f.seek(offset)
                    new = f.read().decode("utf-8", "replace")
                for m in re.finditer(
                    r"Finished loading scheduler config\. Final state: .*plugins=\[([^\]]*)\]", new
                ):
                    if (schedconf.NTA_PLUGIN in m.group(1).split()) == enabled:
                        return True
                return False

            wait_ready(sched, reloaded, timeout=timeout, what="vc-scheduler configuration reload")
            state.nta = enabled
            self._save_state(state)
            self.log(
                f"vc-scheduler reloaded its configuration (network-topology-aware "
                f"{'enabled' if enabled else 'disabled'})"
            )
            return enabled

    # ---- down

    def down(self) -> list[str]:
        """Stop the recorded processes (by PID) and remove the state (logs are kept)."""
        with self.locked():
            state = self.load_state()
            if state is None:
                self.log(f"nothing to stop (no state in {self.state_dir})")
                return []
            return self._teardown(state)

    def _teardown(self, state: State) -> list[str]:
        stopped = stop_all(list(reversed(state.procs)))
        for p in self.layout.transient():
            _remove(p)
        if stopped:
            self.log(f"stopped {', '.join(stopped)}; logs kept in {self.layout.logs}")
        return stopped


# --------------------------------------------------------------------------- helpers


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _owns_ports_and(proc: Proc, ports: Mapping[str, int], answers: Callable[[], bool]) -> Callable[[], bool]:
    """Readiness = ``proc`` itself listens on every port it was given (a foreign
    listener on a port we picked is never mistaken for it) and ``answers()``."""
    return lambda: all(listens_on(proc.pid, p) for p in ports.values()) and answers()


def _http_ok(url: str, expect: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(url, timeout=2) as r:
        return expect in r.read().decode()


def _queue_open(rest: Rest) -> bool:
    q = rest.get_or_none("/apis/scheduling.volcano.sh/v1beta1/queues/default")
    return bool(q) and (q.get("status") or {}).get("state") == "Open"


def write_kubeconfig(path: Path, server: str, p: pki_mod.Pki) -> None:
    import base64

    b64 = lambda f: base64.b64encode(f.read_bytes()).decode()  # noqa: E731
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": KUBE_CONTEXT,
                "cluster": {"server": server, "certificate-authority-data": b64(p.ca_cert)},
            }
        ],
        "users": [
            {
                "name": "admin",
                "user": {"client-certificate-data": b64(p.admin_cert), "client-key-data": b64(p.admin_key)},
            }
        ],
        "contexts": [{"name": KUBE_CONTEXT, "context": {"cluster": KUBE_CONTEXT, "user": "admin"}}],
        "current-context": KUBE_CONTEXT,
        "preferences": {},
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(cfg, sort_keys=False))
    tmp.chmod(0o600)
    tmp.replace(path)


def write_scheduler_conf(layout: Layout, *, nta: bool | None = None) -> bool:
    """Write ``dump_conf(default_conf_from_role(...))`` atomically into the watched dir.

    ``nta=None`` is exactly the role's default configuration; ``False``/``True``
    force the network-topology-aware plugin out/in. Returns whether it is enabled.
    """
    conf = schedconf.default_conf_from_role(nta_enabled_override=nta)
    layout.scheduler_dir.mkdir(parents=True, exist_ok=True)
    # write next to (not inside) the watched directory, then rename into it
    tmp = layout.root / ".volcano-scheduler.conf.tmp"
    tmp.write_text(schedconf.dump_conf(conf))
    tmp.replace(layout.scheduler_conf)
    return schedconf.nta_enabled(conf)


def apply_crds(rest: Rest, crd_dir: Path, *, timeout: float = 60.0) -> list[str]:
    names = []
    for f in CRD_FILES:
        obj = yaml.safe_load((crd_dir / f).read_text())
        name = obj["metadata"]["name"]
        names.append(name)
        try:
            rest.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", obj, raw=True)
        except ApiError as exc:
            if exc.status != 409:
                raise
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for name in sorted(pending):
            crd = rest.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            conds = (crd.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
                pending.discard(name)
        if pending:
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"CRDs not Established after {timeout:.0f} s: {', '.join(sorted(pending))}"
                )
            time.sleep(0.2)
    return names


__all__ = [
    "ClusterError",
    "ControlPlane",
    "State",
    "Status",
    "apply_crds",
    "build_key",
    "check_binaries",
    "default_bin_dir",
    "default_state_dir",
    "ensure_crds",
    "log_tail",
    "versions",
    "write_kubeconfig",
    "write_scheduler_conf",
]
