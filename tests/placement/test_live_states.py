"""Live-cluster states the prediction treats as Volcano v1.15.1's cache does (issue 16)."""

from hypertopo.placement.headroom import headroom
from hypertopo.placement.preflight import preflight

from .helpers import by_name, conf, hard, job, leaf, node, nodes_of, parent, run, task, template


def _job_pod(name: str, node_name: str, gpus: int = 2) -> dict:
    requests = {"nvidia.com/gpu": gpus}
    return {
        "metadata": {"name": name, "namespace": "default", "labels": {}},
        "spec": {
            "schedulerName": "volcano",
            "nodeName": node_name,
            "containers": [{"name": "c", "resources": {"requests": requests, "limits": requests}}],
        },
        "status": {"phase": "Running"},
    }


def test_pods_on_a_deleted_node_stay_running_and_only_the_pending_one_is_placed():
    """pkg/scheduler/cache/event_handlers.go (addTask): a pod whose spec.nodeName names no Node
    object is kept under a placeholder NodeInfo, which the snapshot leaves out; the task stays
    Running in its job, so the gang counts it and it is never placed again."""
    gang = job("j", [task("w", 3, template(gpus=2))], min_available=3)
    pods = [_job_pod("j-w-0", "gone"), _job_pod("j-w-1", "gone")]
    result = run([gang], [node("n0", gpus=8), node("n1", gpus=8)], pods=pods)
    got = by_name(result, "j")
    assert got["feasible"], got["reasons"]
    placed = nodes_of(got)
    assert placed.get("j-w-2") in {"n0", "n1"}, placed
    assert placed.get("j-w-0") in (None, "gone") and placed.get("j-w-1") in (None, "gone"), placed
    assert not got["pending"], got["pending"]
    assert any("do not exist" in w and "j-w-0 -> gone" in w for w in result["warnings"]), result["warnings"]


def test_a_leaf_whose_only_node_was_deleted_stays_empty_and_the_job_goes_elsewhere():
    """Volcano keeps a HyperNode whose members match no Node with an empty node set
    (api/hyper_node_info.go BuildHyperNodeCache): the prediction runs (a warning names it) and
    a hard tier-1 job takes the other leaf. Found by the live agreement run (a005)."""
    hns = [leaf("l0", ["gone"]), leaf("l1", ["n1"]), parent("s", ["l0", "l1"])]
    gang = job("j", [task("w", 2, template(gpus=2))], min_available=2, topology=hard(1))
    result = run([gang], [node("n1", gpus=8)], hns, pods=[_job_pod("other-0", "gone")])
    got = by_name(result, "j")
    assert got["feasible"] and got["hypernode"] == "l1", got
    assert any("HyperNode l0: spec.members: no member references" in w for w in result["warnings"])


def test_headroom_counts_pods_on_a_deleted_node_as_running():
    """The same rule in headroom (``places``): a job whose pods sit on a node with no Node object
    (pkg/scheduler/cache/event_handlers.go addTask, cache.go Snapshot) places when the rest of its
    pods do; its pods there hold nothing, so the search finds the room of the nodes it sees."""
    tasks = [task("a", 2, template(gpus=2)), task("b", 1, template(gpus=2)), task("c", 1, template(gpus=2))]
    gang = job("j", tasks, min_available=4)
    pods = [_job_pod("j-a-0", "gone"), _job_pod("j-a-1", "gone")]
    inputs = {"jobs": [gang], "nodes": [node("n0", gpus=8)], "pods": pods, "scheduler_conf": conf()}
    (got,) = headroom(inputs, job="default/j", task="b")["jobs"]
    # n0's 8 GPUs hold 4 pods of 2 GPUs, one of them c-0; the pods on the deleted node take none.
    # b-0 and c-0 share an index: their order is random in Volcano, so every order is replayed
    assert got["max_replicas"] == 3 and got["confirmed"], got
    assert got["every_order"], got


