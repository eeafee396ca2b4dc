"""The README's "Your own cluster in ten minutes", followed as it is written.

The inventory files (fenced blocks after ``<!-- walkthrough-file: PATH -->``) and the commands
(the block after ``<!-- walkthrough-commands -->``) are read from README.md and run from the
repository root, one by one, with bash. What differs from a user's shell: ``$HOME/mine`` is a
temporary folder, ``out/`` in a command is the ``OUT`` folder, and the environment points ``OUT``
and ``HYPERTOPO_CLUSTER_DIR`` at temporary folders (the Makefile and the cluster CLI read them):
the test writes nothing into the checkout and starts a private control plane (``make run`` builds
nothing when the binaries exist).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MINE = "$HOME/mine"
pytestmark = pytest.mark.cluster

_BLOCK = re.compile(r"<!-- walkthrough-(file: (?P<path>\S+)|commands) -->\n```\w*\n(?P<body>.*?)```", re.S)


def walkthrough() -> tuple[dict[str, str], list[str]]:
    """(file path -> content, command lines) of the README's walkthrough, in order."""
    files: dict[str, str] = {}
    commands: list[str] = []
    for m in _BLOCK.finditer(README.read_text()):
        if m["path"]:
            files[m["path"]] = m["body"]
        else:
            commands += [line for line in m["body"].splitlines() if line.strip() and not line.startswith("#")]
    return files, commands


def test_the_walkthrough_blocks_are_there():
    files, commands = walkthrough()
    assert "$HOME/mine/hosts.yml" in files and len(files) >= 4, files
    assert all(path.startswith(MINE + "/") for path in files)
    assert [c.split()[:2] for c in commands][:2] == [["make", "plan"], ["make", "run"]], commands
    assert commands[-1].startswith("make cluster-down")


def test_the_readme_walkthrough_runs_as_written(tmp_path):
    files, commands = walkthrough()
    mine = tmp_path / "mine"
    for path, body in files.items():
        target = mine / path.removeprefix(MINE + "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    out, state = tmp_path / "out", tmp_path / "cluster"
    env = {
        **os.environ,
        "OUT": str(out),
        "HYPERTOPO_CLUSTER_DIR": str(state),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    timings: list[str] = []
    try:
        for command in commands:
            line = re.sub(r"(?<![\w/.-])out/", f"{out}/", command).replace(MINE, shlex.quote(str(mine)))
            started = time.monotonic()
            proc = subprocess.run(
                ["bash", "-c", line],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            timings.append(f"{command.split('#')[0].strip()}: {time.monotonic() - started:.0f} s")
            assert proc.returncode == 0, f"{command}\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"
    finally:
        subprocess.run(
            [sys.executable, "-m", "hypertopo.cluster.cli", "down"], env=env, capture_output=True, check=False
        )
    print("\n".join(timings))
    plan = json.loads((out / "plan" / "joint" / "hints.json").read_text())
    assert [j["feasible"] for j in plan["jobs"]] == [True], plan["jobs"]
    report = json.loads((out / "report" / "joint" / "report.json").read_text())
    assert report["ok"], report["failures"]
    pods = [p for job in report["jobs"] for p in job["pods"]]
    assert len(pods) == 24
    assert all(p["phase"] == "Running" and p["ready"] for p in pods), pods
    # the inventory's nodes only: prefill on the H200 servers, decode on the L40S servers
    assert {p["actual_node"][:5] for p in pods if p["role"] == "prefill"} == {"gpu-a"}
    assert {p["actual_node"][:5] for p in pods if p["role"] == "decode"} == {"gpu-b"}
    assert "pd-joint-service" in (out / "report" / "joint" / "report.txt").read_text()
