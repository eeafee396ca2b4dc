"""Run generated scenarios against the real vc-scheduler and compare with the engine.

Usage (from the repository root)::

    .venv/bin/python -m tests.agreement.run_agreement --count 60 --report docs/agreement-report.md

A private local control plane is started in a temporary directory
(:func:`hypertopo.cluster.local_cluster`: Volcano v1.15.1 with the ``scheduler_config``
role's configuration, stopped however the run ends), every scenario is created in it,
vc-scheduler places the jobs one after the other, and each job's outcome is compared
with :func:`hypertopo.placement.predict` fed with the very objects read back from the
API server just before the job was created (nodes, HyperNodes, bound pods, earlier
jobs) and the configuration file vc-scheduler runs with. The comparison is
:func:`tests.agreement.compare.compare`. Scenario objects are deleted before
the next scenario starts.

``--only a017`` reruns single scenarios; ``--json FILE`` keeps the raw outcomes.
"""

from __future__ import annotations

import argparse
import json
import platform
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypertopo.cluster import ApiError, LocalCluster, NodeSpec, local_cluster
from hypertopo.cluster.local import HYPERNODES, JOBS
from hypertopo.placement import predict

from .compare import compare
from .generator import DEFAULT_SEED, MINIMAL_SHARE, Scenario, scenario

#: no new binding for this long (about 8 scheduling periods of 1 s) = the job has settled
QUIET_S = 8.0
#: time for vc-scheduler's informers to see a scenario's nodes, HyperNodes and bound pods
CACHE_SYNC_S = 2.0
POLL_S = 0.25

Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- outcomes


@dataclass
class JobRun:
    sid: str
    job: str
    verdict: dict[str, Any]
    predicted: dict[str, Any]
    observed: dict[str, str | None]
    actual_leaves: dict[str, int]
    actual_hypernode: str | None
    podgroup: str
    seconds: float

    @property
    def agree(self) -> bool:
        return bool(self.verdict.get("agree"))


@dataclass
class ScenarioRun:
    scenario: Scenario
    namespace: str
    jobs: list[JobRun] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def agree(self) -> bool:
        return self.error is None and all(j.agree for j in self.jobs)


# --------------------------------------------------------------------------- running one scenario


def _lca_and_leaves(
    nodes: Sequence[Mapping[str, Any]], hypernodes: Sequence[Mapping[str, Any]], bound: Iterable[str]
) -> tuple[str | None, dict[str, int]]:
    from hypertopo.placement.index import NodeIndex
    from hypertopo.placement.objects import parse_hypernode, parse_node
    from hypertopo.placement.tree import VIRTUAL_ROOT, Tree

    parsed = [parse_node(obj, i) for i, obj in enumerate(nodes)]
    index = NodeIndex(parsed)
    tree = Tree([parse_hypernode(obj, i) for i, obj in enumerate(hypernodes)], parsed, index)
    idx = [index.by_name[n] for n in bound if n in index.by_name]
    if not idx:
        return None, {}
    leaves: dict[str, int] = {}
    for i in idx:
        leaf = tree.node_leaf[i] or VIRTUAL_ROOT
        leaves[leaf] = leaves.get(leaf, 0) + 1
    return tree.lca_of_nodes(idx), dict(sorted(leaves.items()))


