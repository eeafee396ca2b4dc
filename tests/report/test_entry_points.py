"""The CLI (python -m hypertopo.report) and the Ansible filters over the same core."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
import yaml

from .conftest import ROOT, pods_from


def load_filters():
    spec = importlib.util.spec_from_file_location(
        "hypertopo_report_filters", ROOT / "filter_plugins/hypertopo_placement_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypertopo.report", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture
def files(tmp_path, seed_model, predicted):
    (tmp_path / "model.json").write_text(json.dumps(seed_model))
    (tmp_path / "predicted.json").write_text(json.dumps(predicted))
    pods = pods_from(predicted)
    (tmp_path / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
    jobs = [
        {
            "kind": "Job",
            "metadata": {"name": n},
            "spec": {"networkTopology": {"mode": "hard", "highestTierAllowed": 1}},
        }
        for n in ("pd-prefill-service", "pd-decode-service")
    ]
    (tmp_path / "jobs.yaml").write_text(yaml.safe_dump_all(jobs))
    return tmp_path


def test_cli_writes_the_three_reports(files):
    out = files / "out"
    proc = run_cli(
        "--model",
        str(files / "model.json"),
        "--predicted",
        str(files / "predicted.json"),
        "--pods",
        str(files / "pods.json"),
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Verification: OK" in proc.stdout
    paths = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(paths) == ["html", "json", "text"]
    assert json.loads((out / "report.json").read_text())["ok"] is True


def test_cli_exit_1_on_failed_verification_still_writes(files):
    out = files / "out"
    proc = run_cli(
        "--model",
        str(files / "model.json"),
        "--predicted",
        str(files / "predicted.json"),
        "--pods",
        str(files / "pods.json"),
        "--jobs",
        str(files / "jobs.yaml"),
        "--out",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 1, proc.stderr  # hard at tier 1, but the pods span two leaves
    data = json.loads((out / "report.json").read_text())
    assert data["ok"] is False and len(data["failures"]) == 2


def test_cli_prediction_only_and_bad_input(files):
    proc = run_cli(
        "--model",
        str(files / "model.json"),
        "--predicted",
        str(files / "predicted.json"),
        "--out",
        str(files / "plan"),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    (files / "bad.json").write_text('{"jobs": "nope"}')
    proc = run_cli(
        "--model", str(files / "model.json"), "--predicted", str(files / "bad.json"), "--out", str(files)
    )
    assert proc.returncode == 2
    assert "jobs list" in proc.stderr and "Traceback" not in proc.stderr


def test_filters(seed_model, predicted):
    filters = load_filters().FilterModule().filters()
    pods = pods_from(predicted)
    result = filters["topology_verify"](predicted, {"resources": pods, "api_found": True}, seed_model)
    assert result["ok"] and result["summary"]["bound"] == 24
    reports = filters["topology_report"](predicted, seed_model, result)
    assert set(reports) == {"text", "json", "html"}
    assert reports["html"].count('class="pod-mark ') == 24


def test_filter_errors_are_ansible_errors(seed_model, predicted):
    from ansible.errors import AnsibleFilterError

    module = load_filters()
    with pytest.raises(AnsibleFilterError, match="topology_verify"):
        module.topology_verify(predicted, "not pods", seed_model)
    with pytest.raises(AnsibleFilterError, match="topology_report"):
        module.topology_report({"jobs": [{"placements": []}]}, seed_model)
