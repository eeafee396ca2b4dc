"""Validation: turn a :class:`RawInventory` into a :class:`Topology`, or report every problem at once.

Rules (each problem names the file/group/host and the fix):

* every host is in exactly one switch group, and that switch is a leaf (no child switches, tier 1);
* every switch (a group with ``topology_switch``) has an integer ``tier`` >= 1 and a ``type`` of
  ``ib`` or ``ethernet``; its ``parent`` (if any) is one existing switch with a greater tier;
* no cycles; exactly one root (a switch without a parent). Several roots are rejected: Volcano
  would silently join them under its virtual root, and the cost of crossing between them is unknown;
* every leaf has at least one host; switch names are unique, valid DNS-1123 labels;
* every host has a known ``gpu_model`` (built-ins or ``topology_gpu_models``), a positive integer
  ``gpu_count``, CPU and memory (``node_cpu``/``node_memory`` or ``topology_node_resources``), a
  positive ``node_pods``, and a valid Kubernetes node name;
* an InfiniBand leaf under an Ethernet aggregation switch is allowed but WARNED about: its nodes
  form an IB island, and traffic to any other leaf crosses Ethernet.
"""

from __future__ import annotations

import re
from typing import Any

from hypertopo.topology.errors import Problem, TopologyError
from hypertopo.topology.gpus import gpu_catalogue
from hypertopo.topology.inventory import SWITCH_VAR, RawGroup, RawInventory
from hypertopo.topology.k8snames import dns1123_label_error, dns1123_subdomain_error, label_value_error
from hypertopo.topology.model import SWITCH_TYPES, Host, Switch, Topology

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?$")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _group_where(group: RawGroup) -> str:
    return f"group '{group.name}' ({group.source})"


