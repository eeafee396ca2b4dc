"""The Kubernetes permissions each playbook needs: ONE definition.

From :data:`NEEDS` come (1) the access preflight of ``site.yml`` and ``teardown.yml`` (one
``SelfSubjectAccessReview`` per verb and resource, filter ``hypertopo_access_reviews``; the
denied ones are named by ``hypertopo_access_denied`` before the first write), (2) the README's
permission table (:func:`markdown_table`), and (3) the test that ``deploy/rbac/`` grants the
ServiceAccounts exactly these permissions (:func:`grants`).

A need is scoped to the whole cluster (``cluster``), the PD namespace (``pd``:
``pd_services_namespace``), the scheduler ConfigMap's namespace (``scheduler``:
``scheduler_config_namespace``) or the rollout lock's namespace (``lock``:
:data:`LOCK_NAMESPACE`). ``names`` restricts it to objects of these names (RBAC
``resourceNames``); ``{configmap}`` stands for ``scheduler_config_configmap_name``. A need of
``namespaces`` in a namespaced scope is that namespace itself (a Role can grant no other).

The preflight asks for everything a playbook may do with these variables, whatever the state of
the cluster (e.g. ``delete`` HyperNodes for pruning even when none is to be pruned now), so a
missing permission is found on the first run, not on the day it is first used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: The namespace of the ServiceAccounts and of the rollout lock (a coordination.k8s.io Lease).
LOCK_NAMESPACE = "hypertopo-system"
#: ServiceAccount -> the playbooks it runs.
ACCOUNTS: dict[str, tuple[str, ...]] = {
    "hypertopo": ("site", "teardown"),
    "hypertopo-readonly": ("plan", "verify", "explain", "drift"),
}
SCOPES = ("cluster", "pd", "scheduler", "lock")


@dataclass(frozen=True)
class Need:
    """``verbs`` on ``resource`` of API ``group`` ("" = core) in ``scope``, for ``why``."""

    verbs: tuple[str, ...]
    group: str
    resource: str
    scope: str
    why: str
    names: tuple[str, ...] = ()

    @property
    def resource_name(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


_HN = "topology.volcano.sh"
_VCJOB = "batch.volcano.sh"
_PG = "scheduling.volcano.sh"
_PC = "scheduling.k8s.io"
_WORKLOADS = "create/update the PD workloads (client-side apply), delete stale or changed ones"

# the rollout lock (role rollout_lock): read, created, renewed and taken over by a patch
# conditioned on its resourceVersion, deleted at the end
_LOCK = Need(
    ("get", "create", "patch", "delete"),
    "coordination.k8s.io",
    "leases",
    "lock",
    "the rollout lock (one writing run at a time)",
)

_SITE = (
    Need(("get", "list", "patch"), "", "nodes", "cluster", "read and patch our node labels"),
    Need(
        ("get", "list", "create", "patch", "delete"),
        _HN,
        "hypernodes",
        "cluster",
        "apply our HyperNodes, prune the ones that left the inventory",
    ),
    Need(("list",), "", "pods", "cluster", "the placement prediction counts the resources other pods hold"),
    Need(
        ("get", "patch"),
        "",
        "configmaps",
        "scheduler",
        "merge the network-topology-aware plugin into the scheduler configuration",
        ("{configmap}",),
    ),
    # a Role grants "get namespaces" on its own namespace only
    Need(("get",), "", "namespaces", "pd", "check that the PD namespace exists (itself only)"),
    Need(("get", "list", "create", "patch", "delete"), _VCJOB, "jobs", "pd", _WORKLOADS),
    Need(("get", "list", "create", "patch", "delete"), "apps", "deployments", "pd", _WORKLOADS),
    Need(
        ("get", "list", "delete"),
        "apps",
        "replicasets",
        "pd",
        "delete the ReplicaSets of a deleted Deployment",
    ),
    Need(
        ("get", "list", "delete"),
        _PG,
        "podgroups",
        "pd",
        "wait reports; delete the PodGroups of deleted workloads",
    ),
    Need(
        ("get", "list", "delete"),
        "",
        "pods",
        "pd",
        "wait until bound and running; delete pods of deleted workloads",
    ),
    Need(("list",), "", "events", "pd", "explain pods that are not bound"),
    _LOCK,
)

_TEARDOWN = (
    _LOCK,
    Need(("get", "list", "patch"), "", "nodes", "cluster", "remove our label keys"),
    Need(("get", "list", "delete"), _HN, "hypernodes", "cluster", "delete our HyperNodes"),
    Need(("get", "list", "delete"), _VCJOB, "jobs", "pd", "delete our Volcano Jobs"),
    Need(("get", "list", "delete"), "apps", "deployments", "pd", "delete our Deployments"),
    Need(("get", "list", "delete"), "apps", "replicasets", "pd", "delete their ReplicaSets"),
    Need(("get", "list", "delete"), _PG, "podgroups", "pd", "delete their PodGroups"),
    Need(("get", "list", "delete"), "", "pods", "pd", "delete their pods, wait until gone"),
)

_PLAN = (
    Need(("list",), "", "nodes", "cluster", "plan_from_cluster: the live Nodes"),
    Need(("list",), _HN, "hypernodes", "cluster", "plan_from_cluster: the live HyperNodes"),
    Need(("list",), "", "pods", "cluster", "plan_from_cluster: resources other pods hold"),
    Need(("list",), _PC, "priorityclasses", "cluster", "plan_from_cluster: the jobs' priorities"),
    Need(
        ("get",),
        "",
        "configmaps",
        "scheduler",
        "plan_from_cluster: the scheduler configuration",
        ("{configmap}",),
    ),
)

_VERIFY = (
    Need(("list",), "", "nodes", "cluster", "the live Nodes"),
    Need(("list",), _HN, "hypernodes", "cluster", "the live HyperNodes"),
    Need(("list",), "", "pods", "cluster", "our pods and the resources other pods hold"),
    Need(("list",), _PC, "priorityclasses", "cluster", "the jobs' priorities (the order they are served in)"),
    Need(("list",), _VCJOB, "jobs", "pd", "the Jobs' phase"),
    Need(("list",), "apps", "deployments", "pd", "the Deployments' availability"),
)

_EXPLAIN = (
    Need(("list",), "", "nodes", "cluster", "the live Nodes"),
    Need(("list",), _HN, "hypernodes", "cluster", "the live HyperNodes"),
    Need(("list",), "", "pods", "cluster", "the job's pods and the resources other pods hold"),
    Need(("list",), _PC, "priorityclasses", "cluster", "the jobs' priorities (the order they are served in)"),
    Need(("get",), "", "configmaps", "scheduler", "the scheduler configuration", ("{configmap}",)),
    Need(("list",), _VCJOB, "jobs", "cluster", "find the job to explain (any namespace)"),
    Need(("list",), "apps", "deployments", "cluster", "find the Deployment to explain (any namespace)"),
    Need(("list",), "apps", "statefulsets", "cluster", "find the StatefulSet to explain (any namespace)"),
    Need(("list",), _PG, "podgroups", "cluster", "find the PodGroup to explain (any namespace)"),
)

_DRIFT = (
    Need(("list",), "", "nodes", "cluster", "compare the Nodes with the inventory"),
    Need(("list",), _HN, "hypernodes", "cluster", "compare the HyperNodes with the inventory"),
)

#: playbook (without ``.yml``) -> what it needs.
NEEDS: dict[str, tuple[Need, ...]] = {
    "site": _SITE,
    "teardown": _TEARDOWN,
    "plan": _PLAN,
    "verify": _VERIFY,
    "explain": _EXPLAIN,
    "drift": _DRIFT,
}

#: One permission: (scope, API group, resource, verb, object name or "" for any).
Grant = tuple[str, str, str, str, str]


def expand(needs: Iterable[Need]) -> set[Grant]:
    """Every (scope, group, resource, verb, name) the needs ask for."""
    return {
        (n.scope, n.group, n.resource, v, name) for n in needs for v in n.verbs for name in (n.names or ("",))
    }


def account_needs(account: str) -> set[Grant]:
    """What a ServiceAccount of :data:`ACCOUNTS` needs: the union over its playbooks."""
    return set().union(*(expand(NEEDS[p]) for p in ACCOUNTS[account]))


def _namespaces(namespaces: Mapping[str, str]) -> dict[str, str]:
    missing = {"pd", "scheduler"} - set(namespaces)
    if missing:
        raise ValueError(f"namespaces: missing {sorted(missing)}")
    return {"cluster": "", "lock": LOCK_NAMESPACE, **{k: str(v) for k, v in namespaces.items() if v}}


def access_reviews(playbook: str, namespaces: Mapping[str, str], configmap: str) -> list[dict[str, Any]]:
    """One ``SelfSubjectAccessReview`` per verb and resource ``playbook`` needs.

    ``namespaces``: ``{"pd": <pd_services_namespace>, "scheduler": <scheduler_config_namespace>}``;
    ``configmap``: the scheduler ConfigMap's name."""
    if playbook not in NEEDS:
        raise ValueError(f"playbook: one of {sorted(NEEDS)}, not {playbook!r}")
    ns = _namespaces(namespaces)
    reviews = []
    for scope, group, resource, verb, name in sorted(expand(NEEDS[playbook])):
        attrs = {"verb": verb, "group": group, "resource": resource}
        if ns[scope]:
            attrs["namespace"] = ns[scope]
        if name:
            attrs["name"] = name.format(configmap=configmap)
        elif resource == "namespaces" and ns[scope]:
            attrs["name"] = ns[scope]
        reviews.append(
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attrs},
            }
        )
    return reviews


