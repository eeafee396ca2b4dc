"""The engine against the real vc-scheduler on generated scenarios (issue 4, item 5).

``test_subset`` (8 scenarios, marked ``cluster``: four plain ones and four that once
revealed engine bugs) runs with ``make integration``; ``test_full`` (scenarios a000 up to
``$HYPERTOPO_AGREEMENT_COUNT``, default 60, minus the subset; also ``slow``) runs with
``pytest -m slow``. Both use one private control plane per module (the ``runner`` fixture,
:func:`hypertopo.cluster.local_cluster`); scenarios run one after the other in it and clean up
after themselves. A failure prints both sides of every
disagreeing job. The committed report (``docs/agreement-report.md``) comes from
``python -m tests.agreement.run_agreement``, which runs the same scenarios.

A job whose feasibility itself depends on Volcano's random task order (the engine reports a
``task-order`` tie whose outcomes differ in feasibility, and vc-scheduler's outcome is one
of them) is reported as an expected failure (xfail), not as a pass.
"""

from __future__ import annotations

import json
import os

import pytest

from .generator import scenario
from .run_agreement import Runner, ScenarioRun  # runner: tests/agreement/conftest.py

pytestmark = pytest.mark.cluster

SUBSET = [0, 1, 2, 3, 115, 180, 206, 222]
FULL = [i for i in range(int(os.environ.get("HYPERTOPO_AGREEMENT_COUNT", "60"))) if i not in SUBSET]


def _explain(run: ScenarioRun) -> str:
    lines = [f"{run.scenario.sid}: {run.scenario.summary()}"]
    if run.error:
        lines.append(f"error: {run.error}")
    for j in run.jobs:
        if j.agree:
            continue
        p = j.predicted
        lines.append(f"{j.job}: {'; '.join(j.verdict['details'])}")
        lines.append(
            f"  predicted feasible={p['feasible']} {p['hypernode']} {p['leaves']} "
            f"ties={json.dumps(p['ties'])}"
        )
        lines.append(f"  vc-scheduler {j.actual_hypernode} {j.actual_leaves} {j.observed} ({j.podgroup})")
    return "\n".join(lines)


def _random_feasibility(run: ScenarioRun) -> bool:
    """Every disagreement is a feasibility one the prediction reported as random."""
    bad = [j for j in run.jobs if not j.agree]
    if run.error or not bad:
        return False
    for j in bad:
        tie = next((t for t in j.predicted["ties"] if t["level"] == "task-order"), None)
        bound = any(j.observed.values())
        if tie is None or not tie["feasibility_differs"] or set(j.verdict["checks"]) != {"feasibility"}:
            return False
        if not any(o["feasible"] == bound for o in tie["outcomes"]):
            return False
    return True


def _check(runner: Runner, index: int) -> None:
    run = runner.run(scenario(index))
    if _random_feasibility(run):
        pytest.xfail("feasibility decided by Volcano's random task order (reported):\n" + _explain(run))
    assert run.agree, _explain(run)


@pytest.mark.parametrize("index", SUBSET, ids=[f"a{i:03d}" for i in SUBSET])
def test_subset(runner: Runner, index: int) -> None:
    _check(runner, index)


@pytest.mark.slow
@pytest.mark.parametrize("index", FULL, ids=[f"a{i:03d}" for i in FULL])
def test_full(runner: Runner, index: int) -> None:
    _check(runner, index)
