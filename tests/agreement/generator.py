"""Seeded random scenarios for the engine-vs-vc-scheduler agreement runs.

A :class:`Scenario` is plain Kubernetes objects, built from one integer seed:

* a HyperNode tree of 1-3 real tiers over 2-16 leaves (1-4 nodes per leaf, at most
  :data:`MAX_NODES` nodes), leaves selecting their nodes by exact name;
* nodes of several GPU models (``gpu-type`` label) and sizes (4 or 8 GPUs, various
  cpu/memory), leaves homogeneous or mixed;
* pre-occupation: pods bound directly (``spec.nodeName``) that hold GPUs, cpu and memory;
* one or two Volcano Jobs, created in order through the API server and so through Volcano's
  admission webhooks (as upstream's e2e creates them): one task or a prefill/decode pair,
  GPU-model ``nodeSelector`` or required node affinity, ``mode`` hard/soft/none with
  ``highestTierAllowed`` 1-3, optional ``partitionPolicy`` (with or without its own
  topology), optional ``minAvailable`` below ``replicas``. About :data:`MINIMAL_SHARE` of the
  jobs are written as a user writes them: the fields the mutating webhook fills in
  (``queue``, ``schedulerName``, ``maxRetry``, the job's ``minAvailable``, a task's
  ``minAvailable`` equal to its replicas) are left out, so the prediction must apply the
  webhook's defaults as the API server does. That choice has its own random stream, so the
  rest of every scenario is what it was before it existed.

Object names carry the scenario id (``a017-n03``, ``a017-leaf2``) so that runs in one
cluster never collide; the namespace is chosen by the runner.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

GPU = "nvidia.com/gpu"
GPU_TYPE = "gpu-type"
SCENARIO_LABEL = "hypertopo.test/agreement"
DEFAULT_SEED = 20240915
MAX_NODES = 40
#: the share of jobs written without the fields Volcano's mutating webhook defaults
MINIMAL_SHARE = 0.4
#: the webhook defaults a minimal job leaves out (``mutate_job.go`` in Volcano v1.15.1)
WEBHOOK_DEFAULTS = {"queue": "default", "schedulerName": "volcano", "maxRetry": 3}

#: model -> (GPU counts per node, cpu choices, memory choices)
MODELS: dict[str, tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...]]] = {
    "h100": ((8,), ("96", "128"), ("768Gi", "1Ti")),
    "a100": ((8, 4), ("64", "96"), ("512Gi", "768Gi")),
    "rtx4090": ((4, 8), ("32", "64"), ("256Gi", "384Gi")),
}


@dataclass
class Scenario:
    sid: str
    seed: int
    tiers: int
    leaves: list[str]
    nodes: list[dict[str, Any]]
    hypernodes: list[dict[str, Any]]  # children before parents
    preoccupied: list[dict[str, Any]]  # Pods without namespace (the runner sets it)
    jobs: list[dict[str, Any]]  # Volcano Jobs without namespace, in creation order
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        gpus = sum(int(n["status"]["allocatable"][GPU]) for n in self.nodes)
        held = sum(
            int(c["resources"]["requests"].get(GPU, 0))
            for p in self.preoccupied
            for c in p["spec"]["containers"]
        )
        return (
            f"{self.tiers} tier(s), {len(self.leaves)} leaves, {len(self.nodes)} nodes, "
            f"{gpus} GPUs ({held} held by {len(self.preoccupied)} bound pods); " + "; ".join(self.notes)
        )


def _node(name: str, model: str, gpus: int, cpu: str, memory: str, leaf: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                GPU_TYPE: model,
                "hypertopo.test/leaf": leaf,
            },
        },
        "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110", GPU: str(gpus)}},
    }


def _hypernode(
    name: str, tier: int, *, nodes: Sequence[str] = (), children: Sequence[str] = ()
) -> dict[str, Any]:
    members = [{"type": "Node", "selector": {"exactMatch": {"name": n}}} for n in nodes]
    members += [{"type": "HyperNode", "selector": {"exactMatch": {"name": c}}} for c in children]
    return {
        "apiVersion": "topology.volcano.sh/v1alpha1",
        "kind": "HyperNode",
        "metadata": {"name": name, "labels": {SCENARIO_LABEL: "true"}},
        "spec": {"tier": tier, "members": members},
    }


def _split(rng: random.Random, items: list[str], groups: int) -> list[list[str]]:
    """``items`` cut into ``groups`` non-empty consecutive runs of random lengths."""
    groups = max(1, min(groups, len(items)))
    cuts = sorted(rng.sample(range(1, len(items)), groups - 1)) if groups > 1 else []
    out, start = [], 0
    for cut in [*cuts, len(items)]:
        out.append(items[start:cut])
        start = cut
    return out


def _container(gpus: int, cpu: str, memory: str) -> dict[str, Any]:
    requests = {"cpu": cpu, "memory": memory}
    if gpus:
        requests[GPU] = str(gpus)
    return {
        "name": "main",
        "image": "registry.k8s.io/pause:3.10",
        "resources": {"requests": dict(requests), "limits": dict(requests)},
    }


def _cpu(rng: random.Random, gpus: int) -> str:
    per_gpu = rng.choice((1, 2, 4, 6))
    milli = max(1, gpus) * per_gpu * 1000 + rng.choice((0, 0, 0, 500))
    return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"


def _memory(rng: random.Random, gpus: int) -> str:
    return f"{max(1, gpus) * rng.choice((8, 16, 32, 48))}Gi"


def _topology(rng: random.Random) -> dict[str, Any] | None:
    roll = rng.random()
    if roll < 0.55:
        return {"mode": "hard", "highestTierAllowed": rng.randint(1, 3)}
    if roll < 0.88:
        return {"mode": "soft", "highestTierAllowed": rng.randint(1, 3)}
    return None


def _affinity(models: list[str]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": GPU_TYPE, "operator": "In", "values": models}]}
                ]
            }
        }
    }


def _task(
    rng: random.Random, name: str, present: list[str], job_tier: int | None, notes: list[str]
) -> dict[str, Any]:
    gpus = rng.choices((1, 2, 4, 8), weights=(3, 3, 3, 1))[0]
    replicas = rng.randint(1, 6)
    spec: dict[str, Any] = {
        "schedulerName": "volcano",
        "restartPolicy": "OnFailure",
        "terminationGracePeriodSeconds": 0,
        "containers": [_container(gpus, _cpu(rng, gpus), _memory(rng, gpus))],
    }
    roll = rng.random()
    if roll < 0.45:
        model = rng.choice(present)
        spec["nodeSelector"] = {GPU_TYPE: model}
        what = model
    elif roll < 0.8:
        models = sorted(rng.sample(present, min(len(present), rng.randint(1, 2))))
        spec["affinity"] = _affinity(models)
        what = "|".join(models)
    else:
        what = "any GPU"
    task: dict[str, Any] = {
        "name": name,
        "replicas": replicas,
        "maxRetry": 3,
        "template": {"metadata": {"labels": {"hypertopo.test/task": name}}, "spec": spec},
    }
    text = f"{name} {replicas}x{gpus} GPU on {what}"
    divisors = [d for d in range(1, replicas + 1) if replicas % d == 0] if replicas > 1 else []
    if divisors and rng.random() < 0.3:
        size = rng.choice(divisors)
        total = replicas // size
        min_parts = rng.choice((total, total, 0, max(1, total - 1)))
        policy: dict[str, Any] = {"totalPartitions": total, "partitionSize": size, "minPartitions": min_parts}
        proll = rng.random()
        if proll < 0.6:
            ptier = 1 if job_tier is None else rng.randint(1, max(1, job_tier))
            policy["networkTopology"] = {"mode": "hard", "highestTierAllowed": ptier}
        elif proll < 0.8:
            policy["networkTopology"] = {"mode": "soft", "highestTierAllowed": 1}
        task["partitionPolicy"] = policy
        task["minAvailable"] = min_parts * size if min_parts > 0 else replicas
        nt = policy.get("networkTopology")
        ptext = f"{nt['mode']} tier {nt['highestTierAllowed']}" if nt else "no topology"
        text += f", partitions {total}x{size} (min {min_parts}, {ptext})"
    elif replicas > 1 and rng.random() < 0.2:
        task["minAvailable"] = rng.randint(1, replicas - 1)
        text += f", minAvailable {task['minAvailable']}"
    else:
        task["minAvailable"] = replicas
    notes.append(text)
    return task


def _job(rng: random.Random, name: str, present: list[str], notes: list[str]) -> dict[str, Any]:
    topology = _topology(rng)
    tier = topology["highestTierAllowed"] if topology else None
    head = f"{name}: " + (f"{topology['mode']} tier {tier}" if topology else "no topology")
    task_notes: list[str] = []
    if rng.random() < 0.5:
        tasks = [_task(rng, "worker", present, tier, task_notes)]
    else:
        tasks = [
            _task(rng, "prefill", present, tier, task_notes),
            _task(rng, "decode", present, tier, task_notes),
        ]
    notes.append(head + " [" + "; ".join(task_notes) + "]")
    spec: dict[str, Any] = {
        "schedulerName": "volcano",
        "queue": "default",
        "maxRetry": 3,
        "minAvailable": sum(int(t["minAvailable"]) for t in tasks),
        "tasks": tasks,
    }
    if topology is not None:
        spec["networkTopology"] = topology
    return {
        "apiVersion": "batch.volcano.sh/v1alpha1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": spec,
    }


def minimal(job: dict[str, Any]) -> dict[str, Any]:
    """``job`` without the fields Volcano's mutating webhook would fill in with the same values."""
    spec = {k: v for k, v in job["spec"].items() if WEBHOOK_DEFAULTS.get(k, object()) != v}
    tasks = []
    for task in spec["tasks"]:
        task = {k: v for k, v in task.items() if k != "maxRetry"}
        if task.get("minAvailable") == task["replicas"] and "partitionPolicy" not in task:
            del task["minAvailable"]
        tasks.append(task)
    spec["tasks"] = tasks
    if spec.get("minAvailable") == sum(int(t.get("minAvailable", t["replicas"])) for t in tasks):
        del spec["minAvailable"]
    return {**job, "spec": spec}


