"""``topology-hints``: predict where Volcano v1.15.1 places jobs, as JSON.

    topology-hints [predict] --hypernodes F --nodes F --jobs F [--pods F] [--scheduler-conf F] [--network F]
                   [--what-if CHANGES]
    topology-hints SUBCOMMAND ...   (the other subcommands: ``SUBCOMMANDS``)

Files are YAML or JSON: a single object, a ``kind: List`` / ``*List`` with
``items``, or several YAML documents. ``--scheduler-conf`` takes the
``volcano-scheduler.conf`` content (``actions``/``tiers``) or the ConfigMap that
holds it; without it the project's default configuration is assumed (the
network-topology-aware plugin enabled with the scheduler_config role's
arguments). Exit status: 0 with a prediction (also when a job is infeasible),
2 with a one-line message on malformed input: a file that cannot be read or parsed, nests
deeper than ``MAX_DEPTH`` levels, or (``--jobs``, ``--nodes``) holds no object, and every
object or field the engine refuses (the message names the object and the field).

``--what-if CHANGES`` (a YAML/JSON list of changes, :mod:`hypertopo.placement.changes`) predicts
twice, on the inputs and on the inputs with the changes applied, and prints ``{"changes", "jobs"
(per job ``before``/``after``), "before", "after"}`` (:mod:`hypertopo.placement.whatif`); a
malformed file or a change the inputs cannot take exits 2, one line per mistake naming the file,
the list index and the field. ``--table`` then shows the table of the changed world.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from hypertopo.placement import PlacementInputError, coerce_scheduler_conf, predict, preflight
from hypertopo.placement.changes import Change, parse_changes
from hypertopo.placement.inputs import as_objects
from hypertopo.placement.whatif import what_if

PROG = "topology-hints"
EXIT_INPUT = 2
EXIT_INTERNAL = 70
#: The deepest nesting of mappings and lists read (Kubernetes objects nest about 15 levels).
MAX_DEPTH = 100
#: ``topology-hints SUBCOMMAND ...``: the module whose ``main(argv)`` runs it (``predict``, the
#: default, is this module).
SUBCOMMANDS: dict[str, str] = {"explain": "hypertopo.cli.explain", "headroom": "hypertopo.cli.headroom"}
JOBS = "objects to place (Volcano Jobs, Deployments, StatefulSets or PodGroups)"

try:
    _LOADER: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _LOADER = yaml.SafeLoader


class InputError(Exception):
    """A file cannot be read or parsed."""


def load_documents(path: str) -> list[Any]:
    """Every document of a YAML/JSON file (empty documents dropped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    docs = _parse(path, text)
    for doc in docs:
        _check_depth(path, doc)
    return [d for d in docs if d is not None]


def _parse(path: str, text: str) -> list[Any]:
    stripped = text.lstrip()
    try:
        if stripped[:1] in ("{", "["):
            try:
                return [json.loads(text)]
            except json.JSONDecodeError:
                pass  # YAML flow style is also allowed
        return list(yaml.load_all(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{path}: not valid YAML or JSON{where}: {problem}") from None
    except RecursionError:
        raise InputError(f"{path}: nested deeper than the {MAX_DEPTH} levels read") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise InputError(f"{path}: not valid YAML or JSON: {exc}") from None


def _check_depth(path: str, doc: Any) -> None:
    """Refuse documents nested deeper than ``MAX_DEPTH`` (checked without recursion)."""
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            raise InputError(f"{path}: nested deeper than the {MAX_DEPTH} levels read")
        stack.extend((child, depth + 1) for child in children)


def load_objects(path: str | None) -> list[Any]:
    if path is None:
        return []
    docs = load_documents(path)
    out: list[Any] = []
    for doc in docs:
        if isinstance(doc, list):
            out.extend(doc)
        else:
            out.append(doc)
    return out


def load_mapping(path: str | None, what: str) -> dict[str, Any] | None:
    if path is None:
        return None
    docs = load_documents(path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise InputError(f"{path}: the {what} file must hold one mapping")
    return docs[0]


def load_scheduler_conf(path: str | None) -> dict[str, Any] | None:
    raw = load_mapping(path, "scheduler conf")
    if raw is None:
        return None
    if raw.get("kind") != "ConfigMap" and "data" not in raw and "tiers" not in raw and "actions" not in raw:
        raise InputError(f"{path}: expected a volcano-scheduler.conf (actions, tiers) or its ConfigMap")
    try:
        return coerce_scheduler_conf(raw)
    except PlacementInputError as exc:
        raise InputError(f"{path}: {exc}") from None


def add_input_arguments(
    parser: argparse.ArgumentParser, *, jobs_required: bool = True, inputs_required: bool = True
) -> None:
    """The input flags every subcommand shares (one definition: predict, explain, headroom).
    ``inputs_required`` False: ``--hypernodes`` and ``--nodes`` are optional (a subcommand that can
    read them elsewhere, e.g. ``explain --from-cluster``, checks them itself)."""
    parser.add_argument("--hypernodes", required=inputs_required, help="HyperNode objects (YAML/JSON)")
    parser.add_argument("--nodes", required=inputs_required, help="Node objects (YAML/JSON)")
    parser.add_argument(
        "--jobs",
        required=jobs_required,
        help="Volcano Jobs, Deployments, StatefulSets or PodGroups to place, in order",
    )
    parser.add_argument(
        "--pods", help="existing Pods (bound ones use resources; pending ones join their PodGroup)"
    )
    parser.add_argument(
        "--priority-classes",
        help="PriorityClass objects (a job's priority is its PodGroup's priorityClassName's value)",
    )
    parser.add_argument(
        "--scheduler-conf", help="volcano-scheduler.conf or its ConfigMap (default: the project's)"
    )
    parser.add_argument(
        "--network", help="network cost overrides (classes, no_gpudirect, host_copy, kv_model)"
    )
    parser.add_argument(
        "--kv-model", help="KV-cache model (layers, kv_heads, head_dim, dtype, prompt_tokens)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Predict Volcano v1.15.1's placement of jobs (JSON on stdout). "
        f"Subcommands: {', '.join(SUBCOMMANDS)} (``{PROG} SUBCOMMAND --help``).",
    )
    add_input_arguments(parser)
    parser.add_argument("--no-baseline", action="store_true", help="skip the simple-affinity baseline")
    parser.add_argument(
        "--baseline-samples",
        type=int,
        default=None,
        help="random tie-break runs for the baseline's expected values (default: up to 16, fewer on "
        "large inputs; seeded, the same on every machine)",
    )
    parser.add_argument("--table", action="store_true", help="also print the preflight table to stderr")
    parser.add_argument(
        "--what-if",
        metavar="FILE",
        help="hypothetical changes (YAML/JSON list, see hypertopo.placement.changes): predict before "
        "and after them and print {changes, jobs (before/after per job), before, after}",
    )
    return parser


def load_inputs(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`hypertopo.placement.predict` read from the input flags
    of :func:`add_input_arguments` (``jobs`` is empty when ``--jobs`` was not given)."""
    return {
        "jobs": load_required(args.jobs, JOBS) if args.jobs is not None else [],
        "nodes": load_required(args.nodes, "Node objects"),
        "hypernodes": load_objects(args.hypernodes),
        "pods": load_objects(args.pods),
        "scheduler_conf": load_scheduler_conf(args.scheduler_conf),
        "network": load_mapping(args.network, "network"),
        "kv_model": load_mapping(args.kv_model, "kv model"),
        "priority_classes": load_objects(getattr(args, "priority_classes", None)),
    }


def guarded(run: Callable[[], int]) -> int:
    """``run()``, with malformed input (exit 2) and internal errors (exit 70) reported in one
    line on stderr, never as a traceback (``HYPERTOPO_DEBUG=1`` shows it)."""
    try:
        return run()
    except (InputError, PlacementInputError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:
        if os.environ.get("HYPERTOPO_DEBUG"):
            raise
        print(
            f"{PROG}: internal error ({type(exc).__name__}: {exc}); rerun with HYPERTOPO_DEBUG=1 for details",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def load_required(path: str, what: str) -> list[Any]:
    """The objects of ``path``; a file without any is an input error."""
    objs = as_objects(load_objects(path), what)
    if not objs:
        raise InputError(f"{path}: no {what} in the file")
    return objs


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[args_list[0]])
        return int(module.main(args_list[1:]))
    if args_list and args_list[0] == "predict":
        args_list = args_list[1:]
    args = build_parser().parse_args(args_list)
    return guarded(lambda: _predict(args))


def load_changes(path: str) -> list[Change]:
    """The what-if changes of ``path`` (one YAML/JSON document: a list); mistakes name the file."""
    docs = load_documents(path)
    if len(docs) != 1:
        raise InputError(f"{path}: the what-if file must hold one list of changes")
    return parse_changes(docs[0], path)


def _predict(args: argparse.Namespace) -> int:
    changes = load_changes(args.what_if) if args.what_if is not None else None
    inputs = load_inputs(args)
    options = {
        "baseline": not args.no_baseline,
        "baseline_samples": None if args.baseline_samples is None else max(args.baseline_samples, 0),
    }
    if changes is not None:
        out = what_if(inputs, changes, args.what_if, **options)
        result = out["after"]
    else:
        out = result = predict(**inputs, **options)
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    if args.table:
        _ok, table, reasons = preflight(result)
        print(table, file=sys.stderr)
        for reason in reasons:
            print(reason, file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
