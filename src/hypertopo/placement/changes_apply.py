"""How each kind of :mod:`hypertopo.placement.changes` change is applied (``APPLY``), on an
:class:`Inputs` that copies an object only when it first changes. Errors start with the field
(``job: no job ...``); :func:`hypertopo.placement.changes.apply_changes` adds the file and index."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.index import NodeIndex
from hypertopo.placement.inputs import as_objects
from hypertopo.placement.jobs import ANN_MIN_MEMBER, ANN_TOPO_MODE, ANN_TOPO_TIER
from hypertopo.placement.objects import parse_hypernode, parse_node
from hypertopo.placement.tree import member_nodes
from hypertopo.topology.gpus import BUILTIN_GPU_MODELS
from hypertopo.topology.labels import LABEL_GPU_TYPE, LABEL_HOSTNAME, LABEL_SWITCH_TYPE, natural_key
from hypertopo.topology.model import Host, Switch, Topology
from hypertopo.topology.objects import node_object

#: The input keys of :func:`hypertopo.placement.changes.apply_changes` (those of ``predict``).
INPUT_KEYS = (
    "jobs",
    "nodes",
    "hypernodes",
    "pods",
    "scheduler_conf",
    "network",
    "kv_model",
    "priority_classes",
)


class Inputs:
    """The inputs being changed: lists copied once, objects copied when first changed."""

    def __init__(self, inputs: Mapping[str, Any]) -> None:
        self.out: dict[str, Any] = {key: inputs.get(key) for key in INPUT_KEYS}
        for key in ("jobs", "nodes", "hypernodes", "pods"):
            self.out[key] = list(as_objects(inputs.get(key), key))
        self._copied: set[int] = set()

    def own(self, key: str, index: int) -> dict[str, Any]:
        """The object ``key[index]``, deep-copied the first time it is changed."""
        obj = self.out[key][index]
        if id(obj) not in self._copied:
            obj = copy.deepcopy(obj)
            self.out[key][index] = obj
            self._copied.add(id(obj))
        return obj

    def add(self, key: str, obj: dict[str, Any]) -> None:
        self.out[key].append(obj)
        self._copied.add(id(obj))


def _meta(obj: Any) -> Mapping[str, Any]:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    return meta if isinstance(meta, Mapping) else {}


def _name(obj: Any) -> str:
    return str(_meta(obj).get("name") or "")


def _namespace(obj: Any) -> str:
    return str(_meta(obj).get("namespace") or "default")


def _node_positions(state: Inputs, names: Sequence[str], path: str = "nodes") -> list[int]:
    position = {_name(obj): k for k, obj in enumerate(state.out["nodes"])}
    missing = [n for n in names if n not in position]
    if missing:
        raise PlacementInputError(f"{path}: no node {', '.join(missing)}")
    return [position[n] for n in names]


def _remove_hosts(state: Inputs, params: Mapping[str, Any]) -> None:
    names = set(params["nodes"])
    keep = set(range(len(state.out["nodes"]))) - set(_node_positions(state, params["nodes"]))
    state.out["nodes"] = [obj for k, obj in enumerate(state.out["nodes"]) if k in keep]
    # the pods bound to them go with them (a controller re-creates a job's pods: they are pending)
    state.out["pods"] = [
        obj for obj in state.out["pods"] if (obj.get("spec") or {}).get("nodeName") not in names
    ]
    for k, obj in enumerate(state.out["hypernodes"]):
        members = (obj.get("spec") or {}).get("members") or []
        if any(_exact_name(m) in names for m in members if (m or {}).get("type") == "Node"):
            spec = state.own("hypernodes", k)["spec"]
            spec["members"] = [
                m for m in spec["members"] if not (m.get("type") == "Node" and _exact_name(m) in names)
            ]


def _exact_name(member: Any) -> str | None:
    sel = (member or {}).get("selector") or {}
    exact = sel.get("exactMatch") if isinstance(sel, Mapping) else None
    return exact.get("name") if isinstance(exact, Mapping) else None


def _cordon(state: Inputs, params: Mapping[str, Any]) -> None:
    for k in _node_positions(state, params["nodes"]):
        obj = state.own("nodes", k)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            spec = obj["spec"] = {}
        spec["unschedulable"] = True


# ----------------------------------------------------------------- add_hosts


def _leaf(state: Inputs, leaf: str) -> tuple[int, Any]:
    for k, obj in enumerate(state.out["hypernodes"]):
        if _name(obj) == leaf:
            parsed = parse_hypernode(obj, k)
            if any(m.type == "HyperNode" for m in parsed.members):
                raise PlacementInputError(f"leaf: HyperNode {leaf} is not a leaf (it has HyperNode members)")
            return k, parsed
    leaves = sorted(
        (
            _name(o)
            for o in state.out["hypernodes"]
            if all((m or {}).get("type") == "Node" for m in (o.get("spec") or {}).get("members") or [])
        ),
        key=natural_key,
    )
    raise PlacementInputError(f"leaf: no HyperNode {leaf} (leaves: {', '.join(leaves) or 'none'})")


def _add_hosts(state: Inputs, params: Mapping[str, Any]) -> None:
    leaf, model, count = params["leaf"], params["gpu_model"], params["count"]
    k, parsed = _leaf(state, leaf)
    node_objs = state.out["nodes"]
    nodes = [parse_node(obj, i) for i, obj in enumerate(node_objs)]
    index = NodeIndex(nodes)
    members: set[int] = set()
    for member in parsed.members:
        members.update(member_nodes(member, index))
    label = BUILTIN_GPU_MODELS[model].label if model in BUILTIN_GPU_MODELS else model
    siblings = sorted(
        (nodes[i] for i in members if nodes[i].labels.get(LABEL_GPU_TYPE) == label),
        key=lambda n: natural_key(n.name),
    )
    taken = {n.name for n in nodes}
    names = list(params.get("names") or _new_names(leaf, count, taken))
    clash = [n for n in names if n in taken]
    if clash:
        raise PlacementInputError(f"names: node {clash[0]} exists already")
    if siblings:
        sibling = node_objs[siblings[0].index]
        new = [_clone(sibling, name) for name in names]
    else:
        new = _render(state, leaf, parsed, model, names, [nodes[i] for i in members], params)
    new_index = NodeIndex([parse_node(obj, j) for j, obj in enumerate(new)])
    selected: set[int] = set()
    for member in parsed.members:
        selected.update(member_nodes(member, new_index))
    for obj in new:
        state.add("nodes", obj)
    missing = [obj for j, obj in enumerate(new) if j not in selected]
    if missing:  # the leaf lists its nodes by name (or its selectors miss them): name them
        spec = state.own("hypernodes", k).setdefault("spec", {})
        spec.setdefault("members", [])
        spec["members"].extend(
            {"type": "Node", "selector": {"exactMatch": {"name": _name(obj)}}} for obj in missing
        )


def _new_names(leaf: str, count: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    k = 0
    while len(out) < count:
        name = f"{leaf}-new-{k}"
        if name not in taken:
            out.append(name)
        k += 1
    return out


def _clone(sibling: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A new node like ``sibling`` (labels, allocatable, taints), named ``name``, schedulable."""
    labels = dict(_meta(sibling).get("labels") or {})
    labels[LABEL_HOSTNAME] = name
    status = sibling.get("status") or {}
    alloc = status.get("allocatable") or status.get("capacity")
    taints = (sibling.get("spec") or {}).get("taints") or ()
    return node_object(name, labels, resources=copy.deepcopy(alloc), taints=copy.deepcopy(taints))


