"""Scheduler-side jobs, subjobs and tasks with Volcano's readiness arithmetic.

``JobInfo``/``SubJobInfo``/``TaskInfo`` of ``pkg/scheduler/api`` with the counts the gang
plugin's checks read (:mod:`.plugins.gang`). Counters are kept per status and role so every
check is O(roles), not O(tasks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hypertopo.placement.jobs import JobIn, NetworkTopology, PodIn, SubGroupPolicy
from hypertopo.placement.resources import Resources, add_into
from hypertopo.placement.state import PodOnNode

PENDING = "Pending"
ALLOCATED = "Allocated"
PIPELINED = "Pipelined"
RUNNING = "Running"
RELEASING = "Releasing"
SUCCEEDED = "Succeeded"
#: a pod in phase Unknown (api/helpers.go getTaskStatus): on its node, neither ready nor valid
UNKNOWN = "Unknown"


def pod_index(name: str) -> int | None:
    """``GetPodIndexUnderTask``: the last dash-separated part, when the name has at least three."""
    parts = name.split("-")
    if len(parts) >= 3 and parts[-1].isdigit():
        return int(parts[-1])
    return None


@dataclass(eq=False, slots=True)
class Task:
    key: str
    pod: PodIn
    job: Job
    subjob: SubJob = field(init=False)
    resreq: Resources = field(init=False)
    best_effort: bool = field(init=False)
    status: str = PENDING
    node: int | None = None
    order: tuple[int, int, tuple[object, ...], str] = (0, 0, (), "")
    on_node: PodOnNode = field(init=False)
    tie: dict[str, object] | None = None
    #: TaskInfo.Priority (the pod's spec.priority unless the snapshot resolves it: snapshot.task_priority)
    priority: int = field(init=False)

    def __post_init__(self) -> None:
        self.priority = self.pod.spec.priority
        self.resreq = self.pod.spec.resreq
        self.best_effort = self.pod.spec.best_effort
        self.on_node = PodOnNode(self.key, self.pod.namespace, self.pod.labels, self.pod.spec)

    @property
    def name(self) -> str:
        return self.pod.name

    @property
    def role(self) -> str:
        return self.pod.role


@dataclass(slots=True)
class Topology:
    """A network topology after the session's highestTierName translation and soft->hard conversion."""

    original: NetworkTopology
    mode: str
    tier: int | None

    @property
    def hard(self) -> bool:
        return self.mode == "hard" and self.tier is not None


@dataclass(eq=False, slots=True)
class SubJob:
    uid: str
    gid: str
    job: Job
    min_available: int
    match_index: int
    topology: Topology | None
    tasks: list[Task] = field(default_factory=list)
    allocated_hn: str | None = None
    priority: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    pending_be: int = 0
    node_counts: dict[int, int] = field(default_factory=dict)
    #: HyperNode -> the subjob's tasks on its nodes (``node_counts`` summed per HyperNode)
    hn_counts: dict[str, int] = field(default_factory=dict)
    pending_res: Resources = field(default_factory=dict)
    binpack_cache: Resources | None = None

    def ready_num(self) -> int:
        c = self.counts
        return c.get(ALLOCATED, 0) + c.get(RUNNING, 0) + c.get(SUCCEEDED, 0)

    def is_ready(self) -> bool:
        return self.ready_num() + self.pending_be >= self.min_available

    def is_pipelined(self) -> bool:
        return self.pipelined_shortfall() <= 0

    def pipelined_shortfall(self) -> int:
        """Pods still to place (allocated or pipelined) before :meth:`is_pipelined` holds."""
        return self.min_available - (self.counts.get(PIPELINED, 0) + self.ready_num() + self.pending_be)

    def allocated_num(self) -> int:
        return self.counts.get(ALLOCATED, 0) + self.counts.get(RUNNING, 0)

    def count_on_node(self, node: int, hypernodes: Iterable[str], delta: int) -> None:
        """One task more (``delta`` 1) or less (-1) on ``node``, which the ``hypernodes`` hold."""
        counts = self.node_counts
        counts[node] = counts.get(node, 0) + delta
        if not counts[node]:
            del counts[node]
        per_hn = self.hn_counts
        for hn in hypernodes:
            per_hn[hn] = per_hn.get(hn, 0) + delta

    @property
    def hard(self) -> bool:
        return self.topology is not None and self.topology.hard

    @property
    def with_topology(self) -> bool:
        return self.topology is not None

    def pending_resources(self) -> Resources:
        """``GetMinResources``: the summed request of every pending task (kept up to date)."""
        return self.pending_res


