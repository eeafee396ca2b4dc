"""``python -m hypertopo.report``: verify (when pods are given) and write report.txt/.json/.html.

    python -m hypertopo.report --inventory inventory/seed --predicted hints.json \\
        --pods pods.json --jobs jobs.yaml --out out/report

``--model`` takes the model as JSON/YAML (``Topology.as_dict()``, e.g. saved by the topology
role) instead of ``--inventory``. ``--pods``: ``kubectl get pods -o json`` output, a list, or a
saved ``kubernetes.core.k8s_info`` result. Prints the text report and the file paths.
Exit status: 0 verified (or nothing to verify), 1 verification failed (the report is written
all the same), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from hypertopo.report import FILES, write_report
from hypertopo.report.verify import pod_list, verify
from hypertopo.topology import TopologyError, load_topology


def _load(path: str) -> Any:
    text = Path(path).read_text(encoding="utf-8")
    docs = [d for d in yaml.safe_load_all(text) if d is not None]  # YAML is a superset of JSON
    if len(docs) == 1:
        return docs[0]
    return docs


def _objects(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.get("items") or value.get("resources") or [value])
    return [d for item in value for d in _objects(item)]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m hypertopo.report", description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--inventory", help="inventory directory or file (validated as for the roles)")
    src.add_argument("--model", help="the model as JSON/YAML (Topology.as_dict())")
    ap.add_argument("--predicted", required=True, help="the placement engine's output (JSON/YAML)")
    ap.add_argument("--pods", help="the pods as the API returns them; omit for a prediction-only report")
    ap.add_argument("--jobs", help="the submitted Jobs/PodGroups (for their networkTopology)")
    ap.add_argument("--ib-required-role", action="append", default=[], metavar="ROLE")
    ap.add_argument("--out", required=True, help="directory for " + ", ".join(FILES.values()))
    ap.add_argument("--quiet", action="store_true", help="print only the file paths")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        model = load_topology(args.inventory).as_dict() if args.inventory else _load(args.model)
        predicted = _load(args.predicted)
        if not isinstance(model, dict) or "switches" not in model or "hosts" not in model:
            raise ValueError("the model needs switches and hosts (see Topology.as_dict())")
        if not isinstance(predicted, dict) or not isinstance(predicted.get("jobs"), list):
            raise ValueError("the prediction needs a jobs list (the placement engine's output)")
        verification = None
        if args.pods:
            pods = pod_list(_load(args.pods))
            jobs = _objects(_load(args.jobs)) if args.jobs else []
            verification = verify(predicted, pods, model, ib_required_roles=args.ib_required_role, jobs=jobs)
        paths = write_report(args.out, model, predicted, verification)
    except TopologyError as exc:
        print(f"hypertopo.report: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
        print(f"hypertopo.report: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(paths["text"].read_text(encoding="utf-8"))
    print(json.dumps({k: str(p) for k, p in paths.items()}))
    return 0 if verification is None or verification["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
