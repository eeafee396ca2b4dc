"""vc-scheduler's configuration file in a local control plane: write it, and know when it is loaded.

vc-scheduler reads ``--scheduler-conf`` at start and again whenever a file is written or
created in that file's directory, and logs the result at ``-v=2``::

    Finished loading scheduler config. Final state: actions=[enqueue allocate], plugins=[priority gang ...]

A configuration counts as loaded when such a line, written after the file changed, shows the
actions and plugins of the new file; a line saying the file is invalid (vc-scheduler then keeps
its previous configuration) is an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypertopo.cluster.paths import Layout
from hypertopo.cluster.processes import ClusterError, Proc, wait_ready
from hypertopo.topology import scheduler_conf as schedconf

#: A configuration: a mapping (``actions``, ``tiers``, ...), or the path of a ``volcano-scheduler.conf``.
ConfSource = Mapping[str, Any] | str | os.PathLike[str]

_LOADED = re.compile(
    r"Finished loading scheduler config\. Final state: actions=\[([^\]]*)\], plugins=\[([^\]]*)\]"
)
# vc-scheduler logs the whole rejected text between "Scheduler config" and "is invalid"
_INVALID = re.compile(r"Scheduler config [\s\S]*? is invalid: ([^\n]*)")
_UNREADABLE = re.compile(r"Failed to read the Scheduler config[^\n]*")


@dataclass(frozen=True)
class SchedulerConf:
    """A configuration's text and what vc-scheduler reports once it has loaded it."""

    text: str
    conf: dict[str, Any]

    @classmethod
    def resolve(cls, source: ConfSource | None = None, *, nta: bool | None = None) -> SchedulerConf:
        """``source`` as a configuration; ``None`` is the ``scheduler_config`` role's default,
        with the network-topology-aware plugin forced in (``nta=True``) or out (``False``)."""
        if source is None:
            text = schedconf.dump_conf(schedconf.default_conf_from_role(nta_enabled_override=nta))
        elif nta is not None:
            raise ValueError("give either a scheduler configuration or nta=, not both")
        elif isinstance(source, Mapping):
            text = schedconf.dump_conf(dict(source))
        else:
            text = Path(source).read_text()
        try:
            conf = schedconf.parse_conf(text)
        except schedconf.SchedulerConfError as exc:
            raise ClusterError(str(exc)) from exc
        if not conf or not str(conf.get("actions") or "").strip():
            raise ClusterError("a scheduler configuration needs 'actions' (and 'tiers')")
        return cls(text, conf)

    @property
    def actions(self) -> list[str]:
        return [a.strip() for a in str(self.conf["actions"]).split(",")]

    @property
    def plugins(self) -> list[str]:
        return [
            str(p.get("name"))
            for tier in self.conf.get("tiers") or []
            for p in tier.get("plugins") or []
            if isinstance(p, dict)
        ]

    @property
    def nta(self) -> bool:
        """Whether the network-topology-aware plugin is enabled."""
        return schedconf.nta_enabled(self.conf)

    def write(self, layout: Layout) -> None:
        """Replace the watched file atomically (written next to the watched directory, then renamed in)."""
        layout.scheduler_dir.mkdir(parents=True, exist_ok=True)
        tmp = layout.root / ".volcano-scheduler.conf.tmp"
        tmp.write_text(self.text)
        tmp.replace(layout.scheduler_conf)

    def loaded_in(self, log_text: str) -> bool:
        """True if ``log_text`` shows vc-scheduler loaded this configuration; raises if it rejected it."""
        invalid = _INVALID.search(log_text)
        if invalid:
            raise ClusterError(f"vc-scheduler rejected the configuration: {invalid.group(1).strip()}")
        unreadable = _UNREADABLE.search(log_text)
        if unreadable:
            raise ClusterError(f"vc-scheduler could not read the configuration: {unreadable.group(0)}")
        want = (self.actions, self.plugins)
        return any((m.group(1).split(), m.group(2).split()) == want for m in _LOADED.finditer(log_text))

    def wait_loaded(self, scheduler: Proc, *, since: int, timeout: float) -> float:
        """Wait until vc-scheduler's log, after byte offset ``since``, shows this configuration loaded."""
        log = Path(scheduler.log)

        def loaded() -> bool:
            with log.open("rb") as f:
                f.seek(since)
                return self.loaded_in(f.read().decode("utf-8", "replace"))

        return wait_ready(
            scheduler,
            loaded,
            timeout=timeout,
            what="vc-scheduler loading its configuration",
            fatal=ClusterError,
        )


def log_size(proc_log: str | Path) -> int:
    """The current size of a log file (0 if it does not exist yet)."""
    try:
        return Path(proc_log).stat().st_size
    except FileNotFoundError:
        return 0
