"""Starting the components of a local control plane, each bound to 127.0.0.1.

1. ``etcd`` (3.6, ``--unsafe-no-fsync``) on two free ports, TLS on both, answering only
   clients with a certificate of the cluster CA (kube-apiserver's etcd client certificate);
2. ``kube-apiserver`` (TLS with a generated CA, anonymous requests refused, x509
   client-certificate admin user in ``system:masters``, Node and RBAC authorization, kubeadm's
   admission plugins: the defaults plus NodeRestriction, no request throttling);
3. the six Volcano CRDs, waited on until Established;
4. ``kube-controller-manager`` with kubeadm's controllers (:data:`KCM_CONTROLLERS`), its own
   client certificate and the service-account signing key;
5. Volcano's admission webhook configurations (:mod:`hypertopo.cluster.admission`) and
   ``vc-webhook-manager`` serving them over TLS;
6. ``vc-controller-manager`` (job, pg, queue and gc controllers) and ``vc-scheduler``, both with
   leader election, healthz and metrics off;
7. ``kwok`` (:mod:`hypertopo.cluster.kwok`), the kubelet of every simulated node.

A component with ports is ready only when its own PID listens on the ports it was given and its
health check answers; one that exits with "address already in use" is started again on other
free ports.
"""

from __future__ import annotations

import base64
import contextlib
import shutil
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import yaml

from hypertopo.cluster import pki as pki_mod
from hypertopo.cluster import signals
from hypertopo.cluster.admission import (
    ENABLED_ADMISSIONS,
    apply_webhook_configurations,
    webhook_configurations,
)
from hypertopo.cluster.crds import NEEDED_CRDS
from hypertopo.cluster.kwok import NODE_MONITOR_GRACE_SECONDS, kwok_args
from hypertopo.cluster.paths import Layout, binary_file, extra_args_from_env
from hypertopo.cluster.processes import (
    LOOPBACK,
    ClusterError,
    ComponentDied,
    Proc,
    connected_to,
    free_port,
    listens_on,
    spawn,
    wait_ready,
)
from hypertopo.cluster.rest import ApiError, Rest
from hypertopo.cluster.state import State

VC_CONTROLLERS = "job-controller,pg-controller,queue-controller,gc-controller"
#: kubeadm's ``*,bootstrapsigner,tokencleaner`` minus what needs a cloud provider or a pod
#: network: node-ipam (would allocate node podCIDRs from a --cluster-cidr; kwok gives pods
#: addresses itself), cloud-node-lifecycle, service-lb and node-route (no cloud provider).
KCM_CONTROLLERS = (
    "*,bootstrap-signer-controller,token-cleaner-controller,-node-ipam-controller,"
    "-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller"
)
KCM_USER = "system:kube-controller-manager"
SERVICE_CIDR = "10.0.0.0/24"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
KUBE_CONTEXT = "hypertopo-local"
PORT_RETRIES = 5
CRDS_API = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
DEFAULT_QUEUE = "/apis/scheduling.volcano.sh/v1beta1/queues/default"

Logger = Callable[[str], None]
Recorder = Callable[[State, Proc], None]


