"""Start, check and stop one local control plane rooted in a state directory.

:class:`ControlPlane` starts the components (:mod:`hypertopo.cluster.components`) in order
(etcd, kube-apiserver, the Volcano CRDs, kube-controller-manager, Volcano's webhook
configurations and vc-webhook-manager, vc-controller-manager, vc-scheduler, kwok) and stops them
in reverse, by the PIDs it recorded. It is ready when vc-scheduler has loaded its configuration,
queue ``default`` exists and is ``Open`` (created through Volcano's queue webhooks) and kwok's
controllers run.

Everything lives in the state directory: ``state.json`` (PIDs, ports), ``kubeconfig``,
``pki/``, ``etcd/``, ``scheduler/volcano-scheduler.conf`` and ``logs/``. ``down`` stops exactly
the recorded PIDs and removes everything but ``logs/`` (which the next ``up`` moves to
``logs.previous/``). Operations on one state directory are serialised with a file lock, so
several processes may share it (the CLI's cluster).

For a private, always-stopped control plane use :func:`hypertopo.cluster.local_cluster`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hypertopo.cluster import pki as pki_mod
from hypertopo.cluster import signals
from hypertopo.cluster.components import (
    DEFAULT_QUEUE,
    Launcher,
    admin_rest,
    apply_crds,
    queue_open,
    remove,
    write_kubeconfig,
)
from hypertopo.cluster.crds import NEEDED_CRDS, CrdError
from hypertopo.cluster.crds import crd_dir as module_crd_dir
from hypertopo.cluster.health import component_health
from hypertopo.cluster.paths import (
    COMPONENTS,
    SERVERS,
    Layout,
    check_binaries,
    default_bin_dir,
    default_state_dir,
)
from hypertopo.cluster.processes import (
    ClusterError,
    Proc,
    connected_to,
    is_alive,
    spawn,
    stop,
    stop_all,
    stop_together,
    wait_ready,
)
from hypertopo.cluster.rest import ApiError, Rest
from hypertopo.cluster.scheduler_conf import ConfSource, SchedulerConf, log_size
from hypertopo.cluster.state import State, Status

Logger = Callable[[str], None]


def stderr_logger(msg: str) -> None:
    """The default logger: one timestamped line on stderr."""
    print(f"[cluster {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def locate_crds(crd_dir: Path | None = None) -> Path:
    """A directory holding the six Volcano CRDs: ``crd_dir`` if given, else the
    ``volcano.sh/volcano`` module's (:func:`hypertopo.cluster.crds.crd_dir`). Only read, never written."""
    if crd_dir is None:
        try:
            crd_dir = module_crd_dir()
        except CrdError as exc:
            raise ClusterError(
                f"the Volcano CRDs cannot be found: {exc}; run `make build-controlplane`"
            ) from exc
    missing = [f for f in NEEDED_CRDS if not (crd_dir / f).is_file()]
    if missing:
        raise ClusterError(f"CRDs missing in {crd_dir}: {', '.join(missing)}")
    return crd_dir


