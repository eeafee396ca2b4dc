"""``hypertopo-import``: an inventory from the fabric and the cluster, and drift reports.

    hypertopo-import SOURCE FILES... --out DIR [options]      one source
    hypertopo-import merge --source SOURCE:FILE[,FILE...] ... --out DIR [options]
    hypertopo-import drift -i INVENTORY (--from-cluster | --nodes F [--hypernodes F]) [--fabric SOURCE:FILE]

SOURCE is one of ibnetdiscover, ufm, lldp, labels. Exit status: 0 written (drift: no drift), 1 drift
found, 2 bad input (every problem printed, naming file and line; nothing written).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hypertopo.importer.build import MULTI_RAIL, build
from hypertopo.importer.facts import Fabric, SourceError
from hypertopo.importer.ibnet import HOST_REGEX, SWITCH_REGEX
from hypertopo.importer.sources import SOURCES, read_source
from hypertopo.importer.write import write_inventory

PROG = "hypertopo-import"
EXIT_DRIFT = 1
EXIT_INPUT = 2


def source_options(parser: argparse.ArgumentParser) -> None:
    """How sources are read (shared by the import and ``drift --fabric``)."""
    parser.add_argument(
        "--host-regex",
        default=HOST_REGEX,
        help="ibnetdiscover/UFM: host name = group 1 of this regex on the CA description",
    )
    parser.add_argument(
        "--switch-regex",
        default=SWITCH_REGEX,
        help="ibnetdiscover: switch name = group 1 of this regex on its description",
    )
    parser.add_argument(
        "--multi-rail",
        choices=MULTI_RAIL,
        default="majority",
        help="a host on several leaves: the leaf most adapters share (default), or an error",
    )
    parser.add_argument("--gpu-model", help="GPU model of hosts no labels source names")
    parser.add_argument(
        "--gpu-map", help="YAML {nvidia.com/gpu.product value: model} before the built-in rule"
    )
    parser.add_argument("--label-keys", help="labels source: topology label keys, top-down, comma-separated")
    parser.add_argument("--preset", choices=("eks", "gke"), help="labels source: the provider's label keys")
    parser.add_argument(
        "--switch-type",
        choices=("ib", "ethernet"),
        default="ethernet",
        help="labels source: type of the switches its labels describe (default ethernet)",
    )
    parser.add_argument("--uplinks", help="lldp source: YAML {switch: parent} of switch uplinks")
    parser.add_argument("--kubeconfig", help="labels --from-cluster: kubeconfig (default $KUBECONFIG)")
    parser.add_argument("--context", help="labels --from-cluster: kubeconfig context")


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    # switch names such as "leaf-1" are valid groups here (validation checks the names it needs)
    os.environ.setdefault("ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS", "ignore")
    if args_in and args_in[0] == "drift":
        from hypertopo.importer.drift_cli import main as drift_main

        return drift_main(args_in[1:])
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", choices=(*SOURCES, "merge"))
    parser.add_argument("files", nargs="*", help="source files (labels: a saved `kubectl get nodes -o json`)")
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        dest="sources",
        metavar="SOURCE:FILES",
        help="merge: one source and its comma-separated files (repeat)",
    )
    parser.add_argument(
        "--from-cluster", action="store_true", help="labels: read the Nodes of the live cluster"
    )
    parser.add_argument("--out", required=True, type=Path, help="inventory directory to write")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out")
    source_options(parser)
    args = parser.parse_args(args_in)
    try:
        pairs = _pairs(args)
        fabric = Fabric()
        problems: list[str] = []
        for kind, files in pairs:
            fabric.merge(read_source(kind, files, args), problems)
        if problems:
            raise SourceError(problems)
        imported = build(fabric, multi_rail=args.multi_rail, gpu_model=args.gpu_model)
        model = write_inventory(imported, args.out, force=args.force)
    except SourceError as exc:
        print(f"{PROG}: nothing written; {len(exc.problems)} problem(s):\n{exc}", file=sys.stderr)
        return EXIT_INPUT
    for line in imported.notes + imported.warnings:
        print(f"{PROG}: {line}", file=sys.stderr)
    print(
        f"{PROG}: wrote {args.out}: {len(model.switches)} switches (root {model.root}), "
        f"{len(model.hosts)} hosts; valid inventory"
    )
    return 0


def _pairs(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    if args.source != "merge":
        if args.sources:
            raise SourceError(["--source is for `merge`; give the files after the source name"])
        if not args.files and not (args.source == "labels" and args.from_cluster):
            raise SourceError([f"{args.source}: no files given"])
        return [(args.source, list(args.files))]
    if args.files or not args.sources:
        raise SourceError(["merge: give every source as --source SOURCE:FILE[,FILE...]"])
    pairs = []
    for spec in args.sources:
        kind, _, files = spec.partition(":")
        if kind not in SOURCES:
            raise SourceError([f"--source {spec}: unknown source {kind!r} (one of {', '.join(SOURCES)})"])
        pairs.append((kind, [f for f in files.split(",") if f]))
    return pairs


if __name__ == "__main__":
    sys.exit(main())
