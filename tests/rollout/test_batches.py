"""Cutting a definition list into concurrent batches and merging the module results."""

from __future__ import annotations

import pytest

from hypertopo.rollout.batches import merge_batch_results, per_definition_results, split_batches
from hypertopo.rollout.node_labels import UNCONFIRMED, VANISHED, patch_failures


def test_split_keeps_order_and_sizes_differ_by_at_most_one():
    parts = split_batches(list(range(1000)), 3, min_per_batch=64)
    assert [len(p) for p in parts] == [334, 333, 333]
    assert [x for p in parts for x in p] == list(range(1000))


def test_split_never_makes_parts_under_the_minimum():
    assert [len(p) for p in split_batches(list(range(130)), 4, min_per_batch=64)] == [65, 65]
    assert [len(p) for p in split_batches(list(range(63)), 4, min_per_batch=64)] == [63]
    assert [len(p) for p in split_batches(list(range(8192)), 4)] == [2048] * 4


def test_split_of_nothing_is_no_batch():
    assert split_batches([], 4) == []


@pytest.mark.parametrize("batches, minimum", [(0, 64), (2, 0)])
def test_split_rejects_bad_counts(batches: int, minimum: int):
    with pytest.raises(ValueError):
        split_batches([1, 2], batches, min_per_batch=minimum)


def _run(*results: dict) -> dict:
    """A kubernetes.core.k8s result over several definitions."""
    return {"changed": any(r.get("changed") for r in results), "result": {"results": list(results)}}


def test_merge_concatenates_in_batch_order():
    first = _run({"changed": True, "method": "update", "n": 1}, {"changed": False, "n": 2})
    second = _run({"changed": False, "n": 3}, {"changed": False, "n": 4})
    merged = merge_batch_results([first, second], [2, 2])
    assert [r["n"] for r in merged["result"]["results"]] == [1, 2, 3, 4]
    assert merged["changed"] is True and merged["batches"] == [2, 2]
    assert "failed" not in merged


def test_merge_unwraps_a_single_definition_run():
    single = {"changed": True, "method": "update", "result": {"kind": "Node"}, "invocation": {"x": 1}}
    merged = merge_batch_results([_run({"changed": False}), single], [1, 1])
    assert merged["result"]["results"][1] == {"changed": True, "method": "update", "result": {"kind": "Node"}}


def test_a_failed_batch_fails_the_merge_and_names_its_range_and_nodes():
    ok = _run(*({"changed": True} for _ in range(3)))
    failed = {"failed": True, "msg": "Failed to get client due to 401 Unauthorized"}
    merged = merge_batch_results([ok, failed], [3, 2])
    assert merged["failed"] is True
    assert merged["msg"] == (
        "kubernetes.core.k8s failed in batch 2/2 (definitions 4-5): "
        "Failed to get client due to 401 Unauthorized"
    )
    patches = [{"metadata": {"name": f"n{i}"}} for i in range(5)]
    failures = patch_failures(merged, patches)
    assert [f["node"] for f in failures] == ["n3", "n4"]
    # the batch's run failed as a whole: nothing says which of its patches had landed
    assert all(f["reason"].startswith(UNCONFIRMED + ": Failed to get client") for f in failures), failures


def test_patch_failures_read_a_merged_result_like_a_single_run():
    vanished = {
        "changed": False,
        "warnings": ["resource 'kind=Node,name=c' was not found but will not be created"],
    }
    merged = merge_batch_results(
        [_run({"changed": True}, {"changed": True}), _run(vanished, {"changed": True})], [2, 2]
    )
    patches = [{"metadata": {"name": n}} for n in "abcd"]
    assert patch_failures(merged, patches) == [{"node": "c", "reason": VANISHED}]


def test_run_level_warnings_are_kept_but_a_single_result_keeps_its_own():
    merged = merge_batch_results(
        [
            {**_run({"changed": False}, {"changed": False}), "warnings": ["w-run"]},
            {"changed": False, "warnings": ["w1"]},
        ],
        [2, 1],
    )
    assert merged["warnings"] == ["w-run"]
    assert merged["result"]["results"][2]["warnings"] == ["w1"]


def test_per_definition_results_of_a_short_result_are_reported_missing():
    assert per_definition_results({"changed": False, "skipped": True}, 3) == []


def test_merge_needs_a_size_per_result():
    with pytest.raises(ValueError, match="2 results for 1 batches"):
        merge_batch_results([{}, {}], [1])


def test_flagged_lists_the_results_with_an_error_or_warnings():
    vanished = {"changed": False, "warnings": ["resource 'kind=Node,name=b' was not found"]}
    failed = {"changed": False, "error": {"msg": "500"}}
    merged = merge_batch_results([_run({"changed": True}, vanished), _run({"changed": True}, failed)], [2, 2])
    assert merged["flagged"] == [1, 3]
    assert merge_batch_results([_run({"changed": True}, {"changed": False})], [2])["flagged"] == []


def _plugin():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "action_plugins" / "hypertopo_k8s_batches.py"
    spec = importlib.util.spec_from_file_location("hypertopo_k8s_batches", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ActionModule


@pytest.mark.parametrize(
    "batches, definition, extra, message",
    [
        (0, [], {}, "batches must be an integer from 1 to 32, got 0"),
        (True, [], {}, "batches must be an integer from 1 to 32, got True"),
        ("x", [], {}, "batches must be an integer from 1 to 32, got 'x'"),
        (2, {"kind": "Node"}, {}, "definition must be a list of objects"),
        (2, [], {"src": "nodes.yml"}, "src not supported; pass the objects in definition"),
    ],
)
def test_the_action_plugin_refuses_bad_arguments_with_one_message(batches, definition, extra, message):
    assert _plugin()._check(batches, definition, extra) == f"hypertopo_k8s_batches: {message}"


def test_the_action_plugin_accepts_a_templated_count():
    assert _plugin()._check("4", [], {}) is None


def test_a_module_that_raised_is_reported_with_its_exception_message():
    from types import SimpleNamespace

    from hypertopo.rollout.batches import failure_message

    raised = {"failed": True, "exception": SimpleNamespace(event=SimpleNamespace(msg="Max retries exceeded"))}
    assert failure_message(raised) == "Max retries exceeded"
    assert per_definition_results(raised, 2)[1] == {
        "changed": False,
        "error": {"msg": "Max retries exceeded", "whole_run": True},
    }
    assert failure_message({"failed": True, "msg": "x"}) == "x"
    assert failure_message({"failed": True}) == "the module failed without a message"
