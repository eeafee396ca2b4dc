"""``hypertopo-import drift``: the inventory against the cluster and/or the fabric.

    hypertopo-import drift -i INVENTORY (--from-cluster | --nodes F [--hypernodes F]) [--fabric SOURCE:FILES]
                           [--json] [--switch-types ib,ethernet]

Exit status: 0 no drift, 1 drift (every item printed), 2 bad input (an invalid inventory, a file
that cannot be read).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from hypertopo.importer.build import build
from hypertopo.importer.drift import fabric_drift, hypernode_drift, node_drift, report
from hypertopo.importer.facts import SourceError
from hypertopo.importer.gpumap import read_gpu_map
from hypertopo.importer.nodelabels import read_nodes_file
from hypertopo.importer.sources import SOURCES, read_source
from hypertopo.topology import TopologyError, load_topology

PROG = "hypertopo-import drift"


def _parser() -> argparse.ArgumentParser:
    from hypertopo.importer.cli import source_options

    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-i", "--inventory", required=True, help="the inventory (directory or file)")
    parser.add_argument(
        "--from-cluster", action="store_true", help="read Nodes and HyperNodes from the cluster"
    )
    parser.add_argument("--nodes", help="saved `kubectl get nodes -o json`")
    parser.add_argument("--hypernodes", help="saved `kubectl get hypernodes -o json`")
    parser.add_argument("--fabric", help="SOURCE:FILE[,FILE...] to compare the inventory with the fabric")
    parser.add_argument("--switch-types", default="ib,ethernet", help="switch types that get a HyperNode")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    source_options(parser)
    return parser


def _cluster(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    if args.from_cluster:
        from hypertopo.importer.live import live_hypernodes, live_nodes

        return live_nodes(args.kubeconfig, args.context)[0], live_hypernodes(args.kubeconfig, args.context)
    nodes = read_nodes_file(args.nodes)[0]
    hypernodes = read_nodes_file(args.hypernodes, "HyperNode")[0] if args.hypernodes else None
    return nodes, hypernodes


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    try:
        if not (args.from_cluster or args.nodes or args.fabric):
            raise SourceError(["give --from-cluster, --nodes (and --hypernodes) or --fabric"])
        try:
            model = load_topology(args.inventory).as_dict()
        except TopologyError as exc:
            raise SourceError([str(exc)]) from None
        items = []
        if args.from_cluster or args.nodes:
            nodes, hypernodes = _cluster(args)
            items += node_drift(model, nodes, read_gpu_map(args.gpu_map))
            if hypernodes is not None:
                types = tuple(t for t in args.switch_types.split(",") if t)
                items += hypernode_drift(model, nodes, hypernodes, switch_types=types)
        if args.fabric:
            kind, _, files = args.fabric.partition(":")
            if kind not in SOURCES:
                raise SourceError(
                    [f"--fabric {args.fabric}: unknown source {kind!r} (one of {', '.join(SOURCES)})"]
                )
            fabric = read_source(kind, [f for f in files.split(",") if f], args)
            items += fabric_drift(model, build(fabric, multi_rail=args.multi_rail, gpu_model="(fabric)"))
    except SourceError as exc:
        print(f"{PROG}: bad input; {len(exc.problems)} problem(s):\n{exc}", file=sys.stderr)
        return 2
    result = report(items)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "table"}, indent=2))
    else:
        print("\n".join(result["table"]))
    return 1 if result["drift"] else 0
