"""Read an Ansible inventory into plain data (groups with their own vars, hosts with merged vars).

Uses Ansible's own inventory and variable machinery, so every inventory format Ansible accepts
(YAML, INI, group_vars/ and host_vars/ directories) works, but refuses what Ansible would only
warn about: every file is checked first (:mod:`hypertopo.topology.sources`), every inventory
source is parsed on its own and a source no plugin could parse is a problem naming the file
(Ansible would carry on with whatever part it had read). Problems in an inventory source make
the structure unknown (the model is not validated further: every other line would be a guess);
a broken ``group_vars``/``host_vars`` file makes only its group or host unknown.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypertopo.topology.errors import close_match
from hypertopo.topology.sources import (
    YAML_INVENTORY_EXTENSIONS,
    Locations,
    check_hosts_yaml,
    check_vars_yaml,
    inventory_files,
    looks_like_yaml_inventory,
    top_level_keys,
)
from hypertopo.topology.yamlcheck import FileProblem, YamlFile, read_yaml

SWITCH_VAR = "topology_switch"
#: Variables read from the ``all`` group only (one value for the whole model).
MODEL_VARS = ("topology_gpu_models", "topology_network")
#: Variables read per host (from any group or the host itself).
HOST_VARS = ("gpu_model", "gpu_count", "node_cpu", "node_memory", "node_pods", "topology_node_resources")
#: Every variable this project reads from an inventory.
INVENTORY_VARS = (SWITCH_VAR, *MODEL_VARS, *HOST_VARS)
BUILTIN_GROUPS = ("all", "ungrouped")


@dataclass
class RawGroup:
    name: str
    vars: dict[str, Any]
    hosts: list[str]
    source: str
    #: Ansible groups this group is nested in (its direct parents, ``all`` left out).
    parents: list[str] = field(default_factory=list)
    #: Ansible groups above this one, at any depth (``all`` left out).
    ancestors: list[str] = field(default_factory=list)


@dataclass
class RawHost:
    name: str
    vars: dict[str, Any]
    groups: list[str]
    source: str
    #: Variables set on the host itself (inventory line or host_vars), not inherited from groups.
    own_vars: frozenset[str] = frozenset()


@dataclass
class RawInventory:
    source: str
    groups: dict[str, RawGroup] = field(default_factory=dict)
    hosts: dict[str, RawHost] = field(default_factory=dict)
    all_vars: dict[str, Any] = field(default_factory=dict)
    load_errors: list[str] = field(default_factory=list)
    #: Problems of single files (syntax, duplicate keys, what Ansible would skip), with lines.
    file_problems: list[FileProblem] = field(default_factory=list)
    #: False when an inventory source could not be read exactly: only file problems are reported.
    structure_known: bool = True
    #: Groups and hosts ("group:<name>", "host:<name>") whose variables could not be read.
    unknown: set[str] = field(default_factory=set)
    #: group_vars files of no inventory group that set a variable we read: group name -> file.
    stray_groups: dict[str, str] = field(default_factory=dict)
    locations: Locations = field(default_factory=Locations)
    all_source: str = ""

    def where_var(self, kind: str, name: str, variable: str, fallback: str) -> str:
        return self.locations.var(kind, name, variable) or fallback


def _display(path: Path | str) -> str:
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


_PLUGINS_READY: list[bool] = []


def init_ansible_plugins() -> None:
    """Initialise Ansible's plugin loader once per process (a no-op inside ansible-playbook)."""
    if not _PLUGINS_READY:
        import warnings

        from ansible.plugins.loader import init_plugin_loader

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            init_plugin_loader()
        _PLUGINS_READY.append(True)


class _Files:
    """Reads each file once, strictly, and keeps its problems."""

    def __init__(self, raw: RawInventory) -> None:
        self.raw = raw
        self.docs: dict[Path, YamlFile] = {}

    def read(self, path: Path) -> YamlFile:
        if path not in self.docs:
            self.docs[path] = read_yaml(path, _display(path))
        return self.docs[path]

    def report(self, doc: YamlFile) -> None:
        for problem in doc.problems:
            if problem not in self.raw.file_problems:
                self.raw.file_problems.append(problem)


