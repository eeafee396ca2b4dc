"""The per-host variables (``gpu_model``, ``gpu_count``, ``node_cpu``, ``node_memory``, ``node_pods``,
``topology_node_resources``): each value is checked where it is written, once.

A value set in ``group_vars/all.yml`` applies to every host; checking it per host would print the
same mistake hundreds of times. So every place a variable is set (the ``all`` group, every group,
every host) is checked on its own and reported there with its file and line; per host, only what
is missing is reported (a host without ``gpu_model``, a model without CPU/memory), and an invalid
inherited value is skipped silently (its own line already names it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hypertopo.topology.errors import Problem, close_match, shown
from hypertopo.topology.inventory import HOST_VARS, RawHost, RawInventory
from hypertopo.topology.quantity import check_positive_quantity

MAX_COUNT = 2**31 - 1
RESOURCE_KEYS = ("cpu", "memory")
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
        """The host's values; None when one is missing (a problem) or invalid (reported where written)."""
        v = host.vars
        where = f"host '{host.name}' ({host.source})"
        if any(self.error(k, v[k]) for k in HOST_VARS if k in v):
            return None  # an invalid value: reported where it is written
        if "gpu_model" not in v:
            models = ", ".join(sorted(self.catalogue or ()))
            self.problems.append(Problem(where, "has no gpu_model", f"set gpu_model to one of {models}"))
            return None
        model = v["gpu_model"]
        resources = (v.get("topology_node_resources") or {}).get(model) or {}
        values = {
            "gpu_count": v.get("gpu_count"),
            "node_pods": v.get("node_pods", DEFAULT_PODS),
            "node_cpu": v.get("node_cpu", resources.get("cpu")),
            "node_memory": v.get("node_memory", resources.get("memory")),
        }
        missing = [
            Problem(
                where,
                f"has no {variable} (and topology_node_resources has no {key} for '{model}')",
                f"set {variable} on the host, or topology_node_resources.{model}.{key} in group_vars/all.yml",
            )
            for variable, key in (("node_cpu", "cpu"), ("node_memory", "memory"))
            if values[variable] is None
        ]
        if values["gpu_count"] is None:
            missing.append(Problem(where, "has no gpu_count", "set gpu_count (e.g. 8) in group_vars/all.yml"))
        self.problems.extend(missing)
        if missing:
            return None
        return HostSpec(
            gpu_model=str(model),
            gpu_count=int(values["gpu_count"]),
            cpu=_text(values["node_cpu"]),
            memory=_text(values["node_memory"]),
            pods=int(values["node_pods"]),
        )


def _text(value: Any) -> str:
    """A quantity as plain text (a YAML number as Kubernetes would print it)."""
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)
