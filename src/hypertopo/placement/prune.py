"""Dry runs that cannot make the gang ready, skipped (an engine shortcut, not Volcano's).

Volcano's allocate action dry-runs a subjob in every candidate HyperNode of a gradient
(``allocateResourcesForTasks``) and discards a run that leaves the gang neither ready nor
pipelined. A large job in a HyperNode too small for it places pod after pod before the first one
fails: the headroom search of an 8,192-node cluster placed 1,506 pods in each of four tier-2
HyperNodes, twice per prediction, only to discard them.

:func:`hopeless` proves such a run's outcome before it starts: the pods the gang still needs
(:meth:`~hypertopo.placement.model.SubJob.pipelined_shortfall`, of the job when it has no
subgroup policy) are more than the subjob's remaining tasks can take in the HyperNode, each task
shape bounded by its room there: over the nodes passing its stable filters, each node's idle
resources (plus its future-idle ones when pods release or wait there) divided by one pod's
requests, with Volcano's tolerance. A run skipped this way would have returned nothing too.

Opt-in (``run_session(prune=True)``, ``Scheduler.prune``), for callers that read where jobs land
and not why an unplaced job failed: a skipped run records no failure in the job's ``Attempt``
(it is marked ``pruned``), so the reasons of a job left unplaced would lack it
(:func:`hypertopo.placement.session.pruned_reasons`; :mod:`.headroom` predicts such a count again
without pruning before it reports it). The skipped run must not have changed anything a later run
reads, so a run is only skipped when:

* the scheduler draws no random numbers (``Scheduler.rng``: the baseline's random tie-breaks and
  sampling starts would shift);
* no task shape samples the HyperNode's nodes (``PredicateNodes`` with more candidates than
  nodes to find walks from ``Scheduler.next_index``, which every call moves on).

What a failed run leaves otherwise (the fit errors of the subjob, a discarded statement) is reset
before the subjob's next dry run and read by none before it. Placements are identical with and
without the shortcut (``PRUNE = False``); ``tests/placement/test_prune.py`` checks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from hypertopo.placement.actions.worksheet import remaining_shapes
from hypertopo.placement.util import nodes_to_find

if TYPE_CHECKING:
    from hypertopo.placement.actions.worksheet import SubJobSheet
    from hypertopo.placement.model import SubJob, Task
    from hypertopo.placement.scheduler import Scheduler
    from hypertopo.placement.state import Cluster

#: Skip dry runs that cannot make the gang ready (results are identical either way; tests check it).
PRUNE = True
#: ``Resource.LessEqual``'s tolerance (:func:`hypertopo.placement.resources.fits`).
_TOLERANCE = 0.1


def hopeless(sched: Scheduler, sj: SubJob, sheet: SubJobSheet, hn: str) -> bool:
    """Whether the dry run of ``sj``'s remaining tasks in ``hn`` can be skipped: it cannot leave
    the gang ready or pipelined, and skipping it changes nothing later runs read."""
    job = sj.job
    if not (PRUNE and sched.prune) or sched.rng is not None or not job.gang:
        return False
    short = (sj if job.has_policy else job).pipelined_shortfall()
    if short <= 0:
        return False
    shapes = remaining_shapes(sched, sheet)
    total = len(sched.tree.hypernodes[hn].nodes)
    wanted = nodes_to_find(total)
    candidates = [sched.pred.candidates(task.pod.spec, hn) for task, _count in shapes]
    if wanted < total and any(wanted < len(nodes) for nodes in candidates):
        return False  # a sampled PredicateNodes moves the rotating start index on
    room = 0
    for (task, count), nodes in zip(shapes, candidates, strict=True):
        room += _room(sched.cluster, nodes, task, count)
        if room >= short:
            return False
    sched.pruned += 1
    if sched.attempt is not None:
        sched.attempt.pruned = True
    return True


def _room(cluster: Cluster, nodes: list[int], task: Task, limit: int) -> int:
    """An upper bound of how many pods shaped like ``task`` fit on ``nodes``, counted up to ``limit``."""
    need = [(res, amount) for res, amount in task.resreq.items() if amount >= _TOLERANCE]
    if not need:
        return limit  # nothing bounds it
    room = 0
    for i in nodes:
        room += _fit_count(cluster.idle(i), need)
        st = cluster.states[i]
        if st is not None and (st.releasing or st.pipelined):
            room += _fit_count(cluster.future_idle(i), need)  # pipelined pods wait for these
        if room >= limit:
            return limit
    return room


def _fit_count(available: Mapping[str, int], need: list[tuple[str, int]]) -> int:
    """Pods of requests ``need`` that fit one after the other in ``available``."""
    get = available.get
    return max(min(int((get(res, 0) + _TOLERANCE) // amount) for res, amount in need), 0)
