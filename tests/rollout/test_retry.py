"""Which kubernetes.core errors are retried, the backoff, and the retry loop of hypertopo_k8s_batches.

The error texts are the ones kubernetes.core 6.2.0 produced against the local control plane
(tests/e2e/test_faults.py proves the whole path against the real API server).
"""

from __future__ import annotations

from typing import Any

import pytest

from hypertopo.rollout.retry import NO_ANSWER, RetryPolicy, answer_of, run_with_retries

THROTTLED = {
    "msg": 'Failed to patch object: b\'{"kind":"Status","apiVersion":"v1","metadata":{},'
    '"status":"Failure","message":"Too many requests, please try again later.",'
    '"reason":"TooManyRequests","details":{"retryAfterSeconds":1},"code":429}\\n\'',
    "reason": "Too Many Requests",
}
REFUSED = {
    "msg": "Failed to retrieve requested object: HTTPSConnectionPool(host='127.0.0.1', port=6443): "
    "Max retries exceeded with url: /api/v1/nodes/n1 (Caused by NewConnectionError("
    "'<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: "
    "[Errno 111] Connection refused'))"
}
FORBIDDEN = {"msg": 'Failed to patch object: b\'{"kind":"Status","code":403}\'', "reason": "Forbidden"}


@pytest.mark.parametrize(
    "error, status, text, retryable",
    [
        (THROTTLED, 429, "HTTP 429 Too Many Requests", True),
        ({"msg": "x", "reason": "Conflict"}, 409, "HTTP 409 Conflict", True),
        ({"msg": "(503)\nReason: Service Unavailable\n"}, 503, "HTTP 503 Service Unavailable", True),
        ({"msg": "Failed to patch object: b'{\"code\":500}'"}, 500, "HTTP 500 Internal Server Error", True),
        (REFUSED, None, NO_ANSWER, True),
        (FORBIDDEN, 403, "HTTP 403 Forbidden", False),
        ({"msg": "x", "reason": "Unprocessable Entity"}, 422, "HTTP 422 Unprocessable Entity", False),
        ("something else", None, "an error without an HTTP status", False),
    ],
)
def test_answer_of_reads_the_status_and_decides(error: Any, status: int | None, text: str, retryable: bool):
    answer = answer_of(error)
    assert (answer.status, answer.text, answer.retryable) == (status, text, retryable)


def test_waits_double_up_to_the_cap():
    assert RetryPolicy(retries=5, delay=0.5, max_delay=3).waits() == [0.5, 1.0, 2.0, 3, 3]
    assert RetryPolicy(retries=0).waits() == []


@pytest.mark.parametrize("kwargs", [{"retries": -1}, {"retries": 21}, {"retries": True}, {"delay": -1}])
def test_policy_bounds(kwargs: dict[str, Any]):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


class Server:
    """Answers per definition: a list of results handed out one attempt after the other."""

    def __init__(self, answers: dict[int, list[dict[str, Any]]]) -> None:
        self.answers = answers
        self.calls: list[list[int]] = []

    def run(self, positions: list[int]) -> list[dict[str, Any]]:
        self.calls.append(list(positions))
        return [self.answers[p].pop(0) if len(self.answers[p]) > 1 else self.answers[p][0] for p in positions]


OK = {"changed": True}


def test_only_retryable_failures_run_again_after_the_waits():
    server = Server(
        {
            0: [OK],
            1: [{"error": THROTTLED}, {"error": REFUSED}, OK],
            2: [{"error": FORBIDDEN}],
        }
    )
    slept: list[float] = []
    out = run_with_retries(3, server.run, RetryPolicy(retries=4, delay=1, max_delay=8), sleep=slept.append)
    assert server.calls == [[0, 1, 2], [1], [1]]
    assert slept == [1, 2]
    assert out.results[0] == OK and out.results[1] == OK
    assert out.results[2] == {"error": FORBIDDEN}  # not retried, message unchanged
    assert out.attempts == [1, 3, 1]
    assert [r["answers"] for r in out.rounds] == [["HTTP 429 Too Many Requests"], [NO_ANSWER]]


def test_after_the_last_retry_the_error_names_the_answer_and_the_attempts():
    server = Server({0: [{"error": THROTTLED}], 1: [OK]})
    slept: list[float] = []
    out = run_with_retries(2, server.run, RetryPolicy(retries=2, delay=0.1, max_delay=1), sleep=slept.append)
    assert slept == [0.1, 0.2]
    msg = out.results[0]["error"]["msg"]
    assert msg.startswith("HTTP 429 Too Many Requests, still after 3 attempts: Failed to patch object")
    assert out.results[1] == OK


def test_no_retries_means_one_attempt():
    server = Server({0: [{"error": REFUSED}]})
    out = run_with_retries(1, server.run, RetryPolicy(retries=0), sleep=lambda _: None)
    assert server.calls == [[0]]
    assert out.results[0]["error"]["msg"].startswith(f"{NO_ANSWER}, still after 1 attempt: ")