@dataclass(eq=False, slots=True)
class Job:
    inp: JobIn
    position: int
    key: str
    min_available: int
    task_min: dict[str, int]
    min_resources: Resources
    topology: Topology | None
    gang: bool
    tasks: list[Task] = field(default_factory=list)
    subjobs: dict[str, SubJob] = field(default_factory=dict)
    min_subjobs: dict[str, int] = field(default_factory=dict)
    allocated_hn: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    role_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    pending_be_roles: dict[str, int] = field(default_factory=dict)
    fit_errors: dict[str, str] = field(default_factory=dict)  # task key -> subjob uid
    failed_roles: dict[str, set[str]] = field(default_factory=dict)  # subjob uid -> roles
    priority: int = 0
    #: the PodGroup has left phase Pending (the enqueue action admitted it)
    admitted: bool = True

    # ------------------------------------------------------------------ bookkeeping

    @property
    def has_policy(self) -> bool:
        return bool(self.inp.subgroups)

    @property
    def task_min_total(self) -> int:
        return sum(self.task_min.values())

    def contains_topology(self) -> bool:
        return self.topology is not None or any(sj.topology is not None for sj in self.subjobs.values())

    def contains_hard(self) -> bool:
        return (self.topology is not None and self.topology.hard) or any(
            sj.hard for sj in self.subjobs.values()
        )

    def default_subjob(self) -> SubJob:
        return self.subjobs[self.key]

    def set_status(self, task: Task, status: str) -> None:
        old = task.status
        if old == status:
            return
        if old == PENDING or status == PENDING:
            sign = 1 if status == PENDING else -1
            pending = task.subjob.pending_res
            for key, val in task.resreq.items():
                pending[key] = pending.get(key, 0) + sign * val
        for counts in (self.counts, task.subjob.counts):
            counts[old] = counts.get(old, 0) - 1
            counts[status] = counts.get(status, 0) + 1
        roles = self.role_counts
        roles.setdefault(old, {})[task.role] = roles[old].get(task.role, 0) - 1
        bucket = roles.setdefault(status, {})
        bucket[task.role] = bucket.get(task.role, 0) + 1
        if task.best_effort:
            delta = (status == PENDING) - (old == PENDING)
            task.subjob.pending_be += delta
            self.pending_be_roles[task.role] = self.pending_be_roles.get(task.role, 0) + delta
        task.status = status

    def add_task(self, task: Task) -> None:
        self.tasks.append(task)
        task.subjob.tasks.append(task)
        for counts in (self.counts, task.subjob.counts):
            counts[task.status] = counts.get(task.status, 0) + 1
        bucket = self.role_counts.setdefault(task.status, {})
        bucket[task.role] = bucket.get(task.role, 0) + 1
        if task.best_effort and task.status == PENDING:
            task.subjob.pending_be += 1
            self.pending_be_roles[task.role] = self.pending_be_roles.get(task.role, 0) + 1
        task.subjob.priority = max(task.subjob.priority, task.priority)
        if task.status == PENDING:
            add_into(task.subjob.pending_res, task.resreq)

    def _roles(self, statuses: Iterable[str], with_pending_be: bool = True) -> dict[str, int]:
        out: dict[str, int] = {}
        for status in statuses:
            for role, count in self.role_counts.get(status, {}).items():
                out[role] = out.get(role, 0) + count
        if with_pending_be:
            for role, count in self.pending_be_roles.items():
                out[role] = out.get(role, 0) + count
        return out

    # ------------------------------------------------------------------ gang arithmetic

    def ready_num(self) -> int:
        c = self.counts
        return c.get(ALLOCATED, 0) + c.get(RUNNING, 0) + c.get(SUCCEEDED, 0)

    def pending_be(self) -> int:
        return sum(self.pending_be_roles.values())

    def is_ready(self) -> bool:
        return self.ready_num() + self.pending_be() >= self.min_available

    def is_pipelined(self) -> bool:
        return self.pipelined_shortfall() <= 0

    def pipelined_shortfall(self) -> int:
        """Pods still to place (allocated or pipelined) before :meth:`is_pipelined` holds."""
        return self.min_available - (self.counts.get(PIPELINED, 0) + self.ready_num() + self.pending_be())

    def valid_num(self) -> int:
        c = self.counts
        return sum(c.get(s, 0) for s in (ALLOCATED, RUNNING, SUCCEEDED, PIPELINED, PENDING))

    def check_task_valid(self) -> bool:
        if self.min_available < self.task_min_total:
            return True
        actual = self._roles((ALLOCATED, RUNNING, SUCCEEDED, PIPELINED, PENDING), with_pending_be=False)
        return all(actual.get(role, 0) >= need for role, need in self.task_min.items() if need)

    def allocated_roles(self) -> dict[str, int]:
        return self._roles((ALLOCATED, RUNNING, SUCCEEDED))

    def check_task_ready(self) -> bool:
        if self.min_available < self.task_min_total:
            return True
        have = self.allocated_roles()
        return all(have.get(role, 0) >= need for role, need in self.task_min.items())

    def check_task_pipelined(self) -> bool:
        if self.min_available < self.task_min_total:
            return True
        have = self._roles((ALLOCATED, RUNNING, SUCCEEDED, PIPELINED))
        return all(have.get(role, 0) >= need for role, need in self.task_min.items())

    def subjobs_condition(self, ready: bool) -> bool:
        """Every subGroup policy has ``minSubGroups`` ready (or pipelined) subjobs."""
        got: dict[str, int] = {}
        for sj in self.subjobs.values():
            if sj.is_ready() if ready else sj.is_pipelined():
                got[sj.gid] = got.get(sj.gid, 0) + 1
        return all(got.get(gid, 0) >= need for gid, need in self.min_subjobs.items() if need)

    def check_subjob_valid(self) -> bool:
        have: dict[str, int] = {}
        for sj in self.subjobs.values():
            have[sj.gid] = have.get(sj.gid, 0) + 1
        return all(have.get(gid, 0) >= need for gid, need in self.min_subjobs.items())

    def record_fit_error(self, sj: SubJob, task: Task) -> None:
        self.fit_errors[task.key] = sj.uid
        self.failed_roles.setdefault(sj.uid, set()).add(task.role)

    def fit_failed_roles(self, sj: SubJob) -> set[str]:
        return self.failed_roles.get(sj.uid, set())

    def task_has_fit_errors(self, sj: SubJob, task: Task) -> bool:
        return bool(task.role) and task.role in self.failed_roles.get(sj.uid, ())

    def need_continue_allocating(self, sj: SubJob) -> bool:
        """``NeedContinueAllocating`` after a task of ``sj`` failed its predicates."""
        if self.min_available == len(self.tasks):
            return False
        if sj.min_available >= len(sj.tasks):
            return False
        if self.has_policy:
            return True
        failed = self.fit_failed_roles(sj)
        pending = self.role_counts.get(PENDING, {})
        if self.min_available < self.task_min_total:
            left = sum(count for role, count in pending.items() if role not in failed)
            return self.ready_num() + left >= self.min_available
        allocated = self.allocated_roles()
        for role in failed:
            need = self.task_min.get(role, 0)
            if need and allocated.get(role, 0) < need:
                return False
        return True

    def reset_fit_errors(self, sj: SubJob | None = None) -> None:
        if sj is None:
            self.fit_errors.clear()
            self.failed_roles.clear()
        elif sj.uid in self.failed_roles:
            del self.failed_roles[sj.uid]
            for key in [k for k, uid in self.fit_errors.items() if uid == sj.uid]:
                del self.fit_errors[key]


def subjob_for(job: Job, pod: PodIn) -> SubJob:
    """``getOrCreateSubJob``: the first policy whose selector and match keys match the pod."""
    for policy in job.inp.subgroups:
        values = _match_values(policy, pod)
        if values:
            uid = f"{job.key}/{policy.name}-{'-'.join(values)}"
            sj = job.subjobs.get(uid)
            if sj is None:
                try:
                    index = int(values[0])
                except ValueError:
                    index = 0
                sj = SubJob(uid, f"{job.key}/{policy.name}", job, policy.size, index, None)
                sj.topology = _policy_topology(policy)
                job.subjobs[uid] = sj
            return sj
    return job.default_subjob()


def _match_values(policy: SubGroupPolicy, pod: PodIn) -> list[str]:
    if policy.selector is not None and not policy.selector.matches(pod.labels):
        return []
    values = []
    for key in policy.match_keys:
        value = pod.labels.get(key)
        if not value:
            return []
        values.append(value)
    return values


def _policy_topology(policy: SubGroupPolicy) -> Topology | None:
    if policy.topology is None:
        return None
    return Topology(policy.topology, policy.topology.mode, policy.topology.tier)
