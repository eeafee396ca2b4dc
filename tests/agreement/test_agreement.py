"""The engine against the real vc-scheduler on generated scenarios (issue 4, item 5).

``test_subset`` (8 scenarios, marked ``cluster``) runs with ``make integration``;
``test_full`` (the rest of the 60, also ``slow``) runs with ``pytest -m slow``. Both
use one private control plane per module; scenarios run one after the other in it and
clean up after themselves. A failure prints both sides of every disagreeing job.
"""

from __future__ import annotations

import json

import pytest

from .generator import scenario
from .run_agreement import Runner, ScenarioRun

pytestmark = pytest.mark.cluster

SUBSET = list(range(8))
FULL = list(range(8, 60))


@pytest.fixture(scope="module")
def runner(cluster_factory) -> Runner:
    return Runner(cluster_factory(), log=lambda _msg: None)


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


def _check(runner: Runner, index: int) -> None:
    run = runner.run(scenario(index))
    assert run.agree, _explain(run)


@pytest.mark.parametrize("index", SUBSET, ids=[f"a{i:03d}" for i in SUBSET])
def test_subset(runner: Runner, index: int) -> None:
    _check(runner, index)


@pytest.mark.slow
@pytest.mark.parametrize("index", FULL, ids=[f"a{i:03d}" for i in FULL])
def test_full(runner: Runner, index: int) -> None:
    _check(runner, index)
