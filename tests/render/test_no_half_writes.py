"""render.yml writes nothing unless every render succeeded; plan.yml --check needs no earlier run.

Offline (no cluster): the playbooks run on the seed inventory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "inventory" / "seed"


def playbook(tmp: Path, name: str, *extra: str, inventory: Path = SEED) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "TMPDIR": str(tmp),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    program = str(Path(sys.executable).parent / "ansible-playbook")
    cmd = [program, "-i", str(inventory), f"playbooks/{name}", *extra]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())} if folder.exists() else {}


def test_render_with_a_bad_layout_writes_no_file(tmp_path):
    fresh = tmp_path / "fresh"
    proc = playbook(tmp_path, "render.yml", "-e", f"render_dir={fresh}", "-e", "pd_services_layout=bogus")
    assert proc.returncode != 0
    assert "pd_services_layout must be one of" in " ".join(proc.stdout.split()), proc.stdout[-3000:]
    assert not fresh.exists(), files(fresh)
    # the temporary folder is gone too
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("hypertopo-render.")]


def test_render_failing_late_leaves_an_earlier_render_as_it_was(tmp_path):
    out = tmp_path / "out"
    assert playbook(tmp_path, "render.yml", "-e", f"render_dir={out}").returncode == 0
    before = files(out)
    assert set(before) >= {"node-labels.yaml", "hypernodes.yaml", "volcano-scheduler.conf"}
    proc = playbook(
        tmp_path,
        "render.yml",
        "-e",
        f"render_dir={out}",
        "-e",
        "pd_services_layout=joint",
        "-e",
        "pd_services_prefill_replicas=0",
    )
    assert proc.returncode != 0
    assert files(out) == before


def test_plan_check_works_on_a_fresh_folder(tmp_path):
    plan_dir = tmp_path / "plan"
    proc = playbook(tmp_path, "plan.yml", "--check", "-e", f"plan_dir={plan_dir}")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "ib-switch4" in proc.stdout  # the prediction's table was printed
    assert not plan_dir.exists() or not any(plan_dir.iterdir())


def test_plan_never_reads_a_previous_runs_files(tmp_path):
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    stale = {
        "hypernodes.yaml": "kind: HyperNode\nspec: {tier: [unparsable\n",
        "volcano-scheduler.conf": "actions: [stale\n",
    }
    for name, text in stale.items():
        (plan_dir / name).write_text(text)
    proc = playbook(tmp_path, "plan.yml", "--check", "-e", f"plan_dir={plan_dir}")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert files(plan_dir) == stale  # check mode: read nothing, wrote nothing
    proc = playbook(tmp_path, "plan.yml", "-e", f"plan_dir={plan_dir}")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert (plan_dir / "report.json").is_file()
