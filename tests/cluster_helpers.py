"""One test's sandbox on a local control plane shared by many tests.

:class:`Workspace` is a unique namespace plus the cluster-scoped objects (Nodes, HyperNodes) the
test created, all named with a unique prefix and removed at the end: Jobs, pods (force-deleted,
grace 0, so nothing waits for kwok), PodGroups, HyperNodes, Nodes, and last the namespace
(kube-controller-manager's namespace controller finishes deleting it in the background).

Isolation between tests sharing one cluster: every Workspace node carries the label
``hypertopo.test/workspace=<name>`` and every Job the helpers build pins its pods to it with a
``nodeSelector``; HyperNodes select only the Workspace's own nodes (``exactMatch``/``regexMatch``
on its unique prefix).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypertopo.cluster import LocalCluster, NodeSpec, Task
from hypertopo.cluster.local import HYPERNODES
from hypertopo.cluster.nodes import NodeLike
from hypertopo.cluster.rest import ApiError

WORKSPACE_LABEL = "hypertopo.test/workspace"
ROOT = Path(__file__).resolve().parents[1]
#: kube-apiserver audit policy: every request that can change something (reads are not logged)
AUDIT_POLICY = ROOT / "molecule" / "_shared" / "audit-policy.yaml"
#: the user agent of the Kubernetes Python client that kubernetes.core uses
ANSIBLE_CLIENT = "OpenAPI-Generator/"
#: verbs that change what is stored
MUTATING = frozenset({"create", "update", "patch", "delete", "deletecollection"})
#: access reviews: a "create" that the authorizer answers and nothing stores
ACCESS_REVIEWS = frozenset(
    {
        "selfsubjectaccessreviews",
        "selfsubjectrulesreviews",
        "subjectaccessreviews",
        "localsubjectaccessreviews",
    }
)


def cli(
    *args: str, state_dir: Path, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``hypertopo-cluster <args>`` on the control plane of ``state_dir``."""
    return subprocess.run(
        [sys.executable, "-m", "hypertopo.cluster.cli", *args],
        env={**os.environ, "HYPERTOPO_CLUSTER_DIR": str(state_dir), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line mentions ``text`` (a check only: nothing is signalled by name)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmd and state != "Z":
            out.append(int(d.name))
    return out


def _dns_label(text: str, limit: int) -> str:
    s = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return s[:limit].strip("-") or "t"


@dataclass
class Workspace:
    """One test's sandbox on a shared cluster (see module docstring)."""

    cluster: LocalCluster
    namespace: str
    prefix: str
    nodes: list[str] = field(default_factory=list)
    hypernodes: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, cluster: LocalCluster, test_name: str) -> Workspace:
        suffix = secrets.token_hex(3)
        ns = f"ht-{_dns_label(test_name, 40)}-{suffix}"
        cluster.create_namespace(ns, labels={WORKSPACE_LABEL: ns})
        return cls(cluster=cluster, namespace=ns, prefix=f"ht{suffix}")

    @property
    def pin(self) -> dict[str, str]:
        """The node label (and Job nodeSelector) that keeps this test's pods on its own nodes."""
        return {WORKSPACE_LABEL: self.namespace}

    def name(self, short: str) -> str:
        """A cluster-unique object name for ``short`` (e.g. a node or HyperNode)."""
        return f"{self.prefix}-{short}"

    # ---- nodes and hypernodes

    def create_nodes(
        self, specs: Iterable[NodeLike], *, labels: Mapping[str, str] | None = None
    ) -> list[str]:
        """Create nodes named ``<prefix>-<name>``, labelled with :attr:`pin` (+ ``labels``)."""
        out = []
        for s in specs:
            spec = NodeSpec.of(s)
            out.append(
                dataclasses.replace(
                    spec, name=self.name(spec.name), labels={**spec.labels, **self.pin, **(labels or {})}
                )
            )
        self.nodes.extend(n.name for n in out)
        self.cluster.create_nodes(out)
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
        name = self.name(short)
        self.cluster.create_hypernode(
            name, tier, nodes=nodes, node_regex=node_regex, children=children, labels=self.pin
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
        self, name: str, tasks: Sequence[Task], *, pinned: bool = True, **options: Any
    ) -> dict[str, Any]:
        """A Volcano Job in this namespace (options as :func:`hypertopo.cluster.vcjob`), pinned to
        this workspace's nodes unless ``pinned=False``."""
        if pinned:
            options["node_selector"] = {**(options.get("node_selector") or {}), **self.pin}
        return self.cluster.create_vcjob(name, self.namespace, tasks, **options)

    def placement(self, job: str) -> dict[str, str | None]:
        return self.cluster.placement(self.namespace, job)

    def wait_pods_created(self, job: str, count: int, *, timeout: float = 30.0) -> list[dict[str, Any]]:
        return self.cluster.wait_pods_created(self.namespace, job, count, timeout=timeout)

    def wait_bound(self, job: str, count: int, *, timeout: float = 30.0) -> dict[str, str]:
        return self.cluster.wait_bound(self.namespace, job, count, timeout=timeout)

    def podgroup(self, job: str) -> dict[str, Any] | None:
        return self.cluster.podgroup(self.namespace, job)

    def podgroup_summary(self, job: str) -> str:
        return self.cluster.podgroup_summary(self.namespace, job)

    # ---- clean-up

    def cleanup(self) -> None:
        errors: list[str] = []
        steps = (
            lambda: self.cluster.delete_jobs(self.namespace),
            lambda: [
                self.cluster.delete(f"{HYPERNODES}/{h}", grace_period_seconds=None)
                for h in reversed(self.hypernodes)
            ],
            lambda: self.cluster.delete_nodes(self.nodes),
        )
        for step in steps:
            try:
                step()
            except (ApiError, OSError) as exc:
                errors.append(str(exc))
        # pods the job controller re-created while we were deleting
        with contextlib.suppress(ApiError, OSError):
            self.cluster.force_delete_pods(self.namespace)
        try:
            self.cluster.delete(f"/api/v1/namespaces/{self.namespace}", grace_period_seconds=None)
        except (ApiError, OSError) as exc:
            errors.append(str(exc))
        if errors:
            raise AssertionError(f"clean-up of {self.namespace} failed: {errors}")


@dataclass
class AuditEvent:
    """One request of the audit log (:data:`AUDIT_POLICY` logs everything but reads)."""

    verb: str
    uri: str
    user: str
    user_agent: str
    resource: str
    code: int

    @property
    def dry_run(self) -> bool:
        return "dryRun=All" in self.uri

    @property
    def access_review(self) -> bool:
        return self.resource in ACCESS_REVIEWS

    @property
    def persisted_write(self) -> bool:
        """A mutating request that was not a dry run nor an access review (neither is stored)."""
        return self.verb in MUTATING and not self.dry_run and not self.access_review

    def __str__(self) -> str:
        return f"{self.verb} {self.uri} ({self.code})"


class AuditedCluster:
    """A private control plane whose kube-apiserver logs every write request (:data:`AUDIT_POLICY`)."""

    def __init__(self, cluster: LocalCluster, audit_log: Path) -> None:
        self.cluster = cluster
        self.audit_log = audit_log

    def audit_lines(self) -> int:
        return len(self.audit_log.read_text().splitlines()) if self.audit_log.exists() else 0

    def events_since(self, line: int) -> list[AuditEvent]:
        """The requests logged after ``line`` (ResponseComplete stage)."""
        out = []
        for raw in self.audit_log.read_text().splitlines()[line:]:
            e = json.loads(raw)
            if e.get("stage") not in (None, "ResponseComplete"):
                continue
            out.append(
                AuditEvent(
                    verb=e.get("verb", ""),
                    uri=e.get("requestURI", ""),
                    user=(e.get("user") or {}).get("username", ""),
                    user_agent=e.get("userAgent", ""),
                    resource=(e.get("objectRef") or {}).get("resource", ""),
                    code=(e.get("responseStatus") or {}).get("code", 0),
                )
            )
        return out

    def writes_since(self, line: int, *, user: str | None = None) -> list[str]:
        """Persisted write requests of the Ansible client (or of ``user``) after ``line`` of the
        audit log: dry runs and access reviews are not writes (nothing stores them)."""
        return [
            str(e)
            for e in self.events_since(line)
            if e.persisted_write and (e.user == user if user else e.user_agent.startswith(ANSIBLE_CLIENT))
        ]

    def dry_runs_since(self, line: int) -> list[str]:
        """Server-side dry-run requests of the Ansible client after ``line`` (the admission check:
        they go through admission but persist nothing, so they are not writes)."""
        return [
            str(e) for e in self.events_since(line) if e.dry_run and e.user_agent.startswith(ANSIBLE_CLIENT)
        ]

    def versions(self, namespace: str) -> dict[str, str]:
        """The version of every object a rollout writes: resourceVersion of the HyperNodes, the
        scheduler ConfigMaps, the namespace and its workloads, PodGroups and pods; for a Node a
        digest of its labels and spec (kwok rewrites every Node's status on its heartbeat)."""
        c = self.cluster
        out = {
            f"Node/{n['metadata']['name']}": hashlib.sha1(
                json.dumps([n["metadata"].get("labels"), n.get("spec")], sort_keys=True).encode()
            ).hexdigest()
            for n in c.list("/api/v1/nodes")
        }
        for hn in c.list(HYPERNODES):
            out[f"HyperNode/{hn['metadata']['name']}"] = hn["metadata"]["resourceVersion"]
        for cm in c.list("/api/v1/namespaces/volcano-system/configmaps"):
            out[f"ConfigMap/{cm['metadata']['name']}"] = cm["metadata"]["resourceVersion"]
        out["Namespace"] = c.get(f"/api/v1/namespaces/{namespace}")["metadata"]["resourceVersion"]
        for kind, path in (
            ("Pod", f"/api/v1/namespaces/{namespace}/pods"),
            ("Deployment", f"/apis/apps/v1/namespaces/{namespace}/deployments"),
            ("jobs", f"/apis/batch.volcano.sh/v1alpha1/namespaces/{namespace}/jobs"),
            ("podgroups", f"/apis/scheduling.volcano.sh/v1beta1/namespaces/{namespace}/podgroups"),
        ):
            for obj in c.list(path):
                out[f"{kind}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
        return out


def audited_cluster(cluster_factory: Callable[..., LocalCluster], log_dir: Path) -> AuditedCluster:
    """A private control plane (``cluster_factory``) with an audit log in ``log_dir``."""
    audit_log = log_dir / "audit.log"
    cluster = cluster_factory(
        extra_args={
            "kube-apiserver": [
                f"--audit-policy-file={AUDIT_POLICY}",
                f"--audit-log-path={audit_log}",
                "--audit-log-format=json",
            ]
        }
    )
    return AuditedCluster(cluster, audit_log)
