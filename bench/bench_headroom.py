"""Benchmark headroom and a what-if prediction on 8,192 nodes with 2,000 running pods (issue #13).

    .venv/bin/python bench/bench_headroom.py [--nodes 8192] [--pods 2000] [--repeat 3] [--profile] [--write]

Inputs: ``tests.placement.synthetic.generated_cluster(nodes)`` (3 tiers, 64 nodes per leaf, half the
spines InfiniBand, the seed's GPU mix per leaf, 8 GPUs per node), ``pods`` running pods of one GPU,
4 CPUs and 16 GiB bound round-robin to every fourth node, and the seed's two PD Jobs (12 + 12 pods,
soft/``highestTierAllowed: 2``, required ``gpu-type`` and ``switch-type: ib``, preferred
anti-affinity). Each case runs in this process on objects already loaded (the JSON load is measured
apart), median of ``--repeat`` runs with ``time.perf_counter``:

* ``predict``: ``predict(..., baseline=False)``, for reference;
* ``headroom (all jobs, up to N)``: :func:`hypertopo.placement.headroom.headroom` over both jobs
  and their tasks with the search limit ``--up-to`` (default 64), with the per-HyperNode table
  (what ``topology-hints headroom --up-to N`` computes);
* ``headroom (all jobs, up to N, W processes)``: the same with ``workers=W`` (``--workers``,
  default: the usable cores, as ``topology-hints headroom`` runs it): the two jobs' searches at once
  in forked processes (:mod:`hypertopo.placement.forked`);
* ``headroom (decode, check 20, up to N)``: ``--job default/pd-decode-service --task decode-worker
  --replicas 20 --up-to N``;
* ``what-if``: :func:`hypertopo.placement.whatif.what_if` with four changes (decode to 20 replicas,
  2 RTX 4090 hosts added under leaf0, 4 nodes cordoned, 8 running pods added), ``baseline=False``:
  two predictions plus applying the changes;
* ``CLI headroom`` / ``CLI what-if``: ``bin/topology-hints`` end to end in a fresh interpreter
  (start-up, reading the JSON files, the work, printing), one run each.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # the package and the tests' synthetic inputs

from hypertopo.placement import predict  # noqa: E402
from hypertopo.placement.changes import parse_changes  # noqa: E402
from hypertopo.placement.forked import usable_cores  # noqa: E402
from hypertopo.placement.headroom import headroom  # noqa: E402
from hypertopo.placement.whatif import what_if  # noqa: E402
from hypertopo.topology.labels import GPU_RESOURCE  # noqa: E402
from tests.placement.synthetic import generated_cluster, seed_pd_jobs  # noqa: E402

DECODE = "default/pd-decode-service"
CHANGES = [
    {"set_replicas": {"job": DECODE, "task": "decode-worker", "replicas": 20}},
    {"add_hosts": {"leaf": "leaf0", "gpu_model": "rtx4090", "count": 2}},
    {"cordon": {"nodes": ["node2", "node3", "node6", "node11"]}},
    {"add_pods": {"node": "node64", "count": 8, "requests": {GPU_RESOURCE: 1, "cpu": "4"}}},
]


def running_pods(count: int, nodes: int) -> list[dict[str, Any]]:
    requests = {GPU_RESOURCE: "1", "cpu": "4", "memory": "16Gi"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"batch-{k}", "namespace": "batch", "labels": {"app": "batch"}},
            "spec": {
                "nodeName": f"node{(k * 4) % nodes}",
                "containers": [
                    {"name": "c", "image": "x", "resources": {"requests": requests, "limits": requests}}
                ],
            },
            "status": {"phase": "Running"},
        }
        for k in range(count)
    ]


def timed(fn: Any, repeat: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), model
        )
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "cpu": model,
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def cli(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [str(ROOT / "bin" / "topology-hints"), *args], capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"topology-hints {' '.join(args)}: exit {proc.returncode}: {proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=8192)
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--up-to", type=int, default=64, help="headroom search limit (0: none)")
    parser.add_argument("--workers", type=int, default=usable_cores(), help="processes of the forked case")
    parser.add_argument("--profile", action="store_true", help="print the top functions of one headroom run")
    parser.add_argument("--write", action="store_true", help="print the results as a markdown table row set")
    args = parser.parse_args()
    nodes, hypernodes = generated_cluster(args.nodes)
    pods = running_pods(args.pods, args.nodes)
    jobs = seed_pd_jobs()
    inputs = {"jobs": jobs, "nodes": nodes, "hypernodes": hypernodes, "pods": pods}
    texts = {name: json.dumps(value) for name, value in inputs.items()}
    load_s, _t, _r = timed(lambda: [json.loads(t) for t in texts.values()], args.repeat)
    changes = parse_changes(CHANGES, "bench")
    up_to = args.up_to or None
    cases = [
        ("predict", lambda: predict(**inputs, baseline=False)),
        (f"headroom (all jobs, up to {up_to})", lambda: headroom(inputs, up_to=up_to)),
        (
            f"headroom (all jobs, up to {up_to}, {args.workers} processes)",
            lambda: headroom(inputs, up_to=up_to, workers=args.workers),
        ),
        (
            f"headroom (decode, check 20, up to {up_to})",
            lambda: headroom(inputs, job=DECODE, task="decode-worker", replicas=20, up_to=up_to),
        ),
        ("what-if (4 changes)", lambda: what_if(inputs, changes, "bench", baseline=False)),
        ("headroom (decode, unlimited)", lambda: headroom(inputs, job=DECODE, task="decode-worker")),
    ]
    rows = []
    results: dict[str, Any] = {}
    for name, fn in cases:
        median, times, result = timed(fn, args.repeat)
        results[name] = result
        rows.append((name, median, times))
        print(f"  {name}: median {median:.2f} s ({', '.join(f'{t:.2f}' for t in times)})", flush=True)
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: headroom(inputs, up_to=up_to))
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in texts.items():
            Path(tmp, f"{name}.json").write_text(text)
        Path(tmp, "what-if.json").write_text(json.dumps(CHANGES))
        flags = [f"--{n}={Path(tmp, f'{n}.json')}" for n in ("jobs", "nodes", "hypernodes", "pods")]
        limit = [f"--up-to={up_to}"] if up_to else []
        rows.append((f"CLI headroom (all jobs, up to {up_to}, 1 run)", cli(["headroom", *flags, *limit]), []))
        what = ["--no-baseline", f"--what-if={Path(tmp, 'what-if.json')}"]
        rows.append(("CLI what-if (1 run)", cli([*flags, *what]), []))
    room = results[f"headroom (all jobs, up to {up_to})"]
    forked = results[f"headroom (all jobs, up to {up_to}, {args.workers} processes)"]
    if json.dumps(forked, sort_keys=True) != json.dumps(room, sort_keys=True):
        raise SystemExit("the forked headroom answer differs from the one-process answer")
    check = results[f"headroom (decode, check 20, up to {up_to})"]["check"]
    after = {j["job"]: j["after"] for j in results["what-if (4 changes)"]["jobs"]}
    info = machine()
    print(f"machine: {info}")
    print(
        f"inputs: {args.nodes:,} nodes, {args.pods:,} running pods, "
        f"JSON {sum(map(len, texts.values())) / 2**20:.1f} MiB, json.loads {load_s:.3f} s"
    )
    print("| case | median s | runs s |")
    print("|---|---|---|")
    for name, median, times in rows:
        print(f"| {name} | {median:.2f} | {', '.join(f'{t:.2f}' for t in times) or '-'} |")
    print()
    for job in room["jobs"]:
        print(
            f"- {job['job']} {job['task']}: now {job['replicas']}, max {job['max_replicas']} "
            f"(bound {job['bound']}, limited {job['limited']}, {job['probes']} predictions, "
            f"confirmed {job['confirmed']}), "
            f"at max {job['at_max']['hypernode']}"
        )
    print(
        f"- check decode at 20: places {check['places']}, {check['hypernode']} tier {check['tier']}, "
        f"switch types {check['switch_types']}"
    )
    print(
        f"- what-if decode after: feasible {after[DECODE]['feasible']}, placed {after[DECODE]['placed']}, "
        f"{after[DECODE]['hypernode']}"
    )
    print(f"- per-HyperNode table: {len(room['hypernodes'])} HyperNodes of tiers 1-2")
    (free,) = results["headroom (decode, unlimited)"]["jobs"]
    print(
        f"- decode unlimited: max {free['max_replicas']} (bound {free['bound']}, "
        f"{free['probes']} predictions, confirmed {free['confirmed']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