def _render(
    state: Inputs, leaf: str, parsed: Any, model: str, names: list[str], members: list[Any], params: Any
) -> list[dict[str, Any]]:
    """New hosts of ``model`` (from the package's GPU model catalogue) as the inventory renders them."""
    if model not in BUILTIN_GPU_MODELS:
        raise PlacementInputError(
            f"gpu_model: {model!r} is neither in the package's catalogue ({', '.join(BUILTIN_GPU_MODELS)}) "
            f"nor the gpu-type of a node under {leaf} (to copy)"
        )
    switch_type = params.get("switch_type") or _leaf_switch_type(parsed, members)
    if switch_type is None:
        raise PlacementInputError(
            f"switch_type: the switch type of {leaf} is not known from its nodes or members: give switch_type"
        )
    gpu = BUILTIN_GPU_MODELS[model]
    hosts = {
        name: Host(name, leaf, model, gpu.gpu_count, str(gpu.cpu), str(gpu.memory), 110) for name in names
    }
    topo = Topology(
        source="what-if",
        switches={leaf: Switch(leaf, 1, switch_type, None, hosts=tuple(names))},
        hosts=hosts,
        gpu_models=dict(BUILTIN_GPU_MODELS),
        root=leaf,
    )
    return topo.node_objects()


def _leaf_switch_type(parsed: Any, members: list[Any]) -> str | None:
    for member in parsed.members:
        if member.label is not None:
            for req in member.label.requirements:
                if req.key == LABEL_SWITCH_TYPE and req.operator == "In" and len(req.values) == 1:
                    return req.values[0]
    types = {n.labels.get(LABEL_SWITCH_TYPE) for n in members} - {None}
    return types.pop() if len(types) == 1 else None