def _why_unparsed(loader: Any, path: str, *, yaml_file: bool) -> str:
    """Why the enabled inventory plugins do not parse ``path``: the YAML plugin's reason for a YAML
    file, else the last plugin's (for a file without extension, the INI plugin's)."""
    from ansible import constants as C
    from ansible.inventory.data import InventoryData
    from ansible.plugins.loader import inventory_loader

    reasons: list[tuple[str, str]] = []
    for name in C.INVENTORY_ENABLED:
        plugin = inventory_loader.get(name)
        try:
            if plugin is None or not plugin.verify_file(path):
                continue
            plugin.parse(InventoryData(), loader, path, cache=False)
        except Exception as exc:
            reasons.append((name, _first_line(exc)))
    if not reasons:
        return "no enabled inventory plugin accepts it"
    yaml_reasons = [r for n, r in reasons if n.endswith("yaml")]
    return yaml_reasons[0] if yaml_file and yaml_reasons else reasons[-1][1]


def _first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "message", "") or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__


def _use_vault_secrets(loader: Any) -> None:
    """Decrypt vaulted files with the secrets ansible-playbook was given (if any)."""
    from ansible.parsing.vault import VaultSecretsContext

    context = VaultSecretsContext.current(optional=True)
    if context is not None:
        loader.set_vault_secrets(context.secrets)


def _parse_sources(inventory: Any, loader: Any, sources: list[str], files: _Files) -> None:
    """Parse every inventory file on its own; a file no plugin parses is a problem naming it."""
    raw = files.raw
    parsed_any = False
    for source in sources:
        for path in inventory_files(Path(source)):
            doc = files.read(path) if path.suffix in YAML_INVENTORY_EXTENSIONS else None
            if doc is not None and looks_like_yaml_inventory(path, doc):
                check_hosts_yaml(doc, raw.locations)
                files.report(doc)
            else:
                doc = None
            if inventory.parse_source(str(path)):
                parsed_any = True
            elif doc is None or not doc.problems:
                raw.file_problems.append(
                    FileProblem(
                        _display(path),
                        None,
                        "could not be parsed as an inventory: "
                        + _why_unparsed(loader, str(path), yaml_file=path.suffix != "" or doc is not None),
                        "fix the file (YAML or INI inventory), or move it out of the inventory directory",
                    )
                )
    # Only inventory sources were read so far: any problem leaves the structure unknown.
    raw.structure_known = not raw.file_problems
    if parsed_any:
        inventory.reconcile_inventory()


def _vars_dirs(sources: list[str], kind: str) -> list[str]:
    """The ``group_vars``/``host_vars`` folders Ansible's host_group_vars plugin reads for ``sources``."""
    dirs: list[str] = []
    for source in sources:
        base = source if os.path.isdir(source) else os.path.dirname(source)
        path = os.path.join(os.path.realpath(base), kind)
        if os.path.isdir(path) and path not in dirs:
            dirs.append(path)
    return dirs


class _VarsFiles:
    """The vars files of each group and host, read strictly before Ansible reads them."""

    def __init__(self, files: _Files, loader: Any, sources: list[str]) -> None:
        self.files = files
        self.loader = loader
        self.dirs = {kind: _vars_dirs(sources, f"{kind}_vars") for kind in ("group", "host")}

    def paths(self, kind: str, name: str, dirs: list[str] | None = None) -> list[Path]:
        folders = self.dirs[kind] if dirs is None else dirs
        return [Path(f) for d in folders for f in self.loader.find_vars_files(d, name)]

    def check(self, kind: str, name: str) -> tuple[str | None, bool]:
        """Check the files Ansible loads for ``kind`` ``name``: (first file, all fine)."""
        paths = self.paths(kind, name)
        fine = True
        for path in paths:
            doc = self.files.read(path)
            check_vars_yaml(doc, kind, name, self.files.raw.locations)
            self.files.report(doc)
            fine = fine and not doc.problems
        if not fine:
            self.files.raw.unknown.add(f"{kind}:{name}")
        return (_display(paths[0]) if paths else None), fine

    def strays(self, kind: str, known: set[str]) -> None:
        """A vars file for no inventory group/host that sets a variable we read is a problem."""
        raw = self.files.raw
        for folder in self.dirs[kind]:
            names = sorted({_entity_name(n) for n in os.listdir(folder) if not n.startswith(".")})
            for name in names:
                if name in known:
                    continue
                ours = [
                    (key, path)
                    for path in self.paths(kind, name, [folder])
                    for key in top_level_keys(self.files.read(path))
                    if key in INVENTORY_VARS
                ]
                if ours:
                    raw.file_problems.append(self._stray(kind, name, ours[0][0], ours[0][1], known))

    def _stray(self, kind: str, name: str, variable: str, path: Path, known: set[str]) -> FileProblem:
        doc = self.files.read(path)
        check_vars_yaml(doc, kind, name, self.files.raw.locations)
        if kind == "group":
            self.files.raw.stray_groups[name] = _display(path)
        close = close_match(name, known - set(BUILTIN_GROUPS), cutoff=0.8)
        hint = f" (is it '{close}'?)" if close else ""
        if close and not self.paths(kind, close):
            # Most likely the file of that group, misnamed: what depends on it is not known.
            self.files.raw.unknown.add(f"{kind}:{close}")
        add = f"list {kind} '{name}' in the hosts file"
        if kind == "group":
            add += f" (a switch without hosts too: '{name}: {{}}' under all.children)"
        at = self.files.raw.locations.var(kind, name, variable)
        return FileProblem(
            _display(path),
            int(at.rsplit(":", 1)[1]) if at else None,
            f"sets {variable} for {kind} '{name}', which is not in the inventory, so Ansible ignores "
            "this file",
            f"{add}, or rename the file after an existing {kind}{hint}",
        )


