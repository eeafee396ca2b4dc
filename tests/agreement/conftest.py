"""The agreement tests' private control plane, and which of them run.

``runner`` (module): a :class:`~tests.agreement.run_agreement.Runner` on a private control
plane (:func:`hypertopo.cluster.local_cluster`), stopped at the end of the module; its logs are
kept in pytest's temporary directory.

The full randomized agreement run is ``slow``: it runs when selected explicitly
(``pytest -m slow`` / ``-m "cluster and slow"``) or with ``HYPERTOPO_SLOW=1``; a plain
``pytest -m cluster`` (``make integration``) runs only the always-on subset."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hypertopo.cluster import ClusterError, local_cluster

from .run_agreement import Runner

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(local_cluster(keep_logs=tmp_path_factory.mktemp("agreement-logs")))
        except ClusterError as exc:
            pytest.fail(f"a private control plane could not start:\n{exc}", pytrace=False)
        yield Runner(cluster, log=lambda _msg: None)


def _slow_selected(config: pytest.Config) -> bool:
    if os.environ.get("HYPERTOPO_SLOW") == "1":
        return True
    expr = str(config.getoption("markexpr") or "")
    return re.search(r"(?<!not )\bslow\b", expr) is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _slow_selected(config):
        return
    skip = pytest.mark.skip(reason="slow: select with -m slow (or HYPERTOPO_SLOW=1)")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)
