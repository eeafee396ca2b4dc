"""The seed's two outcomes (Volcano picks one of the two identical IB leaves at random) on every
surface: the engine's outcomes, verify's "outcome 2 of 2" without differences, the report header."""

from __future__ import annotations

from typing import Any

import pytest

from hypertopo.placement import predict
from hypertopo.report import render_reports
from hypertopo.report.verify import verify

from ..placement.synthetic import seed_cluster, seed_pd_jobs
from .conftest import make_pod

ONE_OF_TWO = "ib-switch0 or ib-switch1 (Volcano picks at random: ib-switch0 91/128, ib-switch1 37/128)"


@pytest.fixture(scope="module")
def prediction() -> dict[str, Any]:
    nodes, hypernodes = seed_cluster()
    return predict(jobs=seed_pd_jobs(), nodes=nodes, hypernodes=hypernodes)


def _pods_in(prediction: dict[str, Any], outcome: int, *, reverse: bool = False) -> list[dict[str, Any]]:
    """The pods as Volcano could bind them in ``outcome`` (0-based): each on a node of its group,
    in another order than the engine's when ``reverse``."""
    pods = []
    for job in prediction["jobs"]:
        groups = job["outcomes"][outcome]["candidates"]
        used: dict[tuple[str, ...], int] = {}
        names = sorted(groups, reverse=reverse)
        for pod in names:
            group = tuple(groups[pod])
            k = used.get(group, 0)
            used[group] = k + 1
            task = pod.split("-service-")[1].rsplit("-", 1)[0]
            pods.append(make_pod(pod, job["name"], task, group[k % len(group)]))
    return pods


def test_the_seed_has_two_outcomes_0711_and_0289(prediction):
    """The job's pick among equal scores follows Go map iteration order over the IB aggregation's
    spec.members order (util.job_tie_chances): the leaf listed first wins 1/2 + 1/2 x (3/4)^3 =
    91/128 of the time (three random rotations of two: the session's copy, the gradient's BFS, the
    score map), not 1/2."""
    for job in prediction["jobs"]:
        assert [
            (o["hypernode"], o["tier"], o["pods_per_leaf"], o["probability"]) for o in job["outcomes"]
        ] == [
            ("ib-switch0", 1, {"ib-switch0": 12}, 0.710938),
            ("ib-switch1", 1, {"ib-switch1": 12}, 0.289062),
        ]
        assert "probability_note" not in job
        for placement in job["placements"]:
            assert placement["node"] in placement["candidates"] and len(placement["candidates"]) == 6


def test_outcome_2_of_2_is_as_predicted_and_no_difference(prediction, seed_model):
    result = verify(prediction, _pods_in(prediction, 1, reverse=True), seed_model, require_running=True)
    assert result["ok"], result["failures"]
    assert result["differences"] == []
    for job in result["jobs"]:
        assert (job["outcome"], job["outcome_index"], job["outcome_count"]) == ("predicted", 2, 2)
        assert job["actual"]["hypernode"] == "ib-switch1"
        assert job["predicted"]["outcomes"] == ONE_OF_TWO
        assert all(p["match"] for p in job["pods"])
    files = render_reports(seed_model, prediction, result)
    header = files["text"].splitlines()[1]
    assert header == (
        "Verification: OK — 24/24 pods bound, 24 Running and Ready; the placement is a predicted outcome "
        "(pd-prefill-service: outcome 2 of 2, pd-decode-service: outcome 2 of 2); 24/24 pods in their "
        "predicted node group; 0 difference(s)"
    )
    assert "as predicted: outcome 2 of 2" in files["text"]
    assert (
        "ib-switch0: 12 or ib-switch1: 12" in files["text"]
        and "ib-switch0: 12 or ib-switch1: 12" in files["html"]
    )
    assert "Differences" not in files["text"]
    assert "the placement is a predicted outcome" in files["html"]
    assert ONE_OF_TWO in files["html"]


def test_a_pod_outside_its_group_is_the_only_difference(prediction, seed_model):
    pods = _pods_in(prediction, 0)
    for pod in pods:
        if pod["metadata"]["name"] == "pd-prefill-service-prefill-worker-0":
            pod["spec"]["nodeName"] = "node4"  # an A100 node of ib-switch0: no predicted group holds it
    result = verify(prediction, pods, seed_model)
    assert result["differences"] == [
        "pod pd-prefill-service-prefill-worker-0: predicted one of node0, node1, node5, node10, node15, "
        "node20, actual node4"
    ]
    assert [j["outcome_index"] for j in result["jobs"]] == [1, 1]


def test_the_plan_report_lists_the_outcomes(prediction, seed_model):
    files = render_reports(seed_model, prediction)
    text = files["text"]
    assert (
        f"predicted outcomes: pd-prefill-service: {ONE_OF_TWO}; pd-decode-service: {ONE_OF_TWO}"
        in text.splitlines()[1]
    )
    assert text.count(ONE_OF_TWO) >= 3


def test_the_pairs_of_the_jobs_other_random_picks_are_shown(prediction, seed_model):
    """The predicted placement puts both PD jobs on ib-switch0; Volcano picks each job's leaf at
    random, so prefill and decode may also sit on two leaves, paired through ib-switch4."""
    from hypertopo.report.context import build_context

    net = build_context(seed_model, prediction)["network"]
    assert set(net["predicted"]["prefill-decode"]["classes"]) == {"same_ib_leaf"}
    picks = {alt["picks"]: set(alt["prefill-decode"]["classes"]) for alt in net["alternatives"]}
    assert picks == {
        "pd-prefill-service on ib-switch0, pd-decode-service on ib-switch1": {"same_ib_aggregation"}
    }, picks
    files = render_reports(seed_model, prediction)
    assert "prefill ↔ decode if Volcano's random picks differ from the predicted placement:" in files["text"]
    assert "pd-prefill-service on ib-switch0, pd-decode-service on ib-switch1" in files["html"]
