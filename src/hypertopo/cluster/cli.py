"""``hypertopo-cluster``: the local control plane from the command line.

    hypertopo-cluster up [--inventory DIR | --no-nodes]   start (idempotent); last line KUBECONFIG=...
    hypertopo-cluster down                                stop what `up` started, remove its state
    hypertopo-cluster status                              exit 0 when up and healthy
    hypertopo-cluster nodes --inventory DIR               create/update simulated nodes
    hypertopo-cluster conf --nta | --no-nta | --default | --file F   switch vc-scheduler's configuration

The state directory is ``$HYPERTOPO_CLUSTER_DIR`` (default
``~/.cache/hypertopo/cluster``); ``--state-dir`` overrides it. ``up`` without ``--inventory``
uses ``$HYPERTOPO_INVENTORY``, else ``inventory/seed`` in the current directory (the
repository's ``bin/hypertopo-cluster`` and ``make cluster-up`` pass the seed inventory).
``up --inventory`` and ``nodes --inventory`` leave the cluster with that inventory's nodes: the
nodes an earlier ``--inventory`` created and this one has not are deleted (nodes created any
other way are left alone).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hypertopo.cluster.controlplane import ControlPlane
from hypertopo.cluster.processes import ClusterError


def default_inventory() -> Path:
    """``$HYPERTOPO_INVENTORY``, else ``inventory/seed`` relative to the current directory."""
    return Path(os.environ.get("HYPERTOPO_INVENTORY") or Path("inventory") / "seed")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hypertopo-cluster", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="state directory (default: $HYPERTOPO_CLUSTER_DIR or ~/.cache/hypertopo/cluster)",
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    up = sub.add_parser("up", help="start the control plane (no-op if it is up and healthy)")
    g = up.add_mutually_exclusive_group()
    g.add_argument(
        "--inventory",
        type=Path,
        default=None,
        help="one simulated node per host of this inventory (default: $HYPERTOPO_INVENTORY, inventory/seed)",
    )
    g.add_argument("--no-nodes", action="store_true", help="do not create nodes")

    sub.add_parser("down", help="stop what `up` started (by PID) and remove the state; logs are kept")
    sub.add_parser("status", help="show components, ports and health (exit 1 unless healthy)")

    nodes = sub.add_parser("nodes", help="create/update the simulated nodes of an inventory")
    nodes.add_argument("--inventory", type=Path, required=True)
    nodes.add_argument("--workers", type=int, default=16, help="concurrent API requests (default 16)")

    conf = sub.add_parser("conf", help="switch vc-scheduler's configuration (hot-reloaded)")
    cg = conf.add_mutually_exclusive_group(required=True)
    cg.add_argument(
        "--nta",
        dest="nta",
        action="store_const",
        const=True,
        help="role configuration with the network-topology-aware plugin",
    )
    cg.add_argument(
        "--no-nta",
        dest="nta",
        action="store_const",
        const=False,
        help="role configuration without the network-topology-aware plugin",
    )
    cg.add_argument(
        "--default",
        dest="nta",
        action="store_const",
        const=None,
        help="exactly the scheduler_config role's default configuration",
    )
    cg.add_argument("--file", type=Path, help="this volcano-scheduler.conf file")
    return p


def _apply_inventory(cp: ControlPlane, inventory: Path, workers: int = 16) -> None:
    from hypertopo.cluster.nodes import INVENTORY_RECORD, sync_inventory_nodes

    r, gone = sync_inventory_nodes(cp.kubeconfig, inventory, cp.state_dir / INVENTORY_RECORD, workers=workers)
    removed = f", {len(gone)} of the previous inventory removed" if gone else ""
    cp.log(f"nodes from {inventory}: {r.created} created, {r.updated} updated{removed} ({r.seconds:.1f} s)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    cp = ControlPlane(args.state_dir)
    try:
        if args.cmd == "up":
            inventory = None if args.no_nodes else (args.inventory or default_inventory())
            if inventory is not None and not inventory.exists():
                raise ClusterError(f"inventory {inventory} not found; give --inventory DIR or --no-nodes")
            cp.up(owner="cli")
            if inventory is not None:
                _apply_inventory(cp, inventory)
            print(f"KUBECONFIG={cp.kubeconfig}", flush=True)
            return 0
        if args.cmd == "down":
            cp.down()
            return 0
        if args.cmd == "status":
            st = cp.status()
            print("\n".join(st.lines()))
            return 0 if st.healthy else 1
        if args.cmd == "nodes":
            if not cp.status(deep=False).healthy:
                raise ClusterError("the cluster is not up; run `hypertopo-cluster up` first")
            _apply_inventory(cp, args.inventory, args.workers)
            return 0
        if args.cmd == "conf":
            cp.set_scheduler_conf(args.file, nta=None if args.file else args.nta)
            return 0
    except ClusterError as exc:
        print(f"hypertopo-cluster {args.cmd}: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # e.g. an invalid inventory: one clear line (HYPERTOPO_DEBUG=1: traceback)
        if os.environ.get("HYPERTOPO_DEBUG"):
            raise
        name = type(exc).__name__
        print(f"hypertopo-cluster {args.cmd}: error: {name}: {exc}", file=sys.stderr)
        return 1
    raise AssertionError(args.cmd)


if __name__ == "__main__":
    sys.exit(main())
