"""The source kinds ``hypertopo-import`` reads, and how each is read."""

from __future__ import annotations

import argparse

from hypertopo.importer.facts import Fabric, SourceError, read_text
from hypertopo.importer.gpumap import read_gpu_map
from hypertopo.importer.ibnet import parse_ibnetdiscover
from hypertopo.importer.lldp import parse_lldp
from hypertopo.importer.nodelabels import PRESETS, labels_fabric, read_nodes_file
from hypertopo.importer.ufm import parse_ufm

SOURCES = ("ibnetdiscover", "ufm", "lldp", "labels")


def label_keys_of(args: argparse.Namespace) -> tuple[str, ...]:
    if args.preset:
        return PRESETS[args.preset]
    return tuple(k.strip() for k in (args.label_keys or "").split(",") if k.strip())


def read_source(kind: str, files: list[str], args: argparse.Namespace) -> Fabric:
    """The facts of ``files`` read as ``kind`` (raises :class:`SourceError`)."""
    if kind == "ibnetdiscover":
        fabric = Fabric()
        problems: list[str] = []
        for path in files:
            fabric.merge(
                parse_ibnetdiscover(
                    path, read_text(path), host_regex=args.host_regex, switch_regex=args.switch_regex
                ),
                problems,
            )
        if problems:
            raise SourceError(problems)
        return fabric
    if kind == "ufm":
        return parse_ufm(files, args.host_regex)
    if kind == "lldp":
        return parse_lldp(files, args.uplinks)
    gpu_map = read_gpu_map(args.gpu_map)
    keys = label_keys_of(args)
    if not files:
        if not getattr(args, "from_cluster", False):
            raise SourceError(
                ["labels: no files given. Fix: give a saved `kubectl get nodes -o json`, or --from-cluster"]
            )
        from hypertopo.importer.live import live_nodes

        nodes, where = live_nodes(args.kubeconfig, args.context)
        return labels_fabric(
            nodes, file=where, lines={}, keys=keys, switch_type=args.switch_type, gpu_map=gpu_map
        )
    fabric = Fabric()
    problems = []
    for path in files:
        nodes, lines = read_nodes_file(path)
        fabric.merge(
            labels_fabric(
                nodes, file=path, lines=lines, keys=keys, switch_type=args.switch_type, gpu_map=gpu_map
            ),
            problems,
        )
    if problems:
        raise SourceError(problems)
    return fabric
