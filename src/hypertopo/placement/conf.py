"""The parts of a ``volcano-scheduler.conf`` the placement engine simulates.

Argument parsing follows ``framework/arguments.go``: ``GetInt`` accepts only
integers (a string such as ``"10"`` is ignored with a warning, the default stays),
``GetFloat64`` floats or integers, ``GetBool`` booleans or ``"true"``/``"false"``.
Per-plugin switches (``enableNodeOrder``, ``enablePredicate``, ...) default to on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.plugins.predicates import PredicateConf

NTA = "network-topology-aware"


@dataclass(slots=True)
class NtaConf:
    enabled: bool = False
    node_order: bool = True
    hypernode_order: bool = True
    gradient: bool = True
    weight: int = 1
    binpack: dict[str, int] = field(default_factory=lambda: {"cpu": 1, "memory": 1})
    normal_pod_enable: bool = True
    normal_pod_fading: float = 0.8


@dataclass(slots=True)
class NodeOrderConf:
    enabled: bool = False
    least_requested: int = 1
    most_requested: int = 0
    node_affinity: int = 2
    pod_affinity: int = 2
    balanced_resource: int = 1
    taint_toleration: int = 3
    image_locality: int = 1
    pod_topology_spread: int = 2


@dataclass(slots=True)
class BinpackConf:
    enabled: bool = False
    weight: int = 1
    resources: dict[str, int] = field(default_factory=lambda: {"cpu": 1, "memory": 1})


@dataclass(slots=True)
class SchedulerConf:
    actions: list[str]
    plugin_order: list[str]
    nta: NtaConf
    nodeorder: NodeOrderConf
    binpack: BinpackConf
    predicates: PredicateConf
    priority_task_order: bool
    priority_job_order: bool
    priority_subjob_order: bool
    gang: bool
    gang_subjob_order: bool
    warnings: list[str]
    #: the proportion plugin's JobEnqueueable check (``enableJobEnqueued``) takes part in ``enqueue``
    proportion_enqueue: bool = False

    @property
    def subjob_order_plugins(self) -> list[str]:
        out = []
        for name in self.plugin_order:
            wanted = {"priority": self.priority_subjob_order, "gang": self.gang_subjob_order}
            if wanted.get(name):
                out.append(name)
        return out


def _flag(plugin: Mapping[str, Any], key: str) -> bool:
    value = plugin.get(key)
    return True if value is None else bool(value)


class _Args:
    def __init__(self, plugin: str, raw: Any, warnings: list[str]) -> None:
        if raw is not None and not isinstance(raw, Mapping):
            raise PlacementInputError(f"scheduler conf: plugin {plugin}: arguments must be a mapping")
        self.plugin = plugin
        self.raw: Mapping[str, Any] = raw or {}
        self.warnings = warnings

    def get_int(self, key: str, default: int) -> int:
        if key not in self.raw:
            return default
        value = self.raw[key]
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.warnings.append(
            f"scheduler conf: {self.plugin} argument {key}={value!r} is not an integer; Volcano ignores it "
            f"(GetInt) and uses {default}"
        )
        return default

    def get_float(self, key: str, default: float) -> float:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        self.warnings.append(
            f"scheduler conf: {self.plugin} argument {key}={value!r} is not a number; ignored"
        )
        return default

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "1", "t", "false", "0", "f"):
            return value.strip().lower() in ("true", "1", "t")
        self.warnings.append(
            f"scheduler conf: {self.plugin} argument {key}={value!r} is not a boolean; ignored"
        )
        return default

    def resource_weights(self, list_key: str, prefix: str) -> dict[str, int]:
        out: dict[str, int] = {}
        listed = self.raw.get(list_key)
        if listed is None:
            return out
        if not isinstance(listed, str):
            self.warnings.append(
                f"scheduler conf: {self.plugin} argument {list_key} must be a comma-separated string; ignored"
            )
            return out
        for name in (part.strip() for part in listed.split(",")):
            if not name:
                continue
            weight = self.get_int(prefix + name, 1)
            out[name] = 1 if weight < 0 else weight
        return out


def parse_scheduler_conf(conf: Mapping[str, Any] | None) -> SchedulerConf:
    if conf is None:
        conf = {}
    if not isinstance(conf, Mapping):
        raise PlacementInputError("scheduler conf: must be a mapping with 'actions' and 'tiers'")
    warnings: list[str] = []
    actions_raw = conf.get("actions", "")
    if not isinstance(actions_raw, str):
        raise PlacementInputError("scheduler conf: actions: must be a comma-separated string")
    actions = [a.strip() for a in actions_raw.split(",") if a.strip()]
    tiers = conf.get("tiers") or []
    if not isinstance(tiers, list):
        raise PlacementInputError("scheduler conf: tiers: must be a list of {plugins: [...]}")
    nta = NtaConf()
    nodeorder = NodeOrderConf()
    binpack = BinpackConf()
    predicates = PredicateConf(enabled=False)
    order: list[str] = []
    priority = {"task": False, "job": False, "subjob": False}
    gang = gang_subjob = False
    proportion_enqueue = False
    for t, tier in enumerate(tiers):
        if not isinstance(tier, Mapping):
            raise PlacementInputError(f"scheduler conf: tiers[{t}]: must be a mapping with plugins")
        plugins = tier.get("plugins") or []
        if not isinstance(plugins, list):
            raise PlacementInputError(f"scheduler conf: tiers[{t}].plugins: must be a list")
        for p, plugin in enumerate(plugins):
            if not isinstance(plugin, Mapping) or not isinstance(plugin.get("name"), str):
                raise PlacementInputError(
                    f"scheduler conf: tiers[{t}].plugins[{p}]: must be a mapping with a name"
                )
            name = plugin["name"]
            order.append(name)
            args = _Args(name, plugin.get("arguments"), warnings)
            if name == NTA:
                weights = {
                    "cpu": args.get_int("hypernode.binpack.cpu", 1),
                    "memory": args.get_int("hypernode.binpack.memory", 1),
                }
                weights = {k: (1 if v < 0 else v) for k, v in weights.items()}
                weights.update(
                    args.resource_weights("hypernode.binpack.resources", "hypernode.binpack.resources.")
                )
                weight = args.get_int("weight", 1)
                fading = args.get_float("hypernode.binpack.normal-pod.fading", 0.8)
                nta = NtaConf(
                    enabled=True,
                    node_order=_flag(plugin, "enableNodeOrder"),
                    hypernode_order=_flag(plugin, "enabledHyperNodeOrder"),
                    gradient=_flag(plugin, "enabledHyperNodeGradient"),
                    weight=1 if weight < 0 else weight,
                    binpack=weights,
                    normal_pod_enable=args.get_bool("hypernode.binpack.normal-pod.enable", True),
                    normal_pod_fading=0.8 if fading < 0 else fading,
                )
            elif name == "nodeorder":
                nodeorder = NodeOrderConf(
                    enabled=_flag(plugin, "enableNodeOrder"),
                    least_requested=args.get_int("leastrequested.weight", 1),
                    most_requested=args.get_int("mostrequested.weight", 0),
                    node_affinity=args.get_int("nodeaffinity.weight", 2),
                    pod_affinity=args.get_int("podaffinity.weight", 2),
                    balanced_resource=args.get_int("balancedresource.weight", 1),
                    taint_toleration=args.get_int("tainttoleration.weight", 3),
                    image_locality=args.get_int("imagelocality.weight", 1),
                    pod_topology_spread=args.get_int("podtopologyspread.weight", 2),
                )
            elif name == "binpack":
                cpu = args.get_int("binpack.cpu", 1)
                mem = args.get_int("binpack.memory", 1)
                resources = {"cpu": 1 if cpu < 0 else cpu, "memory": 1 if mem < 0 else mem}
                extra = args.resource_weights("binpack.resources", "binpack.resources.")
                extra.update(resources)
                binpack = BinpackConf(
                    enabled=_flag(plugin, "enableNodeOrder"),
                    weight=args.get_int("binpack.weight", 1),
                    resources=extra,
                )
            elif name == "predicates":
                predicates = PredicateConf(
                    enabled=_flag(plugin, "enablePredicate"),
                    node_affinity=args.get_bool("predicate.NodeAffinityEnable", True),
                    taint_toleration=args.get_bool("predicate.TaintTolerationEnable", True),
                    pod_affinity=args.get_bool("predicate.PodAffinityEnable", True),
                    node_ports=args.get_bool("predicate.NodePortsEnable", True),
                )
            elif name == "priority":
                priority = {
                    "task": _flag(plugin, "enableTaskOrder"),
                    "job": _flag(plugin, "enableJobOrder"),
                    "subjob": _flag(plugin, "enabledSubJobOrder"),
                }
            elif name == "gang":
                gang = _flag(plugin, "enableJobReady")
                gang_subjob = _flag(plugin, "enabledSubJobOrder")
            elif name == "proportion":
                proportion_enqueue = _flag(plugin, "enableJobEnqueued")
    if "allocate" not in actions and conf:
        warnings.append("scheduler conf: the allocate action is not configured; Volcano would place nothing")
    evicting = [a for a in ("preempt", "reclaim") if a in actions]
    if evicting:
        warnings.append(
            f"scheduler conf: the {' and '.join(evicting)} action(s) are configured but not simulated: a "
            "job left pending may evict running pods and the outcome change (each pending job lists its "
            "candidate victims)"
        )
    if not gang and conf:
        warnings.append(
            "scheduler conf: gang plugin not enabled: jobs are not gang-scheduled (each round places one pod)"
        )
    return SchedulerConf(
        actions=actions,
        plugin_order=order,
        nta=nta,
        nodeorder=nodeorder,
        binpack=binpack,
        predicates=predicates,
        priority_task_order=priority["task"],
        priority_job_order=priority["job"],
        priority_subjob_order=priority["subjob"],
        gang=gang,
        gang_subjob_order=gang_subjob,
        warnings=warnings,
        proportion_enqueue=proportion_enqueue,
    )
