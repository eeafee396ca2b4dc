"""The simulated vc-scheduler: its configuration, plugins and cluster state, and what it records.

One :class:`Scheduler` lives through every simulated session of one run (as vc-scheduler
keeps running between ``--schedule-period`` ticks); :meth:`Scheduler.new_session` forgets
what one session memoised. The actions (:mod:`.actions`) read and change its state; the
result shaping (:mod:`.result`) and the reasons (:mod:`.reasons`) read what it recorded.

Where Volcano picks at random among equal scores, :meth:`Scheduler.choose` takes the first in
natural name order (the tie set is recorded); a ``random.Random`` can be given instead (used
for expected values over ties).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.conf import SchedulerConf
from hypertopo.placement.model import Job, SubJob, Task
from hypertopo.placement.objects import Node
from hypertopo.placement.plugins import drf
from hypertopo.placement.plugins.predicates import Predicates
from hypertopo.placement.scoring import Scorer
from hypertopo.placement.state import Cluster
from hypertopo.placement.tree import Tree
from hypertopo.topology.labels import natural_key


@dataclass(slots=True)
class FitFailure:
    """A task found no node in a HyperNode: the per-reason node counts (for reasons)."""

    task: Task
    hypernode: str
    candidates: int  # nodes passing the stable filters
    total: int  # nodes in the HyperNode
    dynamic: dict[str, int]


@dataclass(slots=True)
class Attempt:
    """What the first gang attempt of a job tried (turned into reasons when it fails)."""

    gradients: list[list[str]] = field(default_factory=list)
    failures: dict[str, FitFailure] = field(default_factory=dict)
    pipelined_only: list[str] = field(default_factory=list)
    no_gradient: str = ""
    #: a dry run was skipped (:mod:`.prune`): ``failures`` lacks its HyperNode
    pruned: bool = False


class Scheduler:
    def __init__(
        self,
        conf: SchedulerConf,
        tree: Tree,
        nodes: Sequence[Node],
        cluster: Cluster,
        predicates: Predicates,
        scorer: Scorer,
        rng: random.Random | None = None,
    ) -> None:
        self.conf = conf
        self.tree = tree
        self.nodes = nodes
        self.cluster = cluster
        self.pred = predicates
        self.scorer = scorer
        self.nta = scorer.nta
        self.rng = rng
        #: the dry-run memos of one session (see :mod:`.memo`)
        self.dry_runs: dict[tuple[Any, ...], Any] = {}
        self.job_runs: dict[tuple[Any, ...], Any] = {}
        #: (id of a worksheet's task list, position) -> its remaining tasks by spec
        #: (:func:`.actions.worksheet.remaining_shapes`)
        self.task_specs: dict[tuple[int, int], list[Any]] = {}
        #: job key -> the record of its first gang attempt; ``attempt``: the one being made
        self.attempts: dict[str, Attempt] = {}
        self.attempt: Attempt | None = None
        #: job key -> HyperNode-level ties of its placement; those of the job being placed
        self.hn_ties: dict[str, list[dict[str, Any]]] = {}
        self.pending_ties: list[dict[str, Any]] = []
        #: job key -> HyperNodes where the ``PredicateNodes`` sample cut feasible nodes
        self.sampling_notes: dict[str, set[str]] = {}
        #: ``lastProcessedNodeIndex`` of the rotating ``PredicateNodes`` sample
        self.next_index = 0
        #: job key -> why the enqueue action keeps its PodGroup Pending (latest session)
        self.unadmitted: dict[str, str] = {}
        #: HyperNode-level tie decisions: forced choices by decision number, and per decision met
        #: the candidates leading to other job HyperNodes (see :func:`.util.select_best_hypernode`)
        self.hn_script: Mapping[int, str] = {}
        self.hn_decisions: list[list[str]] = []
        #: per decision met, the chance of the tied HyperNodes that lead where the choice taken
        #: leads (a subjob's pick: uniform; the job's: Go map iteration order over spec.members
        #: order, :func:`.util.tie_chances`) and whether the choice is the job-level one
        self.hn_weights: list[float | None] = []  # None: the chance is not known
        self.hn_job_level: list[bool] = []
        #: whether HyperNode-level tie decisions are recorded for replays (off when none can follow)
        self.record_decisions = True
        self.hn_tie_count = 0
        #: nodes of every HyperNode a job was dry-run in, plus the nodes of every flat-path run: a
        #: measure of a session's cost that depends neither on the machine nor on the memos
        self.work = 0
        #: skip dry runs that cannot make the gang ready (:mod:`.prune`); the ``Attempt`` of a job
        #: then lacks the failures of those runs, so its reasons if it stays unplaced are incomplete
        self.prune = False
        self.pruned = 0  # dry runs skipped so far

    def new_session(self) -> None:
        """Forget what one session memoised (the cluster changed since)."""
        self.dry_runs.clear()
        self.job_runs.clear()
        self.task_specs.clear()

    def choose(self, names: list[str]) -> str:
        """One of tied ``names``: at random with an ``rng``, else the first in natural order."""
        if self.rng is not None:
            return names[self.rng.randrange(len(names))] if len(names) > 1 else names[0]
        return min(names, key=natural_key)

    def record_hn_tie(self, job: Job) -> None:
        """Keep the HyperNode-level ties of ``job``'s placement (it became ready)."""
        if self.pending_ties:
            self.hn_ties.setdefault(job.key, []).extend(self.pending_ties)

    # ------------------------------------------------------------------ order functions

    def job_key(self, job: Job) -> tuple[Any, ...]:
        """``JobOrderFn``: the priority, gang and drf plugins in tier order, then the input order."""
        key: list[Any] = []
        for plugin in self.conf.plugin_order:
            if plugin == "priority" and self.conf.priority_job_order:
                key.append(-job.priority)
            elif plugin == "gang" and self.conf.gang:
                key.append(job.is_ready())
            elif plugin == "drf":
                key.append(drf.share(job, self.cluster.hn_alloc[self.tree.root]))
        key.append(job.position)
        return tuple(key)

    def subjob_key(self, sj: SubJob) -> tuple[Any, ...]:
        """``SubJobOrderFn``: the priority and gang plugins in tier order, then the match index."""
        key: list[Any] = []
        for plugin in self.conf.subjob_order_plugins:
            key.append(-sj.priority if plugin == "priority" else sj.is_ready())
        key.extend((sj.match_index, sj.uid))
        return tuple(key)
