"""A new user's own inventory (issue #17) through plan.yml and render.yml, offline: the PD settings
are checked against the inventory before anything is written, and a workload that cannot be placed
at all (soft mode included) makes plan.yml fail."""

from __future__ import annotations

import json

from ..topology.invgen import own_tree, write_inventory
from .test_no_half_writes import playbook

OWN_MODELS = ("-e", '{"pd_services_prefill_gpu_models": ["h200"], "pd_services_decode_gpu_models": ["l40s"]}')


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_plan_stops_before_writing_when_the_inventory_lacks_the_pd_models(tmp_path):
    inv = write_inventory(tmp_path, own_tree())
    plan_dir = tmp_path / "plan"
    proc = playbook(tmp_path, "plan.yml", "-e", f"plan_dir={plan_dir}", inventory=inv)
    out = _flat(proc.stdout)
    assert proc.returncode != 0, out[-3000:]
    assert "pd_services_prefill_gpu_models ['h100'] asks for 12 pods (pd_services_prefill_replicas)" in out
    assert "pd_services_decode_gpu_models ['rtx4090'] asks for 12 pods" in out
    assert (
        "GPU models in the inventory: h200, l40s; per leaf: "
        "leaf-a (ib, under spine): h200 32 GPUs on 4 nodes; leaf-b (ib, under spine): l40s 32 GPUs on 4 nodes"
    ) in out
    assert not plan_dir.exists()


def test_render_stops_before_writing_when_the_inventory_lacks_the_pd_models(tmp_path):
    inv = write_inventory(tmp_path, own_tree())
    out_dir = tmp_path / "render"
    proc = playbook(
        tmp_path, "render.yml", "-e", f"render_dir={out_dir}", "-e", "pd_services_layout=joint", inventory=inv
    )
    assert proc.returncode != 0
    assert "pd_services_layout joint: pd_services_prefill_gpu_models ['h100']" in _flat(proc.stdout)
    assert not out_dir.exists()


def test_plan_fails_after_the_report_when_a_soft_workload_cannot_be_placed(tmp_path):
    """Enough GPUs (the inventory check passes), but no node has the CPU a prefill pod asks for."""
    inv = write_inventory(tmp_path, own_tree())
    plan_dir = tmp_path / "plan"
    big = ("-e", '{"pd_services_prefill_resources": {"requests": {"cpu": "500"}}}')
    proc = playbook(tmp_path, "plan.yml", "-e", f"plan_dir={plan_dir}", *OWN_MODELS, *big, inventory=inv)
    out = _flat(proc.stdout)
    assert proc.returncode != 0, out[-3000:]
    assert "Volcano cannot place these workloads at all" in out
    assert "pd-prefill-service" in out
    hints = json.loads((plan_dir / "hints.json").read_text())
    feasible = {j["name"]: j["feasible"] for j in hints["jobs"]}
    assert feasible == {"pd-prefill-service": False, "pd-decode-service": True}, feasible
    assert (plan_dir / "report.txt").is_file()


def test_plan_of_an_own_inventory_with_its_models_succeeds(tmp_path):
    inv = write_inventory(tmp_path, own_tree())
    plan_dir = tmp_path / "plan"
    proc = playbook(tmp_path, "plan.yml", "-e", f"plan_dir={plan_dir}", *OWN_MODELS, inventory=inv)
    assert proc.returncode == 0, _flat(proc.stdout)[-3000:]
    hints = json.loads((plan_dir / "hints.json").read_text())
    assert all(j["feasible"] for j in hints["jobs"]), hints["jobs"]
