"""The package works installed on its own, without the repository around it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, hypertopo, hypertopo.placement as p
from hypertopo.rollout.scheduler_config import default_conf_from_role
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


def test_pip_install_alone_then_predict(tmp_path: Path) -> None:
    target = tmp_path / "site"
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
            str(ROOT),
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
