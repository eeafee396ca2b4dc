"""The static world of one prediction: nodes, their label index, the HyperNode tree, the pods
already in the cluster, the scheduler configuration and the network cost model."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.conf import SchedulerConf, parse_scheduler_conf
from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.fields import as_int, as_mapping, as_str, where_of
from hypertopo.placement.index import NodeIndex
from hypertopo.placement.inputs import as_objects, check_kind, default_scheduler_conf
from hypertopo.placement.netcost import NetworkModel, network_model_from
from hypertopo.placement.objects import HyperNodeObj, Node, PodObj, parse_hypernode, parse_node, parse_pod
from hypertopo.placement.state import Cluster
from hypertopo.placement.tree import Tree

NTA_DISABLED = "network-topology-aware not enabled: constraints silently ignored"

#: id(pod object) -> (the object, its parse) while :func:`reuse_parsed_pods` is active
_PARSED_PODS: ContextVar[dict[int, tuple[Any, PodObj]] | None] = ContextVar("parsed_pods", default=None)


@contextmanager
def reuse_parsed_pods() -> Iterator[None]:
    """Within the block, a Pod object given again (the same object, e.g. to the re-predictions of
    ``explain``, whose changed inputs share every unchanged object) is not parsed again. The
    parse depends only on the object (never on its position), and the engine never changes a
    parsed Pod; the memo holds the object itself, so an id is never reused by another object."""
    token = _PARSED_PODS.set({})
    try:
        yield
    finally:
        _PARSED_PODS.reset(token)


def _parse_pods(objs: Sequence[Any]) -> list[PodObj]:
    memo = _PARSED_PODS.get()
    if memo is None:
        return [parse_pod(obj, i) for i, obj in enumerate(objs)]
    out = []
    for i, obj in enumerate(objs):
        got = memo.get(id(obj))
        if got is None or got[0] is not obj:
            got = (obj, parse_pod(obj, i))
            memo[id(obj)] = got
        out.append(got[1])
    return out


@dataclass(slots=True)
class World:
    nodes: list[Node]
    index: NodeIndex
    tree: Tree
    pods: list[PodObj]
    conf: SchedulerConf
    network: NetworkModel
    hn_alloc: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: PriorityClass name -> value (the given ones and the two every cluster has)
    priority_classes: dict[str, int] = field(default_factory=dict)
    #: the value of a globalDefault PriorityClass, else 0 (cache/event_handlers.go addPriorityClass)
    default_priority: int = 0


#: PriorityClasses the API server creates in every cluster
SYSTEM_PRIORITY_CLASSES = {"system-cluster-critical": 2_000_000_000, "system-node-critical": 2_000_001_000}


def parse_priority_classes(raw: Any) -> tuple[dict[str, int], int]:
    """PriorityClass objects as ``(name -> value, default priority)``: the default is the value of
    the one with ``globalDefault: true`` (pkg/scheduler/cache/event_handlers.go addPriorityClass
    sets ``defaultPriority``), else 0."""
    objs = as_objects(raw, "priority_classes")
    check_kind(objs, "PriorityClass", "priority_classes")
    classes = dict(SYSTEM_PRIORITY_CLASSES)
    default = 0
    for i, obj in enumerate(objs):
        if not isinstance(obj, Mapping):
            raise PlacementInputError(f"PriorityClass #{i}: must be a mapping, got {type(obj).__name__}")
        where = where_of("PriorityClass", obj.get("metadata"), i)
        meta = as_mapping(obj.get("metadata"), where, "metadata", required=True)
        name = as_str(meta.get("name"), where, "metadata.name", required=True)
        value = as_int(obj.get("value"), where, "value", required=True) or 0
        classes[name] = value
        if obj.get("globalDefault") is True:
            default = value
    return classes, default


def build_world(
    nodes: Any,
    hypernodes: Any,
    pods: Any,
    scheduler_conf: Mapping[str, Any] | None,
    network: Mapping[str, Any] | None,
    kv_model: Mapping[str, Any] | None,
    priority_classes: Any = None,
) -> World:
    node_objs = as_objects(nodes, "nodes")
    check_kind(node_objs, "Node", "nodes")
    parsed_nodes = [parse_node(obj, i) for i, obj in enumerate(node_objs)]
    seen: set[str] = set()
    for node in parsed_nodes:
        if node.name in seen:
            raise PlacementInputError(f"Node {node.name}: metadata.name: duplicate node name")
        seen.add(node.name)
    hn_objs = as_objects(hypernodes, "hypernodes")
    check_kind(hn_objs, "HyperNode", "hypernodes")
    parsed_hns: list[HyperNodeObj] = [parse_hypernode(obj, i) for i, obj in enumerate(hn_objs)]
    pod_objs = as_objects(pods, "pods")
    check_kind(pod_objs, "Pod", "pods")
    parsed_pods = _parse_pods(pod_objs)
    index = NodeIndex(parsed_nodes)
    tree = Tree(parsed_hns, parsed_nodes, index)
    warnings = list(tree.warnings)
    if scheduler_conf is None:
        try:
            scheduler_conf = default_scheduler_conf()
        except (
            OSError,
            ImportError,
            KeyError,
            ValueError,
        ) as exc:  # pragma: no cover - role defaults missing
            raise PlacementInputError(f"scheduler conf: cannot read the project default ({exc})") from None
    conf = parse_scheduler_conf(scheduler_conf)
    warnings.extend(conf.warnings)
    if not conf.nta.enabled:
        warnings.append(NTA_DISABLED)
    model = network_model_from(network, kv_model)
    classes, default_priority = parse_priority_classes(priority_classes)
    world = World(
        parsed_nodes,
        index,
        tree,
        parsed_pods,
        conf,
        model,
        warnings=warnings,
        priority_classes=classes,
        default_priority=default_priority,
    )
    world.hn_alloc = Cluster(parsed_nodes, tree).hn_alloc
    return world