def _entity_name(file_name: str) -> str:
    stem, ext = os.path.splitext(file_name)
    return stem if ext in (".yml", ".yaml", ".json") else file_name


def _read_vars(files: _Files, key: str, where: str | None, read: Callable[[], Any]) -> dict[str, Any]:
    """``read()`` the vars of a group/host whose files passed the strict check; when Ansible still
    fails (e.g. a vaulted file without the password), the group/host is unknown and that a problem."""
    from ansible.errors import AnsibleError

    try:
        return dict(read())
    except AnsibleError as exc:
        files.raw.unknown.add(key)
        reason = _first_line(exc)
        fix = "fix the file"
        if "vault" in reason.lower():
            fix = "run with the vault password (--ask-vault-pass or --vault-password-file)"
        files.raw.file_problems.append(
            FileProblem(where or files.raw.source, None, f"could not be read by Ansible: {reason}", fix)
        )
        return {}


def load_raw_inventory(*sources: str) -> RawInventory:
    """Parse ``sources`` with Ansible; group vars are each group's OWN vars (no inheritance)."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.plugins import get_vars_from_inventory_sources

    init_ansible_plugins()
    abs_sources = [os.path.abspath(s) for s in sources]
    raw = RawInventory(source=", ".join(_display(s) for s in abs_sources))
    missing = [s for s in abs_sources if not os.path.exists(s)]
    if missing:
        raw.load_errors.append(f"inventory source {', '.join(missing)} does not exist")
        return raw
    loader = DataLoader()
    _use_vault_secrets(loader)
    inventory = InventoryManager(loader=loader, sources=abs_sources, parse=False)
    files = _Files(raw)
    _parse_sources(inventory, loader, abs_sources, files)
    if not raw.structure_known:
        return raw
    vars_files = _VarsFiles(files, loader, abs_sources)
    _read_groups(raw, inventory, vars_files, get_vars_from_inventory_sources)
    vars_files.strays("group", set(inventory.groups))
    vars_files.strays("host", {h.name for h in inventory.get_hosts()})
    _read_hosts(raw, loader, inventory, vars_files)
    return raw


def _read_groups(
    raw: RawInventory, inventory: Any, vars_files: _VarsFiles, plugin_vars: Callable[..., Any]
) -> None:
    where = raw.locations
    for tagged_name, group in inventory.groups.items():
        name = str(tagged_name)  # plain text: names reach the model, never as templates
        first_file, fine = vars_files.check("group", name)
        own = dict(group.get_vars())
        if fine:
            own.update(
                _read_vars(
                    vars_files.files,
                    f"group:{name}",
                    first_file,
                    lambda group=group: plugin_vars(vars_files.loader, inventory._sources, [group], "task"),
                )
            )
        if name == "all":
            raw.all_vars = own
            raw.all_source = first_file or where.groups.get(name, raw.source)
        if name in BUILTIN_GROUPS:
            continue
        raw.groups[name] = RawGroup(
            name=name,
            vars=own,
            hosts=[str(h.name) for h in group.hosts],
            source=where.var("group", name, SWITCH_VAR) or first_file or where.groups.get(name, raw.source),
            parents=[str(g.name) for g in group.parent_groups if g.name not in BUILTIN_GROUPS],
            ancestors=[str(g.name) for g in group.get_ancestors() if g.name not in BUILTIN_GROUPS],
        )


def _read_hosts(raw: RawInventory, loader: Any, inventory: Any, vars_files: _VarsFiles) -> None:
    host_vars = inventory_host_vars(loader, inventory)
    for host in inventory.get_hosts():
        name = str(host.name)  # plain text, as above
        key = f"host:{name}"
        first_file, fine = vars_files.check("host", name)
        in_unknown_group = any(f"group:{g.name}" in raw.unknown for g in host.get_groups())
        merged: dict[str, Any] = {}
        own: frozenset[str] = frozenset()
        if fine and not in_unknown_group:
            merged = _read_vars(vars_files.files, key, first_file, lambda host=host: host_vars(host))
            own = frozenset(host_vars.own(host)) if key not in raw.unknown else frozenset()
        else:
            raw.unknown.add(key)
        raw.hosts[name] = RawHost(
            name=name,
            vars={k: v for k, v in merged.items() if not k.startswith("ansible_")},
            groups=[str(g.name) for g in host.groups if g.name not in BUILTIN_GROUPS],
            source=raw.locations.hosts.get(name) or first_file or raw.source,
            own_vars=own,
        )


class _HostVars:
    """A host's inventory variables, merged as Ansible merges them (see :func:`inventory_host_vars`)."""

    def __init__(self, loader: Any, inventory: Any) -> None:
        self.loader = loader
        self.inventory = inventory
        self.all_group = inventory.groups["all"]
        self.by_group_set: dict[tuple[str, ...], dict[str, Any]] = {}
        self._host_plugin_vars: dict[str, dict[str, Any]] = {}  # kept from __call__ for own()

    def plugin_vars(self, entities: list[Any]) -> dict[str, Any]:
        from ansible.vars.plugins import get_vars_from_inventory_sources

        return get_vars_from_inventory_sources(self.loader, self.inventory._sources, entities, "task")

    def _by_groups(self, groups: list[Any]) -> dict[str, Any]:
        from ansible.utils.vars import combine_vars

        data: dict[str, Any] = {}
        for group in groups:
            data = combine_vars(data, self.plugin_vars([group]))
        return data

    def _group_part(self, groups: list[Any]) -> dict[str, Any]:
        from ansible import constants as C
        from ansible.inventory.helpers import get_group_vars
        from ansible.utils.vars import combine_vars

        key = tuple(g.name for g in groups)
        if key not in self.by_group_set:
            entries: dict[str, Callable[[], dict[str, Any]]] = {
                "all_inventory": self.all_group.get_vars,
                "groups_inventory": lambda: get_group_vars(groups),
                "all_plugins_inventory": lambda: self.plugin_vars([self.all_group]),
                "groups_plugins_inventory": lambda: self.plugin_vars(groups),
                "plugins_by_groups": lambda: self._by_groups(groups),
                # The *_plugins_play entries read vars next to a playbook: none without a play.
                "all_plugins_play": dict,
                "groups_plugins_play": dict,
            }
            data: dict[str, Any] = {}
            for entry in C.VARIABLE_PRECEDENCE:
                if entry in entries:
                    data = combine_vars(data, entries[entry]())
            self.by_group_set[key] = data
        return self.by_group_set[key]

    def own(self, host: Any) -> dict[str, Any]:
        """The variables of the host itself: its inventory line and its host_vars files."""
        from ansible.utils.vars import combine_vars

        plugin = self._host_plugin_vars.pop(host.name, None)
        return combine_vars(host.get_vars(), self.plugin_vars([host]) if plugin is None else plugin)

    def __call__(self, host: Any) -> dict[str, Any]:
        from ansible.inventory.helpers import sort_groups
        from ansible.utils.vars import combine_vars

        groups = sort_groups([g for g in host.get_groups() if g.name != "all"])
        data = combine_vars(self._group_part(groups), host.get_vars())
        plugin = self._host_plugin_vars[host.name] = self.plugin_vars([host])
        return combine_vars(data, plugin)


def inventory_host_vars(loader: Any, inventory: Any) -> _HostVars:
    """A function giving a host's inventory variables, merged as Ansible merges them.

    Same precedence as ``VariableManager.get_vars(host=...)`` without a play or task
    (``VARIABLE_PRECEDENCE`` over the ``all`` group and the host's groups, then the
    host's inventory vars, then its ``host_vars``; ``hash_behaviour`` honoured), minus
    magic variables and facts, which an inventory does not define. ``get_vars`` does
    the group part again for every host, deep-copying each group_vars file; here it
    is done once per distinct set of groups. ``.own(host)`` gives the host's own
    variables only. The returned dicts share nested values between hosts: treat them
    as read-only.
    """
    return _HostVars(loader, inventory)
