"""Signals around a private control plane: turn termination into an exception, and hold it back
while processes are being recorded or stopped.

The components run in sessions of their own (so a terminal's Ctrl-C reaches only the Python
process); whoever started them must stop them. Python turns SIGINT into
:class:`KeyboardInterrupt`, which unwinds through ``finally`` blocks, but the default action of
SIGTERM and SIGHUP ends the process on the spot. :func:`exit_on_termination` makes them raise
:class:`SystemExit` instead, and :func:`deferred` delays all three until a critical section
(spawn-and-record, teardown) is over. Both only act in the main thread (the only one Python
runs signal handlers in) and are no-ops elsewhere.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

TERMINATING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def exit_on_termination() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise ``SystemExit(128 + signal)`` where they would
    otherwise end the process without cleaning up. Handlers someone else installed are kept."""
    if not _main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, _raise_exit)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back until the block is over, then deliver the first one
    that arrived to the handler that was in place before."""
    if not _main_thread():
        yield
        return
    arrived: list[int] = []

    def remember(signum: int, _frame: FrameType | None) -> None:
        arrived.append(signum)

    previous = {sig: signal.signal(sig, remember) for sig in TERMINATING}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if arrived:
            signal.raise_signal(arrived[0])
