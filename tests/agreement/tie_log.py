"""The tie trials' steps as vc-scheduler logs them (``--v=4``): per run, the order the job's
gradient tried the two leaves in (``allocateForJob``: "Try to allocate resource for job in
hyperNode", one line per HyperNode of the gradient, in its order), each leaf's score (the
network-topology-aware plugin's "hyperNode score is: map[leaf:score]" that follows) and the leaf
picked ("Allocate job to hyperNode success"). Splits the predicted law: the gradient keeps the
spine's ``spec.members`` order with chance 25/32 (two rotations); the two scores are equal in
floats with chance 5/8 (each leaf's binpack sum takes the insertion order's value with chance
3/4); with different scores the higher wins; with equal ones the score map's iteration picks the
leaf tried first with chance 7/8.

Usage::

    HYPERTOPO_CLUSTER_EXTRA_ARGS_VC_SCHEDULER=--v=3 .venv/bin/python -m tests.agreement.run_explain \\
        --scan 0 --tie-trials 40 --keep-logs LOGS
    .venv/bin/python -m tests.agreement.tie_log LOGS/vc-scheduler.log [MORE LOGS]
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .run_explain import TIE_ARMS, binomial_p

TRY = re.compile(r'"Try to allocate resource for job in hyperNode" job="([^/"]+)/[^"]*" hyperNode="([^"]+)"')
SCORE = re.compile(r"hyperNode score is: map\[([^:\]]+):([0-9.e+-]+)\]")
DONE = re.compile(r'"Allocate job to hyperNode success" job="([^/"]+)/[^"]*" hyperNode="([^"]+)"')
RUN = re.compile(r"-tie(?:-(\d+))?$")


@dataclass
class TieStep:
    namespace: str
    arm: int  # index in TIE_ARMS
    tried: list[str]  # the gradient's order, the attempt that placed the job
    picked: str
    scores: dict[str, float]  # per leaf tried, its score (``--v=4``; empty at lower verbosity)


def tie_steps(lines: Iterable[str], arms: int = len(TIE_ARMS)) -> list[TieStep]:
    """Per tie run in the log, its gradient's order and the leaf picked (runs of the scenario
    ``tie`` take the arms in turn: run k is arm (k - 1) mod ``arms``)."""
    tried: dict[str, list[str]] = {}
    scores: dict[str, dict[str, float]] = {}
    last: str | None = None  # the namespace of the last "Try" line (its score follows)
    out = []
    for line in lines:
        if m := TRY.search(line):
            ns, hn = m.groups()
            run = tried.setdefault(ns, [])
            if hn in run:  # a new attempt (another session)
                run.clear()
                scores[ns] = {}
            run.append(hn)
            last = ns
        elif (m := SCORE.search(line)) and last is not None:
            hn, value = m.groups()
            if hn in tried.get(last, ()):
                scores.setdefault(last, {})[hn] = float(value)
        elif m := DONE.search(line):
            ns, hn = m.groups()
            k = RUN.search(ns)
            if k is None:
                continue
            arm = (int(k.group(1) or 1) - 1) % arms
            out.append(TieStep(ns, arm, list(tried.get(ns, [])), hn, dict(scores.get(ns, {}))))
    return out


def summary(steps: Sequence[TieStep], arms: Sequence[tuple[int, int]] = TIE_ARMS) -> str:
    """Per arm and over all arms: how often the gradient kept the spine's members order (listed
    first tried first), how often the two scores were equal, and with equal scores how often the
    leaf tried first was picked, with different ones the higher; binomial p-values against the
    law's parts."""
    lines = [
        "| arm | runs | gradient kept the members order (25/32) | p | scores equal (5/8) | p "
        "| equal: picked the leaf tried first (7/8) | p | different: picked the higher |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    groups = [
        (f"leaf{created} created first, leaf{listed} listed first", [s for s in steps if s.arm == i])
        for i, (created, listed) in enumerate(arms)
    ]
    for name, mine in [*groups, ("all arms", list(steps))]:
        mine = [s for s in mine if len(s.tried) == 2 and len(s.scores) == 2]
        n = len(mine)
        kept = sum(1 for s in mine if s.tried[0] == f"tie-leaf{arms[s.arm][1]}")
        equal = [s for s in mine if len(set(s.scores.values())) == 1]
        differ = [s for s in mine if len(set(s.scores.values())) == 2]
        first = sum(1 for s in equal if s.picked == s.tried[0])
        higher = sum(1 for s in differ if s.scores[s.picked] == max(s.scores.values()))
        lines.append(
            f"| {name} | {n} | {kept} | {binomial_p(kept, n, 25 / 32):.3g} | {len(equal)} | "
            f"{binomial_p(len(equal), n, 5 / 8):.3g} | {first}/{len(equal)} | "
            f"{binomial_p(first, len(equal), 7 / 8):.3g} | {higher}/{len(differ)} |"
        )
    return "\n".join(lines)


def read_steps(path: Path) -> list[TieStep]:
    """The steps of a vc-scheduler log, or of a JSON file :func:`main` wrote with ``--json``."""
    if path.suffix == ".json":
        return [TieStep(**step) for step in json.loads(path.read_text())]
    return tie_steps(path.read_text().splitlines())


def main(argv: Sequence[str] | None = None) -> int:
    """``LOG...``: the summary table; ``--json OUT LOG...``: the steps as JSON too."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = None
    if args[:1] == ["--json"]:
        out, args = Path(args[1]), args[2:]
    steps = [s for log in args for s in read_steps(Path(log))]
    if out is not None:
        out.write_text(json.dumps([vars(s) for s in steps], indent=0) + "\n")
    sys.stdout.write(summary(steps) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
