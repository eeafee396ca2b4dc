"""The package works installed on its own, without the repository around it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, hypertopo, hypertopo.placement as p
from hypertopo.topology.scheduler_conf import default_conf_from_role
from hypertopo.topology.labels import LABEL_SWITCH, LABEL_SWITCH_TYPE
from hypertopo.topology.objects import hypernode_object, node_object, node_resources
nodes = [node_object(f"n{i}", {LABEL_SWITCH: "leaf", LABEL_SWITCH_TYPE: "ib"},
                     resources=node_resources(cpu="64", memory="256Gi", gpus=8, pods=110)) for i in range(2)]
hns = [hypernode_object("leaf", 1, leaf_type="ib")]
job = {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "metadata": {"name": "j", "namespace": "ns"},
       "spec": {"minAvailable": 2, "schedulerName": "volcano", "tasks": [{"name": "w", "replicas": 2,
       "template": {"spec": {"containers": [{"name": "c", "image": "x",
       "resources": {"requests": {"nvidia.com/gpu": "8"}, "limits": {"nvidia.com/gpu": "8"}}}]}}}]}}
out = p.predict(jobs=[job], nodes=nodes, hypernodes=hns)
print(json.dumps({"file": hypertopo.__file__, "feasible": out["jobs"][0]["feasible"],
                  "conf": sorted(default_conf_from_role())}))
"""


def _source_copy(dest: Path) -> Path:
    """What the package is built from, and nothing else: pyproject, src/ and the two files
    ``src/hypertopo/data`` links to. A clean copy also keeps stale ``build/`` output out."""
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    shutil.copytree(
        ROOT / "src", dest / "src", symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    for linked in ("roles/scheduler_config/defaults/main.yml", "controlplane/versions.env"):
        (dest / linked).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / linked, dest / linked)
    return dest


def test_pip_install_alone_then_predict(tmp_path: Path) -> None:
    target = tmp_path / "site"
    source = _source_copy(tmp_path / "source")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["file"].startswith(str(target))
    assert got["feasible"] is True
    assert got["conf"] == ["actions", "tiers"]