class _Builder:
    def __init__(self, raw: RawInventory) -> None:
        self.raw = raw
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def problem(self, where: str, what: str, fix: str) -> None:
        self.problems.append(Problem(where, what, fix))

    # -- switches -------------------------------------------------------------------
    def switches(self) -> dict[str, tuple[RawGroup, dict[str, Any]]]:
        found: dict[str, tuple[RawGroup, dict[str, Any]]] = {}
        for group in self.raw.groups.values():
            if SWITCH_VAR not in group.vars:
                continue
            spec = group.vars[SWITCH_VAR]
            where = _group_where(group)
            if not isinstance(spec, dict):
                self.problem(
                    where,
                    f"{SWITCH_VAR} must be a mapping (tier, type, parent)",
                    f"write {SWITCH_VAR}: {{tier: 1, type: ib, parent: <switch>}}",
                )
                continue
            name = str(spec.get("name", group.name))
            err = dns1123_label_error(name)
            if err:
                self.problem(
                    where,
                    f"switch name {err}",
                    "rename the group (or set topology_switch.name) to e.g. 'ib-switch0'",
                )
            if name in found:
                other = found[name][0]
                self.problem(
                    where,
                    f"duplicate switch name '{name}' (also {_group_where(other)})",
                    "give every switch a unique name",
                )
                continue
            found[name] = (group, spec)
        return found

    def check_switch_fields(
        self, name: str, group: RawGroup, spec: dict[str, Any], names: set[str]
    ) -> tuple[int | None, str | None, str | None]:
        where = _group_where(group)
        tier = spec.get("tier")
        if tier is None:
            self.problem(
                where,
                f"switch '{name}' has no tier",
                "set topology_switch.tier (1 = leaf, 2 = aggregation, 3 = core)",
            )
            tier = None
        elif not _is_int(tier) or tier < 1:
            self.problem(
                where,
                f"switch '{name}' has tier {tier!r}, not an integer >= 1",
                "set topology_switch.tier to 1 (leaf), 2 (aggregation) or 3 (core)",
            )
            tier = None
        stype = spec.get("type")
        if stype not in SWITCH_TYPES:
            self.problem(
                where, f"switch '{name}' has type {stype!r}", "set topology_switch.type to 'ib' or 'ethernet'"
            )
            stype = None
        parent = spec.get("parent")
        if isinstance(parent, list):
            if len(parent) > 1:
                self.problem(
                    where,
                    f"switch '{name}' has {len(parent)} parents {parent}",
                    "a switch has at most one parent (Volcano disables topology scheduling "
                    "cluster-wide otherwise); keep one",
                )
                parent = None
            else:
                parent = parent[0] if parent else None
        if parent is not None:
            parent = str(parent)
            if parent not in names:
                self.problem(
                    where,
                    f"switch '{name}' has parent '{parent}', which is not a switch",
                    f"declare a group '{parent}' with {SWITCH_VAR}, or fix the parent name",
                )
                parent = None
        return tier, stype, parent

    # -- hosts ----------------------------------------------------------------------
    def host(self, name: str, leaf: str, catalogue: dict[str, Any]) -> Host | None:
        raw_host = self.raw.hosts[name]
        v = raw_host.vars
        where = f"host '{name}' ({raw_host.source})"
        ok = True
        err = dns1123_subdomain_error(name)
        if err:
            self.problem(where, f"node name {err}", "use the Kubernetes node name as the inventory host name")
            ok = False
        model = v.get("gpu_model")
        if model is None:
            self.problem(where, "no gpu_model", f"set gpu_model to one of {sorted(catalogue)}")
            ok = False
        elif str(model) not in catalogue:
            self.problem(
                where,
                f"unknown gpu_model '{model}'",
                f"use one of {sorted(catalogue)} or declare it in topology_gpu_models",
            )
            ok = False
        count = v.get("gpu_count")
        if not _is_int(count) or count < 1:
            self.problem(
                where, f"gpu_count {count!r} is not a positive integer", "set gpu_count: 8 (for example)"
            )
            ok = False
        resources = (v.get("topology_node_resources") or {}).get(str(model), {}) if model else {}
        cpu = v.get("node_cpu", resources.get("cpu"))
        memory = v.get("node_memory", resources.get("memory"))
        for field_name, value in (("node_cpu", cpu), ("node_memory", memory)):
            if value is None:
                self.problem(
                    where,
                    f"no {field_name}",
                    f"set {field_name} on the host or topology_node_resources.{model} in group_vars",
                )
                ok = False
            elif not _QUANTITY.match(str(value)):
                self.problem(
                    where,
                    f"{field_name} '{value}' is not a Kubernetes quantity",
                    "use e.g. '220' CPUs and '1950Gi' memory",
                )
                ok = False
        pods = v.get("node_pods", 110)
        if not _is_int(pods) or pods < 1:
            self.problem(where, f"node_pods {pods!r} is not a positive integer", "set node_pods: 110")
            ok = False
        if not ok:
            return None
        return Host(
            name=name,
            leaf=leaf,
            gpu_model=str(model),
            gpu_count=count,
            cpu=str(cpu),
            memory=str(memory),
            pods=pods,
            source=raw_host.source,
        )

    # -- whole tree -------------------------------------------------------------------
    def build(self) -> Topology:
        raw = self.raw
        for err in raw.load_errors:
            self.problem(f"inventory {raw.source}", err, "point ansible at an existing inventory directory")
        catalogue, cat_errors = gpu_catalogue(raw.all_vars.get("topology_gpu_models"))
        for err in cat_errors:
            self.problem(f"inventory {raw.source} (group_vars/all)", err, "fix topology_gpu_models")
        for model in catalogue.values():
            err = label_value_error(model.label)
            if err:
                self.problem(f"gpu model '{model.name}'", err, "use a label value like 'h100'")
        found = self.switches()
        names = set(found)
        fields: dict[str, tuple[int | None, str | None, str | None]] = {
            name: self.check_switch_fields(name, group, spec, names) for name, (group, spec) in found.items()
        }
        group_to_switch = {group.name: name for name, (group, _) in found.items()}
        children: dict[str, list[str]] = {n: [] for n in names}
        for name, (_, _, parent) in fields.items():
            if parent is not None:
                children[parent].append(name)
        self.check_tree(found, fields, children)
        hosts_of: dict[str, list[str]] = {n: [] for n in names}
        host_leaf: dict[str, str] = {}
        for hname, raw_host in raw.hosts.items():
            sws = [group_to_switch[g] for g in raw_host.groups if g in group_to_switch]
            where = f"host '{hname}' ({raw_host.source})"
            if not sws:
                self.problem(
                    where, "is in no leaf switch group", "add the host under exactly one leaf switch group"
                )
                continue
            if len(sws) > 1:
                self.problem(
                    where,
                    f"is in {len(sws)} switch groups {sorted(sws)}",
                    "keep the host under exactly one leaf switch group",
                )
                continue
            sw = sws[0]
            if children[sw]:
                self.problem(
                    where,
                    f"is attached to '{sw}', which is not a leaf (it has child switches)",
                    "attach hosts to leaf (tier-1) switches only",
                )
                continue
            hosts_of[sw].append(hname)
            host_leaf[hname] = sw
        for name, (group, _) in found.items():
            tier = fields[name][0]
            if not children[name] and not group.hosts:
                self.problem(
                    _group_where(group),
                    f"leaf switch '{name}' has no hosts",
                    "add hosts to it, or remove the group",
                )
            if hosts_of[name] and tier is not None and tier != 1:
                self.problem(
                    _group_where(group),
                    f"switch '{name}' has hosts but tier {tier}",
                    "hosts attach to leaf switches, which have tier 1",
                )
        hosts: dict[str, Host] = {}
        for hname, leaf in host_leaf.items():
            host = self.host(hname, leaf, catalogue)
            if host is not None:
                hosts[hname] = host
        if not raw.hosts and not raw.load_errors:
            self.problem(f"inventory {raw.source}", "has no hosts", "add hosts under leaf switch groups")
        roots = sorted(n for n, f in fields.items() if f[2] is None)
        if self.problems:
            raise TopologyError(raw.source, self.problems)
        switches = {
            name: Switch(
                name=name,
                tier=fields[name][0] or 0,
                type=fields[name][1] or "",
                parent=fields[name][2],
                children=tuple(sorted(children[name])),
                hosts=tuple(hosts_of[name]),
                source=found[name][0].source,
            )
            for name in names
        }
        for s in switches.values():
            if s.is_leaf and s.type == "ib" and s.parent and switches[s.parent].type == "ethernet":
                self.warnings.append(
                    f"IB leaf '{s.name}' is under Ethernet switch '{s.parent}': its nodes form an IB island, "
                    "traffic to any other leaf crosses Ethernet"
                )
        network = raw.all_vars.get("topology_network") or {}
        return Topology(
            source=raw.source,
            switches=switches,
            hosts=hosts,
            gpu_models=catalogue,
            root=roots[0],
            network=dict(network),
            warnings=tuple(self.warnings),
        )

    def check_tree(
        self,
        found: dict[str, tuple[RawGroup, dict[str, Any]]],
        fields: dict[str, tuple[int | None, str | None, str | None]],
        children: dict[str, list[str]],
    ) -> None:
        for name, (tier, _, parent) in fields.items():
            if parent is None or tier is None:
                continue
            ptier = fields[parent][0]
            if ptier is not None and ptier <= tier:
                self.problem(
                    _group_where(found[name][0]),
                    f"parent '{parent}' has tier {ptier}, not greater than '{name}' tier {tier}",
                    "a parent switch must have a higher tier than its children",
                )
        reported: set[str] = set()
        for start in fields:
            path: list[str] = []
            cur: str | None = start
            while cur is not None and cur not in path:
                path.append(cur)
                cur = fields[cur][2]
            if cur is not None:  # came back to a switch on the path: a cycle
                cycle = path[path.index(cur) :]
                key = min(cycle)
                if key not in reported:
                    reported.add(key)
                    self.problem(
                        _group_where(found[key][0]),
                        f"switches form a cycle: {' -> '.join([*cycle, cur])}",
                        "make the parents form a tree with one root",
                    )
        roots = sorted(n for n, f in fields.items() if f[2] is None)
        if fields and not roots:
            self.problem(
                f"inventory {self.raw.source}",
                "has no root switch (every switch has a parent)",
                "leave topology_switch.parent unset on the top (core) switch",
            )
        elif len(roots) > 1:
            self.problem(
                f"inventory {self.raw.source}",
                f"has {len(roots)} root switches {roots}",
                "add a core switch (tier above all) as the parent of every root; "
                "one tree is required so every pair of nodes has a known network class",
            )
        if not fields and self.raw.hosts:
            self.problem(
                f"inventory {self.raw.source}",
                f"no group defines {SWITCH_VAR}",
                "declare switches as groups with topology_switch: {tier, type, parent}",
            )


def build_topology(raw: RawInventory) -> Topology:
    """Validate ``raw``; raise :class:`TopologyError` listing every problem."""
    return _Builder(raw).build()
