"""Validation: turn a :class:`RawInventory` into a :class:`Topology`, or report every problem at once.

Rules (each problem names the file/group/host, the line where known, and the fix):

* every inventory file parses completely (see :mod:`hypertopo.topology.inventory`): no syntax error,
  no duplicate key, nothing Ansible would skip;
* ``topology_switch`` is set in a group's vars only (not on ``all``, not on a host);
  ``topology_network`` and ``topology_gpu_models`` on ``all`` only;
* every switch (a group with ``topology_switch``) has an integer ``tier`` >= 1 and a ``type`` of
  ``ib`` or ``ethernet``, no other keys; its ``parent`` (if any) is one existing switch with a
  greater tier;
* Ansible group nesting is accepted where it agrees with ``parent``: a switch group nested (at any
  depth) under another switch group must have that switch among its ancestors;
* no cycles; exactly one root (a switch without a parent). Several roots are rejected: Volcano
  would silently join them under its virtual root, and the cost of crossing between them is unknown;
* every host attaches to exactly one switch (its lowest switch group), which is a leaf (tier 1, no
  child switches); every leaf has at least one host; switch names are unique DNS-1123 labels;
* per-host values (see :mod:`hypertopo.topology.hostvars`) are checked where they are written;
* an InfiniBand leaf under an Ethernet aggregation switch is allowed but WARNED about: its nodes
  form an IB island, and traffic to any other leaf crosses Ethernet.

One mistake gives one line: a check that depends on something already reported (an unknown
parent, an unknown GPU model, an unreadable file) is skipped rather than repeated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypertopo.topology.errors import Problem, TopologyError, close_match, shown
from hypertopo.topology.gpus import gpu_catalogue
from hypertopo.topology.hostvars import HostVarChecks
from hypertopo.topology.inventory import MODEL_VARS, SWITCH_VAR, RawGroup, RawInventory
from hypertopo.topology.k8snames import dns1123_label_error, dns1123_subdomain_error, label_value_error
from hypertopo.topology.model import SWITCH_TYPES, Host, Switch, Topology

SWITCH_KEYS = ("tier", "type", "parent", "name")
MAX_TIER = 2**31 - 1
#: Checks the ``topology_network`` value (plain data): why it is invalid as ".<field>: <reason>", or None.
NetworkCheck = Callable[[Any], "str | None"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _group_where(group: RawGroup) -> str:
    return f"group '{group.name}' ({group.source})"


def _names(names: list[str], limit: int = 5) -> str:
    shown_names = ", ".join(names[:limit])
    return shown_names + (f" and {len(names) - limit} more" if len(names) > limit else "")


@dataclass
class _Fields:
    """A switch's checked fields; ``parent_state``: root | ok | bad (reported) | unknown (not checkable)."""

    tier: int | None
    type: str | None
    parent: str | None
    parent_state: str


