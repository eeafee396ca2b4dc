"""Signals around a private control plane: turn termination into an exception, and hold it back
while processes are being recorded or stopped.

The components run in sessions of their own (so a terminal's Ctrl-C reaches only the Python
process); whoever started them must stop them. Python turns SIGINT into
:class:`KeyboardInterrupt`, which unwinds through ``finally`` blocks, but the default action of
SIGTERM and SIGHUP ends the process on the spot. :func:`exit_on_termination` makes them raise
:class:`SystemExit` instead, and :func:`deferred` delays all three until a critical section
(spawn-and-record, teardown) is over. Both only act in the main thread (the only one Python
runs signal handlers in) and are no-ops elsewhere.

A handler's exception is lost when the signal lands while a finalizer runs (a ``__del__`` or a
``weakref.finalize`` callback, such as a garbage-collected socket closing): Python prints
"Exception ignored in" and goes on. Within :func:`exit_on_termination`, a termination lost that
way is sent again a moment later, so a SIGTERM during start-up cannot leave the control plane
running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

TERMINATING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
REDELIVERY_DELAY_SECONDS = 0.05
"""How long after a lost termination it is sent again: long enough for the finalizer that lost it
(and the hook reporting it) to be over, so the next delivery lands in ordinary code."""


class Terminated(SystemExit):
    """The :class:`SystemExit` a termination signal raises; exits with ``128 + signal``."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise_exit(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def _lost_signal(exc: BaseException | None) -> int | None:
    """The signal behind an exception Python could not raise, if one of ours raised it."""
    if isinstance(exc, Terminated):
        return exc.signum
    if isinstance(exc, KeyboardInterrupt):
        return signal.SIGINT
    return None


def _send_again_later(signum: int) -> None:
    def send() -> None:
        time.sleep(REDELIVERY_DELAY_SECONDS)
        os.kill(os.getpid(), signum)

    threading.Thread(target=send, name=f"redeliver-{signum}", daemon=True).start()


@contextlib.contextmanager
def _redeliver_lost_terminations() -> Iterator[None]:
    previous = sys.unraisablehook
    if getattr(previous, "redelivers", False):  # an outer block already does
        yield
        return

    def hook(unraisable: Any) -> None:
        previous(unraisable)
        signum = _lost_signal(unraisable.exc_value)
        if signum is not None:
            _send_again_later(signum)

    hook.redelivers = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


@contextlib.contextmanager
def exit_on_termination() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise ``SystemExit(128 + signal)`` (a
    :class:`Terminated`) where they would otherwise end the process without cleaning up. Handlers
    someone else installed are kept. A termination a finalizer swallowed (this one, or Python's
    KeyboardInterrupt) is sent again."""
    if not _main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, _raise_exit)
    try:
        with _redeliver_lost_terminations():
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
