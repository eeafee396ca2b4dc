"""Helpers of the importer tests: run the CLI in-process, compare models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hypertopo.importer.cli import main
from hypertopo.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
SEED = ROOT / "inventory" / "seed"


def shape(source: Path | str) -> dict[str, Any]:
    """What an inventory's model says: switches (tier, type, parent, hosts) and hosts (leaf, GPU)."""
    model = load_topology(str(source)).as_dict()
    return {
        "root": model["root"],
        "switches": {
            s["name"]: (s["tier"], s["type"], s["parent"], sorted(s["hosts"])) for s in model["switches"]
        },
        "hosts": {h: (v["leaf"], v["gpu_model"]) for h, v in model["hosts"].items()},
    }


@pytest.fixture
def run_import(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
