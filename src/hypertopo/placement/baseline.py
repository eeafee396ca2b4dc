"""The seed's "GPU-model affinity only" baseline: the same jobs without topology constraints.

:func:`simple_affinity` drops ``networkTopology`` (job, partitions, PodGroup, Deployment
annotations) and the switch / switch-type node affinity; :func:`baseline` runs the result
once with the deterministic tie-break and then with ties broken at random (seeded) for
``expected`` values, since with simple affinity most nodes of a GPU model tie.

The random runs are reproducible: their number depends on the input size only
(:func:`default_samples`, never on the machine's speed), each run ``k`` uses ``random.Random(seed
+ k)``, and :func:`~hypertopo.placement.engine.predict` gives the baseline the nodes in natural
name order, so the same inventory gives the same figures whether its Nodes come from the
inventory (``plan.yml``) or from the API server (``site.yml``, which lists them by name).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.placement.jobs import ANN_TOPO_MODE, ANN_TOPO_TIER, JobIn, parse_job
from hypertopo.placement.model import ALLOCATED, RUNNING
from hypertopo.placement.netcost import PairClassifier, ethernet_fraction, pair_summary
from hypertopo.placement.plugins import gang
from hypertopo.placement.result import ethernet_share, roles_of, shape
from hypertopo.placement.session import Session, run_session
from hypertopo.placement.world import World
from hypertopo.topology.labels import LABEL_SWITCH, LABEL_SWITCH_TYPE

DEFAULT_BASELINE_SAMPLES = 16
#: The most random tie-break runs one may ask for (each is a whole simulated session).
MAX_BASELINE_SAMPLES = 1000
#: With ``baseline_samples=None``: the random tie-break runs fit in this budget of work, a run
#: costing its nodes times its pods (in sixteens) plus the nodes it dry-runs (machine-independent)
BASELINE_WORK_BUDGET = 330_000
#: The node-affinity keys the baseline drops.
SWITCH_KEYS = (LABEL_SWITCH_TYPE, LABEL_SWITCH)


def _strip_affinity(spec: dict[str, Any], keys: Sequence[str]) -> None:
    selector = spec.get("nodeSelector")
    if isinstance(selector, dict):
        for key in keys:
            selector.pop(key, None)
    node_aff = (
        ((spec.get("affinity") or {}).get("nodeAffinity")) if isinstance(spec.get("affinity"), dict) else None
    )
    if not isinstance(node_aff, dict):
        return
    required = node_aff.get("requiredDuringSchedulingIgnoredDuringExecution")
    if isinstance(required, dict):
        for term in required.get("nodeSelectorTerms") or []:
            if isinstance(term, dict) and isinstance(term.get("matchExpressions"), list):
                term["matchExpressions"] = [
                    e for e in term["matchExpressions"] if not (isinstance(e, dict) and e.get("key") in keys)
                ]
    for pref in node_aff.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        term = pref.get("preference") if isinstance(pref, dict) else None
        if isinstance(term, dict) and isinstance(term.get("matchExpressions"), list):
            term["matchExpressions"] = [
                e for e in term["matchExpressions"] if not (isinstance(e, dict) and e.get("key") in keys)
            ]


def simple_affinity(obj: Mapping[str, Any], keys: Sequence[str] = SWITCH_KEYS) -> dict[str, Any]:
    """The job without topology constraints and without switch affinity (GPU-model affinity only)."""
    out = copy.deepcopy(dict(obj))
    spec = out.get("spec")
    if not isinstance(spec, dict):
        return out
    kind = out.get("kind")
    if kind == "Job":
        spec.pop("networkTopology", None)
        for task in spec.get("tasks") or []:
            if not isinstance(task, dict):
                continue
            if isinstance(task.get("partitionPolicy"), dict):
                task["partitionPolicy"].pop("networkTopology", None)
            tspec = (task.get("template") or {}).get("spec")
            if isinstance(tspec, dict):
                _strip_affinity(tspec, keys)
    elif kind in ("Deployment", "StatefulSet"):
        template = spec.get("template") or {}
        ann = (template.get("metadata") or {}).get("annotations")
        if isinstance(ann, dict):
            ann.pop(ANN_TOPO_MODE, None)
            ann.pop(ANN_TOPO_TIER, None)
        if isinstance(template.get("spec"), dict):
            _strip_affinity(template["spec"], keys)
    elif kind == "PodGroup":
        spec.pop("networkTopology", None)
        for policy in spec.get("subGroupPolicy") or []:
            if isinstance(policy, dict):
                policy.pop("networkTopology", None)
    return out


def baseline(world: World, job_objs: Sequence[Any], samples: int | None, seed: int) -> dict[str, Any]:
    """The simple-affinity run of ``job_objs`` (shaped like a prediction) with its ``expected``
    values over ``samples`` random tie-break runs (None: :func:`default_samples`)."""
    base_ins = [parse_job(simple_affinity(obj), i, world.pods) for i, obj in enumerate(job_objs)]
    base_session = run_session(world, base_ins)
    if samples is None:
        samples = default_samples(base_session)
    base = shape(base_session)
    base["description"] = (
        "simple affinity: the same jobs without networkTopology/partition topology and without "
        f"{LABEL_SWITCH}(-type) affinity (GPU-model affinity only); deterministic tie-break"
    )
    base["ethernet_pod_fraction"] = ethernet_share(base_session)
    base["expected"] = _expected(world, base_ins, samples, seed) if samples > 0 else None
    if samples <= 0:
        base["expected_skipped"] = (
            "the input is too large for random tie-break runs within the baseline's work budget "
            "(pass baseline_samples to force)"
        )
    return base


def default_samples(session: Session) -> int:
    """How many random tie-break runs :data:`BASELINE_WORK_BUDGET` affords (at most
    :data:`DEFAULT_BASELINE_SAMPLES`): a run costs about its nodes times its pods to place (in
    sixteens) plus the nodes of every HyperNode it dry-runs, as in the first run."""
    pods = sum(1 for job in session.jobs for t in job.tasks if t.status != RUNNING)
    cost = len(session.world.nodes) * max(1, -(-pods // 16)) + session.sched.work
    return min(DEFAULT_BASELINE_SAMPLES, BASELINE_WORK_BUDGET // max(cost, 1))


def _expected(world: World, job_ins: Sequence[JobIn], samples: int, seed: int) -> dict[str, Any]:
    """Averages over ``samples`` runs that break every tie uniformly at random (seeded)."""
    classifier = PairClassifier(world.tree, world.nodes, world.network)
    eth: list[float] = []
    kv_mean: list[float] = []
    kv_worst: list[float] = []
    classes: dict[str, float] = {}
    feasible = 0
    for k in range(samples):
        session = run_session(world, job_ins, random.Random(seed + k))
        placed: list[int] = []
        prefill: list[int] = []
        decode: list[int] = []
        ok = True
        for job in session.jobs:
            ok = ok and job.key not in session.skip and gang.job_ready(job)
            roles = roles_of(job, world.network)
            prefill.extend(roles["prefill"])
            decode.extend(roles["decode"])
            placed.extend(
                t.node for t in job.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING)
            )
        feasible += ok
        eth.append(ethernet_fraction(classifier, placed))
        if prefill and decode:
            summary = pair_summary(classifier, prefill, decode, kv=True)
            if summary:
                kv_mean.append(summary["kv_transfer_ms"]["mean"])
                kv_worst.append(summary["kv_transfer_ms"]["worst"])
                for cls, count in summary["classes"].items():
                    classes[cls] = classes.get(cls, 0.0) + count / summary["pairs"]
    out: dict[str, Any] = {
        "method": f"{samples} runs breaking every tie uniformly at random "
        f"(seeds {seed}..{seed + samples - 1})",
        "samples": samples,
        "all_jobs_feasible_fraction": round(feasible / samples, 4) if samples else None,
        "ethernet_pod_fraction": round(sum(eth) / len(eth), 4) if eth else None,
    }
    if kv_mean:
        out["prefill_decode_kv_transfer_ms"] = {
            "mean": round(sum(kv_mean) / len(kv_mean), 4),
            "worst": round(max(kv_worst), 4),
        }
        out["prefill_decode_classes"] = {c: round(v / len(kv_mean), 4) for c, v in sorted(classes.items())}
    return out
