"""tests/agreement/run_live.py without a cluster: which states a scenario gets, and the report."""

from __future__ import annotations

from .run_live import (
    EXPLANATIONS,
    NOT_READY,
    STATES,
    JobVerdict,
    LiveRun,
    fill_explanations,
    render_report,
    states_for,
)


def test_every_state_comes_first_in_turn_and_the_choice_is_seeded():
    firsts = [states_for(i, 7) for i in range(len(STATES))]
    assert [s for s in STATES if any(s in got for got in firsts)] == list(STATES)
    assert all(STATES[i] in firsts[i] for i in range(len(STATES)))
    assert states_for(3, 7) == states_for(3, 7)
    assert all(list(got) == [s for s in STATES if s in got] for got in firsts)  # in STATES order


def test_not_ready_comes_last_and_never_with_a_deleted_node():
    got = states_for(0, 7, not_ready=True)
    assert got[-1] == NOT_READY and "deleted_node" not in got


def test_the_report_counts_per_state_and_explains_every_mismatch(monkeypatch):
    ok = LiveRun("a000", "x", ["deleted_node", "cordoned"], facts=["deleted_node: Node n1 deleted"])
    ok.jobs = [JobVerdict("j1", "feasible leaf0", 2, 2, True, [])]
    bad = LiveRun("a001", "y", ["priority"], released=[("jt: 1/1 bound after the release", True)])
    bad.jobs = [
        JobVerdict("plow", "pending", 4, 4, False, ["predicted feasible=False, 4 pods bound"]),
        JobVerdict("phigh", "feasible leaf1", 4, 4, True, []),
    ]
    monkeypatch.setitem(EXPLANATIONS, "a001/plow", "a reason found by hand")
    text = render_report([ok, bad], seed=1, wall_s=10, command="cmd", target=60)
    assert "First run, 2 scenarios; the ≥60 run is pending" in text
    assert "| jobs agreeing (feasibility, HyperNode, pods per leaf) | 2/3 (67 %) |" in text
    assert "| priority | 1 | 0 | 2 | 1 |" in text and "| deleted_node | 1 | 1 | 1 | 1 |" in text
    assert (
        "| a001/plow | priority | predicted feasible=False, 4 pods bound | a reason found by hand |" in text
    )
    assert (
        "| pipelined jobs agreeing with the prediction made again once the terminating pods were gone "
        "| 1/1 (100 %) |" in text
    )
    full = render_report([ok], seed=1, wall_s=10, command="cmd", target=1)
    assert "First run" not in full and "## Mismatches\n\nNone." in full


def test_explanations_are_filled_into_an_existing_report(monkeypatch):
    bad = LiveRun("a001", "y", ["priority"])
    bad.jobs = [JobVerdict("plow", "pending", 4, 4, False, ["predicted feasible=False, 4 pods bound"])]
    text = render_report([bad], seed=1, wall_s=10, command="cmd", target=60)
    assert "| not explained yet |" in text
    monkeypatch.setitem(EXPLANATIONS, "a001/plow", "found by hand")
    filled = fill_explanations(text)
    assert "| a001/plow | priority | predicted feasible=False, 4 pods bound | found by hand |" in filled
    assert filled.replace("found by hand", "not explained yet") == text
