"""Bounded retries with backoff for ``kubernetes.core.k8s`` runs over a definition list.

``kubernetes.core`` 6.2.0 retries nothing itself: a 409, 429 or 5xx answer to a GET, PATCH or
create becomes the definition's ``error`` (with ``continue_on_error``) at once. The only retries
under it are urllib3's defaults in the Kubernetes client (3 immediate reconnects when a
connection cannot be opened; a GET answered 429/503 *with* ``Retry-After`` is retried 3 times),
which a restarting API server outlasts in well under a second.

This module holds the pure part of the ``hypertopo_k8s_batches`` action plugin's retries: which
answers are worth another attempt (:func:`answer_of`, :data:`RETRYABLE`), the waits between
attempts (:class:`RetryPolicy`), and the loop (:func:`run_with_retries`), which reruns only the
definitions whose last answer was retryable and stops after ``retries`` more attempts. A rerun
goes through the module again, so it reads the object afresh (GET, then PATCH or create): a 409
for a stale read is answered by reading again. What is still failing afterwards carries a clear
error: the answer first (``HTTP 429 Too Many Requests``), the number of attempts, then the
module's own message.
"""

from __future__ import annotations

import http
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: HTTP answers another attempt can cure: a conflict (read again), throttling, server errors.
RETRYABLE = frozenset({409, 429, 500, 502, 503, 504})

# The kubernetes client's message when no HTTP answer came at all (connection refused, reset,
# timed out): the API server is restarting or unreachable.
_NO_ANSWER = re.compile(
    r"Max retries exceeded|Connection refused|Connection reset|RemoteDisconnected|"
    r"Connection aborted|timed out|EOF occurred|NewConnectionError|ProtocolError",
    re.IGNORECASE,
)
_CODE = re.compile(r"""["']code["']\s*:\s*(\d{3})""")
_PAREN = re.compile(r"^\((\d{3})\)", re.MULTILINE)
NO_ANSWER = "no answer (connection failed)"


@dataclass(frozen=True)
class Answer:
    """What the API server answered to a failed request: an HTTP status, or none at all."""

    status: int | None
    text: str

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE if self.status is not None else self.text == NO_ANSWER


def answer_of(error: Mapping[str, Any] | str) -> Answer:
    """The answer behind a ``kubernetes.core`` error (``{"msg": ..., "reason": ...}`` or a message).

    The status is read from the Status object in the message (``"code":429``), the client's
    ``(429)`` prefix, or the reason phrase; a message without one that says the connection
    failed is :data:`NO_ANSWER`; anything else is an answer without status (not retried).
    """
    if isinstance(error, Mapping):
        msg = str(error.get("msg", ""))
        reason = str(error.get("reason", "") or "")
    else:
        msg, reason = str(error), ""
    status: int | None = None
    for pattern in (_CODE, _PAREN):
        match = pattern.search(msg)
        if match:
            status = int(match.group(1))
            break
    if status is None and reason:
        status = _PHRASES.get(reason.strip().lower())
    if status is not None:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = reason or "unknown status"
        return Answer(status, f"HTTP {status} {phrase}")
    if _NO_ANSWER.search(msg) or _NO_ANSWER.search(reason):
        return Answer(None, NO_ANSWER)
    return Answer(None, "an error without an HTTP status")


_PHRASES = {s.phrase.lower(): s.value for s in http.HTTPStatus}


@dataclass(frozen=True)
class RetryPolicy:
    """``retries`` more attempts after the first, waiting ``delay`` seconds before the first
    retry and doubling up to ``max_delay``."""

    retries: int = 4
    delay: float = 1.0
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or not 0 <= self.retries <= 20:
            raise ValueError(f"retries must be an integer from 0 to 20, got {self.retries!r}")
        for name in ("delay", "max_delay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 300:
                raise ValueError(f"{name} must be a number of seconds from 0 to 300, got {value!r}")

    def waits(self) -> list[float]:
        """The wait before each retry, in order."""
        return [min(self.max_delay, self.delay * 2**i) for i in range(self.retries)]


@dataclass
class RetryOutcome:
    """The per-definition results after the retries, and what was retried when."""

    results: list[dict[str, Any]]
    attempts: list[int]
    rounds: list[dict[str, Any]] = field(default_factory=list)


def retryable_positions(results: Sequence[Mapping[str, Any]]) -> list[int]:
    """Positions whose result is an error with a retryable answer."""
    return [i for i, r in enumerate(results) if r.get("error") and answer_of(_error(r)).retryable]


def _error(result: Mapping[str, Any]) -> Mapping[str, Any] | str:
    error = result.get("error")
    return error if isinstance(error, Mapping) else str(error)


def run_with_retries(
    size: int,
    run: Callable[[list[int]], list[dict[str, Any]]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> RetryOutcome:
    """Run the definitions ``0..size-1``, then rerun the ones with a retryable error.

    ``run(positions)`` runs the module over those definitions and returns one result per
    position, in order. Each retry waits the policy's next wait first. The results still failing
    with a retryable answer at the end get an error message that starts with the answer and the
    number of attempts.
    """
    positions = list(range(size))
    results = run(positions) if positions else []
    attempts = [1] * size
    rounds: list[dict[str, Any]] = []
    for wait in policy.waits():
        again = retryable_positions(results)
        if not again:
            break
        answers = sorted({answer_of(_error(results[i])).text for i in again})
        rounds.append({"wait": wait, "count": len(again), "answers": answers})
        sleep(wait)
        for pos, res in zip(again, run(again), strict=True):
            results[pos] = res
            attempts[pos] += 1
    for pos in retryable_positions(results):
        error = dict(_error(results[pos])) if isinstance(results[pos]["error"], Mapping) else {}
        msg = str(error.get("msg", results[pos]["error"]))
        answer = answer_of(_error(results[pos]))
        tries = attempts[pos]
        error["msg"] = f"{answer.text}, still after {tries} attempt{'s' if tries > 1 else ''}: {msg}"
        results[pos] = {**results[pos], "error": error}
    return RetryOutcome(results=results, attempts=attempts, rounds=rounds)