def scenario(index: int, base_seed: int = DEFAULT_SEED) -> Scenario:
    """Scenario number ``index`` of the sequence seeded by ``base_seed`` (pure function)."""
    seed = base_seed * 1000 + index
    rng = random.Random(seed)
    sid = f"a{index:03d}"
    tiers = rng.choices((1, 2, 3), weights=(2, 4, 4))[0]
    n_leaves = rng.randint(2, 6) if tiers == 1 else rng.randint(2, 16) if tiers == 2 else rng.randint(3, 16)
    per_leaf_max = max(1, min(4, MAX_NODES // n_leaves))
    leaves = [f"{sid}-leaf{i}" for i in range(n_leaves)]
    nodes: list[dict[str, Any]] = []
    hypernodes: list[dict[str, Any]] = []
    model_pool = rng.sample(sorted(MODELS), rng.randint(1, 3))
    for leaf in leaves:
        count = rng.randint(1, per_leaf_max)
        mixed = len(model_pool) > 1 and rng.random() < 0.4
        leaf_model = rng.choice(model_pool)
        leaf_nodes = []
        for _ in range(count):
            model = rng.choice(model_pool) if mixed else leaf_model
            gpu_choices, cpus, mems = MODELS[model]
            name = f"{sid}-n{len(nodes):02d}"
            nodes.append(
                _node(name, model, rng.choice(gpu_choices), rng.choice(cpus), rng.choice(mems), leaf)
            )
            leaf_nodes.append(name)
        hypernodes.append(_hypernode(leaf, 1, nodes=leaf_nodes))
    notes: list[str] = []
    if tiers >= 2:
        spines = _split(
            rng, leaves, rng.randint(1, max(1, min(4, n_leaves // 2 if tiers == 3 else n_leaves)))
        )
        spine_names = [f"{sid}-spine{i}" for i in range(len(spines))]
        for name, children in zip(spine_names, spines, strict=True):
            hypernodes.append(_hypernode(name, 2, children=children))
        if tiers == 3:
            cores = _split(rng, spine_names, rng.randint(1, min(2, len(spine_names))))
            for i, children in enumerate(cores):
                hypernodes.append(_hypernode(f"{sid}-core{i}", 3, children=children))
    present = sorted({n["metadata"]["labels"][GPU_TYPE] for n in nodes})
    preoccupied: list[dict[str, Any]] = []
    occupancy = rng.choice((0.0, 0.2, 0.4, 0.6))
    for n in nodes:
        if rng.random() >= occupancy:
            continue
        total = int(n["status"]["allocatable"][GPU])
        held = rng.choice([g for g in (1, 2, 4, 8) if g <= total] + [total])
        preoccupied.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"busy-{n['metadata']['name']}",
                    "labels": {"hypertopo.test/busy": "true"},
                },
                "spec": {
                    "schedulerName": "default-scheduler",
                    "nodeName": n["metadata"]["name"],
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 0,
                    "containers": [_container(held, _cpu(rng, held), _memory(rng, held))],
                },
            }
        )
    jobs = [_job(rng, "j1", present, notes)]
    if rng.random() < 0.45:
        jobs.append(_job(rng, "j2", present, notes))
    written = random.Random(f"minimal-{seed}")  # its own stream: the scenario stays as it was
    for i, job in enumerate(jobs):
        if written.random() < MINIMAL_SHARE:
            jobs[i] = minimal(job)
            notes.append(f"{job['metadata']['name']} is written without the webhook's defaults")
    return Scenario(sid, seed, tiers, leaves, nodes, hypernodes, preoccupied, jobs, notes)


def scenarios(count: int, base_seed: int = DEFAULT_SEED, start: int = 0) -> list[Scenario]:
    return [scenario(i, base_seed) for i in range(start, start + count)]
