"""The library API of the local control plane: :func:`local_cluster` and :class:`LocalCluster`.

::

    from hypertopo.cluster import NodeSpec, Task, local_cluster

    with local_cluster() as c:                        # private; stopped on exit, errors and signals
        c.create_nodes([NodeSpec("n0", gpu=8), NodeSpec("cpu0", gpu=None, taints=[...])])
        c.create_hypernode("leaf0", 1, nodes=["n0"])
        c.create_namespace("demo")
        c.create_vcjob("pd", "demo", [Task("worker", 2, gpus=4)],
                       network_topology={"mode": "hard", "highestTierAllowed": 1})
        print(c.wait_bound("demo", "pd", 2))           # {pod: node}
        c.set_scheduler_conf({"actions": "enqueue, allocate", "tiers": [...]})

A :class:`LocalCluster` can also wrap a control plane someone else started (the CLI's shared
one: ``LocalCluster(ControlPlane())``); closing it then leaves that control plane running.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from hypertopo.cluster import signals
from hypertopo.cluster.controlplane import ControlPlane, Logger, stderr_logger
from hypertopo.cluster.nodes import ApplyResult, NodeLike, NodeSpec, apply_nodes, delete_nodes
from hypertopo.cluster.processes import ClusterError
from hypertopo.cluster.rest import Rest
from hypertopo.cluster.scheduler_conf import ConfSource
from hypertopo.cluster.workloads import (
    VCJOB_API,
    Task,
    bound_pod,
    collection_path,
    namespace_object,
    object_path,
    pod_running,
    vcjob,
)
from hypertopo.topology.objects import HYPERNODE_API, hypernode_object

JOBS = f"/apis/{VCJOB_API}"
PODGROUPS = "/apis/scheduling.volcano.sh/v1beta1"
HYPERNODES = f"/apis/{HYPERNODE_API}/hypernodes"


class LocalCluster:
    """A running local control plane and the means to fill it and read it back.

    Objects are created with :meth:`create` (any object) or the helpers for Nodes, HyperNodes,
    bound pods and Volcano Jobs; read back with :meth:`get` / :meth:`list` (any REST path) or
    the official ``kubernetes`` client (:attr:`core`, :attr:`custom`, with :attr:`kubeconfig`).
    ``stop_on_close`` stops the control plane in :meth:`close` (set by :func:`local_cluster`).
    """

    vcjob = staticmethod(vcjob)
    bound_pod = staticmethod(bound_pod)

    def __init__(
        self, control_plane: ControlPlane, *, stop_on_close: bool = False, pool_size: int = 16
    ) -> None:
        self.control_plane = control_plane
        self.stop_on_close = stop_on_close
        self.kubeconfig: Path = control_plane.kubeconfig
        self.rest: Rest = control_plane.rest(pool_size=pool_size)
        self.pool_size = pool_size
        self._api_client: Any = None

    # ---- identity and clients

    @property
    def server(self) -> str:
        """The kube-apiserver URL (``https://127.0.0.1:<port>``)."""
        return self.rest.server

    @property
    def state_dir(self) -> Path:
        return self.control_plane.state_dir

    @property
    def logs(self) -> Path:
        """The components' log folder (``<component>.log``)."""
        return self.control_plane.layout.logs

    @property
    def api_client(self) -> Any:
        """An official ``kubernetes`` ApiClient for this cluster (imported on first use)."""
        if self._api_client is None:
            from kubernetes import config

            self._api_client = config.new_client_from_config(config_file=str(self.kubeconfig))
        return self._api_client

    @property
    def core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.api_client)

    @property
    def custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.api_client)

    def close(self) -> None:
        """Close the clients; stop the control plane too if this handle owns it."""
        self.rest.close()
        if self._api_client is not None:
            self._api_client.close()
            self._api_client = None
        if self.stop_on_close:
            with signals.deferred():
                self.control_plane.down()

    def stop_component(self, name: str) -> bool:
        """Stop one component (``"kube-apiserver"``, ``"vc-scheduler"``, ``"vc-webhook-manager"``,
        ...), leaving the others running: see :meth:`ControlPlane.stop_component`."""
        return self.control_plane.stop_component(name)

    def restart_component(self, name: str, *, timeout: float | None = None) -> float:
        """Start one component again, same flags and ports, and wait until it is ready."""
        return self.control_plane.restart_component(name, timeout=timeout)

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- any object

    def create(self, obj: Mapping[str, Any], *, namespace: str | None = None) -> dict[str, Any]:
        """Create ``obj`` (any kind; ``namespace`` overrides its ``metadata.namespace``)."""
        body = dict(obj)
        if namespace is not None:
            body["metadata"] = {**body["metadata"], "namespace": namespace}
        ns = body["metadata"].get("namespace")
        return self.rest.post(collection_path(body["apiVersion"], body["kind"], ns), body)

    def get(self, path: str) -> dict[str, Any]:
        """GET a REST path (``/api/v1/nodes/n0``, ``/apis/.../hypernodes``, ...)."""
        return self.rest.get(path)

    def get_or_none(self, path: str) -> dict[str, Any] | None:
        return self.rest.get_or_none(path)

    def list(self, path: str, *, label_selector: str | None = None) -> list[dict[str, Any]]:
        """The ``items`` of a collection path, optionally filtered by a label selector."""
        query = f"?labelSelector={label_selector}" if label_selector else ""
        return list(self.rest.get(path + query)["items"])

    def delete(self, path_or_obj: str | Mapping[str, Any], *, grace_period_seconds: int | None = 0) -> None:
        """Delete by REST path or object (grace 0 by default, so nothing waits for kwok to confirm;
        ``None`` is the object's own grace period)."""
        path = path_or_obj if isinstance(path_or_obj, str) else object_path(path_or_obj)
        self.rest.delete(path, grace_period_seconds=grace_period_seconds)

    # ---- namespaces, nodes, HyperNodes, pods

    def create_namespace(
        self, name: str, *, labels: Mapping[str, str] | None = None, timeout: float = 30.0
    ) -> str:
        """Create a namespace and wait for its ``default`` ServiceAccount (made by
        kube-controller-manager; the ServiceAccount admission plugin refuses pods without it)."""
        self.rest.post("/api/v1/namespaces", namespace_object(name, labels))
        deadline = time.monotonic() + timeout
        while self.rest.get_or_none(f"/api/v1/namespaces/{name}/serviceaccounts/default") is None:
            if time.monotonic() > deadline:
                raise ClusterError(f"namespace {name}: no ServiceAccount 'default' after {timeout:.0f} s")
            time.sleep(0.1)
        return name

    def create_nodes(self, nodes: Iterable[NodeLike], *, workers: int | None = None) -> ApplyResult:
        """Create (or update) simulated Nodes: :class:`NodeSpec`, Node objects, inventory hosts
        or ``(name, cpu, memory, gpu, pods)`` tuples."""
        return apply_nodes(self.rest, nodes, workers=workers or self.pool_size)

    def create_node(self, name: str, **spec: Any) -> dict[str, Any]:
        """One simulated Node; keyword arguments as :class:`NodeSpec` (``labels``, ``taints``,
        ``gpu`` (``None``: no GPUs), ``resources``, ``unschedulable``, ...). Returns it as stored."""
        self.create_nodes([NodeSpec(name, **spec)])
        return self.get(f"/api/v1/nodes/{name}")

    def delete_nodes(self, names: Iterable[str]) -> int:
        return delete_nodes(self.rest, names, workers=self.pool_size)

    def create_hypernode(
        self,
        name: str,
        tier: int,
        *,
        nodes: Sequence[str] = (),
        node_regex: str | None = None,
        node_labels: Mapping[str, str] | None = None,
        children: Sequence[str] = (),
        leaf_type: str | None = None,
        labels: Mapping[str, str] | None = None,
        tier_name: str | None = None,
    ) -> dict[str, Any]:
        """A HyperNode whose members are Nodes by exact name, by name regex or by labels, and/or
        child HyperNodes by name; ``leaf_type`` makes it one of our leaves (members selected by
        our switch labels, as the hypernodes role renders them)."""
        obj = hypernode_object(
            name, tier, leaf_type=leaf_type, children=children, labels=labels, tier_name=tier_name
        )
        node_members: list[dict[str, Any]] = [
            {"type": "Node", "selector": {"exactMatch": {"name": n}}} for n in nodes
        ]
        if node_regex:
            node_members.append({"type": "Node", "selector": {"regexMatch": {"pattern": node_regex}}})
        if node_labels:
            node_members.append(
                {"type": "Node", "selector": {"labelMatch": {"matchLabels": dict(node_labels)}}}
            )
        obj["spec"]["members"] = node_members + obj["spec"]["members"]
        return self.rest.post(HYPERNODES, obj)

    def create_pod(self, name: str, namespace: str, node: str, **kwargs: Any) -> dict[str, Any]:
        """A pod bound to ``node``; keyword arguments as :func:`~hypertopo.cluster.workloads.bound_pod`."""
        return self.create(bound_pod(name, namespace, node, **kwargs))

    def pods(self, namespace: str, *, job: str | None = None) -> list[dict[str, Any]]:
        """The pods of a namespace, or of one Volcano Job in it."""
        selector = f"volcano.sh/job-name={job}" if job else None
        return self.list(f"/api/v1/namespaces/{namespace}/pods", label_selector=selector)

    def force_delete_pods(self, namespace: str) -> int:
        pods = self.pods(namespace)
        for p in pods:
            self.delete(f"/api/v1/namespaces/{namespace}/pods/{p['metadata']['name']}")
        return len(pods)

    # ---- Volcano Jobs

    def create_job(self, job: Mapping[str, Any], *, namespace: str | None = None) -> dict[str, Any]:
        """Create a Volcano Job object as given (any spec; e.g. built with :meth:`vcjob`)."""
        return self.create(job, namespace=namespace)

    def create_vcjob(
        self, name: str, namespace: str, tasks: Sequence[Task], **options: Any
    ) -> dict[str, Any]:
        """Create ``vcjob(name, namespace, tasks, **options)``: ``network_topology``,
        ``node_selector``, ``tolerations``, ``queue``, ``min_available``, ``priority_class_name``,
        ``spec`` (see :func:`~hypertopo.cluster.workloads.vcjob`)."""
        return self.create(vcjob(name, namespace, tasks, **options))

    def placement(self, namespace: str, job: str) -> dict[str, str | None]:
        """``{pod name: spec.nodeName or None}`` for the Job's pods."""
        return {p["metadata"]["name"]: p["spec"].get("nodeName") for p in self.pods(namespace, job=job)}

    def wait_pods_created(
        self, namespace: str, job: str, count: int, *, timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Wait until the job controller has created ``count`` pods of ``job``."""
        deadline = time.monotonic() + timeout
        while True:
            pods = self.pods(namespace, job=job)
            if len(pods) >= count:
                return pods
            if time.monotonic() > deadline:
                log = self.control_plane.layout.log("vc-controller-manager")
                raise ClusterError(
                    f"job {namespace}/{job}: {len(pods)}/{count} pods created after {timeout:.0f} s "
                    f"(vc-controller-manager log: {log})"
                )
            time.sleep(0.2)

    def wait_running(
        self, namespace: str, job: str, count: int, *, timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` pods of ``job`` are ``Running`` and ``Ready`` (kwok runs them)."""
        deadline = time.monotonic() + timeout
        while True:
            pods = self.pods(namespace, job=job)
            running = [p for p in pods if pod_running(p)]
            if len(running) >= count:
                return running
            if time.monotonic() > deadline:
                phases = {p["metadata"]["name"]: (p.get("status") or {}).get("phase") for p in pods}
                raise ClusterError(
                    f"job {namespace}/{job}: {len(running)}/{count} pods Running and Ready after "
                    f"{timeout:.0f} s: {phases}"
                )
            time.sleep(0.2)

    def wait_bound(self, namespace: str, job: str, count: int, *, timeout: float = 30.0) -> dict[str, str]:
        """Wait until ``count`` pods of ``job`` have ``spec.nodeName``; returns pod -> node."""
        deadline = time.monotonic() + timeout
        while True:
            placement = self.placement(namespace, job)
            bound = {p: n for p, n in placement.items() if n}
            if len(bound) >= count:
                return bound
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"job {namespace}/{job}: {len(bound)}/{count} pods bound after {timeout:.0f} s: "
                    f"{placement}; podgroup: {self.podgroup_summary(namespace, job)}"
                )
            time.sleep(0.2)

    def podgroup(self, namespace: str, job: str) -> dict[str, Any] | None:
        """The PodGroup the job controller made for ``job``, if any."""
        for pg in self.list(f"{PODGROUPS}/namespaces/{namespace}/podgroups"):
            owners = pg["metadata"].get("ownerReferences") or []
            if any(o.get("kind") == "Job" and o.get("name") == job for o in owners):
                return pg
        return None

    def podgroup_summary(self, namespace: str, job: str, *, brief: bool = False) -> str:
        """The phase and conditions of the Job's PodGroup, for messages: all conditions with
        their messages, or (``brief``) the phase and the true conditions with their reasons."""
        pg = self.podgroup(namespace, job)
        if pg is None:
            return "no PodGroup"
        st = pg.get("status") or {}
        conds = st.get("conditions") or []
        if brief:
            true = [
                f"{c.get('type')}={c.get('status')}({c.get('reason')})"
                for c in conds
                if c.get("status") == "True"
            ]
            return f"{st.get('phase')} {' '.join(true)}".strip()
        full = [f"{c.get('type')}={c.get('status')} ({c.get('reason')}: {c.get('message')})" for c in conds]
        return f"phase={st.get('phase')} conditions={full}"

    def delete_jobs(self, namespace: str) -> None:
        """Delete a namespace's Jobs, their pods (grace 0) and PodGroups."""
        self.rest.request("DELETE", f"{JOBS}/namespaces/{namespace}/jobs", ok=(200, 404))
        self.force_delete_pods(namespace)
        self.rest.request("DELETE", f"{PODGROUPS}/namespaces/{namespace}/podgroups", ok=(200, 404))

    # ---- vc-scheduler's configuration

    def scheduler_conf(self) -> dict[str, Any]:
        """The configuration vc-scheduler runs with."""
        return yaml.safe_load(self.control_plane.scheduler_conf_text())

    def set_scheduler_conf(
        self, conf: ConfSource | None = None, *, nta: bool | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Give vc-scheduler another configuration (a mapping, or a file's path) and wait until
        it has loaded it; ``None`` is the ``scheduler_config`` role's, with ``nta=`` forcing the
        network-topology-aware plugin in or out. Returns the new configuration."""
        return self.control_plane.set_scheduler_conf(conf, nta=nta, timeout=timeout)

    @contextlib.contextmanager
    def using_scheduler_conf(
        self, conf: ConfSource | None = None, *, nta: bool | None = None
    ) -> Iterator[dict[str, Any]]:
        """Run the block with another configuration, then restore the previous one."""
        previous = self.scheduler_conf()
        try:
            yield self.set_scheduler_conf(conf, nta=nta)
        finally:
            self.set_scheduler_conf(previous)


@contextlib.contextmanager
def local_cluster(
    *,
    scheduler_conf: ConfSource | None = None,
    nta: bool | None = None,
    workdir: Path | str | None = None,
    keep_logs: Path | str | None = None,
    bin_dir: Path | str | None = None,
    crd_dir: Path | str | None = None,
    extra_args: Mapping[str, Sequence[str]] | None = None,
    log: Logger = stderr_logger,
    start_timeout: float = 90.0,
) -> Iterator[LocalCluster]:
    """Start a private control plane in a new temporary directory; stop it and remove the
    directory when the block ends, however it ends (return, exception, Ctrl-C, SIGTERM or
    SIGHUP; the two signals raise :class:`SystemExit` inside the block while it runs in the
    main thread).

    vc-scheduler starts with ``scheduler_conf`` (a mapping, or a file's path) or the
    ``scheduler_config`` role's configuration (``nta=`` forces the network-topology-aware
    plugin in or out). ``workdir`` is where the temporary directory goes (default: the system's
    temporary folder); ``keep_logs`` receives a copy of the components' logs at the end.
    ``bin_dir``, ``crd_dir``, ``extra_args`` and ``log`` as for :class:`ControlPlane`. Raises
    :class:`ClusterError` when the binaries are missing or a component does not start.
    """
    tmp = Path(tempfile.mkdtemp(prefix="hypertopo-cluster-", dir=workdir))
    cp = ControlPlane(
        tmp / "state",
        bin_dir=bin_dir,
        crd_dir=crd_dir,
        extra_args=extra_args,
        log=log,
        start_timeout=start_timeout,
    )
    try:
        with signals.exit_on_termination():
            try:
                cp.up(owner="local_cluster", nta=nta, scheduler_conf=scheduler_conf)
                with LocalCluster(cp) as cluster:
                    yield cluster
            finally:
                with signals.deferred():
                    cp.down()
    finally:
        with signals.deferred():
            if keep_logs is not None:
                _copy_logs(cp.layout.logs, Path(keep_logs))
            shutil.rmtree(tmp, ignore_errors=True)


def _copy_logs(logs: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in logs.glob("*.log"):
        shutil.copy(f, dest / f.name)
