"""The full randomized agreement run is ``slow``: it runs when selected explicitly
(``pytest -m slow`` / ``-m "cluster and slow"``) or with ``HYPERTOPO_SLOW=1``; a plain
``pytest -m cluster`` (``make integration``) runs only the always-on subset."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


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
