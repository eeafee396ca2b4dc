"""Benchmark the placement engine on generated 3-tier trees (64 nodes per leaf).

    .venv/bin/python bench/bench_engine.py [--sizes 256,4096,16384,65536] [--repeat 5] [--write]

Each (size, workload) runs in a fresh interpreter. Per case it measures, with
``time.perf_counter`` and the median of ``--repeat`` runs:

* input load: ``json.loads`` of the three input texts (nodes, HyperNodes, jobs),
  with the garbage collector on (what a caller pays) and off (the strictest
  comparison, since ``predict`` pauses the collector itself);
* engine: ``predict(..., baseline=False)`` on the loaded objects, and once more
  with the simple-affinity baseline (16 random tie-break runs);
* peak memory: ``tracemalloc`` peak of one ``predict`` (a separate run: tracing
  slows Python down) and the process's max RSS.

Workloads: ``pd`` = the seed's two PD Jobs (12 + 12 pods, soft, IB and GPU-model
affinity, preferred anti-affinity); ``job512`` = one Job of 512 one-GPU pods,
``mode: hard, highestTierAllowed: 2``, minAvailable 512.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # the package and the tests' synthetic inputs

from hypertopo.placement import predict  # noqa: E402
from hypertopo.topology.labels import GPU_RESOURCE  # noqa: E402
from tests.placement.synthetic import generated_cluster, seed_pd_jobs, task, volcano_job  # noqa: E402

SIZES = (256, 4096, 16384, 65536)
WORKLOADS = ("pd", "job512")


def workload(name: str) -> list[dict[str, Any]]:
    if name == "pd":
        return seed_pd_jobs()
    gpu = {GPU_RESOURCE: 1}
    template = {
        "spec": {
            "containers": [{"name": "w", "image": "trainer", "resources": {"requests": gpu, "limits": gpu}}]
        }
    }
    return [
        volcano_job(
            "train-512",
            [task("worker", 512, template)],
            min_available=512,
            topology={"mode": "hard", "highestTierAllowed": 2},
        )
    ]


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def child(size: int, name: str, repeat: int) -> dict[str, Any]:
    import gc

    nodes, hypernodes = generated_cluster(size)
    texts = [json.dumps(nodes), json.dumps(hypernodes), json.dumps(workload(name))]
    del nodes, hypernodes
    load_s, objs = timed(lambda: [json.loads(t) for t in texts], repeat)
    gc.disable()
    load_nogc_s, _ = timed(lambda: [json.loads(t) for t in texts], repeat)
    gc.enable()

    def run(baseline: bool = False) -> dict[str, Any]:
        return predict(jobs=objs[2], nodes=objs[0], hypernodes=objs[1], baseline=baseline)

    engine_s, result = timed(run, repeat)
    baseline_s, _ = timed(lambda: run(True), 1)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    jobs = result["jobs"]
    return {
        "size": size,
        "workload": name,
        "input_mib": round(sum(len(t) for t in texts) / 2**20, 1),
        "load_s": load_s,
        "load_nogc_s": load_nogc_s,
        "engine_s": engine_s,
        "engine_baseline_s": baseline_s,
        "peak_mib": peak / 2**20,
        "max_rss_mib": rss_mib,
        "feasible": all(j["feasible"] for j in jobs),
        "placed": sum(len(j["placements"]) for j in jobs),
        "hypernodes": sorted({j["hypernode"] for j in jobs if j["hypernode"]}),
    }


def machine() -> dict[str, str]:
    model = "unknown"
    cpus = "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                model = value.strip()
            elif key.strip() == "CPU(s)":
                cpus = value.strip()
    except OSError:
        pass
    return {"cpu": model, "cpus": cpus, "python": platform.python_version(), "platform": platform.platform()}


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| nodes | workload | input MiB | load (GC on) s | load (GC off) s | engine s "
        "| engine / load (GC on) | engine / load (GC off) | engine + baseline s "
        "| peak MiB (tracemalloc) | max RSS MiB | result |"
    )
    out = [head, "|" + "---|" * 12]
    for r in rows:
        verdict = "feasible" if r["feasible"] else "INFEASIBLE"
        result = f"{verdict}, {r['placed']} pods, {', '.join(r['hypernodes'])}"
        cells = [
            f"{r['size']:,}",
            r["workload"],
            str(r["input_mib"]),
            f"{r['load_s']:.3f}",
            f"{r['load_nogc_s']:.3f}",
            f"{r['engine_s']:.3f}",
            f"{r['engine_s'] / r['load_s']:.2f}",
            f"{r['engine_s'] / r['load_nogc_s']:.2f}",
            f"{r['engine_baseline_s']:.3f}",
            f"{r['peak_mib']:.0f}",
            f"{r['max_rss_mib']:.0f}",
            result,
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def growth(rows: list[dict[str, Any]]) -> str:
    lines = []
    for name in WORKLOADS:
        sub = sorted((r for r in rows if r["workload"] == name), key=lambda r: r["size"])
        for a, b in itertools.pairwise(sub):
            lines.append(
                f"- {name}: {a['size']:,} -> {b['size']:,} nodes (x{b['size'] / a['size']:.0f}): "
                f"engine x{b['engine_s'] / a['engine_s']:.2f}, load x{b['load_s'] / a['load_s']:.2f}"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("SIZE", "WORKLOAD"))
    parser.add_argument(
        "--write", action="store_true", help="print the markdown tables for RESULTS-engine.md"
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.child[1], args.repeat)))
        return 0
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for name in WORKLOADS:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(size), name, "--repeat", str(args.repeat)],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    print(json.dumps({"machine": machine(), "rows": rows}, indent=2))
    if args.write:
        print()
        print(table(rows))
        print()
        print(growth(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
