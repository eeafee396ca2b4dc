"""CPU of an idle local control plane with the seed's 256 simulated nodes (issue #15).

    .venv/bin/python bench/bench_controlplane.py [--inventory inventory/seed] [--settle 30] [--window 120]

Starts a private control plane (:func:`hypertopo.cluster.local_cluster`: etcd, kube-apiserver,
kube-controller-manager, Volcano's webhooks, controllers and scheduler, kwok), creates the
inventory's nodes, waits ``--settle`` seconds, then reads each component's CPU time
(``/proc/<pid>/stat`` utime + stime) at the start and the end of a ``--window`` of seconds in which
nothing else touches the cluster, and prints each component's share of one core. ``make test``
runs three to four such control planes at once (the molecule lane's, one per integration worker,
a test file's private one), so their idle cost is paid many times over.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hypertopo.cluster import local_cluster  # noqa: E402
from hypertopo.cluster.kwok import NODE_LEASE_SECONDS, NODE_MONITOR_GRACE_SECONDS  # noqa: E402
from hypertopo.cluster.nodes import hosts_from_inventory  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default=str(ROOT / "inventory" / "seed"))
    parser.add_argument("--settle", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=120.0)
    args = parser.parse_args()
    with local_cluster(log=lambda _m: None) as cluster:
        cluster.create_nodes(hosts_from_inventory(args.inventory))
        time.sleep(args.settle)
        state = cluster.control_plane.load_state()
        assert state is not None
        procs = {p.name: p.pid for p in state.procs}
        before = {name: cpu_seconds(pid) for name, pid in procs.items()}
        time.sleep(args.window)
        after = {name: cpu_seconds(pid) for name, pid in procs.items()}
    shares = {name: 100 * (after[name] - before[name]) / args.window for name in procs}
    print(
        f"node Lease {NODE_LEASE_SECONDS} s (renewed every {NODE_LEASE_SECONDS // 4} s), "
        f"node-monitor-grace-period {NODE_MONITOR_GRACE_SECONDS} s; "
        f"{len(hosts_from_inventory(args.inventory))} nodes; window {args.window:.0f} s; "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print("| component | % of one core |")
    print("|---|---:|")
    for name, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {share:.1f} |")
    print(f"| **all** | **{sum(shares.values()):.1f}** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
