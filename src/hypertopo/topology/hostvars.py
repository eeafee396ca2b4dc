"""The per-host variables (``gpu_model``, ``gpu_count``, ``node_cpu``, ``node_memory``, ``node_pods``,
``topology_node_resources``): each value is checked where it is written, once.

A value set in ``group_vars/all.yml`` applies to every host; checking it per host would print the
same mistake hundreds of times. So every place a variable is set (the ``all`` group, every group,
every host) is checked on its own and reported there with its file and line; an invalid inherited
value is skipped silently (its own line already names it). What no host, group or the GPU model
catalogue (package data, :mod:`hypertopo.topology.gpus`) provides is reported once per missing fact
(hosts without ``gpu_model``; a model without CPU/memory in ``topology_node_resources``), naming
the hosts that lack it. ``gpu_count`` defaults to the model's (8 for every built-in model).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hypertopo.topology.errors import Problem, close_match, shown
from hypertopo.topology.gpus import BUILTIN_GPU_MODELS
from hypertopo.topology.inventory import HOST_VARS, RawHost, RawInventory
from hypertopo.topology.quantity import check_positive_quantity

MAX_COUNT = 2**31 - 1
RESOURCE_KEYS = ("cpu", "memory")
#: (host variable, topology_node_resources key) of the resources a host needs.
RESOURCE_VARS = (("node_cpu", "cpu"), ("node_memory", "memory"))
RESOURCE_EXAMPLES = {"cpu": "'<cores, e.g. 220>'", "memory": "'<e.g. 1950Gi>'"}
DEFAULT_PODS = 110


def count_error(value: Any) -> str | None:
    """Why ``value`` is not an integer between 1 and :data:`MAX_COUNT`, or None."""
    if isinstance(value, str) and value.strip().isdigit():
        return f"{shown(value)} is text, not a number (write it without quotes)"
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"{shown(value)} is not a positive integer"
    if value > MAX_COUNT:
        return f"{shown(value)} is larger than {MAX_COUNT}"
    return None


def _quantity(milli: bool) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        reason = check_positive_quantity(value, milli=milli)
        return None if reason is None else f"{shown(value)} {reason}"

    return check


_CPU = _quantity(milli=True)
_MEMORY = _quantity(milli=False)


def resources_error(value: Any) -> str | None:
    """Why ``topology_node_resources`` is not ``{<gpu model>: {cpu: <quantity>, memory: <quantity>}}``."""
    if not isinstance(value, dict):
        return f"is {shown(value)}, not a mapping of GPU model to {{cpu, memory}}"
    for model, spec in value.items():
        if not isinstance(spec, dict):
            return f"entry '{model}' is {shown(spec)}, not a mapping with cpu and memory"
        for key, item in spec.items():
            if key not in RESOURCE_KEYS:
                return f"entry '{model}' has the key '{key}' (only cpu and memory)"
            reason = (_CPU if key == "cpu" else _MEMORY)(item)
            if reason:
                return f"{model}.{key} {reason}"
    return None


@dataclass(frozen=True)
class HostSpec:
    """A host's resolved, valid values."""

    gpu_model: str
    gpu_count: int
    cpu: str
    memory: str
    pods: int