def describe(attrs: Mapping[str, Any]) -> str:
    """``patch nodes``, ``get configmaps "volcano-scheduler-configmap" in namespace volcano-system``."""
    group = attrs.get("group") or ""
    text = f"{attrs['verb']} {attrs['resource']}{'.' + group if group else ''}"
    if attrs.get("name"):
        text += f' "{attrs["name"]}"'
    return text + (f" in namespace {attrs['namespace']}" if attrs.get("namespace") else " (cluster-wide)")


def access_denied(results: Any) -> list[str]:
    """The reviews of a ``kubernetes.core.k8s`` run over :func:`access_reviews` that were not
    allowed, described (:func:`describe`) with the authorizer's reason when it gave one."""
    items = results.get("result", {}).get("results") if isinstance(results, Mapping) else None
    if items is None:  # one definition: the module returns that result itself
        items = [results]
    out = []
    for item in items:
        review = item.get("result") or {}
        status = review.get("status") or {}
        attrs = (review.get("spec") or {}).get("resourceAttributes")
        if not attrs:
            out.append(
                f"an access review failed: {item.get('error', {}).get('msg') or item.get('msg') or item}"
            )
        elif not status.get("allowed"):
            reason = status.get("reason") or status.get("evaluationError")
            out.append(describe(attrs) + (f" ({reason})" if reason else ""))
    return out


