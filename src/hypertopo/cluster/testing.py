"""Helpers for tests against the local control plane.

:class:`Cluster` wraps a running control plane (REST client, official
``kubernetes`` client, scheduler-configuration switch). :class:`Workspace` is
one test's sandbox: a unique namespace plus the cluster-scoped objects (Nodes,
HyperNodes) the test created, all named with a unique prefix and removed at the
end. Pods are force-deleted (grace 0: no kubelet will ever confirm a graceful
delete); the namespace itself is left behind, because without
kube-controller-manager a Namespace never finishes deleting.

Isolation between tests sharing one cluster: every Workspace node carries the
label ``hypertopo.test/workspace=<name>`` and every Job the helpers build pins
its pods to it with a ``nodeSelector``; HyperNodes select only the
Workspace's own nodes (``exactMatch``/``regexMatch`` on its unique prefix).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypertopo.cluster.controlplane import ControlPlane
from hypertopo.cluster.nodes import GPU_RESOURCE, NodeSpec, apply_nodes, delete_nodes
from hypertopo.cluster.rest import ApiError, Rest

WORKSPACE_LABEL = "hypertopo.test/workspace"
JOBS = "/apis/batch.volcano.sh/v1alpha1"
PODGROUPS = "/apis/scheduling.volcano.sh/v1beta1"
HYPERNODES = "/apis/topology.volcano.sh/v1alpha1/hypernodes"
PLACEHOLDER_IMAGE = "registry.k8s.io/pause:3.10"  # never pulled: no kubelet runs


class Cluster:
    """A running local control plane, as seen by tests."""

    def __init__(self, cp: ControlPlane, *, started_here: bool) -> None:
        self.cp = cp
        self.started_here = started_here
        self.kubeconfig: Path = cp.kubeconfig
        self.rest: Rest = cp.rest(pool_size=16)
        self._api_client: Any = None

    # ---- official client (lazy: importing kubernetes costs ~0.5 s)

    @property
    def api_client(self) -> Any:
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
        self.rest.close()
        if self._api_client is not None:
            self._api_client.close()
            self._api_client = None

    # ---- scheduler configuration

    @contextlib.contextmanager
    def scheduler_conf(self, *, nta: bool | None) -> Iterator[None]:
        """Run the body with another vc-scheduler configuration, then restore the
        previous one (hot reload, well under a second each way).

        Changing the *shared* cluster's configuration affects every test running
        against it at the same time; prefer a private cluster
        (``cluster_factory``) for that.
        """
        from hypertopo.rollout import scheduler_config as schedconf

        state = self.cp.load_state()
        previous = True if state is None else state.nta
        role_default = schedconf.nta_enabled(schedconf.default_conf_from_role())
        self.cp.set_scheduler_conf(nta=nta)
        try:
            yield
        finally:
            self.cp.set_scheduler_conf(nta=None if previous == role_default else previous)

    def workspace(self, test_name: str) -> Workspace:
        return Workspace.create(self, test_name)


def _dns_label(text: str, limit: int) -> str:
    s = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return s[:limit].strip("-") or "t"


@dataclass(frozen=True)
class Task:
    """One task of a Volcano Job: ``replicas`` pods, each asking for ``gpus`` GPUs."""

    name: str
    replicas: int
    gpus: int = 0
    cpu: str = "1"
    memory: str = "1Gi"
    min_available: int | None = None


def vcjob(
    name: str,
    namespace: str,
    tasks: Sequence[Task],
    *,
    network_topology: Mapping[str, Any] | None = None,
    node_selector: Mapping[str, str] | None = None,
    queue: str = "default",
    min_available: int | None = None,
) -> dict[str, Any]:
    """A fully specified Volcano Job (no admission webhook fills in defaults here)."""
    task_objs = []
    for t in tasks:
        requests: dict[str, str] = {"cpu": t.cpu, "memory": t.memory}
        limits: dict[str, str] = {"cpu": t.cpu, "memory": t.memory}
        if t.gpus:
            requests[GPU_RESOURCE] = str(t.gpus)
            limits[GPU_RESOURCE] = str(t.gpus)
        pod_spec: dict[str, Any] = {
            "schedulerName": "volcano",
            "restartPolicy": "OnFailure",
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "main",
                    "image": PLACEHOLDER_IMAGE,
                    "resources": {"requests": requests, "limits": limits},
                }
            ],
        }
        if node_selector:
            pod_spec["nodeSelector"] = dict(node_selector)
        task_objs.append(
            {
                "name": t.name,
                "replicas": t.replicas,
                "minAvailable": t.replicas if t.min_available is None else t.min_available,
                "maxRetry": 3,
                "template": {"metadata": {"labels": {"hypertopo.test/task": t.name}}, "spec": pod_spec},
            }
        )
    spec: dict[str, Any] = {
        "schedulerName": "volcano",
        "queue": queue,
        "maxRetry": 3,
        "minAvailable": (
            min_available if min_available is not None else sum(int(t["minAvailable"]) for t in task_objs)
        ),
        "tasks": task_objs,
    }
    if network_topology:
        spec["networkTopology"] = dict(network_topology)
    return {
        "apiVersion": "batch.volcano.sh/v1alpha1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


@dataclass
class Workspace:
    """One test's sandbox on the shared cluster (see module docstring)."""

    cluster: Cluster
    namespace: str
    prefix: str
    nodes: list[str] = field(default_factory=list)
    hypernodes: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, cluster: Cluster, test_name: str) -> Workspace:
        suffix = secrets.token_hex(3)
        ns = f"ht-{_dns_label(test_name, 40)}-{suffix}"
        ws = cls(cluster=cluster, namespace=ns, prefix=f"ht{suffix}")
        cluster.rest.post(
            "/api/v1/namespaces",
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "labels": {WORKSPACE_LABEL: ns}},
            },
        )
        return ws

    @property
    def rest(self) -> Rest:
        return self.cluster.rest

    @property
    def pin(self) -> dict[str, str]:
        """The node label (and Job nodeSelector) that keeps this test's pods on its own nodes."""
        return {WORKSPACE_LABEL: self.namespace}

    def name(self, short: str) -> str:
        """A cluster-unique object name for ``short`` (e.g. a node or HyperNode)."""
        return f"{self.prefix}-{short}"

    # ---- nodes and hypernodes

    def create_nodes(
        self, specs: Iterable[NodeSpec | Sequence[Any]], *, labels: Mapping[str, str] | None = None
    ) -> list[str]:
        """Create nodes named ``<prefix>-<name>``, labelled with :attr:`pin` (+ ``labels``)."""
        out = []
        for s in specs:
            spec = NodeSpec.of(s)
            out.append(
                NodeSpec(
                    self.name(spec.name),
                    spec.cpu,
                    spec.memory,
                    spec.gpu,
                    spec.pods,
                    {**spec.labels, **self.pin, **(labels or {})},
                )
            )
        self.nodes.extend(n.name for n in out)
        apply_nodes(self.rest, out)
        return [n.name for n in out]

    def create_hypernode(
        self,
        short: str,
        tier: int,
        *,
        nodes: Sequence[str] = (),
        node_regex: str | None = None,
        children: Sequence[str] = (),
    ) -> str:
        """A HyperNode ``<prefix>-<short>`` whose members are exact node names,
        a node-name regex, or child HyperNodes (full names)."""
        members: list[dict[str, Any]] = [
            {"type": "Node", "selector": {"exactMatch": {"name": n}}} for n in nodes
        ]
        if node_regex:
            members.append({"type": "Node", "selector": {"regexMatch": {"pattern": node_regex}}})
        members += [{"type": "HyperNode", "selector": {"exactMatch": {"name": c}}} for c in children]
        name = self.name(short)
        self.rest.post(
            HYPERNODES,
            {
                "apiVersion": "topology.volcano.sh/v1alpha1",
                "kind": "HyperNode",
                "metadata": {"name": name, "labels": self.pin},
                "spec": {"tier": tier, "members": members},
            },
        )
        self.hypernodes.append(name)
        return name

    def two_leaf_topology(self, *, nodes_per_leaf: int = 2, gpus: int = 8) -> dict[str, list[str]]:
        """leaf-a and leaf-b (tier 1, ``nodes_per_leaf`` nodes each) under agg (tier 2).
        Returns ``{leaf HyperNode name: [node names]}``."""
        layout: dict[str, list[str]] = {}
        leaves = []
        for leaf in ("a", "b"):
            names = self.create_nodes(
                [NodeSpec(f"{leaf}{i}", cpu="64", memory="512Gi", gpu=gpus) for i in range(nodes_per_leaf)]
            )
            hn = self.create_hypernode(f"leaf-{leaf}", 1, nodes=names)
            layout[hn] = names
            leaves.append(hn)
        self.create_hypernode("agg", 2, children=leaves)
        return layout

    # ---- jobs and pods

    def create_job(
        self,
        name: str,
        tasks: Sequence[Task],
        *,
        network_topology: Mapping[str, Any] | None = None,
        pinned: bool = True,
    ) -> dict[str, Any]:
        selector = self.pin if pinned else None
        body = vcjob(name, self.namespace, tasks, network_topology=network_topology, node_selector=selector)
        return self.rest.post(f"{JOBS}/namespaces/{self.namespace}/jobs", body)

    def pods(self, job: str) -> list[dict[str, Any]]:
        sel = f"volcano.sh/job-name={job}"
        return self.rest.get(f"/api/v1/namespaces/{self.namespace}/pods?labelSelector={sel}")["items"]

    def placement(self, job: str) -> dict[str, str | None]:
        """``{pod name: spec.nodeName or None}`` for the Job's pods."""
        return {p["metadata"]["name"]: p["spec"].get("nodeName") for p in self.pods(job)}

    def wait_pods_created(self, job: str, count: int, *, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            pods = self.pods(job)
            if len(pods) >= count:
                return pods
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"job {self.namespace}/{job}: {len(pods)}/{count} pods created after {timeout:.0f} s "
                    f"(vc-controller-manager log: {self.cluster.cp.layout.log('vc-controller-manager')})"
                )
            time.sleep(0.2)

    def wait_bound(self, job: str, count: int, *, timeout: float = 30.0) -> dict[str, str]:
        """Wait until ``count`` pods of ``job`` have ``spec.nodeName``; returns pod -> node."""
        deadline = time.monotonic() + timeout
        while True:
            placement = self.placement(job)
            bound = {p: n for p, n in placement.items() if n}
            if len(bound) >= count:
                return bound
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"job {self.namespace}/{job}: {len(bound)}/{count} pods bound after {timeout:.0f} s: "
                    f"{placement}; podgroup: {self.podgroup_summary(job)}"
                )
            time.sleep(0.2)

    def podgroup(self, job: str) -> dict[str, Any] | None:
        items = self.rest.get(f"{PODGROUPS}/namespaces/{self.namespace}/podgroups")["items"]
        for pg in items:
            owners = pg["metadata"].get("ownerReferences") or []
            if any(o.get("kind") == "Job" and o.get("name") == job for o in owners):
                return pg
        return None

    def podgroup_summary(self, job: str) -> str:
        pg = self.podgroup(job)
        if pg is None:
            return "none"
        st = pg.get("status") or {}
        conds = [
            f"{c.get('type')}={c.get('status')} ({c.get('reason')}: {c.get('message')})"
            for c in st.get("conditions") or []
        ]
        return f"phase={st.get('phase')} conditions={conds}"

    # ---- clean-up

    def force_delete_pods(self) -> int:
        pods = self.rest.get(f"/api/v1/namespaces/{self.namespace}/pods")["items"]
        for p in pods:
            self.rest.delete(
                f"/api/v1/namespaces/{self.namespace}/pods/{p['metadata']['name']}", grace_period_seconds=0
            )
        return len(pods)

    def cleanup(self) -> None:
        errors: list[str] = []
        steps = (
            lambda: self.rest.request("DELETE", f"{JOBS}/namespaces/{self.namespace}/jobs", ok=(200, 404)),
            self.force_delete_pods,
            lambda: self.rest.request(
                "DELETE", f"{PODGROUPS}/namespaces/{self.namespace}/podgroups", ok=(200, 404)
            ),
            lambda: [self.rest.delete(f"{HYPERNODES}/{h}") for h in reversed(self.hypernodes)],
            lambda: delete_nodes(self.rest, self.nodes),
        )
        for step in steps:
            try:
                step()
            except (ApiError, OSError) as exc:
                errors.append(str(exc))
        # pods the job controller re-created while we were deleting
        with contextlib.suppress(ApiError, OSError):
            self.force_delete_pods()
        if errors:
            raise AssertionError(f"clean-up of {self.namespace} failed: {errors}")