def _not_ready(obj: dict, status: str = "False", taints: tuple[str, ...] = ()) -> dict:
    """``obj`` (a Node) with its Ready condition ``status`` and the lifecycle taints ``taints``
    (``node.kubernetes.io/<key>:<effect>``) the node lifecycle controller adds."""
    obj["status"]["conditions"] = [{"type": "Ready", "status": status}]
    if taints:
        obj.setdefault("spec", {})["taints"] = [
            {"key": f"node.kubernetes.io/{t.split(':')[0]}", "effect": t.split(":")[1]} for t in taints
        ]
    return obj


def test_not_ready_node_stays_in_the_session_its_taint_keeps_new_pods_off():
    """pkg/scheduler/api/node_info.go setNodeState: Volcano v1.15.1 sets every node with a Node
    object Ready whatever its conditions (cache.go Snapshot keeps it); the pods on it hold its
    resources and count as running (event_handlers.go addTask). The not-ready taint keeps the
    pending pod off it (predicates plugin, k8s TaintToleration)."""
    gang = job("j", [task("w", 3, template(gpus=2))], min_available=3)
    pods = [_job_pod("j-w-0", "n1"), _job_pod("j-w-1", "n1")]
    sick = _not_ready(node("n1", gpus=8), "Unknown", ("not-ready:NoSchedule", "unreachable:NoExecute"))
    result = run([gang], [node("n0", gpus=8), sick], pods=pods)
    got = by_name(result, "j")
    assert got["feasible"] and not got["pending"], got
    placed = nodes_of(got)
    assert placed == {"j-w-0": "n1", "j-w-1": "n1", "j-w-2": "n0"}, placed
    (warning,) = [w for w in result["warnings"] if "NotReady" in w]
    assert warning.startswith("n1 is NotReady (Ready condition Unknown): Volcano v1.15.1 keeps it"), warning
    assert "its 2 pod(s) count as running" in warning and "node_info.go setNodeState" in warning
    assert "node.kubernetes.io/not-ready:NoSchedule" in warning, warning


def test_not_ready_node_without_a_taint_still_takes_pods():
    """pkg/scheduler/api/node_info.go setNodeState ignores node conditions: before the node
    lifecycle controller taints a NotReady node, Volcano still places pods on it (its free room)."""
    gang = job("j", [task("w", 3, template(gpus=1)), task("big", 1, template(gpus=6))], min_available=4)
    pods = [_job_pod("j-w-0", "n1", gpus=1), _job_pod("j-w-1", "n1", gpus=1)]
    result = run([gang], [node("n0", gpus=4), _not_ready(node("n1", gpus=8))], pods=pods)
    placed = nodes_of(by_name(result, "j"))
    assert placed["j-big-0"] == "n1", placed  # 6 GPUs free only on n1 (8 minus its 2 running pods)
    (warning,) = [w for w in result["warnings"] if "NotReady" in w]
    assert "n1 is NotReady (Ready condition False)" in warning and "new pods may still be placed" in warning


def _pod(name: str, node_name: str, gpus: int, **kw: str) -> dict:
    """A Running pod (not of the predicted jobs) with ``gpus`` GPUs on ``node_name``; ``kw``:
    ``deletion`` (metadata.deletionTimestamp), ``scheduler`` (spec.schedulerName), ``phase``."""
    pod = _job_pod(name, node_name, gpus)
    if "deletion" in kw:
        pod["metadata"]["deletionTimestamp"] = kw["deletion"]
    pod["spec"]["schedulerName"] = kw.get("scheduler", "volcano")
    pod["status"]["phase"] = kw.get("phase", "Running")
    return pod


