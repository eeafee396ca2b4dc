"""Hand-written findings of the agreement runs, rendered into ``docs/agreement-report.md``.

``FIXES``: engine bugs the runs revealed and that were fixed (the scenario was rerun).
``EXPLANATIONS``: root cause of each mismatch left in the committed run, keyed
``<scenario>/<job>`` (found with vc-scheduler's log at ``-v=5`` and the Volcano source).
"""

from __future__ import annotations

FIXES: list[str] = [
    "**Unreported random task order** (scenario a050, fixed in `placement: report the random order of "
    "equal-index pods of different tasks as a task-order tie`). Volcano orders pods of different tasks "
    "with the same index (`prefill-0`, `decode-0`) by creation time, which has whole-second resolution, "
    "then by UID: at random (`CompareTask` in `pkg/controllers/job/helpers`; the priority plugin's task "
    "order only compares pod priorities). The engine took them in task order and reported no tie. In "
    "a050 (prefill 3 x 2 GPUs with minAvailable 1, decode 3 x 4 GPUs, gang of 4) the engine's order "
    "fills the gang only with the sixth pod, so all six land in one leaf; vc-scheduler (log at -v=5) "
    "took decode first, the gang was ready after five pods, and the sixth was placed alone in a second "
    "round where the subjob HyperNode binpack score adds the used GPUs of the leaf and the requests of "
    "all six pods: the first leaf overflowed (16 + 18 > 20 GPUs) and the sixth pod went to the other "
    "leaf. The engine now replays the session with the reverse order and two seeded shuffles and, "
    "where the outcome changes, reports a `task-order` tie with the outcomes; the HyperNode check "
    "accepts its HyperNodes and the per-leaf check is skipped when leaf counts differ between them. "
    "Unit tests: `tests/placement/test_task_order.py`.",
]

EXPLANATIONS: dict[str, str] = {}
