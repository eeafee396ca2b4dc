"""map_forked: the items' results in order, from forked processes; failures come back; nothing is
left running; and headroom answers the same with its searches forked."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from hypertopo.placement.forked import map_forked
from hypertopo.placement.headroom import headroom

from .synthetic import seed_cluster, seed_pd_jobs


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_results_in_item_order_computed_in_several_processes() -> None:
    got = map_forked(lambda x: (x * x, os.getpid()), list(range(7)), 3)
    assert [value for value, _pid in got] == [x * x for x in range(7)]
    pids = [pid for _value, pid in got]
    # round-robin: items 0, 3, 6 here, 1 and 4 in one child, 2 and 5 in another
    assert pids[0] == pids[3] == pids[6] == os.getpid()
    assert pids[1] == pids[4] != os.getpid() and pids[2] == pids[5] not in {os.getpid(), pids[1]}
    assert all(_gone(pid) for pid in {pids[1], pids[2]}), "the children were reaped"


def test_one_worker_or_another_thread_running_means_no_fork() -> None:
    assert {pid for pid in map_forked(lambda _x: os.getpid(), [1, 2, 3], 1)} == {os.getpid()}
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert {pid for pid in map_forked(lambda _x: os.getpid(), [1, 2, 3], 3)} == {os.getpid()}
    finally:
        stop.set()
        other.join()


def test_a_childs_exception_is_raised_here() -> None:
    def fn(x: int) -> int:
        if x == 3:
            raise KeyError(f"item {x} in {os.getpid()}")
        return x

    with pytest.raises(KeyError, match="item 3 in") as exc:
        map_forked(fn, [0, 1, 2, 3], 2)
    assert str(os.getpid()) not in str(exc.value), "item 3 is a child's"


def test_a_child_that_dies_without_an_answer_is_named() -> None:
    def fn(x: int) -> int:
        if x == 1:
            os._exit(3)
        return x

    with pytest.raises(RuntimeError, match=r"ended without an answer \(wait status 768\)"):
        map_forked(fn, [0, 1], 2)


def test_a_failure_here_stops_and_reaps_the_children(tmp_path: Path) -> None:
    marker = tmp_path / "child"

    def fn(x: int) -> int:
        if x == 1:  # the child: say who it is, then take long
            (tmp_path / "writing").write_text(str(os.getpid()))
            (tmp_path / "writing").replace(marker)  # whole, or not there
            time.sleep(60)
            return x
        while not marker.exists():  # this process: fail once the child is running
            time.sleep(0.01)
        raise ValueError("failed here first")

    start = time.monotonic()
    with pytest.raises(ValueError, match="failed here first"):
        map_forked(fn, [0, 1], 2)
    assert time.monotonic() - start < 30
    assert _gone(int(marker.read_text()))


def test_headroom_answers_the_same_with_its_searches_forked() -> None:
    nodes, hypernodes = seed_cluster()
    inputs = {"jobs": seed_pd_jobs(), "nodes": nodes, "hypernodes": hypernodes}
    one = headroom(inputs)
    assert len(one["jobs"]) == 2, "two searches: one per PD job"
    assert json.dumps(headroom(inputs, workers=2), sort_keys=True) == json.dumps(one, sort_keys=True)


def test_a_search_and_its_check_answer_the_same_forked() -> None:
    nodes, hypernodes = seed_cluster()
    inputs = {"jobs": seed_pd_jobs(), "nodes": nodes, "hypernodes": hypernodes}
    asked = {"job": "default/pd-decode-service", "task": "decode-worker", "replicas": 20}
    one = headroom(inputs, **asked)
    assert one["check"]["places"] and len(one["jobs"]) == 1
    assert json.dumps(headroom(inputs, workers=2, **asked), sort_keys=True) == json.dumps(one, sort_keys=True)