class HostVarChecks:
    """Checks every place a per-host variable is written, then resolves each host."""

    def __init__(self, raw: RawInventory, catalogue: dict[str, Any] | None) -> None:
        self.raw = raw
        self.catalogue = catalogue  # None: the GPU models are unknown (group 'all' unreadable)
        self.problems: list[Problem] = []
        self._errors: dict[tuple[Any, ...], str | None] = {}
        #: A missing fact -> the hosts lacking it (see report_missing).
        self._missing: dict[tuple[str, ...], list[RawHost]] = {}

    def _model_error(self, value: Any) -> str | None:
        if not isinstance(value, str) or not value:
            hint = " (YAML reads it as a number: quote it)" if isinstance(value, int | float) else ""
            return f"gpu_model {shown(value)} is not a GPU model name{hint}"
        if self.catalogue is not None and value not in self.catalogue:
            close = close_match(value.lower(), self.catalogue)
            return f"unknown gpu_model {shown(value)}" + (f" (did you mean '{close}'?)" if close else "")
        return None

    def error(self, variable: str, value: Any) -> str | None:
        """What is wrong with ``value`` as ``variable`` (a phrase naming the variable), or None.

        Hosts share the values they inherit (one object per group_vars value), so a value is
        checked once: by identity for mappings and lists, by value for scalars.
        """
        key = (variable, id(value)) if isinstance(value, dict | list) else (variable, type(value), value)
        if key not in self._errors:
            self._errors[key] = self._error(variable, value)
        return self._errors[key]

    def _error(self, variable: str, value: Any) -> str | None:
        if variable == "gpu_model":
            return self._model_error(value)
        checks: dict[str, Callable[[Any], str | None]] = {
            "gpu_count": count_error,
            "node_pods": count_error,
            "node_cpu": _CPU,
            "node_memory": _MEMORY,
            "topology_node_resources": resources_error,
        }
        reason = checks[variable](value)
        return None if reason is None else f"{variable} {reason}"

    def _sites(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """(kind, name, where, variables) of every place variables are written."""
        raw = self.raw
        yield "group", "all", raw.all_source, raw.all_vars
        for group in raw.groups.values():
            yield "group", group.name, group.source, group.vars
        for host in raw.hosts.values():
            yield "host", host.name, host.source, {k: host.vars[k] for k in host.own_vars if k in host.vars}

    def check_sites(self) -> None:
        models = ", ".join(sorted(self.catalogue or ()))
        fixes = {
            "gpu_model": f"use one of {models} (as text), or declare the model in topology_gpu_models",
            "gpu_count": "set gpu_count to the number of GPUs, e.g. 8",
            "node_pods": "set node_pods to the node's pod capacity, e.g. 110",
            "node_cpu": "set node_cpu to a quantity, e.g. '220' or '500m'",
            "node_memory": "set node_memory to a quantity, e.g. '1950Gi'",
            "topology_node_resources": "write it as {h100: {cpu: '220', memory: '1950Gi'}, ...}",
        }
        for kind, name, fallback, variables in self._sites():
            for variable in HOST_VARS:
                if variable not in variables:
                    continue
                reason = self.error(variable, variables[variable])
                if reason:
                    where = self.raw.locations.var(kind, name, variable) or fallback
                    self.problems.append(Problem(f"{kind} '{name}' ({where})", reason, fixes[variable]))

    def resolve(self, host: RawHost) -> HostSpec | None:
        """The host's values; None when one is missing or invalid.

        An invalid value is reported where it is written; a missing one is collected per fact
        (:meth:`report_missing` gives one line per fact, naming the hosts that lack it).
        """
        v = host.vars
        if any(self.error(k, v[k]) for k in HOST_VARS if k in v):
            return None  # an invalid value: reported where it is written
        if "gpu_model" not in v:
            self._missing.setdefault(("gpu_model",), []).append(host)
            return None
        model = v["gpu_model"]
        spec = (self.catalogue if self.catalogue is not None else BUILTIN_GPU_MODELS).get(model)
        if spec is None:
            return None  # a broken topology_gpu_models entry: reported there
        resources = (v.get("topology_node_resources") or {}).get(model)
        values = {
            "gpu_count": v.get("gpu_count", spec.gpu_count),
            "node_pods": v.get("node_pods", DEFAULT_PODS),
            "node_cpu": v.get("node_cpu", (resources or {}).get("cpu", spec.cpu)),
            "node_memory": v.get("node_memory", (resources or {}).get("memory", spec.memory)),
        }
        missing = tuple(key for variable, key in RESOURCE_VARS if values[variable] is None)
        if missing:
            entry = "entry" if resources is None else "partial"
            self._missing.setdefault(("resources", str(model), entry, *missing), []).append(host)
            return None
        return HostSpec(
            gpu_model=str(model),
            gpu_count=int(values["gpu_count"]),
            cpu=_text(values["node_cpu"]),
            memory=_text(values["node_memory"]),
            pods=int(values["node_pods"]),
        )

    def report_missing(self) -> None:
        """One problem per missing fact, naming the hosts that lack it (not one per host)."""
        for key, hosts in self._missing.items():
            names = [h.name for h in hosts]
            count = f"{len(names)} host{'s' if len(names) > 1 else ''}: {_names(names)}"
            if key[0] == "gpu_model":
                models = ", ".join(sorted(self.catalogue or BUILTIN_GPU_MODELS))
                self.problems.append(
                    Problem(
                        f"host '{names[0]}' ({hosts[0].source})",
                        f"has no gpu_model ({count})",
                        f"set gpu_model on each of them to one of {models}",
                    )
                )
                continue
            _, model, entry, *keys = key
            example = ", ".join(f"{k}: {RESOURCE_EXAMPLES[k]}" for k in keys)
            variables = " and ".join(f"node_{k}" for k in keys)
            if entry == "entry":
                what = f"topology_node_resources has no entry for {model} ({count})"
                fix = f"add {model}: {{{example}}} under topology_node_resources"
            else:
                what = f"topology_node_resources.{model} has no {' and no '.join(keys)} ({count})"
                fix = f"add {example} to topology_node_resources.{model}"
            self.problems.append(
                Problem(
                    f"inventory {self.raw.source}",
                    what,
                    f"{fix} in group_vars/all.yml (the server's allocatable values), or set {variables} "
                    "on those hosts",
                )
            )


def _names(names: list[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _text(value: Any) -> str:
    """A quantity as plain text (a YAML number as Kubernetes would print it)."""
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)
