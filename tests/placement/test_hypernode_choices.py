"""Other choices at HyperNode-level ties (random in Volcano) are followed by replaying the
session, and the outcomes they lead to are reported as a ``choices`` tie. Found by the
agreement run: in a098 an extra replica's tied leaves lay under different spines (the job's
HyperNode became the cluster root); in a206 and a222 a different first choice moved every
later pod with it, which no single-tie estimate could show."""

from __future__ import annotations

from hypertopo.placement import predict, session
from hypertopo.placement.tree import VIRTUAL_ROOT
from tests.agreement.compare import compare

from .helpers import GPU_BINPACK, conf, hard, job, leaf, node, parent, task, template


def _case(**kw):
    nodes = [node(n, gpus=8) for n in ("a0", "a1", "b0", "c0")]
    hns = [
        leaf("leaf-a", ["a0", "a1"]),
        leaf("leaf-b", ["b0"]),
        leaf("leaf-c", ["c0"]),
        parent("spine-1", ["leaf-a", "leaf-b"]),
        parent("spine-2", ["leaf-c"]),
    ]
    # the gang (2 x 8 GPUs) fills leaf-a; the third replica is placed alone afterwards, and
    # leaf-b and leaf-c (one empty 8-GPU node each) score the same
    work = job("w", [task("worker", 3, template(gpus=8), minAvailable=2)], min_available=2, topology=hard(3))
    result = predict(
        jobs=[work], nodes=nodes, hypernodes=hns, scheduler_conf=conf(GPU_BINPACK), baseline=False, **kw
    )
    return result, nodes, hns


def _pods(third: str) -> list[dict]:
    where = {"w-worker-0": "a0", "w-worker-1": "a1", "w-worker-2": third}
    return [
        {
            "metadata": {"name": p, "namespace": "default"},
            "spec": {"nodeName": n, "containers": [{"name": "c"}]},
        }
        for p, n in where.items()
    ]


def test_the_other_choice_is_followed_and_reported():
    result, _, _ = _case()
    j = result["jobs"][0]
    assert j["hypernode"] == "spine-1" and j["leaves"] == {"leaf-a": 2, "leaf-b": 1}
    tie = next(t for t in j["ties"] if t["level"] == "hypernode")
    assert tie["candidates"] == ["leaf-b", "leaf-c"]
    choices = next(t for t in j["ties"] if t["level"] == "choices")
    assert choices["candidates"] == [VIRTUAL_ROOT, "spine-1"]
    assert [o["leaves"] for o in choices["outcomes"]] == [
        {"leaf-a": 2, "leaf-b": 1},
        {"leaf-a": 2, "leaf-c": 1},
    ]
    assert choices["leaf_counts_differ"] and j["leaf_level_tie"]
    assert j["choice_replays"] == {"replays": 1, "complete": True}


def test_compare_accepts_a_reported_outcome_and_nothing_else():
    result, nodes, hns = _case()
    other = compare(result, _pods("c0"), nodes, hns)[0]
    assert other["checks"]["hypernode"] and other["checks"]["leaves"] is None
    # leaf-a is neither predicted nor a reported outcome (the tie's candidates are leaves, but
    # the job's HyperNode can only be spine-1 or the root)
    wrong = compare(result, _pods("a0"), nodes, hns)[0]
    assert wrong["checks"]["hypernode"] is False


def test_without_following_choices_compare_falls_back_to_the_candidates():
    result, nodes, hns = _case(choices=False)
    j = result["jobs"][0]
    assert not any(t["level"] == "choices" for t in j["ties"])
    assert "choice_replays" not in j
    # legacy: any candidate of a HyperNode-level tie is accepted as the job's HyperNode
    assert compare(result, _pods("b0"), nodes, hns)[0]["checks"]["hypernode"]


def test_replays_are_bounded_by_the_budget(monkeypatch):
    monkeypatch.setattr(session, "REPLAY_BUDGET", 0)
    result, _, _ = _case()
    j = result["jobs"][0]
    assert j["choice_replays"] == {"replays": 0, "complete": False}
    assert not any(t["level"] == "choices" for t in j["ties"])
