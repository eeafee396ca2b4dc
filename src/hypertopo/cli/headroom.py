"""``topology-hints headroom``: how far each job can grow, and free pods per HyperNode.

    topology-hints headroom --hypernodes F --nodes F --jobs F [--pods F] [...]
                            [--job NS/NAME [--task TASK] [--replicas N]] [--up-to N] [--json]

The input flags are those of ``topology-hints predict``. Prints a table by default, the JSON of
:func:`hypertopo.placement.headroom.headroom` with ``--json``. ``--replicas N`` (with ``--job``
and, for a Volcano Job of several tasks, ``--task``) checks that count too: "can I scale decode
from 12 to 20 and stay on InfiniBand?". Exit 0 with an answer, 2 on bad input (an unknown job or
task, a malformed file), 70 on an internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.cli.hints import PROG, add_input_arguments, guarded, load_inputs
from hypertopo.placement.forked import usable_cores
from hypertopo.placement.headroom import headroom
from hypertopo.report.sections import headroom_section, section_text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} headroom",
        description="The largest replica count per job and task that still places (max and max+1 "
        "both predicted), and how many more pods of each task's shape fit under each tier-1 and "
        "tier-2 HyperNode, per GPU model.",
    )
    add_input_arguments(parser)
    parser.add_argument("--job", metavar="NS/NAME", help="only this job (NAMESPACE/NAME or NAME)")
    parser.add_argument("--task", help="only this task of the job (a Volcano Job's task name)")
    parser.add_argument(
        "--replicas", type=int, metavar="N", help="also check this replica count of --job/--task"
    )
    parser.add_argument(
        "--up-to",
        type=int,
        metavar="N",
        help="search no further than N replicas (a job that places N gets 'max N, limited': at least N); "
        "large counts cost a full simulation each",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    return guarded(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    if args.replicas is not None and args.replicas < 0:
        print(f"{PROG} headroom: --replicas: must be >= 0, got {args.replicas}", file=sys.stderr)
        return 2
    if args.up_to is not None and args.up_to < 1:
        print(f"{PROG} headroom: --up-to: must be >= 1, got {args.up_to}", file=sys.stderr)
        return 2
    result = headroom(
        load_inputs(args),
        job=args.job,
        task=args.task,
        replicas=args.replicas,
        up_to=args.up_to,
        workers=usable_cores(),  # the searches of different jobs at once
    )
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_table(result))
    return 0


def render_table(result: Mapping[str, Any]) -> str:
    """The headroom answer for people (what ``--json`` prints, as tables; the report's section)."""
    section = headroom_section(result)
    return section_text({**section, "title": ""}) + "\n"