def test_gang_that_fits_only_into_terminating_pods_is_pipelined_not_bound():
    """pkg/scheduler/api/helpers.go getTaskStatus: a pod with a deletionTimestamp is Releasing, its
    resources still Used but in FutureIdle; actions/allocate/allocate.go allocateResourcesForTask
    pipelines a task that fits only FutureIdle, and allocateResources commits only a ready job: the
    gang is pipelined, nothing is bound until the terminating pods are gone."""
    gang = job("j", [task("w", 2, template(gpus=4))], min_available=2)
    old = [_pod("old-0", "n0", 4, deletion="2026-01-01T00:00:00Z"), _pod("old-1", "n0", 4, deletion="x")]
    result = run([gang], [node("n0", gpus=8)], pods=old)
    got = by_name(result, "j")
    assert not got["feasible"] and got["placements"] == [], got
    assert got["pipelined"] == ["j-w-0", "j-w-1"] and got["pipelined_nodes"] == {"j-w-0": "n0", "j-w-1": "n0"}
    assert got["waits_for"] == ["default/old-0", "default/old-1"]
    waits = "pipelined (waits for 2 terminating pod(s): default/old-0, default/old-1)"
    assert got["reasons"][0].startswith(waits), got["reasons"]
    _ok, table, reasons = preflight(result)
    assert "PIPELINED (waits for 2 terminating pods)" in table and "pipelined (waits for 2" in reasons[0]
    # a pod that is not terminating holds its GPUs for good: the gang is simply pending
    still = [_pod("old-0", "n0", 4), _pod("old-1", "n0", 4, deletion="x")]
    got = by_name(run([gang], [node("n0", gpus=8)], pods=still), "j")
    assert "waits_for" not in got and "pipelined" not in got and not got["feasible"], got


def _priority_class(name: str, value: int, default: bool = False) -> dict:
    obj = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name}}
    return {**obj, "value": value, **({"globalDefault": True} if default else {})}


def _classed(obj: dict, priority_class: str) -> dict:
    obj["spec"]["priorityClassName"] = priority_class
    return obj


def test_higher_priority_pending_job_is_served_first_whatever_the_order():
    """pkg/scheduler/cache/cache.go Snapshot (cloneJob): a job's priority is the value of its
    PodGroup's PriorityClass; plugins/priority/priority.go jobOrderFn serves the higher one first
    (before gang and drf, and before creation time): it takes the leaf, the other stays Pending."""
    classes = [_priority_class("low", 10), _priority_class("high", 1000)]
    for order in (("low", "high"), ("high", "low")):
        jobs = [_classed(job(n, [task("w", 2, template(gpus=4))], min_available=2), n) for n in order]
        result = run(jobs, [node("n0", gpus=8)], priority_classes=classes)
        high, low = by_name(result, "high"), by_name(result, "low")
        assert high["feasible"] and not high["pending"], (order, high)
        assert not low["feasible"] and low["pending"] == ["low-w-0", "low-w-1"], (order, low)


def test_priority_from_a_pod_of_the_class_and_a_warning_when_unknown():
    """Without the PriorityClass objects the value comes from a pod of that class (its
    spec.priority, set by the Priority admission plugin); unknown classes get the default priority
    (cache.go Snapshot: ``sc.defaultPriority``), and the job says so."""
    known = {**_job_pod("x-0", "n1", gpus=0), "metadata": {"name": "x-0", "namespace": "default"}}
    known["spec"].update(priorityClassName="high", priority=1000)
    jobs = [_classed(job("low", [task("w", 2, template(gpus=4))], min_available=2), "nope")]
    jobs.append(_classed(job("high", [task("w", 2, template(gpus=4))], min_available=2), "high"))
    result = run(jobs, [node("n0", gpus=8), node("n1", gpus=0)], pods=[known])
    assert by_name(result, "high")["feasible"] and not by_name(result, "low")["feasible"]
    (warning,) = [w for w in by_name(result, "low")["warnings"] if "priorityClassName" in w]
    assert warning.startswith("priorityClassName 'nope': no such PriorityClass in the input"), warning


def _running(obj: dict, nodes: list[str]) -> list[dict]:
    """Running pods of the Volcano Job ``obj`` (task ``w``), pod i on ``nodes[i]``."""
    gpus = obj["spec"]["tasks"][0]["template"]["spec"]["containers"][0]["resources"]["requests"]
    name = obj["metadata"]["name"]
    return [_job_pod(f"{name}-w-{i}", n, gpus=gpus["nvidia.com/gpu"]) for i, n in enumerate(nodes)]


