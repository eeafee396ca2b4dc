"""Benchmark: import of an 8,192-host ibnetdiscover file, and drift on 8,192 nodes from saved JSON.

Method: the topology is a fat-tree of ``--hosts`` hosts, 64 per leaf, leaves in groups of 16 under
a tier-2 group of 2 spines each, all groups under a core of 2 switches (the importer's fat-tree
rule merges each pair back), every 50th host with a second HCA on the next leaf (multi-rail).
``tests/importer/gen.py`` writes the ibnetdiscover file, the Nodes (the inventory's labels plus
``nvidia.com/gpu.product``, 1 % of them with a wrong ``gpu-type``) and the HyperNodes (rendered from
the inventory). Each measurement runs ``bin/hypertopo-import`` as a user would (a new process:
Python and Ansible start-up included, reading, building, validating, writing) ``--runs`` times and
reports the median and the worst.

    .venv/bin/python bench/bench_import.py [--hosts 8192] [--runs 3] [--out bench/RESULTS-import.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from importer.gen import PRODUCTS, ibnetdiscover  # noqa: E402

from hypertopo.rollout.hypernodes import OWNER_LABELS  # noqa: E402
from hypertopo.topology import load_topology  # noqa: E402
from hypertopo.topology.objects import model_hypernode_objects  # noqa: E402

CLI = str(ROOT / "bin" / "hypertopo-import")
IMPORT_TARGET_S = 10.0
DRIFT_TARGET_S = 30.0


def topology(hosts: int) -> dict:
    leaves = -(-hosts // 64)
    groups = -(-leaves // 16)
    switches = [{"name": "core", "tier": 3, "type": "ib", "parent": None}]
    switches += [{"name": f"spine{g}", "tier": 2, "type": "ib", "parent": "core"} for g in range(groups)]
    switches += [
        {"name": f"leaf{i}", "tier": 1, "type": "ib", "parent": f"spine{i // 16}"} for i in range(leaves)
    ]
    models = list(PRODUCTS)
    host_map = {f"gpu{h}": {"leaf": f"leaf{h // 64}", "gpu_model": models[h % 2]} for h in range(hosts)}
    return {"switches": switches, "hosts": host_map}


def timed(argv: list[str], runs: int, ok: tuple[int, ...]) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        out.append(time.perf_counter() - start)
        if done.returncode not in ok:
            raise SystemExit(f"{argv[:2]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return out


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=8192)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-import.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    model = topology(args.hosts)
    leaves = sum(1 for s in model["switches"] if s["tier"] == 1)
    rails = {f"gpu{h}": [f"leaf{(h // 64 + 1) % leaves}"] for h in range(0, args.hosts, 50)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fabric = work / "fabric.txt"
        fabric.write_text(ibnetdiscover(model, spines=2, rails=rails))
        size_mb = fabric.stat().st_size / 1e6
        lines = fabric.read_text().count("\n")
        imp = timed(
            [CLI, "ibnetdiscover", str(fabric), "--gpu-model", "h100", "--out", str(work / "inv"), "--force"],
            args.runs,
            (0,),
        )
        inv = load_topology(str(work / "inv"))
        plain = inv.as_dict()
        nodes = inv.node_objects()
        for i, node in enumerate(nodes):
            labels = node["metadata"]["labels"]
            labels["nvidia.com/gpu.product"] = PRODUCTS[plain["hosts"][node["metadata"]["name"]]["gpu_model"]]
            if i % 100 == 0:
                labels["gpu-type"] = "a100"
        hns = model_hypernode_objects(plain, labels=OWNER_LABELS)
        (work / "nodes.json").write_text(json.dumps({"kind": "List", "items": nodes}, indent=1))
        (work / "hn.json").write_text(json.dumps({"kind": "List", "items": hns}, indent=1))
        drift_argv = [
            CLI,
            "drift",
            "-i",
            str(work / "inv"),
            "--nodes",
            str(work / "nodes.json"),
            "--hypernodes",
            str(work / "hn.json"),
            "--json",
        ]
        drift = timed(drift_argv, args.runs, (1,))
        found = json.loads(subprocess.run(drift_argv, capture_output=True, text=True, check=False).stdout)[
            "counts"
        ]
    rows = [
        (
            "import",
            f"ibnetdiscover, {args.hosts:,} hosts, {len(rails)} multi-rail, {size_mb:.1f} MB / "
            f"{lines:,} lines -> {len(inv.switches)} switches",
            imp,
            IMPORT_TARGET_S,
        ),
        (
            "drift",
            f"{len(nodes):,} Nodes + {len(hns)} HyperNodes (saved JSON), found {found}",
            drift,
            DRIFT_TARGET_S,
        ),
    ]
    text = [
        "# Import and drift benchmark",
        "",
        f"Generated by `bench/bench_import.py` (method in its docstring). Machine: {os.cpu_count()} CPUs "
        f"({cpu_model()}), Python {platform.python_version()}, one process per run (start-up included), "
        f"{args.runs} runs each; load average {load:.2f} at the start (the machine is shared).",
        "",
        "| step | input | median | worst | target |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for step, what, times, target in rows:
        verdict = "met" if max(times) <= target else "NOT met"
        text.append(
            f"| {step} | {what} | {statistics.median(times):.2f} s | {max(times):.2f} s | "
            f"<= {target:.0f} s: **{verdict}** |"
        )
    args.out.write_text("\n".join(text) + "\n")
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
