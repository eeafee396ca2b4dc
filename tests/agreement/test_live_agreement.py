"""Live cluster states against the real vc-scheduler: the ``make test`` subset (issue #16).

One scenario put into every state of :data:`tests.agreement.run_live.STATES` at once (a deleted
Node under a bound pod, pods kept Terminating by a finalizer with a job that fits only into
their resources, a Failed or Succeeded pod, more default-scheduler pods bound through
``spec.nodeName``, two competing jobs of different PriorityClasses, a cordoned node); the
prediction read from the cluster as ``explain --from-cluster`` reads it must agree with
vc-scheduler for every job. The full run, with its committed report
(``docs/live-agreement-report.md``), is ``python -m tests.agreement.run_live``.
"""

from __future__ import annotations

import pytest

from .generator import scenario
from .run_agreement import Runner
from .run_live import STATES, LiveRunner

pytestmark = pytest.mark.cluster


def test_every_live_state_at_once_agrees_with_vc_scheduler(runner: Runner) -> None:
    live = LiveRunner(runner.cluster, log=lambda _msg: None)
    run = live.run(scenario(1), STATES)
    assert run.error is None, run.error
    assert {j.job for j in run.jobs} >= {"j1", "plow", "phigh"}, run.jobs
    assert all(j.agree for j in run.jobs), [(j.job, j.details) for j in run.jobs if not j.agree]
    assert all(ok for _text, ok in run.released), run.released
    assert not any("skipped" in fact for fact in run.facts), run.facts