def test_configured_preempt_is_not_simulated_and_names_candidate_victims():
    """pkg/scheduler/actions/preempt/preempt.go Execute (same queue, Running tasks of other jobs),
    plugins/priority/priority.go preemptableFn (lower job priority) and plugins/gang/gang.go
    preemptableFn (only pods beyond minAvailable): the engine does not simulate preemption, so a
    pending job's warning names the pods Volcano could evict for it."""
    sched = conf()
    sched["actions"] = "allocate, preempt, backfill"  # no enqueue: every PodGroup is admitted
    classes = [_priority_class("low", 10), _priority_class("high", 1000)]
    # "low" runs 3 pods (minAvailable 2) on n0 and n1: one of them may go; "tight" runs at its
    # minAvailable and keeps its pods; "high" is pending
    low = _classed(job("low", [task("w", 3, template(gpus=4))], min_available=2), "low")
    tight = _classed(job("tight", [task("w", 1, template(gpus=4))], min_available=1), "low")
    high = _classed(job("high", [task("w", 2, template(gpus=8))], min_available=2), "high")
    pods = _running(low, ["n0", "n0", "n1"]) + _running(tight, ["n1"])
    nodes = [node("n0", gpus=8), node("n1", gpus=8)]
    result = run([low, tight, high], nodes, pods=pods, priority_classes=classes, scheduler_conf=sched)
    got = by_name(result, "high")
    assert not got["feasible"], got
    assert [(c["pod"], c["node"], c["action"]) for c in got["eviction_candidates"]] == [
        ("default/low-w-0", "n0", "preempt")
    ]
    (warning,) = [w for w in got["warnings"] if "not simulated" in w]
    assert warning.startswith("preempt configured but not simulated"), warning
    assert "candidate victims: default/low-w-0 on n0 (preempt" in warning, warning
    assert any("preempt action(s) are configured but not simulated" in w for w in result["warnings"])
    # a PodGroup the enqueue action keeps Pending is skipped by preempt (job.IsPending())
    sched["actions"] = "enqueue, allocate, preempt, backfill"
    kw = {"priority_classes": classes, "scheduler_conf": sched}
    got = by_name(run([low, tight, high], nodes, pods=pods, **kw), "high")
    assert got["eviction_candidates"] == [] and "still Pending (not enqueued)" in " ".join(got["warnings"])
    # preempt skips a job with a network topology ("do not support preemption")
    sched["actions"] = "allocate, preempt, backfill"
    high["spec"]["networkTopology"] = {"mode": "hard", "highestTierAllowed": 2}
    got = by_name(run([low, tight, high], nodes, pods=pods, **kw), "high")
    assert got["eviction_candidates"] == [] and "do not support preemption" in " ".join(got["warnings"])
    del high["spec"]["networkTopology"]
    # without preempt in the actions: no candidates, no warning
    plain = by_name(run([low, tight, high], nodes, pods=pods, priority_classes=classes), "high")
    assert "eviction_candidates" not in plain and not [w for w in plain["warnings"] if "not simulated" in w]


UNSCHEDULABLE = {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}


def _single(tolerations: list[dict] | None = None) -> dict:
    extra = {"tolerations": tolerations} if tolerations else {}
    return job("one", [task("w", 1, template(gpus=2, **extra))], min_available=1)


def test_cordoned_node_takes_only_pods_tolerating_the_unschedulable_taint():
    """plugins/predicates/predicates.go registers k8s NodeUnschedulable (a stable filter): a node
    with spec.unschedulable rejects a pod unless it tolerates node.kubernetes.io/unschedulable
    with effect NoSchedule (an Exists toleration without a key tolerates it too); the taint the
    node lifecycle controller adds for it goes through TaintToleration the same way."""
    cordoned = node("n0", gpus=8, unschedulable=True)
    taint = {"key": UNSCHEDULABLE["key"], "effect": "NoSchedule"}
    tainted = node("n0", gpus=8, unschedulable=True, taints=[taint])
    for obj in (cordoned, tainted):
        got = by_name(run([_single()], [obj]), "one")
        assert not got["feasible"], got
        assert nodes_of(by_name(run([_single([UNSCHEDULABLE])], [obj]), "one")) == {"one-w-0": "n0"}
        assert nodes_of(by_name(run([_single([{"operator": "Exists"}])], [obj]), "one")) == {"one-w-0": "n0"}
    # a toleration of another effect does not count (NodeUnschedulable asks for NoSchedule)
    wrong = {**UNSCHEDULABLE, "effect": "NoExecute"}
    assert not by_name(run([_single([wrong])], [cordoned]), "one")["feasible"]


