"""The package's shape: rooms, file sizes, one definition of our label keys, no repository paths."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "hypertopo"
MAX_LINES = 700


def _python_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_no_loose_modules_at_the_top() -> None:
    assert sorted(p.name for p in SRC.glob("*.py")) == ["__init__.py"]


def test_no_file_over_the_size_limit() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _python_files()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_path_into_the_repository() -> None:
    hits = [str(p.relative_to(ROOT)) for p in _python_files() if re.search(r"parents\[\d\]", p.read_text())]
    assert hits == []


def test_label_keys_have_one_definition() -> None:
    key = "topology.kubernetes.io/switch"
    modules = [str(p.relative_to(ROOT)) for p in _python_files() if key in p.read_text()]
    assert modules == ["src/hypertopo/topology/labels.py"]
    tasks = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "roles").glob("*/tasks/*.yml"))
        if key in p.read_text()
    ]
    assert tasks == []


def test_every_role_planner_has_its_filter_plugin() -> None:
    """Role X <-> filter_plugins/hypertopo_X.py (or, for a role that acts rather than plans,
    action_plugins/hypertopo_X.py) <-> hypertopo/rollout/X.py: one name to grep. Shared modules (and
    write_files, behind the action plugin hypertopo_write_files that several roles use) have no role."""
    shared = {"__init__", "objdiff", "batches", "plain", "retry", "write_files"}
    planners = {p.stem for p in (SRC / "rollout").glob("*.py")} - shared
    roles = {p.name for p in (ROOT / "roles").iterdir() if p.is_dir()}
    assert planners <= roles
    for name in planners:
        plugin = f"hypertopo_{name}.py"
        dirs = ("filter_plugins", "action_plugins")
        assert any((ROOT / d / plugin).is_file() for d in dirs), name
