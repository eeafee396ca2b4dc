"""Wall time of ``playbooks/plan.yml`` (inventory only, warm), per inventory size, with the slowest tasks.

    .venv/bin/python bench/bench_plan.py [--sizes 256 8192] [--runs 3] [--root PATH] [--keep DIR]

256 is the seed inventory; other sizes are generated like ``bench_onboarding.py`` does (64 hosts
per leaf, 8 leaves per aggregation switch, one core). Per size: ``--warmup`` runs (default 1, not
counted), then ``--runs`` timed runs (wall clock of the whole ``ansible-playbook`` process), all
with the ``ansible.posix.profile_tasks`` callback (its cost is a timestamp per task); the
per-task breakdown is the last run's. ``-e`` passes extra variables. ``--root`` runs the
playbook of another checkout (a before/after comparison); ``--keep`` keeps each size's plan
files (``DIR/<size>/``) for a byte-for-byte comparison. Prints Markdown (bench/RESULTS-plan.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_onboarding import generate_inventory

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "inventory" / "seed"
PROFILE_LINE = re.compile(r"^(?P<task>.+?) -+ (?P<seconds>\d+\.\d+)s$")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def plan(root: Path, inventory: Path, plan_dir: Path, extra: list[str]) -> tuple[float, str]:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(root / "ansible.cfg"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
        "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "15",
    }
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), "playbooks/plan.yml"]
    cmd += ["-e", f"plan_dir={plan_dir}"]
    for e in extra:
        cmd += ["-e", e]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"plan.yml failed on {inventory}:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout


def slowest_tasks(stdout: str) -> list[tuple[str, float]]:
    """The ``profile_tasks`` summary: (task, seconds), slowest first."""
    rows = []
    for line in stdout.splitlines():
        m = PROFILE_LINE.match(line.strip())
        if m:
            rows.append((m["task"].strip(), float(m["seconds"])))
    return rows


def run_size(size: int, args: argparse.Namespace, tmp: Path) -> str:
    root, runs, keep, extra = args.root.resolve(), args.runs, args.keep, args.e
    inventory = SEED if size == 256 else generate_inventory(tmp / f"inventory-{size}", size)
    plan_dir = tmp / f"plan-{size}"
    for _ in range(args.warmup):  # page cache, .pyc files
        plan(root, inventory, plan_dir, extra)
    timed = [plan(root, inventory, plan_dir, extra) for _ in range(runs)]
    walls = [seconds for seconds, _ in timed]
    stdout = timed[-1][1]
    if keep is not None:
        shutil.rmtree(keep / str(size), ignore_errors=True)
        shutil.copytree(plan_dir, keep / str(size))
    lines = [
        f"### {size:,} hosts{' (' + ', '.join(extra) + ')' if extra else ''}",
        "",
        f"wall: median **{statistics.median(walls):.2f} s** (min {min(walls):.2f}, max {max(walls):.2f}; "
        f"{runs} runs: {', '.join(f'{w:.2f}' for w in walls)})",
        "",
        "| task (profile_tasks run) | s |",
        "|---|---:|",
    ]
    lines += [f"| {task} | {seconds:.2f} |" for task, seconds in slowest_tasks(stdout)]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 8192])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("-e", action="append", default=[], help="extra variable for plan.yml (repeatable)")
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout whose playbooks/plan.yml runs")
    ap.add_argument("--keep", type=Path, help="keep each size's plan files in DIR/<size>/")
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, ")
    print(f"load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; ", end="")
    print(f"playbooks from {args.root}\n")
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        for size in args.sizes:
            print(run_size(size, args, Path(tmp)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
