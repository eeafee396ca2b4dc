"""``topology-hints explain --job NS/NAME``: why a job is Pending and what would make it fit.

    topology-hints explain --job NS/NAME --hypernodes F --nodes F [--jobs F] [--pods F] ... [--json]
    topology-hints explain --job NS/NAME --from-cluster [--kubeconfig F] [--context C] [--json]

With files, the job is one of ``--jobs`` (placed in order with the others, as ``predict`` does)
or a PodGroup among them; with ``--from-cluster`` every Node, HyperNode, Pod and PriorityClass and
the scheduler ConfigMap are read from the API server (GET/LIST only) and the job is the Volcano
Job, Deployment, StatefulSet or PodGroup of that name. Prints a table per tier and the suggestions
(``--json``: the result of :func:`hypertopo.placement.explain.explain`).
Exit status: 0 with an explanation (also when the job runs or is placeable), 2 for malformed
input, a job that does not exist (the jobs that do are listed when few) or a cluster that
cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypertopo.cli.hints import PROG, InputError, add_input_arguments, guarded, load_inputs
from hypertopo.placement import coerce_scheduler_conf
from hypertopo.placement.explain import explain
from hypertopo.placement.explain_text import explain_text
from hypertopo.placement.forked import usable_cores


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} explain",
        description="Explain why a Volcano job is Pending: per tier and HyperNode what the gang needs "
        "against what is free, which nodes the predicates excluded, and the smallest changes that "
        "make it fit (each re-predicted).",
    )
    parser.add_argument(
        "--job", required=True, help="NAMESPACE/NAME of the Volcano Job, Deployment or PodGroup"
    )
    add_input_arguments(parser, jobs_required=False, inputs_required=False)
    parser.add_argument(
        "--from-cluster", action="store_true", help="read the objects from the API server (read only)"
    )
    parser.add_argument(
        "--kubeconfig", help="kubeconfig for --from-cluster (default: $KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument("--context", help="kubeconfig context for --from-cluster (default: current-context)")
    parser.add_argument("--json", action="store_true", help="print the JSON result instead of the table")
    parser.add_argument(
        "--no-suggest", action="store_true", help="diagnosis only, no re-predicted suggestions"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=usable_cores(),
        help="processes predicting the suggestions (default: the usable CPUs; the same result)",
    )
    return parser


def _from_cluster(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from hypertopo.cluster.live import find_workload, read_world  # the API client
    from hypertopo.cluster.rest import ApiError, Rest

    path = (
        args.kubeconfig
        or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        or str(Path.home() / ".kube" / "config")
    )
    try:
        rest = Rest.from_kubeconfig(path, context=args.context)
    except (OSError, KeyError, StopIteration, ValueError, TypeError) as exc:
        raise InputError(f"{path}: cannot use this kubeconfig ({type(exc).__name__}: {exc})") from None
    try:
        world = read_world(rest)
        job, ref = find_workload(rest, args.job, world["pods"])
    except (ApiError, OSError) as exc:
        raise InputError(f"cannot read the cluster: {exc}") from None
    finally:
        rest.close()
    world["scheduler_conf"] = coerce_scheduler_conf(world["scheduler_conf"])
    return {**world, "jobs": [job], "network": None, "kv_model": None}, ref


def _run(args: argparse.Namespace) -> int:
    if args.from_cluster:
        if args.nodes or args.hypernodes or args.jobs or args.pods:
            raise InputError("--from-cluster reads every object from the cluster: give no input files")
        inputs, ref = _from_cluster(args)
    else:
        if not args.nodes or args.hypernodes is None:
            raise InputError("--nodes and --hypernodes are required (or --from-cluster)")
        inputs, ref = load_inputs(args), args.job
    result = explain(inputs, ref, suggest=not args.no_suggest, workers=max(1, args.workers))
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(explain_text(result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    return guarded(lambda: _run(args))
