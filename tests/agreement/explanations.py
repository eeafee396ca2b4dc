"""Hand-written findings of the agreement runs, rendered into ``docs/agreement-report.md``.

``FIXES``: engine bugs the runs revealed and that were fixed (the scenario was rerun).
``EXPLANATIONS``: root cause of each mismatch left in the committed run, keyed
``<scenario>/<job>`` (found with vc-scheduler's log at ``-v=5`` and the Volcano source).
"""

from __future__ import annotations

FIXES: list[str] = [
    "**Unreported random task order** (scenario a050; fixed in `placement: report the random order of "
    "equal-index pods of different tasks as a task-order tie`). Volcano orders pods of different tasks "
    "with the same index (`prefill-0`, `decode-0`) by creation time, which has whole-second resolution, "
    "then by UID, i.e. at random (`CompareTask` in `pkg/controllers/job/helpers`; the priority plugin "
    "only compares pod priorities). The engine took them in task order and reported nothing. a050 has "
    "prefill 3 x 2 GPUs (minAvailable 1) and decode 3 x 4 GPUs in one job (gang of 4) on two 20-GPU "
    "leaves: in task order all six pods fit one leaf; vc-scheduler's log at -v=5 shows decode-0 before "
    "prefill-0 and decode-1 before prefill-1, after which the leaf had no 4-GPU hole left for decode-2, "
    "and the job ended under the spine with 5 + 1 pods (in both runs of a050). With decode first for "
    "every index the gang is ready after five pods and the sixth, placed alone in a second round, "
    "also goes to the other leaf: the subjob HyperNode binpack score adds the leaf's used GPUs to the "
    "requests of all six pods (16 + 18 > 20: overflow, score 0). The engine now replays the session "
    "with the reverse order and two seeded shuffles and, where a job's outcome changes, reports a "
    "`task-order` tie listing the outcomes; the HyperNode check accepts their HyperNodes and the "
    "per-leaf check is skipped when their leaf counts differ. Unit tests: "
    "`tests/placement/test_task_order.py`.",
    "**Too few task orders tried** (scenario a106; fixed in `placement: task-order ties try every order "
    "...`). The first fix replayed only the reverse order and two shuffles. In a106 (no topology, 4 "
    "prefill + 3 decode, gang of 5) the outcome vc-scheduler produced (5 + 2 pods over two leaves "
    "instead of 6 + 1) needs decode-2 before prefill-2 but prefill-0 before decode-0, which neither "
    "was. The engine now replays every order of the equal-index pods when there are at most 64 "
    "(else the reverse and seeded shuffles), within a replay budget that skips the replays on very "
    "large inputs. Unit tests: `tests/placement/test_task_order.py`.",
    "**Only one scheduling session simulated** (scenario a115; fixed in `placement: simulate the "
    "following scheduling sessions ...`). In a115 the job (2 prefill + 3 partitions of 2 decode pods, "
    "2 partitions required, each within one leaf) fills its first leaf with the gang; the third "
    "partition fails in that leaf during the dry run and is dropped from the job's worksheet "
    "(`allocateForJob` does not push a failed subjob back), so the first session leaves it pending. "
    "vc-scheduler's log shows it bound one session (one second) later in another leaf, with the "
    "job's allocated HyperNode kept in memory. The engine stopped after one session; it now opens "
    "further sessions (pipelined pods pending again, `removeInvalidAllocatedHyperNode` and "
    "`recoverAllocatedHyperNode` for empty values, fresh HyperNode idle resources) until one places "
    "nothing. Unit tests: `tests/placement/test_sessions.py`.",
    "**Other choices at HyperNode-level ties not followed** (scenarios a098, a206, a222; fixed in "
    "`placement: follow the other choices of HyperNode-level ties by replaying the session`). The "
    "engine reported HyperNode-level ties with their candidates, but the HyperNode check needs the "
    "job's lowest common HyperNode under the other choices, and a different early choice moves later "
    "pods with it. In a098 the gang filled one leaf and the extra replica (replicas > minAvailable) "
    "was placed alone in a later round where five leaves tied: vc-scheduler picked a leaf under the "
    "other spine (leaf5 in one run, leaf4 in the next), so the job spanned the cluster root. In a206 "
    "(partitions with hard tier 1, no job topology) the first partition's leaf was a tie and the "
    "other choice pulled all the later partitions under another spine; in a222 the gang's leaf and "
    "both extra replicas were ties. The engine now replays the session with each tie decision forced "
    "to one candidate per other job HyperNode it can lead to (breadth first, later decisions of "
    "every replay too, at most 64 replays and a budget that skips them on very large inputs) and "
    "reports a `choices` tie with the distinct outcomes; `compare` then accepts only those "
    "HyperNodes (stricter than the earlier rule, which accepted any tied candidate). Unit tests: "
    "`tests/placement/test_hypernode_choices.py`.",
    "**The enqueue action was not simulated** (scenario a180; fixed in `placement: simulate the "
    "enqueue action`). The first job (40 GPUs on a 40-GPU cluster with 6 GPUs held by other pods) "
    "was admitted by the enqueue action but could never be placed, and its PodGroup, Inqueue, kept "
    "reserving its minResources: the second job's minResources plus that reservation exceeded the "
    "cluster's allocatable, so the proportion plugin never admitted it and the job controller created "
    "no pods. The engine predicted the second job feasible. It now runs the enqueue action with the "
    "proportion plugin's check each session (pods bound by other schedulers do not count, as in "
    "Volcano) and reports `queue resource quota insufficient: insufficient <resource>` with the "
    "numbers. Unit tests: `tests/placement/test_enqueue.py`.",
    "**Pods that already exist were not taken in Volcano's order** (scenario a324, found in an "
    "exploration run over a260-a359; fixed in `placement: pods read from the cluster are ordered like "
    "Volcano's CompareTask`). a324's first job (3 prefill on RTX 4090 only + 3 decode on A100 or "
    "RTX 4090) is feasible in task order, but in the order vc-scheduler drew (decode first) the decode "
    "pods took the RTX 4090 GPUs the prefill pods needed, and the gang failed; the engine had "
    "reported this as a `task-order` tie whose outcomes differ in feasibility. Since the same pods "
    "keep the same creation time and UID, the job stays Pending in every later session, but for the "
    "second job the engine again assumed task order, placed the first job, and predicted 5 of the "
    "second job's 7 pods instead of 7. Pods read from the cluster carry `creationTimestamp` and "
    "`uid`; the engine now orders equal-index pods by them, as `CompareTask` does, and replays only "
    "orders that are not known yet. Unit tests: `tests/placement/test_known_order.py`. (The first "
    "job's own feasibility remains random before its pods exist: see the mismatches below, if any.)",
]

EXPLANATIONS: dict[str, str] = {}
