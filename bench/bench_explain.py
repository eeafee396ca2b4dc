"""Benchmark ``explain`` on a generated 3-tier tree with running pods.

    .venv/bin/python bench/bench_explain.py [--nodes 8192] [--pods 2000] [--repeat 5] [--write]

Input: ``tests.placement.synthetic.generated_cluster(nodes)`` (64 nodes per leaf, spines of 16
leaves, one core; the seed's GPU mix: 6 H100 nodes of 8 GPUs per leaf) plus ``--pods`` running
pods bound round-robin over the nodes (1, 2 or 4 GPUs, 4 CPUs, 16Gi, priorities 0/10/100), and
the job to explain: a hard, tier-1 prefill Job of 64 one-GPU pods on H100 over InfiniBand, more
than any leaf has (48). The inputs are JSON text loaded once per run (``json.loads``, timed
apart). Timed, median of ``--repeat`` runs in one interpreter (``time.perf_counter``):

* ``diagnosis``: ``explain(..., suggest=False)`` (the sessions, the per-tier table);
* ``explain``: the full ``explain`` (diagnosis plus every suggestion re-predicted with
  ``predict``), and how many re-predictions it made.

``--profile`` prints the cProfile top 25 (cumulative) of one full run instead.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # the package and the tests' synthetic inputs

from hypertopo.placement import engine, explain  # noqa: E402
from hypertopo.topology.labels import GPU_RESOURCE  # noqa: E402
from tests.placement.synthetic import generated_cluster, pod_template, task, volcano_job  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS-explain.md"
JOB = "pd/big-prefill"


def running_pods(nodes: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    out = []
    for k in range(count):
        node = nodes[(k * 37) % len(nodes)]["metadata"]["name"]
        requests = {GPU_RESOURCE: str((1, 2, 4)[k % 3]), "cpu": "4", "memory": "16Gi"}
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"serve-{k}", "namespace": "apps", "uid": f"uid-{k}"},
                "spec": {
                    "nodeName": node,
                    "priority": (0, 10, 100)[k % 3],
                    "containers": [{"name": "c", "resources": {"requests": requests, "limits": requests}}],
                },
                "status": {"phase": "Running"},
            }
        )
    return out


def inputs_text(size: int, pods: int) -> dict[str, str]:
    nodes, hypernodes = generated_cluster(size)
    job = volcano_job(
        "big-prefill",
        [task("prefill-worker", 64, pod_template(["h100"], switch_types=["ib"]))],
        min_available=64,
        topology={"mode": "hard", "highestTierAllowed": 1},
        namespace="pd",
    )
    return {
        "nodes": json.dumps(nodes),
        "hypernodes": json.dumps(hypernodes),
        "pods": json.dumps(running_pods(nodes, pods)),
        "jobs": json.dumps([job]),
    }


def load(texts: dict[str, str]) -> dict[str, Any]:
    return {key: json.loads(text) for key, text in texts.items()}


def median_time(fn: Any, repeat: int) -> tuple[float, list[float], Any]:
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def count_predictions(inputs: dict[str, Any]) -> int:
    calls = 0
    original = engine.predict

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    from hypertopo.placement import suggest

    suggest.predict = counting  # type: ignore[assignment]
    try:
        explain.explain(inputs, JOB)
    finally:
        suggest.predict = original  # type: ignore[assignment]
    return calls


def machine() -> str:
    model, cpus = "unknown", "?"
    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Model name":
            model = value.strip()
        elif key.strip() == "CPU(s)":
            cpus = value.strip()
    load1 = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    return f"{cpus} vCPUs, {model}; CPython {platform.python_version()}; 1-min load average at start {load1}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=8192)
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--workers", default="1,2", help="explain's worker counts to measure (the CLI's default: 2)"
    )
    args = parser.parse_args()
    where = machine()
    texts = inputs_text(args.nodes, args.pods)
    load_s, _, inputs = median_time(lambda: load(texts), args.repeat)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        explain.explain(load(texts), JOB)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        return 0
    diag_s, diag_all, _ = median_time(lambda: explain.explain(load(texts), JOB, suggest=False), args.repeat)
    predictions = count_predictions(inputs)
    rows = []
    for workers in (int(w) for w in args.workers.split(",")):
        full_s, full_all, result = median_time(
            lambda workers=workers: explain.explain(load(texts), JOB, workers=workers), args.repeat
        )
        first = result["suggestions"][0] if result["suggestions"] else {}
        rows.append(
            {
                "nodes": args.nodes,
                "pods": args.pods,
                "workers": workers,
                "load_s": round(load_s, 3),
                # each run loads its own copy of the inputs: the load is subtracted
                "diagnosis_s": round(diag_s - load_s, 3),
                "explain_s": round(full_s - load_s, 3),
                "runs_explain_incl_load_s": [round(t, 3) for t in full_all],
                "runs_diagnosis_incl_load_s": [round(t, 3) for t in diag_all],
                "re_predictions": predictions,
                "suggestions": len(result["suggestions"]),
                "first": first.get("text"),
                "first_feasible": first.get("predicted_feasible"),
                "status": result["status"],
            }
        )
    print(json.dumps({"machine": where, "rows": rows}, indent=2))
    if args.write:
        RESULTS.write_text(report(where, rows, args.repeat))
    return 0


def report(where: str, rows: list[dict[str, Any]], repeat: int) -> str:
    head = (
        "| nodes | running pods | workers | diagnosis s | explain (with suggestions) s | re-predictions "
        "| suggestions | first suggestion |"
    )
    lines = [head, "|" + "---|" * 8]
    for row in rows:
        cells = [
            f"{row['nodes']:,}",
            f"{row['pods']:,}",
            str(row["workers"]),
            str(row["diagnosis_s"]),
            f"**{row['explain_s']}**",
            str(row["re_predictions"]),
            str(row["suggestions"]),
            f"{row['first']} (predicted feasible: {row['first_feasible']})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    runs = "\n".join(
        f"- workers {r['workers']}: explain {r['runs_explain_incl_load_s']}, diagnosis "
        f"{r['runs_diagnosis_incl_load_s']}"
        for r in rows
    )
    row = rows[0]
    table = "\n".join(lines)
    return f"""# explain benchmark

`bench/bench_explain.py` (run: `.venv/bin/python bench/bench_explain.py --repeat {repeat} --write`).

## Machine and method

- Machine: {where}. **Loaded**: another session's Kubernetes control plane and test runs shared
  the same 2 cores while this ran, so the numbers are upper bounds and vary from run to run.
- Input: {row["nodes"]:,} nodes (`generated_cluster`: 3 tiers, 64 nodes per leaf, 8 GPUs per node,
  6 H100 nodes per leaf), {row["pods"]:,} running pods bound round-robin (1/2/4 GPUs, priorities
  0/10/100); the job: hard `highestTierAllowed: 1`, 64 one-GPU H100 pods on InfiniBand (a leaf has
  48 H100 GPUs), infeasible.
- Times: median of {repeat} runs in one interpreter, `time.perf_counter`; each run loads its own copy
  of the inputs from JSON text ({row["load_s"]} s, measured apart and subtracted). "diagnosis" is
  `explain(..., suggest=False)`; "explain" adds every suggestion, each re-predicted with `predict`
  on the changed inputs ("workers": processes for those predictions; `topology-hints explain`
  uses 2 where there are 2 CPUs; the result is the same).

## Results

{table}

Every run, including the load:

{runs}

Target: explain <= 2 s on 2 cores.
"""


if __name__ == "__main__":
    sys.exit(main())