class Runner:
    """Runs scenarios one after the other in one (private) cluster."""

    def __init__(self, cluster: LocalCluster, *, run_id: str | None = None, log: Log = _stderr) -> None:
        self.cluster = cluster
        self.run_id = run_id or secrets.token_hex(2)
        self.log = log
        self.conf = cluster.scheduler_conf()
        self._runs: dict[str, int] = {}  # scenario id -> times run (a rerun gets a new namespace)

    def run(self, sc: Scenario) -> ScenarioRun:
        t0 = time.monotonic()
        self._runs[sc.sid] = self._runs.get(sc.sid, 0) + 1
        ns = f"agr-{self.run_id}-{sc.sid}" + (f"-{self._runs[sc.sid]}" if self._runs[sc.sid] > 1 else "")
        out = ScenarioRun(sc, ns)
        try:
            self._create(sc, ns)
            earlier: list[dict[str, Any]] = []
            for body in sc.jobs:
                job = {**body, "metadata": {**body["metadata"], "namespace": ns}}
                out.jobs.append(self._run_job(sc, ns, job, earlier))
                earlier.append(self.cluster.get(f"{JOBS}/namespaces/{ns}/jobs/{job['metadata']['name']}"))
        except (ApiError, OSError, AssertionError, ValueError) as exc:
            out.error = f"{type(exc).__name__}: {exc}"
        finally:
            try:
                self._cleanup(sc, ns)
            except (ApiError, OSError, AssertionError) as exc:
                out.error = (out.error + "; " if out.error else "") + f"clean-up: {exc}"
        out.seconds = time.monotonic() - t0
        return out

    # ---- steps

    def _create(self, sc: Scenario, ns: str) -> None:
        c = self.cluster
        c.create_namespace(ns)
        c.create_nodes(NodeSpec.of(n) for n in sc.nodes)
        for hn in sc.hypernodes:
            c.create(hn)
        for pod in sc.preoccupied:
            c.create(pod, namespace=ns)
        time.sleep(CACHE_SYNC_S)

    def _snapshot(self, sc: Scenario, ns: str) -> tuple[list[Any], list[Any], list[Any]]:
        prefix = f"{sc.sid}-"
        nodes = [n for n in self.cluster.list("/api/v1/nodes") if n["metadata"]["name"].startswith(prefix)]
        hns = [h for h in self.cluster.list(HYPERNODES) if h["metadata"]["name"].startswith(prefix)]
        pods = self.cluster.pods(ns)
        return nodes, hns, pods

    def _run_job(self, sc: Scenario, ns: str, job: dict[str, Any], earlier: list[dict[str, Any]]) -> JobRun:
        name = job["metadata"]["name"]
        nodes, hns, pods = self._snapshot(sc, ns)
        prediction = predict(
            jobs=[*earlier, job],
            nodes=nodes,
            hypernodes=hns,
            pods=pods,
            scheduler_conf=self.conf,
            baseline=False,
        )
        t0 = time.monotonic()
        self.cluster.create_job(job)
        replicas = sum(int(t["replicas"]) for t in job["spec"]["tasks"])
        placement = self._settle(ns, name, replicas)
        seconds = time.monotonic() - t0
        after = self.cluster.pods(ns)
        verdicts = {v["job"]: v for v in compare(prediction, after, nodes, hns)}
        predicted = next(j for j in prediction["jobs"] if j["name"] == name)
        actual_hn, actual_leaves = _lca_and_leaves(nodes, hns, [n for n in placement.values() if n])
        run = JobRun(
            sc.sid,
            name,
            verdicts[f"{ns}/{name}"],
            predicted,
            placement,
            actual_leaves,
            actual_hn,
            self.cluster.podgroup_summary(ns, name, brief=True),
            seconds,
        )
        status = "agree" if run.agree else "MISMATCH " + "; ".join(run.verdict["details"])
        self.log(
            f"  {sc.sid}/{name}: predicted {'feasible' if predicted['feasible'] else 'pending'} "
            f"{predicted['hypernode'] or ''}, bound {sum(1 for n in placement.values() if n)}/{replicas} "
            f"({seconds:.1f} s): {status}"
        )
        return run

    def _settle(self, ns: str, job: str, replicas: int, *, timeout: float = 120.0) -> dict[str, str | None]:
        """Wait until all pods are bound, or nothing changed for :data:`QUIET_S` seconds.

        "Changed" covers pods being created too: the job controller creates them only
        once the enqueue action has admitted the PodGroup (Inqueue), so a job the queue
        cannot admit has no pods at all and settles as Pending.
        """
        start = changed = time.monotonic()
        placement = self.cluster.placement(ns, job)
        while True:
            if len(placement) >= replicas and all(placement.values()):
                return placement
            now = time.monotonic()
            if now - changed >= QUIET_S:
                return placement
            if now - start > timeout:
                raise AssertionError(f"{ns}/{job}: still changing after {timeout:.0f} s: {placement}")
            time.sleep(POLL_S)
            nxt = self.cluster.placement(ns, job)
            if nxt != placement:
                changed = time.monotonic()
            placement = nxt

    def _cleanup(self, sc: Scenario, ns: str) -> None:
        c = self.cluster
        deadline = time.monotonic() + 30
        while True:
            pods = c.pods(ns)
            c.delete_jobs(ns)
            if not pods and not c.list(f"{JOBS}/namespaces/{ns}/jobs"):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{ns}: pods or jobs left after 30 s")
            time.sleep(0.5)
        for hn in reversed(sc.hypernodes):
            c.delete(hn, grace_period_seconds=None)
        c.delete_nodes(n["metadata"]["name"] for n in sc.nodes)
        time.sleep(1.0)  # let vc-scheduler's cache drop them before the next scenario


