"""plan.yml -e what_if=FILE: before vs after in the report; a bad file or change stops the play
before anything is written, one line per mistake (offline, seed inventory)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.render.test_no_half_writes import files, playbook

CHANGES = """\
# decode to 20 pods within one IB leaf, and two more RTX 4090 hosts under ib-switch1
- set_replicas: {job: default/pd-decode-service, task: decode-worker, replicas: 20}
- set_tier: {job: default/pd-decode-service, tier: 1}
- set_mode: {job: default/pd-decode-service, mode: hard}
- add_hosts: {leaf: ib-switch1, gpu_model: rtx4090, count: 2}
"""


def test_plan_what_if_report_shows_before_and_after_and_headroom(tmp_path: Path) -> None:
    (tmp_path / "what-if.yml").write_text(CHANGES)
    out = tmp_path / "plan"
    proc = playbook(
        tmp_path, "plan.yml", "-e", f"plan_dir={out}", "-e", f"what_if={tmp_path / 'what-if.yml'}"
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    text = (out / "report.txt").read_text()
    assert "What-if: before vs after the changes (predicted, nothing written)" in text
    assert "change 1: decode-worker of default/pd-decode-service: 12 → 20 replicas" in text
    assert "change 4: add 2 rtx4090 host(s) under ib-switch1" in text
    decode_feasible = next(
        line for line in text.splitlines() if line.startswith("default/pd-decode-service ")
    )
    assert "yes (12 placed, 0 pending)" in decode_feasible and "yes (20 placed, 0 pending)" in decode_feasible
    assert "Largest replica count that still places" in text
    report = json.loads((out / "report.json").read_text())
    what_if, room = report["sections"]
    assert what_if["id"] == "what-if" and room["id"] == "headroom"
    html = (out / "report.html").read_text()
    assert '<section class="card" id="what-if">' in html and '<section class="card" id="headroom">' in html
    # the prediction of record (hints.json) is the unchanged inventory's
    hints = json.loads((out / "hints.json").read_text())
    decode = next(j for j in hints["jobs"] if j["name"] == "pd-decode-service")
    assert len(decode["placements"]) == 12


def test_plan_what_if_mistakes_stop_before_anything_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("- set_replicas: {job: default/pd-decode-service, replicas: many}\n- grow: {}\n")
    out = tmp_path / "plan"
    proc = playbook(tmp_path, "plan.yml", "-e", f"plan_dir={out}", "-e", f"what_if={bad}")
    assert proc.returncode != 0 and not out.exists(), files(out)
    assert f"{bad}: [0].set_replicas.replicas: must be an integer" in proc.stdout
    assert f"{bad}: [1]: unknown change 'grow' (known: add_hosts," in proc.stdout
    missing = tmp_path / "missing.yml"
    missing.write_text(
        "- cordon: {nodes: [nodeX]}\n- set_tier: {job: default/nope, tier: 1}\n- cordon: {nodes: [node1]}\n"
    )
    proc = playbook(tmp_path, "plan.yml", "-e", f"plan_dir={out}", "-e", f"what_if={missing}")
    assert proc.returncode != 0 and not out.exists(), files(out)
    assert f"{missing}: [0].cordon.nodes: no node nodeX" in proc.stdout
    assert (
        f"{missing}: [1].set_tier.job: no job default/nope (jobs: default/pd-prefill-service," in proc.stdout
    )
    assert f"{missing}: [2]" not in proc.stdout
