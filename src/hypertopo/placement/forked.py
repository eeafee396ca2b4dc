"""Independent computations on several cores: :func:`map_forked` runs a function over items in
processes forked from this one.

The children inherit the parent's memory (the parsed world, predictions already made), so nothing
is sent to them; each sends back its results, pickled, through a pipe, and ends with ``os._exit``
(no ``atexit`` handlers, no buffered output flushed twice). It falls back to a plain loop where
forking is not safe or not possible: one worker or one item, no ``os.fork``, or other threads
running (a fork copies only the calling thread, and a lock another thread held stays locked in the
child). The Ansible filters ask for every usable core: in an Ansible worker process, which has one
thread, they fork; in ansible-playbook's main process, which runs threads, they do not.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def usable_cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def run_all(work: Sequence[Callable[[], R]], workers: int) -> list[R]:
    """``[compute() for compute in work]``, in up to ``workers`` processes (:func:`map_forked`)."""
    return map_forked(_call, work, workers)


def _call(compute: Callable[[], R]) -> R:
    return compute()


def map_forked(fn: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``[fn(item) for item in items]``, the items shared round-robin between this process and up
    to ``workers - 1`` forked ones. An exception in a child is raised here (the first one, by item
    order of the children); a child that dies without an answer raises :class:`RuntimeError`."""
    n = min(workers, len(items))
    if n <= 1 or not can_fork():
        return [fn(item) for item in items]
    shares = [range(w, len(items), n) for w in range(n)]
    children: list[tuple[int, int, range]] = []
    try:
        for share in shares[1:]:
            children.append(_fork(fn, items, share))
        results: dict[int, R] = {i: fn(items[i]) for i in shares[0]}
        while children:
            pid, fd, share = children.pop(0)
            results.update(zip(share, _collect(pid, fd), strict=True))
    finally:
        for pid, fd, _share in children:  # this process failed first: stop the others
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            with contextlib.suppress(OSError):
                os.close(fd)
    return [results[i] for i in range(len(items))]


def _fork(fn: Callable[[T], Any], items: Sequence[T], share: range) -> tuple[int, int, range]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, answer, leave without running the parent's exit code
        code = 1
        try:
            os.close(read_fd)
            try:
                answer: tuple[str, Any] = ("ok", [fn(items[i]) for i in share])
            except BaseException as exc:
                answer = ("error", exc)
            try:
                data = pickle.dumps(answer)
            except Exception as exc:
                data = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd, share


def _collect(pid: int, fd: int) -> list[Any]:
    try:
        with os.fdopen(fd, "rb") as pipe:
            data = pipe.read()
    finally:
        _pid, status = os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(f"a forked worker (pid {pid}) ended without an answer (wait status {status})")
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    return value