# --------------------------------------------------------------------------- statistics and report


def stats(runs: Sequence[ScenarioRun]) -> dict[str, Any]:
    jobs = [j for r in runs for j in r.jobs]
    s: dict[str, Any] = {
        "scenarios": len(runs),
        "scenario_errors": sum(1 for r in runs if r.error),
        "scenarios_agreeing": sum(1 for r in runs if r.agree),
        "jobs": len(jobs),
        "jobs_agreeing": sum(1 for j in jobs if j.agree),
        "bound": sum(1 for j in jobs if any(j.observed.values())),
        "pending": sum(1 for j in jobs if not any(j.observed.values())),
        "feasibility_agree": sum(1 for j in jobs if j.verdict["checks"].get("feasibility")),
        "pods_checked": sum(1 for j in jobs if j.verdict["checks"].get("pods") is not None),
        "pods_agree": sum(1 for j in jobs if j.verdict["checks"].get("pods")),
        "hypernode_checked": sum(1 for j in jobs if j.verdict["checks"].get("hypernode") is not None),
        "hypernode_agree": sum(1 for j in jobs if j.verdict["checks"].get("hypernode")),
        "hypernode_exact": sum(
            1
            for j in jobs
            if j.verdict["checks"].get("hypernode") and j.actual_hypernode == j.predicted["hypernode"]
        ),
        "leaves_checked": sum(1 for j in jobs if j.verdict["checks"].get("leaves") is not None),
        "leaves_agree": sum(1 for j in jobs if j.verdict["checks"].get("leaves")),
        "leaves_tie_skipped": sum(
            1 for j in jobs if "leaves" in j.verdict["checks"] and j.verdict["checks"]["leaves"] is None
        ),
        "hypernode_ties": sum(
            1 for j in jobs if any(t.get("level") == "hypernode" for t in j.predicted.get("ties") or [])
        ),
        "seconds": round(sum(r.seconds for r in runs), 1),
        "jobs_minimal": sum(1 for r in runs for job in r.scenario.jobs if "queue" not in job["spec"]),
        "minimal_agreeing": sum(
            1
            for r in runs
            for j in r.jobs
            if j.agree
            and any(
                job["metadata"]["name"] == j.job and "queue" not in job["spec"] for job in r.scenario.jobs
            )
        ),
    }
    s["tie_set_hits"] = s["hypernode_agree"] - s["hypernode_exact"]
    for level in ("task-order", "choices"):
        with_tie = [j for j in jobs if _outcome_tie(j, level) is not None]
        s[f"{level}_ties"] = len(with_tie)
        s[f"{level}_listed"] = sum(1 for j in with_tie if _listed_outcome(j, level))
    return s


def _outcome_tie(j: JobRun, level: str) -> dict[str, Any] | None:
    return next((t for t in j.predicted.get("ties") or [] if t.get("level") == level), None)


def _listed_outcome(j: JobRun, level: str) -> bool:
    """Whether vc-scheduler's outcome (HyperNode and pods per leaf) is one the tie lists."""
    tie = _outcome_tie(j, level)
    if tie is None:
        return False
    bound = any(j.observed.values())
    for o in tie["outcomes"]:
        if not bound and not o["feasible"]:
            return True
        if (
            bound
            and o["feasible"]
            and o["hypernode"] == j.actual_hypernode
            and o["leaves"] == j.actual_leaves
        ):
            return True
    return False