# ----------------------------------------------------------------- jobs


def find_job(inputs: Mapping[str, Any], ref: str) -> tuple[int, Mapping[str, Any]]:
    """The job ``ref`` (``NAMESPACE/NAME``, or ``NAME`` when one job has it) among ``inputs["jobs"]``."""
    jobs = as_objects(inputs.get("jobs"), "jobs")
    ns, _, name = ref.rpartition("/")
    hits = [
        (k, obj) for k, obj in enumerate(jobs) if _name(obj) == name and (not ns or _namespace(obj) == ns)
    ]
    if len(hits) == 1:
        return hits[0]
    known = ", ".join(f"{_namespace(o)}/{_name(o)}" for o in jobs) or "none"
    if not hits:
        raise PlacementInputError(f"job: no job {ref} (jobs: {known})")
    raise PlacementInputError(f"job: {ref} names {len(hits)} jobs: give NAMESPACE/NAME ({known})")


def _kind(obj: Mapping[str, Any]) -> str:
    return str(obj.get("kind") or "")


def _task_index(obj: Mapping[str, Any], task: str | None) -> int:
    tasks = (obj.get("spec") or {}).get("tasks") or []
    names = [str(t.get("name") or f"default{k}") for k, t in enumerate(tasks)]
    if task is None:
        if len(names) == 1:
            return 0
        raise PlacementInputError(f"task: required: the job has tasks {', '.join(names)}")
    if task not in names:
        raise PlacementInputError(f"task: no task {task!r} (tasks: {', '.join(names) or 'none'})")
    return names.index(task)


def _no_task(obj: Mapping[str, Any], task: str | None) -> None:
    if task is not None:
        raise PlacementInputError(f"task: a {_kind(obj)} has no tasks (its pod template is the task)")


def current_replicas(inputs: Mapping[str, Any] | None, ref: str, task: str | None = None) -> int:
    """The replica count of the job ``ref`` (of its ``task`` for a Volcano Job) in ``inputs``."""
    _k, obj = find_job(inputs or {}, ref)
    if _kind(obj) == "Job":
        raw = obj["spec"]["tasks"][_task_index(obj, task)].get("replicas")
        return int(raw or 0)
    if _kind(obj) in ("Deployment", "StatefulSet"):
        _no_task(obj, task)
        raw = (obj.get("spec") or {}).get("replicas")
        return 1 if raw is None else int(raw)
    raise PlacementInputError(f"job: a {_kind(obj)}'s replicas are its pods: change them with add_pods")


