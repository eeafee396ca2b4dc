"""Explain and headroom against the real vc-scheduler: the ``make test`` subset (issue 13).

Two Pending jobs whose first suggestion (raise the tier; drop a required ``gpu-type`` affinity)
is written to the cluster, after which vc-scheduler must place the job as re-predicted; and one
headroom maximum (max places, max + 1 does not). The full run, with its committed report
(``docs/explain-agreement-report.md``), is ``python -m tests.agreement.run_explain``.
"""

from __future__ import annotations

import pytest

from hypertopo.cluster import LocalCluster

from .generator import scenario
from .run_agreement import Runner
from .run_explain import ExplainRunner, headroom_case, pending_target

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def explainer(runner: Runner) -> ExplainRunner:
    cluster: LocalCluster = runner.cluster
    return ExplainRunner(cluster, log=lambda _msg: None)


@pytest.mark.parametrize(("index", "kind"), [(4, "set_tier"), (13, "relax_affinity")], ids=["a004", "a013"])
def test_the_first_suggestion_makes_vc_scheduler_place_the_job_as_re_predicted(
    explainer: ExplainRunner, index: int, kind: str
) -> None:
    sc = scenario(index)
    target = pending_target(sc)
    assert target is not None
    run = explainer.explain(sc, target)
    assert run.pending_in_cluster and run.status == "infeasible" and not run.no_single_change, run
    (applied,) = run.changes
    assert list(applied.change) == [kind] and applied.predicted_feasible, applied
    assert applied.error is None and applied.bound == applied.replicas > 0, applied
    assert applied.verdict is not None and applied.verdict["agree"], applied.verdict


def test_headroom_maximum_places_and_one_more_does_not(explainer: ExplainRunner) -> None:
    case = headroom_case(scenario(0))
    assert case is not None and case.max_replicas == 19
    run = explainer.headroom(case)
    assert run.error is None and run.jobs_agree, run
    assert run.bound_at_max == (19, 19) and run.bound_above[0] < run.bound_above[1] == 20, run