def _fmt_leaves(leaves: Mapping[str, int], sid: str) -> str:
    if not leaves:
        return "-"
    return ", ".join(f"{k.removeprefix(sid + '-')}:{v}" for k, v in leaves.items())


def _fmt_ties(ties: Sequence[Mapping[str, Any]], sid: str) -> str:
    nodes = sum(1 for t in ties if t.get("level") == "node")
    parts = [f"{nodes} node-level" if nodes else ""]
    for t in ties:
        level = t.get("level")
        if level == "hypernode":
            parts.append(f"HyperNode-level: {', '.join(_short(c, sid) for c in t['candidates'])}")
        elif level in ("task-order", "choices"):
            outs = "; ".join(
                f"{_short(o['hypernode'], sid)} {_fmt_leaves(o['leaves'], sid)}"
                if o["feasible"]
                else "Pending"
                for o in t["outcomes"]
            )
            parts.append(f"{level} outcomes: {outs}")
    return " / ".join(p for p in parts if p) or "none"


def _short(name: str | None, sid: str) -> str:
    return name.removeprefix(sid + "-") if name else "-"


def _pct(a: int, b: int) -> str:
    return f"{a}/{b}" + (f" ({100 * a / b:.0f} %)" if b else "")


def render_report(
    runs: Sequence[ScenarioRun],
    *,
    base_seed: int,
    wall_s: float,
    explanations: Mapping[str, str] | None = None,
    fixes: Sequence[str] = (),
    command: str = "",
) -> str:
    s = stats(runs)
    explanations = explanations or {}
    lines = [
        "# Agreement report: placement engine vs the real vc-scheduler (Volcano v1.15.1)",
        "",
        f"Generated by `{command or 'python -m tests.agreement.run_agreement'}` "
        f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {platform.machine()}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
        f"generator seed {base_seed}; wall time {wall_s:.0f} s.",
        "",
        "Method: one private local control plane installed as Volcano's Helm chart installs it",
        "(etcd, kube-apiserver, kube-controller-manager, Volcano's admission webhooks served by",
        "vc-webhook-manager, vc-controller-manager and vc-scheduler v1.15.1 with `--schedule-period=1s`",
        "and the `scheduler_config` role's configuration with network-topology-aware, kwok running the",
        "nodes). For every scenario of `tests/agreement/generator.py`: create its nodes, HyperNodes and",
        "pre-occupying bound pods; then, job after job, read back nodes, HyperNodes and pods from the",
        "API server, run `hypertopo.placement.predict` on them (plus the earlier jobs as read back,",
        "and the scheduler's own configuration file) and on the job as written (a seeded "
        f"{MINIMAL_SHARE:.0%} draw,",
        f"{s['jobs_minimal']} of the {s['jobs']} jobs here, leaves out the fields Volcano's mutating webhook",
        "fills in: the prediction applies its defaults),",
        "create the job through the API server (so through Volcano's mutating and validating",
        "webhooks, as upstream's e2e tests create theirs), wait until all its",
        f"pods are bound or no binding happened for {QUIET_S:.0f} s, and compare with",
        "`tests.agreement.compare.compare`. Everything is deleted before the next scenario.",
        "",
        "The three checks: feasibility (some pod bound vs none) identical; the lowest common HyperNode",
        "of the bound pods equal to the predicted one or to the HyperNode of another outcome the",
        "prediction reports where Volcano is random (`task-order`: equal-index pods of different",
        "tasks, ordered by creation time then UID; `choices`: other picks at HyperNode-level score",
        "ties, followed by replaying the session); pods per leaf equal unless a reported tie could",
        "change them (a node tie spanning leaves, a HyperNode-level tie, or outcomes with other leaf",
        "counts), in which case the job counts as not comparable. The number of bound pods is checked",
        "too.",
        "",
        "## Numbers",
        "",
        "| measure | result |",
        "|---|---|",
        f"| scenarios run (errors) | {s['scenarios']} ({s['scenario_errors']}) |",
        f"| scenarios where every job agrees | {_pct(s['scenarios_agreeing'], s['scenarios'])} |",
        f"| jobs (bound by vc-scheduler / left Pending) | {s['jobs']} ({s['bound']} / {s['pending']}) |",
        f"| jobs written without the webhook's defaults, agreeing on all checks | "
        f"{_pct(s['minimal_agreeing'], s['jobs_minimal'])} |",
        f"| jobs agreeing on all checks | {_pct(s['jobs_agreeing'], s['jobs'])} |",
        f"| feasibility (bound vs Pending) identical | {_pct(s['feasibility_agree'], s['jobs'])} |",
        f"| number of bound pods identical (feasible jobs) | {_pct(s['pods_agree'], s['pods_checked'])} |",
        "| LCA HyperNode equal or in the reported tie set | "
        f"{_pct(s['hypernode_agree'], s['hypernode_checked'])}"
        f" - {s['hypernode_exact']} equal to the predicted one, {s['tie_set_hits']} tie-set hits "
        f"({s['hypernode_ties']} jobs had a HyperNode-level tie reported) |",
        f"| per-leaf pod counts equal (no leaf-level tie reported) | "
        f"{_pct(s['leaves_agree'], s['leaves_checked'])}; {s['leaves_tie_skipped']} jobs not comparable "
        "(a reported tie spans leaves) |",
        "| jobs with a `task-order` tie (of which vc-scheduler's HyperNode and pods per leaf are one "
        f"of the listed outcomes) | {s['task-order_ties']} ({s['task-order_listed']}) |",
        "| jobs with a `choices` tie (of which vc-scheduler's HyperNode and pods per leaf are one of "
        f"the listed outcomes) | {s['choices_ties']} ({s['choices_listed']}) |",
        f"| time in scenarios | {s['seconds']:.0f} s |",
        "",
    ]
    if fixes:
        lines += ["## Engine bugs found by these runs and fixed", ""]
        lines += [f"- {fix}" for fix in fixes]
        lines.append("")
    lines += ["## Mismatches", ""]
    bad = [(r, j) for r in runs for j in r.jobs if not j.agree]
    errors = [r for r in runs if r.error]
    if not bad and not errors:
        lines += ["None: every job agrees on every check.", ""]
    for r in errors:
        lines += [f"### {r.scenario.sid}: scenario error", "", f"`{r.error}`", ""]
    for r, j in bad:
        key = f"{j.sid}/{j.job}"
        sid = j.sid
        lines += [
            f"### {key}",
            "",
            f"Scenario: {r.scenario.summary()}",
            "",
            f"- checks: {json.dumps(j.verdict['checks'])}; " + "; ".join(j.verdict["details"]),
            f"- predicted: feasible={j.predicted['feasible']}, "
            f"HyperNode {_short(j.predicted['hypernode'], sid)}"
            f" (tier {j.predicted['tier']}), leaves {_fmt_leaves(j.predicted['leaves'], sid)}, "
            f"ties {_fmt_ties(j.predicted.get('ties') or [], sid)}",
            f"- vc-scheduler: {sum(1 for n in j.observed.values() if n)}/{len(j.observed)} bound, "
            f"HyperNode {_short(j.actual_hypernode, sid)}, leaves {_fmt_leaves(j.actual_leaves, sid)}, "
            f"PodGroup {j.podgroup}",
            f"- explanation: {explanations.get(key, '(not yet explained)')}",
            "",
        ]
    lines += [
        "## All jobs",
        "",
        "Leaf and HyperNode names without the scenario prefix; `*` = a tie was reported for the job.",
        "",
        "| job | scenario | predicted | vc-scheduler | agree |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        for i, j in enumerate(r.jobs):
            sid = j.sid
            pred = (
                f"{_short(j.predicted['hypernode'], sid)} (t{j.predicted['tier']}) "
                f"{_fmt_leaves(j.predicted['leaves'], sid)}"
                if j.predicted["feasible"]
                else "Pending"
            ) + (" *" if j.predicted.get("ties") else "")
            nbound = sum(1 for n in j.observed.values() if n)
            act = (
                f"{_short(j.actual_hypernode, sid)} {_fmt_leaves(j.actual_leaves, sid)}"
                if nbound
                else f"Pending ({j.podgroup})"
            )
            where = r.scenario.summary() if i == 0 else "(same)"
            lines.append(f"| {sid}/{j.job} | {where} | {pred} | {act} | {'yes' if j.agree else '**no**'} |")
    lines.append("")
    return "\n".join(lines)


def save_json(
    path: Path, runs: Sequence[ScenarioRun], *, base_seed: int, wall_s: float, command: str
) -> None:
    """The raw outcomes (and how they were produced), enough to render the report again."""
    data = {
        "base_seed": base_seed,
        "wall_s": wall_s,
        "command": command,
        "runs": [
            {
                "sid": r.scenario.sid,
                "namespace": r.namespace,
                "error": r.error,
                "seconds": r.seconds,
                "scenario": {
                    "nodes": r.scenario.nodes,
                    "hypernodes": r.scenario.hypernodes,
                    "preoccupied": r.scenario.preoccupied,
                    "jobs": r.scenario.jobs,
                },
                "jobs": [j.__dict__ for j in r.jobs],
            }
            for r in runs
        ],
    }
    path.write_text(json.dumps(data, indent=1, default=str))


def load_json(path: Path) -> tuple[list[ScenarioRun], int, float, str]:
    """Outcomes saved by :func:`save_json` (scenarios regenerated from their seed)."""
    data = json.loads(path.read_text())
    base_seed = int(data["base_seed"])
    runs = []
    for r in data["runs"]:
        run = ScenarioRun(scenario(int(r["sid"].lstrip("a")), base_seed), r["namespace"])
        run.error, run.seconds = r["error"], r["seconds"]
        run.jobs = [JobRun(**j) for j in r["jobs"]]
        runs.append(run)
    return runs, base_seed, float(data["wall_s"]), str(data["command"])


def write_report(
    path: Path, runs: Sequence[ScenarioRun], *, base_seed: int, wall_s: float, command: str
) -> None:
    from .explanations import EXPLANATIONS, FIXES

    path.write_text(
        render_report(
            runs, base_seed=base_seed, wall_s=wall_s, explanations=EXPLANATIONS, fixes=FIXES, command=command
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=60, help="number of scenarios (default 60)")
    ap.add_argument("--start", type=int, default=0, help="first scenario index")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator base seed")
    ap.add_argument("--only", nargs="*", default=[], help="scenario ids to run (e.g. a017)")
    ap.add_argument("--report", type=Path, help="write the Markdown report here")
    ap.add_argument("--json", type=Path, help="write the raw outcomes here")
    ap.add_argument("--keep-logs", type=Path, help="copy the control plane logs here at the end")
    ap.add_argument(
        "--from-json", type=Path, help="run nothing: render --report from outcomes saved with --json"
    )
    args = ap.parse_args(argv)
    if args.from_json:
        runs, base_seed, wall, command = load_json(args.from_json)
        _stderr(json.dumps(stats(runs), indent=1))
        if args.report:
            write_report(args.report, runs, base_seed=base_seed, wall_s=wall, command=command)
        return 0 if all(r.agree for r in runs) else 1
    if args.only:
        indices = [int(s.lstrip("a")) for s in args.only]
    else:
        indices = list(range(args.start, args.start + args.count))
    command = "python -m tests.agreement.run_agreement " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    t0 = time.monotonic()
    runs: list[ScenarioRun] = []
    # a private control plane, stopped however the run ends (also on Ctrl-C or `kill`)
    with local_cluster(keep_logs=args.keep_logs) as cluster:
        runner = Runner(cluster)
        for i in indices:
            sc = scenario(i, args.seed)
            _stderr(f"{sc.sid}: {sc.summary()}")
            runs.append(runner.run(sc))
            if runs[-1].error:
                _stderr(f"  {sc.sid}: ERROR {runs[-1].error}")
    wall = time.monotonic() - t0
    _stderr(json.dumps(stats(runs), indent=1))
    if args.json:
        save_json(args.json, runs, base_seed=args.seed, wall_s=wall, command=command)
    if args.report:
        write_report(args.report, runs, base_seed=args.seed, wall_s=wall, command=command)
    return 0 if all(r.agree for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