def test_node_lifecycle_taints_keep_pods_off_unless_tolerated():
    """plugins/predicates/predicates.go registers k8s TaintToleration: node.kubernetes.io/not-ready
    and unreachable with NoSchedule or NoExecute reject a pod that does not tolerate them; the
    default NoExecute tolerations (DefaultTolerationSeconds admission, tolerationSeconds 300)
    pass the NoExecute taint but not the NoSchedule one."""
    seconds = {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    default = [{"key": f"node.kubernetes.io/{k}", **seconds} for k in ("not-ready", "unreachable")]
    for key in ("not-ready", "unreachable"):
        no_execute = node("n0", taints=[{"key": f"node.kubernetes.io/{key}", "effect": "NoExecute"}])
        no_schedule = node("n0", taints=[{"key": f"node.kubernetes.io/{key}", "effect": "NoSchedule"}])
        assert not by_name(run([_single()], [no_execute]), "one")["feasible"]
        assert by_name(run([_single(default)], [no_execute]), "one")["feasible"]
        assert not by_name(run([_single(default)], [no_schedule]), "one")["feasible"]
        reasons = " ".join(by_name(run([_single(default)], [no_schedule]), "one")["reasons"])
        assert f"node.kubernetes.io/{key}:NoSchedule" in reasons, reasons


def test_terminating_pod_not_yet_bound_is_releasing_and_not_placed():
    """pkg/scheduler/api/helpers.go getTaskStatus: a Pending pod with a deletionTimestamp is
    Releasing even without a node: allocate does not place it (it takes Pending tasks only), and
    it counts neither as ready nor as valid for the gang (api/job_info.go)."""
    gang = job("j", [task("w", 2, template(gpus=2))], min_available=1)
    gone = _pod("j-w-0", "", 2, deletion="2026-01-01T00:00:00Z", phase="Pending")
    got = by_name(run([gang], [node("n0", gpus=8)], pods=[gone]), "j")
    assert got["feasible"] and nodes_of(got) == {"j-w-1": "n0"}, got
    assert not got["pending"], got


def test_succeeded_and_failed_pods_hold_nothing_and_only_succeeded_counts_for_the_gang():
    """pkg/scheduler/cache/event_handlers.go addTask: a terminated pod (isTerminated: Succeeded
    or Failed) is not added to its node; api/job_info.go ReadyTaskNum counts Succeeded, ValidTaskNum
    counts Succeeded but not Failed (plugins/gang validJobFn)."""
    pods = [_pod("j-w-0", "n0", 8, phase="Succeeded"), _pod("j-w-1", "n0", 8, phase="Failed")]
    gang = job("j", [task("w", 3, template(gpus=8))], min_available=2)
    got = by_name(run([gang], [node("n0", gpus=8)], pods=pods), "j")
    # n0's 8 GPUs are free: neither pod holds them; Succeeded + the new pod make minAvailable 2
    assert got["feasible"] and nodes_of(got) == {"j-w-2": "n0"}, got
    gang = job("j", [task("w", 3, template(gpus=8))], min_available=3)
    got = by_name(run([gang], [node("n0", gpus=8)], pods=pods), "j")
    assert not got["feasible"] and "valid" in got["reasons"][0], got  # the Failed pod is not valid


def test_pods_of_other_schedulers_bound_to_a_node_hold_its_resources():
    """pkg/scheduler/cache/cache.go (the pod informer's FilterFunc) keeps a pod of another
    scheduler when it has a spec.nodeName, and event_handlers.go addTask adds it to its node (no
    job: getOrCreateJob returns nil for other schedulers); an unbound one is not seen at all."""
    gang = job("j", [task("w", 1, template(gpus=8))], min_available=1)
    web = _pod("web-0", "n0", 8, scheduler="default-scheduler")
    got = by_name(run([gang], [node("n0", gpus=8), node("n1", gpus=8)], pods=[web]), "j")
    assert nodes_of(got) == {"j-w-0": "n1"}, got
    waiting = _pod("web-1", "", 8, scheduler="default-scheduler", phase="Pending")
    got = by_name(run([gang], [node("n0", gpus=8)], pods=[waiting]), "j")
    assert nodes_of(got) == {"j-w-0": "n0"}, got


def test_best_effort_pods_count_for_the_gang_and_are_placed_by_backfill():
    """pkg/scheduler/actions/allocate/allocate.go organizeJobWorksheet leaves BestEffort tasks (no
    requests) out; api/job_info.go PendingBestEffortTaskNum counts them for the gang (gang
    plugin's JobReady); actions/backfill/backfill.go places them on any node that passes the
    predicates (here the one with pod room left)."""
    be = {"spec": {"containers": [{"name": "c", "image": "x"}]}}
    gang = job("j", [task("g", 1, template(gpus=8)), task("b", 1, be)], min_available=2)
    got = by_name(run([gang], [node("n0", gpus=8, pods=1), node("n1", gpus=0)]), "j")
    assert got["feasible"] and nodes_of(got) == {"j-g-0": "n0", "j-b-0": "n1"}, got


def test_bound_pod_still_pending_holds_its_node_and_counts_as_ready():
    """pkg/scheduler/api/helpers.go getTaskStatus: a Pending pod with a spec.nodeName is Bound,
    which NodeInfo.AddTask charges to the node and api/job_info.go ReadyTaskNum counts."""
    gang = job("j", [task("w", 2, template(gpus=8))], min_available=2)
    bound = _pod("j-w-0", "n0", 8, phase="Pending")
    got = by_name(run([gang], [node("n0", gpus=8), node("n1", gpus=8)], pods=[bound]), "j")
    assert got["feasible"] and nodes_of(got) == {"j-w-0": "n0", "j-w-1": "n1"}, got


def test_pod_in_phase_unknown_holds_its_node_but_counts_for_nothing():
    """pkg/scheduler/api/helpers.go getTaskStatus: phase Unknown is status Unknown, which
    NodeInfo.AddTask charges to the node (its default case) and api/job_info.go counts neither in
    ReadyTaskNum nor in ValidTaskNum."""
    lost = _pod("j-w-0", "n0", 8, phase="Unknown")
    nodes = [node("n0", gpus=8), node("n1", gpus=8)]
    got = by_name(run([job("j", [task("w", 2, template(gpus=8))], min_available=1)], nodes, pods=[lost]), "j")
    assert got["feasible"] and nodes_of(got) == {"j-w-1": "n1"}, got  # n0 is held by the Unknown pod
    got = by_name(run([job("j", [task("w", 2, template(gpus=8))], min_available=2)], nodes, pods=[lost]), "j")
    assert not got["feasible"] and "valid" in got["reasons"][0], got


def test_task_priority_comes_from_the_pod_class_or_the_job_class():
    """pkg/scheduler/api/job_info.go NewTaskInfo takes the pod's spec.priority, which the Priority
    admission plugin sets from its priorityClassName; a Volcano Job's pod whose template names no
    class gets the job's (controllers/job/job_controller_util.go createJobPod). The priority
    plugin's TaskOrderFn then takes the higher-priority task first."""
    classes = [_priority_class("low", 10), _priority_class("high", 1000)]
    low = task("a", 1, template(gpus=8, priorityClassName="low"))
    gang = _classed(job("j", [low, task("b", 1, template(gpus=8))], min_available=1), "high")
    got = by_name(run([gang], [node("n0", gpus=8)], priority_classes=classes), "j")
    assert nodes_of(got) == {"j-b-0": "n0"}, got  # b inherits "high" from the job, a is "low"