class ControlPlane:
    """One local control plane rooted in a state directory.

    ``state_dir`` defaults to the shared cluster's (``$HYPERTOPO_CLUSTER_DIR`` or
    ``~/.cache/hypertopo/cluster``); ``bin_dir`` to the binaries ``make build-controlplane``
    built; ``crd_dir`` to the ``volcano.sh/volcano`` module's CRDs. ``preferred_ports`` asks for
    fixed ports (``etcd-client``, ``etcd-peer``, ``apiserver``; taken ones are replaced by free
    ones), ``extra_args`` appends arguments to a component's command line (keyed by program
    name, e.g. ``"kube-apiserver"``), ``log`` receives progress lines.
    """

    def __init__(
        self,
        state_dir: Path | str | None = None,
        *,
        bin_dir: Path | str | None = None,
        crd_dir: Path | str | None = None,
        preferred_ports: Mapping[str, int] | None = None,
        extra_args: Mapping[str, Sequence[str]] | None = None,
        log: Logger = stderr_logger,
        start_timeout: float = 90.0,
    ) -> None:
        self.layout = Layout(Path(state_dir) if state_dir else default_state_dir())
        self.bin_dir = Path(bin_dir) if bin_dir else default_bin_dir()
        self.crd_dir = Path(crd_dir) if crd_dir else None
        self.preferred_ports = dict(preferred_ports or {})
        env_port = os.environ.get("HYPERTOPO_CLUSTER_APISERVER_PORT")
        if env_port and "apiserver" not in self.preferred_ports:
            self.preferred_ports["apiserver"] = int(env_port)
        self.extra_args = {k: list(v) for k, v in (extra_args or {}).items()}
        self.log = log
        self.start_timeout = start_timeout

    # ---- state

    @property
    def state_dir(self) -> Path:
        return self.layout.root

    @property
    def kubeconfig(self) -> Path:
        return self.layout.kubeconfig

    def load_state(self) -> State | None:
        """The recorded state, or None when the control plane is down."""
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

    def _record(self, state: State, proc: Proc) -> None:
        state.procs.append(proc)
        if self.layout.root.exists():
            self._save_state(state)

    def _forget(self, state: State, proc: Proc) -> None:
        state.procs = [p for p in state.procs if p.pid != proc.pid]
        self._save_state(state)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise up/down/conf between processes sharing this state dir."""
        self.layout.make_root()
        with self.layout.lock_file.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def rest(self, *, pool_size: int = 8) -> Rest:
        """A client of the running kube-apiserver as the admin user (close it when done)."""
        state = self.load_state()
        if state is None:
            raise ClusterError(f"the cluster is not up (no {self.layout.state_file})")
        return admin_rest(state.server, pki_mod.Pki.at(self.layout.pki), pool_size=pool_size)

    # ---- status

    def status(self, *, deep: bool = True) -> Status:
        """Processes alive, and (``deep``) each component's own health check, queue ``default``
        Open, node count."""
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
        if set(comps) != set(COMPONENTS):
            st.detail = f"incomplete start (components: {', '.join(comps) or 'none'})"
            return st
        if not deep:
            st.healthy, st.detail = True, "all processes running"
            return st
        try:
            rest = self.rest(pool_size=1)
            try:
                st.health = component_health(state, pki_mod.Pki.at(self.layout.pki), rest)
                queue = rest.get_or_none(DEFAULT_QUEUE)
                nodes = rest.get("/api/v1/nodes?limit=1")
            finally:
                rest.close()
        except Exception as exc:
            st.detail = f"apiserver not answering: {exc}"
            return st
        st.queue_state = ((queue or {}).get("status") or {}).get("state", "") if queue else "missing"
        meta = nodes.get("metadata") or {}
        st.nodes = len(nodes.get("items") or []) + int(meta.get("remainingItemCount") or 0)
        failing = [f"{name}: {h.detail}" for name, h in st.health.items() if not h.ok]
        if failing:
            st.detail = "; ".join(failing)
        elif st.queue_state != "Open":
            st.detail = f"queue default is {st.queue_state or 'not Open yet'}"
        else:
            st.healthy, st.detail = True, "all components running and healthy, queue default Open"
        return st

    # ---- up

    def up(
        self, *, owner: str = "cli", nta: bool | None = None, scheduler_conf: ConfSource | None = None
    ) -> State:
        """Start the control plane, or return the running one if it is healthy.

        A new vc-scheduler gets ``scheduler_conf`` (a mapping, or a file's path), by default
        the ``scheduler_config`` role's configuration, with the network-topology-aware plugin
        forced out/in by ``nta=False``/``True``. An already running cluster is left as it is.
        If the start fails (or is interrupted), everything started so far is stopped.
        """
        conf = SchedulerConf.resolve(scheduler_conf, nta=nta)
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
            return self._start(owner, conf)

    def _fresh_layout(self) -> None:
        """Remove the previous state; keep the previous run's logs one generation back."""
        layout = self.layout
        for p in layout.transient():
            remove(p)
        if layout.logs.exists():
            remove(layout.logs.with_name("logs.previous"))
            layout.logs.rename(layout.logs.with_name("logs.previous"))
        for d in (layout.logs, layout.scheduler_dir, layout.sockets, layout.dumps):
            d.mkdir(parents=True, exist_ok=True)

    def _start(self, owner: str, conf: SchedulerConf) -> State:
        t_start = time.monotonic()
        check_binaries(self.bin_dir)
        crd_dir = locate_crds(self.crd_dir)
        layout = self.layout
        self._fresh_layout()
        p = pki_mod.generate(layout.pki)
        state = State(
            owner=owner,
            started_at=time.time(),
            bin_dir=str(self.bin_dir),
            server="",
            kubeconfig=str(layout.kubeconfig),
            ports={},
        )
        launcher = Launcher(
            layout,
            self.bin_dir,
            record=self._record,
            forget=self._forget,
            preferred_ports=self.preferred_ports,
            extra_args=self.extra_args,
            log=self.log,
            timeout=self.start_timeout,
        )
        try:
            launcher.etcd(state, p)
            launcher.apiserver(state, p)
            write_kubeconfig(layout.kubeconfig, state.server, p.ca_cert, p.admin_cert, p.admin_key)
            self._save_state(state)
            rest = self.rest(pool_size=4)
            try:
                t0 = time.monotonic()
                apply_crds(rest, crd_dir)
                self.log(f"Volcano CRDs established ({time.monotonic() - t0:.1f} s)")
                launcher.controller_manager(state, p)
                launcher.webhook_manager(state, p, rest)
                conf.write(layout)
                state.nta = conf.nta
                scheduler = launcher.volcano(state)
                took = conf.wait_loaded(scheduler, since=0, timeout=self.start_timeout)
                self.log(f"vc-scheduler loaded its configuration ({took:.1f} s)")
                t0 = time.monotonic()
                wait_ready(
                    scheduler,
                    lambda: queue_open(rest),
                    timeout=self.start_timeout,
                    what="queue 'default' (Open)",
                    watch=state.procs[:-1],
                )
                self.log(f"queue 'default' is Open ({time.monotonic() - t0:.1f} s)")
                launcher.kwok(state)
            finally:
                rest.close()
        except BaseException as exc:
            self.log(f"start-up failed; stopping the {len(state.procs)} process(es) started so far")
            self._teardown(state)
            if isinstance(exc, ApiError | OSError):
                raise ClusterError(f"start-up failed: {exc}") from exc
            raise
        self._save_state(state)
        self.log(f"control plane up in {time.monotonic() - t_start:.1f} s; logs in {layout.logs}")
        return state

    # ---- scheduler configuration

    def scheduler_conf_text(self) -> str:
        """The configuration file vc-scheduler runs with."""
        return self.layout.scheduler_conf.read_text()

    def set_scheduler_conf(
        self, conf: ConfSource | None = None, *, nta: bool | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Replace vc-scheduler's configuration and wait until the running scheduler has loaded it.

        ``conf`` is a mapping or a file's path; ``None`` is the ``scheduler_config`` role's
        default, with the network-topology-aware plugin forced out/in by ``nta=False``/``True``.
        Raises :class:`ClusterError` if vc-scheduler rejects it (it then keeps the previous
        one, and so does the file). Returns the configuration as a mapping.
        """
        new = SchedulerConf.resolve(conf, nta=nta)
        with self.locked():
            state = self.load_state()
            if state is None:
                raise ClusterError("the cluster is not up")
            sched = next((p for p in state.procs if p.name == "vc-scheduler"), None)
            if sched is None or not is_alive(sched):
                raise ClusterError("vc-scheduler is not running")
            offset = log_size(sched.log)
            running = self.scheduler_conf_text()
            new.write(self.layout)
            try:
                new.wait_loaded(sched, since=offset, timeout=timeout)
            except ClusterError:
                # vc-scheduler keeps what it ran: so does the file
                SchedulerConf(running, {}).write(self.layout)
                raise
            state.nta = new.nta
            self._save_state(state)
            self.log(
                f"vc-scheduler reloaded its configuration (network-topology-aware "
                f"{'enabled' if new.nta else 'disabled'})"
            )
            return new.conf

    # ---- one component (fault tests: stop it, start it again)

    def stop_component(self, name: str) -> bool:
        """Stop one component and leave the others running (``status`` then reports the
        cluster unhealthy). Returns False if it was not running. Undo with
        :meth:`restart_component`."""
        with self.locked():
            state = self._running_state()
            return stop(self._component(state, name))

    def restart_component(self, name: str, *, timeout: float | None = None) -> float:
        """Start one component again (stopping it first if it runs) with the same command line,
        environment and ports, and wait until it is ready as at ``up``: kube-apiserver
        ``/readyz``, etcd ``/health``, vc-webhook-manager's TLS, kube-controller-manager
        ``/healthz``, vc-scheduler's configuration loaded, kwok connected. Returns the seconds
        waited."""
        with self.locked():
            state = self._running_state()
            old = self._component(state, name)
            stop(old)
            since = log_size(old.log)
            with signals.deferred():
                new = spawn(old.name, old.argv, Path(old.log), env=dict(old.env), cwd=self.layout.root)
                state.procs = [new if p is old else p for p in state.procs]
                self._save_state(state)
            took = wait_ready(
                new,
                self._ready_check(state, new, since),
                timeout=self.start_timeout if timeout is None else timeout,
                what=f"{name} (restarted)",
            )
            self.log(f"{name} restarted (pid {new.pid}; ready in {took:.1f} s)")
            return took

    def _running_state(self) -> State:
        state = self.load_state()
        if state is None:
            raise ClusterError(f"the cluster is not up (no {self.layout.state_file})")
        return state

    def _component(self, state: State, name: str) -> Proc:
        for proc in state.procs:
            if proc.name == name:
                return proc
        known = ", ".join(p.name for p in state.procs)
        raise ClusterError(f"no component {name!r} in this control plane (components: {known})")

    def _ready_check(self, state: State, proc: Proc, since: int) -> Callable[[], bool]:
        if proc.name == "vc-scheduler":
            conf = SchedulerConf.resolve(self.layout.scheduler_conf)
            return lambda: conf.loaded_in(Path(proc.log).read_bytes()[since:].decode("utf-8", "replace"))
        if proc.name in ("kwok", "vc-controller-manager"):  # no port of their own here
            return lambda: connected_to(proc.pid, state.ports["apiserver"])

        def healthy() -> bool:
            rest = admin_rest(state.server, pki_mod.Pki.at(self.layout.pki), pool_size=1, timeout=5.0)
            try:
                return component_health(state, pki_mod.Pki.at(self.layout.pki), rest, only=proc.name)[
                    proc.name
                ].ok
            finally:
                rest.close()

        return healthy

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
        # The API server's clients (controllers, scheduler, webhook server, kwok) stop together;
        # then kube-apiserver and etcd, in that order, so no client ever sees its server gone.
        servers = [p for p in reversed(state.procs) if p.name in SERVERS]
        clients = [p for p in reversed(state.procs) if p.name not in SERVERS]
        stopped = stop_together(clients) + stop_all(servers)
        for p in self.layout.transient():
            remove(p)
        if stopped:
            self.log(f"stopped {', '.join(stopped)}; logs kept in {self.layout.logs}")
        return stopped