def _set_replicas(state: Inputs, params: Mapping[str, Any]) -> None:
    k, found = find_job(state.out, params["job"])
    new = params["replicas"]
    kind = _kind(found)
    if kind == "Job":
        t = _task_index(found, params.get("task"))
        obj = state.own("jobs", k)
        spec = obj["spec"]
        tasks = spec["tasks"]
        old_total = sum(int(x.get("replicas") or 0) for x in tasks)
        task = tasks[t]
        old = int(task.get("replicas") or 0)
        part = task.get("partitionPolicy")
        if isinstance(part, Mapping):
            size = int(part.get("partitionSize") or 1)
            if new % size:
                raise PlacementInputError(
                    f"replicas: {new} is not a multiple of the task's partitionSize {size}"
                )
            part = task["partitionPolicy"] = dict(part)
            part["totalPartitions"] = new // size
        task["replicas"] = new
        _follow(task, "minAvailable", old, new)
        if isinstance(part, dict) and part.get("minPartitions"):
            # the webhook wants minPartitions x partitionSize == the task's minAvailable
            size = int(part.get("partitionSize") or 1)
            if task.get("minAvailable") is not None:
                part["minPartitions"] = int(task["minAvailable"]) // size
            else:
                _follow(part, "minPartitions", old // size, new // size)
        new_total = old_total - old + new
        _follow(spec, "minAvailable", old_total, new_total)
        return
    if kind in ("Deployment", "StatefulSet"):
        _no_task(found, params.get("task"))
        obj = state.own("jobs", k)
        spec = obj.setdefault("spec", {})
        old = 1 if spec.get("replicas") is None else int(spec["replicas"])
        spec["replicas"] = new
        ann = (obj.get("metadata") or {}).get("annotations") or {}
        if ANN_MIN_MEMBER in ann:
            try:
                minimum = int(ann[ANN_MIN_MEMBER])
            except ValueError:
                return
            if minimum == old or minimum > new:
                obj["metadata"]["annotations"][ANN_MIN_MEMBER] = str(new)
        return
    raise PlacementInputError(f"job: a {kind}'s replicas are its pods: change them with add_pods")


def _follow(holder: dict[str, Any], key: str, old: int, new: int) -> None:
    """``holder[key]`` (a minimum) follows a replica count from ``old`` to ``new`` (see the module docs)."""
    if holder.get(key) is None:
        return
    current = int(holder[key])
    if current == old or current > new:
        holder[key] = new


def _topology_holder(state: Inputs, ref: str) -> tuple[str, dict[str, Any]]:
    """(``"spec"`` or ``"annotations"``, the mapping holding the job's network topology), copied."""
    k, found = find_job(state.out, ref)
    kind = _kind(found)
    obj = state.own("jobs", k)
    if kind in ("Job", "PodGroup"):
        spec = obj.setdefault("spec", {})
        topo = spec.get("networkTopology")
        topo = spec["networkTopology"] = dict(topo) if isinstance(topo, Mapping) else {"mode": "hard"}
        return "spec", topo
    if kind in ("Deployment", "StatefulSet"):
        template = obj.setdefault("spec", {}).setdefault("template", {})
        return "annotations", template.setdefault("metadata", {}).setdefault("annotations", {})
    raise PlacementInputError(f"job: unsupported kind {kind!r}")


def topology_text(inputs: Mapping[str, Any] | None, ref: str) -> str:
    _k, obj = find_job(inputs or {}, ref)
    if _kind(obj) in ("Deployment", "StatefulSet"):
        ann = (
            (((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("annotations")
        ) or {}
        if ANN_TOPO_MODE not in ann and ANN_TOPO_TIER not in ann:
            return "no network topology"
        tier = ann.get(ANN_TOPO_TIER)
        return f"{ann.get(ANN_TOPO_MODE, 'hard')}" + (f", highestTierAllowed {tier}" if tier else "")
    topo = (obj.get("spec") or {}).get("networkTopology")
    if not isinstance(topo, Mapping):
        return "no network topology"
    bound = (
        f", highestTierAllowed {topo['highestTierAllowed']}"
        if topo.get("highestTierAllowed") is not None
        else (f", highestTierName {topo['highestTierName']}" if topo.get("highestTierName") else "")
    )
    return f"{topo.get('mode') or 'hard'}{bound}"


def _set_tier(state: Inputs, params: Mapping[str, Any]) -> None:
    where, topo = _topology_holder(state, params["job"])
    if where == "annotations":
        if "tier_name" in params:
            raise PlacementInputError(
                "tier_name: a Deployment/StatefulSet sets its tier with the annotation "
                f"{ANN_TOPO_TIER} (a number): give tier"
            )
        topo[ANN_TOPO_TIER] = str(params["tier"])
        topo.setdefault(ANN_TOPO_MODE, "hard")
        return
    # the admission webhook refuses both set: the new one replaces the other
    if "tier" in params:
        topo.pop("highestTierName", None)
        topo["highestTierAllowed"] = params["tier"]
    else:
        topo.pop("highestTierAllowed", None)
        topo["highestTierName"] = params["tier_name"]


def _set_mode(state: Inputs, params: Mapping[str, Any]) -> None:
    where, topo = _topology_holder(state, params["job"])
    topo[ANN_TOPO_MODE if where == "annotations" else "mode"] = params["mode"]


def _templates(state: Inputs, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pod template specs (copied) of the job/task ``params`` names."""
    k, found = find_job(state.out, params["job"])
    kind = _kind(found)
    task = params.get("task")
    if kind == "Job":
        tasks = (found.get("spec") or {}).get("tasks") or []
        chosen = [_task_index(found, task)] if task is not None else list(range(len(tasks)))
        obj = state.own("jobs", k)
        return [obj["spec"]["tasks"][t].setdefault("template", {}).setdefault("spec", {}) for t in chosen]
    if kind in ("Deployment", "StatefulSet"):
        _no_task(found, task)
        obj = state.own("jobs", k)
        return [obj.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})]
    raise PlacementInputError(f"job: a {kind}'s pods carry the affinity: change the pods")


def _relax_affinity(state: Inputs, params: Mapping[str, Any]) -> None:
    key = params["key"]
    found = False
    for spec in _templates(state, params):
        selector = spec.get("nodeSelector")
        if isinstance(selector, Mapping) and key in selector:
            spec["nodeSelector"] = {k: v for k, v in selector.items() if k != key}
            found = True
        node_aff = (spec.get("affinity") or {}).get("nodeAffinity") or {}
        required = node_aff.get("requiredDuringSchedulingIgnoredDuringExecution")
        terms = (required or {}).get("nodeSelectorTerms") if isinstance(required, Mapping) else None
        if not isinstance(terms, list):
            continue
        new_terms = []
        vacuous = False
        for term in terms:
            exprs = [e for e in (term or {}).get("matchExpressions") or [] if (e or {}).get("key") != key]
            if len(exprs) != len((term or {}).get("matchExpressions") or []):
                found = True
            term = {**(term or {}), "matchExpressions": exprs}
            if not exprs and not term.get("matchFields"):
                vacuous = True  # the term now asks nothing: the terms are ORed, so none binds
                term.pop("matchExpressions")
            new_terms.append(term)
        if vacuous:
            del spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        else:
            required["nodeSelectorTerms"] = new_terms
    if not found:
        raise PlacementInputError(f"key: the pod template requires no node label {key!r}")


# ----------------------------------------------------------------- pods


def _add_pods(state: Inputs, params: Mapping[str, Any]) -> None:
    node = params["node"]
    _node_positions(state, [node], "node")
    ns, base = params["namespace"], params["name"]
    taken = {(_namespace(p), _name(p)) for p in state.out["pods"]}
    requests = {str(k): str(v) for k, v in params["requests"].items()}
    k = 0
    for _ in range(params["count"]):
        while (ns, f"{base}-{k}") in taken:
            k += 1
        name = f"{base}-{k}"
        taken.add((ns, name))
        state.add(
            "pods",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": ns, "labels": dict(params.get("labels") or {})},
                "spec": {
                    "nodeName": node,
                    "containers": [
                        {
                            "name": "what-if",
                            "image": "what-if",
                            "resources": {"requests": dict(requests), "limits": dict(requests)},
                        }
                    ],
                },
                "status": {"phase": "Running"},
            },
        )


def _remove_pods(state: Inputs, params: Mapping[str, Any]) -> None:
    pods = state.out["pods"]
    if "pods" in params:
        wanted = {ref if "/" in ref else f"default/{ref}" for ref in params["pods"]}
        have = {f"{_namespace(p)}/{_name(p)}" for p in pods}
        missing = sorted(wanted - have, key=natural_key)
        if missing:
            raise PlacementInputError(f"pods: no pod {', '.join(missing)}")
        state.out["pods"] = [p for p in pods if f"{_namespace(p)}/{_name(p)}" not in wanted]
        return
    sel = params["selector"]
    labels = sel.get("labels") or {}

    def hit(pod: Mapping[str, Any]) -> bool:
        if "namespace" in sel and _namespace(pod) != sel["namespace"]:
            return False
        if "node" in sel and (pod.get("spec") or {}).get("nodeName") != sel["node"]:
            return False
        have = _meta(pod).get("labels") or {}
        return all(have.get(key) == value for key, value in labels.items())

    kept = [p for p in pods if not hit(p)]
    if len(kept) == len(pods):
        raise PlacementInputError("selector: matches no pod")
    state.out["pods"] = kept


APPLY: dict[str, Callable[[Inputs, Mapping[str, Any]], None]] = {
    "add_hosts": _add_hosts,
    "remove_hosts": _remove_hosts,
    "cordon": _cordon,
    "set_replicas": _set_replicas,
    "set_tier": _set_tier,
    "set_mode": _set_mode,
    "add_pods": _add_pods,
    "remove_pods": _remove_pods,
    "relax_affinity": _relax_affinity,
}