class Launcher:
    """Starts components into ``state``; ``record``/``forget`` keep ``state.json`` up to date."""

    def __init__(
        self,
        layout: Layout,
        bin_dir: Path,
        *,
        record: Recorder,
        forget: Recorder,
        preferred_ports: Mapping[str, int],
        extra_args: Mapping[str, Sequence[str]],
        log: Logger,
        timeout: float,
    ) -> None:
        self.layout = layout
        self.bin_dir = bin_dir
        self.record = record
        self.forget = forget
        self.preferred_ports = preferred_ports
        self.extra_args = extra_args
        self.log = log
        self.timeout = timeout

    def argv(self, component: str, args: Sequence[str]) -> list[str]:
        return [
            str(self.bin_dir / binary_file(component)),
            *args,
            *self.extra_args.get(component, ()),
            *extra_args_from_env(component),
        ]

    def spawn(
        self, state: State, component: str, args: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> Proc:
        """Start one component and record it (signals are held back in between)."""
        with signals.deferred():
            proc = spawn(
                component,
                self.argv(component, args),
                self.layout.log(component),
                env=env,
                cwd=self.layout.root,
            )
            self.record(state, proc)
        return proc

    # ---- etcd and kube-apiserver (ports picked here, retried when taken)

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
        args_for: Callable[[dict[str, int]], list[str]],
        ready_for: Callable[[dict[str, int]], Callable[[], bool]],
        *,
        before_retry: Callable[[], None] | None = None,
        before_start: Callable[[dict[str, int]], None] | None = None,
    ) -> dict[str, int]:
        retry = False
        for attempt in range(1, PORT_RETRIES + 1):
            ports = self._ports(port_names, state, retry=retry)
            if before_start:
                before_start(ports)
            proc = self.spawn(state, component, args_for(ports))
            ready = _owns_ports_and(proc, ports, ready_for(ports))
            try:
                took = wait_ready(proc, ready, timeout=self.timeout, what=component, watch=state.procs[:-1])
            except ComponentDied as exc:
                if exc.name == component and exc.port_in_use and attempt < PORT_RETRIES:
                    self.forget(state, proc)
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

    def etcd(self, state: State, p: pki_mod.Pki) -> None:
        data = self.layout.etcd_data

        def args(ports: dict[str, int]) -> list[str]:
            client = f"https://{LOOPBACK}:{ports['etcd-client']}"
            peer = f"https://{LOOPBACK}:{ports['etcd-peer']}"
            return [
                "--name=n0",
                f"--data-dir={data}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=n0={peer}",
                "--initial-cluster-state=new",
                # kubeadm's: TLS for clients and peers, only certificates of the cluster CA
                f"--cert-file={p.etcd_cert}",
                f"--key-file={p.etcd_key}",
                "--client-cert-auth=true",
                f"--trusted-ca-file={p.ca_cert}",
                f"--peer-cert-file={p.etcd_cert}",
                f"--peer-key-file={p.etcd_key}",
                "--peer-client-cert-auth=true",
                f"--peer-trusted-ca-file={p.ca_cert}",
                "--unsafe-no-fsync=true",
                "--quota-backend-bytes=4294967296",
                "--log-level=warn",
            ]

        def ready(ports: dict[str, int]) -> Callable[[], bool]:
            return lambda: etcd_healthy(ports["etcd-client"], p)

        self._start_with_port_retry(
            state, "etcd", ("etcd-client", "etcd-peer"), args, ready, before_retry=lambda: remove(data)
        )

    def apiserver(self, state: State, p: pki_mod.Pki) -> None:
        etcd = f"https://{LOOPBACK}:{state.ports['etcd-client']}"

        def args(ports: dict[str, int]) -> list[str]:
            return [
                f"--etcd-servers={etcd}",
                f"--etcd-cafile={p.ca_cert}",
                f"--etcd-certfile={p.etcd_client_cert}",
                f"--etcd-keyfile={p.etcd_client_key}",
                # every request authenticates (health checks too: they use the admin certificate)
                "--anonymous-auth=false",
                f"--bind-address={LOOPBACK}",
                f"--advertise-address={LOOPBACK}",
                f"--secure-port={ports['apiserver']}",
                "--endpoint-reconciler-type=none",
                f"--cert-dir={p.dir}",
                f"--tls-cert-file={p.serving_cert}",
                f"--tls-private-key-file={p.serving_key}",
                f"--client-ca-file={p.ca_cert}",
                f"--service-account-issuer={SA_ISSUER}",
                f"--service-account-key-file={p.sa_pub}",
                f"--service-account-signing-key-file={p.sa_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                # kubeadm's: the default plugins (ServiceAccount, TaintNodesByCondition, Priority,
                # MutatingAdmissionWebhook, ValidatingAdmissionWebhook, ...) plus NodeRestriction
                "--enable-admission-plugins=NodeRestriction",
                "--enable-bootstrap-token-auth=true",
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
                r = admin_rest(url, p, pool_size=1, timeout=2)
                try:
                    return r.request("GET", "/readyz", raw=True).strip() == "ok"
                finally:
                    r.close()

            return check

        ports = self._start_with_port_retry(state, "kube-apiserver", ("apiserver",), args, ready)
        state.server = f"https://{LOOPBACK}:{ports['apiserver']}"

    # ---- kube-controller-manager and vc-webhook-manager (one port each)

    def controller_manager(self, state: State, p: pki_mod.Pki) -> None:
        kubeconfig = self.layout.kubeconfig_of("kube-controller-manager")
        write_kubeconfig(kubeconfig, state.server, p.ca_cert, p.kcm_cert, p.kcm_key, user=KCM_USER)

        def args(ports: dict[str, int]) -> list[str]:
            return [
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                f"--bind-address={LOOPBACK}",
                f"--secure-port={ports['kube-controller-manager']}",
                f"--cert-dir={p.dir / 'kube-controller-manager-serving'}",
                f"--client-ca-file={p.ca_cert}",
                f"--root-ca-file={p.ca_cert}",
                f"--cluster-signing-cert-file={p.ca_cert}",
                f"--cluster-signing-key-file={p.ca_key}",
                f"--service-account-private-key-file={p.sa_key}",
                "--use-service-account-credentials=true",
                f"--controllers={KCM_CONTROLLERS}",
                "--cluster-name=kubernetes",
                # kwok renews node Leases less often than a kubelet (hypertopo.cluster.kwok)
                f"--node-monitor-grace-period={NODE_MONITOR_GRACE_SECONDS}s",
                # kwokctl's "unlimited" client rate: with the default 20 requests/s the node
                # lifecycle controller needs 13 s to untaint 256 new nodes
                "--kube-api-qps=5000",
                "--kube-api-burst=10000",
                "--leader-elect=false",
                "--profiling=false",
            ]

        def ready(ports: dict[str, int]) -> Callable[[], bool]:
            url = f"https://{LOOPBACK}:{ports['kube-controller-manager']}/healthz"
            return lambda: http_ok(url, "ok", context=ssl._create_unverified_context())

        self._start_with_port_retry(
            state, "kube-controller-manager", ("kube-controller-manager",), args, ready
        )

    def webhook_manager(self, state: State, p: pki_mod.Pki, rest: Rest) -> None:
        """Register Volcano's webhook configurations for a free port, then serve them there."""
        ca_bundle = base64.b64encode(p.ca_cert.read_bytes()).decode()

        def url(ports: dict[str, int]) -> str:
            return f"https://{LOOPBACK}:{ports['vc-webhook-manager']}"

        def register(ports: dict[str, int]) -> None:
            apply_webhook_configurations(rest, webhook_configurations(url(ports), ca_bundle))

        def args(ports: dict[str, int]) -> list[str]:
            return [
                f"--kubeconfig={self.layout.kubeconfig}",
                f"--enabled-admission={','.join(ENABLED_ADMISSIONS)}",
                f"--webhook-url={url(ports)}",
                f"--listen-address={LOOPBACK}",
                f"--port={ports['vc-webhook-manager']}",
                f"--tls-cert-file={p.webhook_cert}",
                f"--tls-private-key-file={p.webhook_key}",
                f"--ca-cert-file={p.ca_cert}",
                "--enable-healthz=false",
                f"--healthz-address={LOOPBACK}:0",
                "--v=2",
            ]

        def ready(ports: dict[str, int]) -> Callable[[], bool]:
            return lambda: tls_handshake_ok(ports["vc-webhook-manager"], p.ca_cert)

        self._start_with_port_retry(
            state, "vc-webhook-manager", ("vc-webhook-manager",), args, ready, before_start=register
        )

    # ---- Volcano's controllers and scheduler, kwok (no TCP ports at all)

    def volcano(self, state: State) -> Proc:
        """Start vc-controller-manager, then vc-scheduler; returns vc-scheduler."""
        layout = self.layout
        common = [
            f"--kubeconfig={layout.kubeconfig}",
            "--leader-elect=false",
            "--enable-healthz=false",
            "--enable-metrics=false",
            f"--healthz-address={LOOPBACK}:0",
            f"--listen-address={LOOPBACK}:0",
        ]
        scheduler_args = [
            *common,
            f"--scheduler-conf={layout.scheduler_conf}",
            "--schedule-period=1s",
            f"--cache-dump-dir={layout.dumps}",
            "--v=2",
        ]
        proc: Proc | None = None
        for component, args in (
            ("vc-controller-manager", [*common, f"--controllers={VC_CONTROLLERS}", "--v=2"]),
            ("vc-scheduler", scheduler_args),
        ):
            sock = layout.sockets / component
            sock.mkdir(parents=True, exist_ok=True)
            proc = self.spawn(state, component, args, env={"DEBUG_SOCKET_DIR": str(sock)})
            self.log(f"{component} started (pid {proc.pid})")
        assert proc is not None
        return proc

    def kwok(self, state: State) -> Proc:
        """Start kwok and wait until it is connected to kube-apiserver (it opens no port, and logs
        only warnings)."""
        home = self.layout.kwok_home
        home.mkdir(parents=True, exist_ok=True)
        proc = self.spawn(state, "kwok", kwok_args(self.layout.kubeconfig), env={"HOME": str(home)})
        took = wait_ready(
            proc,
            lambda: connected_to(proc.pid, state.ports["apiserver"]),
            timeout=self.timeout,
            what="kwok",
            watch=state.procs[:-1],
        )
        self.log(f"kwok ready (pid {proc.pid}; {took:.1f} s)")
        return proc


# --------------------------------------------------------------------------- helpers


def admin_rest(server: str, p: pki_mod.Pki, *, pool_size: int = 8, timeout: float = 30.0) -> Rest:
    """A client of ``server`` as the admin user of the PKI ``p``."""
    return Rest(
        server,
        ca_file=str(p.ca_cert),
        cert_file=str(p.admin_cert),
        key_file=str(p.admin_key),
        pool_size=pool_size,
        timeout=timeout,
    )


def remove(path: Path) -> None:
    """Delete a file or a directory tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _owns_ports_and(proc: Proc, ports: Mapping[str, int], answers: Callable[[], bool]) -> Callable[[], bool]:
    """Readiness = ``proc`` itself listens on every port it was given (a foreign
    listener on a port we picked is never mistaken for it) and ``answers()``."""
    return lambda: all(listens_on(proc.pid, p) for p in ports.values()) and answers()


def http_ok(url: str, expect: str, *, context: ssl.SSLContext | None = None) -> bool:
    with urllib.request.urlopen(url, timeout=2, context=context) as r:
        return expect in r.read().decode()


def client_tls(ca_cert: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """A TLS context trusting ``ca_cert``, presenting the client certificate ``cert`` if given."""
    ctx = ssl.create_default_context(cafile=str(ca_cert))
    if cert is not None:
        ctx.load_cert_chain(str(cert), str(key) if key else None)
    return ctx


def etcd_healthy(port: int, p: pki_mod.Pki) -> bool:
    """etcd's ``/health`` over TLS, as kube-apiserver reaches it (its etcd client certificate)."""
    ctx = client_tls(p.ca_cert, p.etcd_client_cert, p.etcd_client_key)
    return http_ok(f"https://{LOOPBACK}:{port}/health", '"health":"true"', context=ctx)


def tls_handshake_ok(port: int, ca_cert: Path) -> bool:
    """True if a TLS server on ``127.0.0.1:port`` presents a certificate for 127.0.0.1 signed by
    ``ca_cert``."""
    ctx = client_tls(ca_cert)
    with (
        socket.create_connection((LOOPBACK, port), timeout=2) as raw,
        ctx.wrap_socket(raw, server_hostname=LOOPBACK),
    ):
        return True


def queue_open(rest: Rest) -> bool:
    """True once Volcano's queue ``default`` exists and is ``Open``."""
    q = rest.get_or_none(DEFAULT_QUEUE)
    return bool(q) and (q.get("status") or {}).get("state") == "Open"


def write_kubeconfig(
    path: Path, server: str, ca_cert: Path, cert: Path, key: Path, *, user: str = "admin"
) -> None:
    """A kubeconfig (context ``hypertopo-local``) with the CA and a client certificate embedded,
    written atomically with mode 0600 (set before the key is written)."""

    def b64(f: Path) -> str:
        return base64.b64encode(f.read_bytes()).decode()

    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": KUBE_CONTEXT,
                "cluster": {"server": server, "certificate-authority-data": b64(ca_cert)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {"client-certificate-data": b64(cert), "client-key-data": b64(key)},
            }
        ],
        "contexts": [{"name": KUBE_CONTEXT, "context": {"cluster": KUBE_CONTEXT, "user": user}}],
        "current-context": KUBE_CONTEXT,
        "preferences": {},
    }
    pki_mod.write_atomic(path, yaml.safe_dump(cfg, sort_keys=False).encode(), mode=0o600)


def apply_crds(rest: Rest, crd_dir: Path, *, timeout: float = 60.0) -> list[str]:
    """Create the six Volcano CRDs from ``crd_dir`` (read only) and wait until they are Established."""
    names = []
    for f in NEEDED_CRDS:
        obj = yaml.safe_load((crd_dir / f).read_text())
        name = obj["metadata"]["name"]
        names.append(name)
        try:
            rest.request("POST", CRDS_API, obj, raw=True)
        except ApiError as exc:
            if exc.status != 409:
                raise
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for name in sorted(pending):
            crd = rest.get(f"{CRDS_API}/{name}")
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