class _Builder:
    def __init__(self, raw: RawInventory, network_check: NetworkCheck | None) -> None:
        self.raw = raw
        self.network_check = network_check
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        #: Switches with a switch group nested under them against its parent (not checked for hosts).
        self.nested_into: set[str] = set()
        #: Groups whose switch definition is empty ("group:<name>"): treated as unreadable.
        self.opaque: set[str] = set()

    def problem(self, where: str, what: str, fix: str) -> None:
        self.problems.append(Problem(where, what, fix))

    def unknown(self, kind: str, name: str) -> bool:
        """Whether the group/host could not be read (or its switch definition is empty): not checked."""
        return f"{kind}:{name}" in self.raw.unknown or f"{kind}:{name}" in self.opaque

    # -- variables in the wrong place ---------------------------------------------------
    def misplaced(self) -> None:
        raw = self.raw
        where_all = raw.where_var("group", "all", SWITCH_VAR, raw.all_source)
        if SWITCH_VAR in raw.all_vars:
            self.problem(
                f"group 'all' ({where_all})",
                f"sets {SWITCH_VAR}, which would make every group and host a switch",
                "move it to group_vars/<switch>.yml of each switch group; remove it from group 'all'",
            )
        ignored = "which is read from group 'all' only (here it would be ignored)"
        for group in raw.groups.values():
            for variable in MODEL_VARS:
                if variable in group.vars:
                    where = raw.where_var("group", group.name, variable, group.source)
                    self.problem(
                        f"group '{group.name}' ({where})",
                        f"sets {variable}, {ignored}",
                        f"move {variable} to group_vars/all.yml",
                    )
        for host in raw.hosts.values():
            for variable in (SWITCH_VAR, *MODEL_VARS):
                if variable not in host.own_vars:
                    continue
                where = f"host '{host.name}' ({raw.where_var('host', host.name, variable, host.source)})"
                if variable == SWITCH_VAR:
                    self.problem(
                        where,
                        f"sets {SWITCH_VAR}: a switch is a group, a host only sits in one",
                        f"remove {SWITCH_VAR} from the host and list the host under its leaf switch group",
                    )
                else:
                    self.problem(
                        where, f"sets {variable}, {ignored}", f"move {variable} to group_vars/all.yml"
                    )

    # -- model-wide variables ---------------------------------------------------------------
    def catalogue(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(catalogue, names to check host models against: None when they cannot be known)."""
        raw = self.raw
        extra = raw.all_vars.get("topology_gpu_models")
        catalogue, errors = gpu_catalogue(extra)
        where = f"group 'all' ({raw.where_var('group', 'all', 'topology_gpu_models', raw.all_source)})"
        for error in errors:
            self.problem(where, error, "see 'Inventory format' in the README for topology_gpu_models")
        for model in catalogue.values():
            err = label_value_error(model.label)
            if err:
                self.problem(f"gpu model '{model.name}' ({where})", err, "use a label value like 'h100'")
        if self.unknown("group", "all") or not isinstance(extra, dict | None):
            return catalogue, None
        known: dict[str, Any] = dict(catalogue)
        # broken entries: reported above (an override of a built-in model keeps the built-in)
        known.update({str(name): None for name in (extra or {}) if str(name) not in catalogue})
        return catalogue, known

    def network(self) -> dict[str, Any]:
        raw = self.raw
        value = raw.all_vars.get("topology_network")
        if value is None or self.unknown("group", "all"):
            return {}
        where = f"group 'all' ({raw.where_var('group', 'all', 'topology_network', raw.all_source)})"
        fix = "see 'Inventory format' in the README for topology_network"
        if not isinstance(value, dict):
            self.problem(where, f"topology_network is {shown(value)}, not a mapping", fix)
            return {}
        try:
            data = json.loads(json.dumps(value, default=str))
        except (RecursionError, ValueError):
            self.problem(where, "topology_network is nested too deeply to be a network model", fix)
            return {}
        reason = self.network_check(data) if self.network_check else None
        if reason:
            self.problem(where, f"topology_network{reason}", fix)
            return {}
        return data

    # -- switches -------------------------------------------------------------------
    def switches(self) -> dict[str, tuple[RawGroup, dict[str, Any]]]:
        found: dict[str, tuple[RawGroup, dict[str, Any]]] = {}
        for group in self.raw.groups.values():
            if SWITCH_VAR not in group.vars or self.unknown("group", group.name):
                continue
            spec = group.vars[SWITCH_VAR]
            where = _group_where(group)
            if not isinstance(spec, dict) or not spec:
                what = f"{SWITCH_VAR} is empty" if spec in ({}, None) else f"{SWITCH_VAR} is {shown(spec)}"
                self.problem(
                    where,
                    f"{what}, not a mapping with tier, type and parent",
                    f"write {SWITCH_VAR}: {{tier: 1, type: ib, parent: <switch>}}",
                )
                self.opaque.add(f"group:{group.name}")
                continue
            name = spec.get("name", group.name)
            if not isinstance(name, str):
                self.problem(
                    where, f"{SWITCH_VAR}.name is {shown(name)}, not text", "quote the name, or remove it"
                )
                continue
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
            found[str(name)] = (group, spec)
        return found

    def _tier(self, name: str, where: str, spec: dict[str, Any]) -> int | None:
        tier = spec.get("tier")
        if tier is None:
            self.problem(
                where,
                f"switch '{name}' has no tier",
                "set topology_switch.tier (1 = leaf, 2 = aggregation, 3 = core)",
            )
            return None
        if not _is_int(tier) or not 1 <= tier <= MAX_TIER:
            quoted = isinstance(tier, str) and tier.strip().isdigit()
            self.problem(
                where,
                f"switch '{name}' has tier {shown(tier)}, not an integer >= 1",
                "write the tier without quotes"
                if quoted
                else "set topology_switch.tier to 1 (leaf), 2 (aggregation) or 3 (core)",
            )
            return None
        return int(tier)

    def check_switch_fields(
        self, name: str, group: RawGroup, spec: dict[str, Any], names: set[str]
    ) -> _Fields:
        where = _group_where(group)
        first = len(self.problems)
        fields = self._switch_fields(name, where, spec, names)
        # Everything wrong with one switch definition is one line.
        mine = self.problems[first:]
        if len(mine) > 1:
            prefix = f"switch '{name}' "
            whats = [mine[0].what] + [p.what.removeprefix(prefix) for p in mine[1:]]
            self.problems[first:] = [Problem(where, "; ".join(whats), "; ".join(p.fix for p in mine))]
        return fields

    def _switch_fields(self, name: str, where: str, spec: dict[str, Any], names: set[str]) -> _Fields:
        unknown_keys = sorted(str(k) for k in spec if k not in SWITCH_KEYS)
        for key in unknown_keys:
            close = close_match(key, SWITCH_KEYS)
            hint = f"did you mean '{close}'? " if close else ""
            self.problem(
                where,
                f"switch '{name}' has the key '{key}' in {SWITCH_VAR}",
                f"{hint}{SWITCH_VAR} has tier, type, parent (and optionally name) only",
            )
        tier = self._tier(name, where, spec)
        stype = spec.get("type")
        if stype not in SWITCH_TYPES or not isinstance(stype, str):
            self.problem(
                where,
                f"switch '{name}' has type {shown(stype)}",
                "set topology_switch.type to 'ib' or 'ethernet'",
            )
            stype = None
        parent, state = self._parent(name, where, spec.get("parent"), names)
        if state == "root" and (unknown_keys or tier is None or stype is None):
            state = "bad"  # e.g. 'parnet:' or half a definition: whether it is a root is not known
        return _Fields(tier, None if stype is None else str(stype), parent, state)

    def _parent(self, name: str, where: str, parent: Any, names: set[str]) -> tuple[str | None, str]:
        if isinstance(parent, list):
            if len(parent) > 1:
                self.problem(
                    where,
                    f"switch '{name}' has {len(parent)} parents {[shown(p) for p in parent]}",
                    "a switch has at most one parent (Volcano disables topology scheduling "
                    "cluster-wide otherwise); keep one",
                )
                return None, "bad"
            parent = parent[0] if parent else None
        if parent is None:
            return None, "root"
        if not isinstance(parent, str):
            self.problem(
                where, f"switch '{name}' has parent {shown(parent)}, not a switch name", "quote the name"
            )
            return None, "bad"
        if parent in names:
            return str(parent), "ok"
        if parent in self.raw.stray_groups or self.unknown("group", parent):
            return None, "unknown"  # its file is the problem, reported once
        self.problem(
            where,
            f"switch '{name}' has parent '{parent}', which is not a switch",
            f"declare a group '{parent}' with {SWITCH_VAR}, or fix the parent name",
        )
        return None, "bad"

    def check_nesting(
        self, found: dict[str, tuple[RawGroup, dict[str, Any]]], fields: dict[str, _Fields]
    ) -> None:
        """A switch group nested under another switch group must have it among its ancestors."""
        group_to_switch = {group.name: name for name, (group, _) in found.items()}
        for name, (group, _) in found.items():
            if fields[name].parent_state not in ("ok", "root"):
                continue
            chain = _chain(name, fields)
            for above in self._groups_above(group):
                switch = group_to_switch.get(above)
                if switch is None or switch in chain:
                    continue
                self.nested_into.add(switch)
                parent = fields[name].parent
                now = f"its parent is '{parent}'" if parent else "it sets no parent"
                self.problem(
                    _group_where(group),
                    f"group '{group.name}' is nested under switch group '{above}' in the hosts file, but "
                    f"{now} (the tree is read from {SWITCH_VAR}.parent; nesting must agree with it)",
                    f"set {SWITCH_VAR}.parent: {above}, or move '{group.name}' out from under '{above}' "
                    "in the hosts file",
                )
                fields[name].parent_state = "bad"
                break

    def _groups_above(self, group: RawGroup) -> list[str]:
        """The Ansible groups ``group`` is nested in, nearest first."""
        order: list[str] = []
        layer = list(group.parents)
        while layer:
            above = [g for g in dict.fromkeys(layer) if g not in order and g in self.raw.groups]
            order.extend(above)
            layer = [p for g in above for p in self.raw.groups[g].parents]
        return order

    # -- hosts on switches ------------------------------------------------------------------
    def attach_hosts(
        self, found: dict[str, tuple[RawGroup, dict[str, Any]]], children: dict[str, list[str]]
    ) -> tuple[dict[str, str], set[str]]:
        """(host -> its leaf, switches some host sits on); one line per block of hosts with one mistake."""
        raw = self.raw
        group_to_switch = {group.name: name for name, (group, _) in found.items()}
        nested_under = {g.name: set(g.ancestors) for g in raw.groups.values()}
        blocks: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        claimed: set[str] = set()
        host_leaf: dict[str, str] = {}
        for hname, host in raw.hosts.items():
            mine = [g for g in host.groups if g in group_to_switch]
            unreadable = self.unknown("host", hname) or any(self.unknown("group", g) for g in host.groups)
            # a switch group the host is in only through nesting is covered by check_nesting
            lowest = sorted(
                {group_to_switch[g] for g in mine if not any(g in nested_under[o] for o in mine if o != g)}
            )
            claimed.update(lowest)
            if unreadable:
                continue
            if not lowest:
                blocks.setdefault(("none", tuple(sorted(host.groups))), []).append(hname)
            elif len(lowest) > 1:
                blocks.setdefault(("several", tuple(lowest)), []).append(hname)
            elif children[lowest[0]]:
                blocks.setdefault(("non-leaf", tuple(lowest)), []).append(hname)
            else:
                host_leaf[hname] = lowest[0]
        for (kind, names), hosts in blocks.items():
            self._host_block(kind, names, hosts)
        return host_leaf, claimed

    def _host_block(self, kind: str, names: tuple[str, ...], hosts: list[str]) -> None:
        first = self.raw.hosts[hosts[0]]
        more = f" (so are {len(hosts) - 1} more: {_names(hosts[1:])})" if len(hosts) > 1 else ""
        where = f"host '{first.name}' ({first.source})"
        if kind == "none":
            groups = f"; its groups ({', '.join(names)}) set no {SWITCH_VAR}" if names else ""
            fix = "list the host under exactly one leaf switch group"
            if names:
                fix += f", or set {SWITCH_VAR} in group_vars/<group>.yml if one of its groups is a switch"
            self.problem(where, f"is in no leaf switch group{more}{groups}", fix)
        elif kind == "several":
            self.problem(
                where,
                f"is in {len(names)} switch groups {list(names)}{more}",
                "keep the host under exactly one leaf switch group",
            )
        else:
            self.problem(
                where,
                f"is attached to '{names[0]}', which is not a leaf (it has child switches){more}",
                "attach hosts to leaf (tier-1) switches only",
            )

    # -- whole tree -------------------------------------------------------------------
    def build(self) -> Topology:
        raw = self.raw
        for err in raw.load_errors:
            self.problem(f"inventory {raw.source}", err, "point ansible at an existing inventory directory")
        for fp in raw.file_problems:
            self.problem(fp.where, fp.what, fp.fix)
        if raw.load_errors or not raw.structure_known:
            raise TopologyError(raw.source, self.problems)
        self.misplaced()
        catalogue, known_models = self.catalogue()
        network = self.network()
        found = self.switches()
        names = set(found)
        fields = {
            name: self.check_switch_fields(name, group, spec, names) for name, (group, spec) in found.items()
        }
        self.check_nesting(found, fields)
        children: dict[str, list[str]] = {n: [] for n in names}
        for name, f in fields.items():
            if f.parent_state == "ok" and f.parent is not None:
                children[f.parent].append(name)
        if found or not raw.hosts:
            host_leaf, claimed = self.attach_hosts(found, children)
        else:  # one line, not one per group of hosts
            host_leaf, claimed = {}, set()
            if not raw.unknown and not self.opaque:
                self.problem(
                    f"inventory {raw.source}",
                    f"no group defines {SWITCH_VAR}",
                    f"declare each switch as a group with {SWITCH_VAR}: {{tier, type, parent}} in "
                    "group_vars/<switch>.yml next to the hosts file",
                )
        members: dict[str, list[str]] = {n: [] for n in names}
        for hname, leaf in host_leaf.items():
            members[leaf].append(hname)
        self.check_leaves(found, fields, children, claimed)
        self.check_tree(found, fields, claimed)
        checks = HostVarChecks(raw, known_models)
        checks.check_sites()
        hosts: dict[str, Host] = {}
        for hname, leaf in host_leaf.items():
            spec = checks.resolve(raw.hosts[hname])
            err = dns1123_subdomain_error(hname)
            if err:
                self.problem(
                    f"host '{hname}' ({raw.hosts[hname].source})",
                    f"node name {err}",
                    "use the Kubernetes node name as the inventory host name",
                )
            elif spec is not None:
                hosts[hname] = Host(
                    hname,
                    leaf,
                    spec.gpu_model,
                    spec.gpu_count,
                    spec.cpu,
                    spec.memory,
                    spec.pods,
                    raw.hosts[hname].source,
                )
        checks.report_missing()
        self.problems.extend(checks.problems)
        if not raw.hosts:
            self.problem(f"inventory {raw.source}", "has no hosts", "add hosts under leaf switch groups")
        if self.problems:
            raise TopologyError(raw.source, self.problems)
        return self.topology(found, fields, children, members, hosts, catalogue, network)

    def check_leaves(
        self,
        found: dict[str, tuple[RawGroup, dict[str, Any]]],
        fields: dict[str, _Fields],
        children: dict[str, list[str]],
        claimed: set[str],
    ) -> None:
        for name, (group, _) in found.items():
            if children[name] or name in claimed or name in self.nested_into:
                continue
            self.problem(
                _group_where(group),
                f"leaf switch '{name}' has no hosts",
                "add hosts to it, or remove the group",
            )
        for name, (group, _) in found.items():
            tier = fields[name].tier
            if not children[name] and name in claimed and tier is not None and tier != 1:
                self.problem(
                    _group_where(group),
                    f"switch '{name}' has hosts but tier {tier}",
                    "hosts attach to leaf switches, which have tier 1",
                )

    def check_tree(
        self,
        found: dict[str, tuple[RawGroup, dict[str, Any]]],
        fields: dict[str, _Fields],
        claimed: set[str],
    ) -> None:
        on_cycle: set[str] = set()
        reported: set[str] = set()
        for start in fields:
            path: list[str] = []
            cur: str | None = start
            while cur is not None and cur not in path:
                path.append(cur)
                cur = fields[cur].parent if fields[cur].parent_state == "ok" else None
            if cur is not None:  # came back to a switch on the path: a cycle
                cycle = path[path.index(cur) :]
                on_cycle.update(cycle)
                key = min(cycle)
                if key not in reported:
                    reported.add(key)
                    self.problem(
                        _group_where(found[key][0]),
                        f"switches form a cycle: {' -> '.join([*cycle, cur])}",
                        "make the parents form a tree with one root (leave topology_switch.parent unset "
                        "on the top (core) switch)",
                    )
        for name, f in fields.items():
            if f.parent_state != "ok" or f.tier is None or f.parent is None or name in on_cycle:
                continue
            ptier = fields[f.parent].tier
            wrong_leaf_tier = name in claimed and f.tier != 1  # reported as such by check_leaves
            if ptier is not None and ptier <= f.tier and not wrong_leaf_tier:
                self.problem(
                    _group_where(found[name][0]),
                    f"parent '{f.parent}' has tier {ptier}, not greater than '{name}' tier {f.tier}",
                    "a parent switch must have a higher tier than its children",
                )
        if any(f.parent_state in ("bad", "unknown") for f in fields.values()) or any(
            key.startswith("group:") for key in self.raw.unknown
        ):
            return  # the number of roots is not known
        roots = sorted(n for n, f in fields.items() if f.parent_state == "root")
        if len(roots) > 1:
            self.problem(
                f"inventory {self.raw.source}",
                f"has {len(roots)} root switches {roots}",
                "add a core switch (tier above all) as the parent of every root; "
                "one tree is required so every pair of nodes has a known network class",
            )

    def topology(
        self,
        found: dict[str, tuple[RawGroup, dict[str, Any]]],
        fields: dict[str, _Fields],
        children: dict[str, list[str]],
        members: dict[str, list[str]],
        hosts: dict[str, Host],
        catalogue: dict[str, Any],
        network: dict[str, Any],
    ) -> Topology:
        switches = {
            name: Switch(
                name=name,
                tier=fields[name].tier or 0,
                type=fields[name].type or "",
                parent=fields[name].parent,
                children=tuple(sorted(children[name])),
                hosts=tuple(members[name]),
                source=found[name][0].source,
            )
            for name in found
        }
        for s in switches.values():
            if s.is_leaf and s.type == "ib" and s.parent and switches[s.parent].type == "ethernet":
                self.warnings.append(
                    f"IB leaf '{s.name}' is under Ethernet switch '{s.parent}': its nodes form an IB island, "
                    "traffic to any other leaf crosses Ethernet"
                )
        roots = sorted(n for n, f in fields.items() if f.parent_state == "root")
        return Topology(
            source=self.raw.source,
            switches=switches,
            hosts=hosts,
            gpu_models=catalogue,
            root=roots[0],
            network=network,
            warnings=tuple(self.warnings),
        )


def _chain(name: str, fields: dict[str, _Fields]) -> list[str]:
    """``name`` and its ancestors through valid parents (stops at a cycle)."""
    chain: list[str] = []
    cur: str | None = name
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = fields[cur].parent if fields[cur].parent_state == "ok" else None
    return chain


def build_topology(raw: RawInventory, network_check: NetworkCheck | None = None) -> Topology:
    """Validate ``raw``; raise :class:`TopologyError` listing every problem.

    ``network_check`` validates the ``topology_network`` overrides (the placement predictor's
    schema, handed in by the caller so that this package does not depend on the predictor).
    """
    return _Builder(raw, network_check).build()