def markdown_table() -> str:
    """The README's permission table: one row per ServiceAccount, playbook and resource."""
    scope_text = {
        "cluster": "cluster-wide",
        "pd": "PD namespace (`pd_services_namespace`)",
        "scheduler": "`scheduler_config_namespace` (volcano-system)",
        "lock": f"`{LOCK_NAMESPACE}`",
    }
    rows = ["| ServiceAccount | playbook | resource | where | verbs | why |", "|---|---|---|---|---|---|"]
    for account, playbooks in ACCOUNTS.items():
        for playbook in playbooks:
            for n in NEEDS[playbook]:
                where = scope_text[n.scope]
                if n.names:
                    where += (
                        ", only `"
                        + ", ".join(x.format(configmap="volcano-scheduler-configmap") for x in n.names)
                        + "`"
                    )
                rows.append(
                    f"| `{account}` | `{playbook}.yml` | `{n.resource_name}` | {where} | "
                    f"{', '.join(n.verbs)} | {n.why} |"
                )
    return "\n".join(rows) + "\n"


def grants(manifests: Iterable[Mapping[str, Any]], account: str) -> set[Grant]:
    """What RBAC ``manifests`` grant ServiceAccount ``account`` of :data:`LOCK_NAMESPACE`, as
    :data:`Grant` tuples. The scope of a Role or RoleBinding comes from its namespace:
    ``volcano-system`` -> ``scheduler``, :data:`LOCK_NAMESPACE` -> ``lock``, none (applied with
    ``-n <PD namespace>``) -> ``pd``. Wildcards are kept as ``*`` (and so never equal a need)."""
    docs = [m for m in manifests if m]
    roles = {(m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"]): m for m in docs}
    scope_of = {"volcano-system": "scheduler", LOCK_NAMESPACE: "lock", None: "pd"}
    out: set[Grant] = set()
    for b in docs:
        if b["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if not any(
            s.get("kind") == "ServiceAccount"
            and s.get("name") == account
            and s.get("namespace") == LOCK_NAMESPACE
            for s in b.get("subjects") or []
        ):
            continue
        ns = b["metadata"].get("namespace") if b["kind"] == "RoleBinding" else None
        ref = b["roleRef"]
        role = roles[(ref["kind"], ns if ref["kind"] == "Role" else None, ref["name"])]
        scope = "cluster" if b["kind"] == "ClusterRoleBinding" else scope_of[ns]
        for rule in role.get("rules") or []:
            for group in rule.get("apiGroups") or [""]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        for name in rule.get("resourceNames") or [""]:
                            out.add((scope, group, resource, verb, _placeholder(scope, resource, name)))
    return out


def _placeholder(scope: str, resource: str, name: str) -> str:
    """A concrete resourceName of the manifests as the placeholder :data:`NEEDS` uses."""
    if scope == "scheduler" and resource == "configmaps" and name == "volcano-scheduler-configmap":
        return "{configmap}"
    return name
