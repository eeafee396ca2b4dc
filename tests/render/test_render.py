"""Offline render of the seed inventory: equal to the seed article's objects, valid against Volcano's CRDs."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from hypertopo.cluster.crds import schema_for
from hypertopo.topology.labels import LABEL_GPU_TYPE, LABEL_SWITCH_TYPE

from ..topology.invgen import good_tree, write_inventory

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "data" / "seed"
PLAYBOOK_ENV = {
    **os.environ,
    "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
    "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
}
# Fields our Jobs carry beyond the seed's: the ones Volcano's admission webhook would add,
# so the Jobs are complete on clusters that run without the webhook.
ALLOWED_JOB_EXTRAS = {"minAvailable", "maxRetry"}


def render(render_dir: Path, inventory: Path | None = None, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "playbooks/render.yml",
        "-e",
        f"render_dir={render_dir}",
    ]
    if inventory is not None:
        cmd += ["-i", str(inventory)]
    return subprocess.run(
        [*cmd, *extra], cwd=ROOT, env=PLAYBOOK_ENV, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def seed_render(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("render") / "out"
    proc = render(out)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def assert_contains(seed: Any, ours: Any, path: str = "") -> None:
    """Every field of ``seed`` is in ``ours`` with the same value (lists: same length, element-wise)."""
    if isinstance(seed, dict):
        assert isinstance(ours, dict), f"{path}: expected a mapping, got {ours!r}"
        for key, value in seed.items():
            assert key in ours, f"{path}.{key} missing"
            assert_contains(value, ours[key], f"{path}.{key}")
    elif isinstance(seed, list):
        assert isinstance(ours, list) and len(ours) == len(seed), f"{path}: {ours!r} != {seed!r}"
        for i, (a, b) in enumerate(zip(seed, ours, strict=True)):
            assert_contains(a, b, f"{path}[{i}]")
    else:
        assert str(seed) == str(ours), f"{path}: {ours!r} != {seed!r}"


def extras(seed: Any, ours: Any, path: str = "") -> set[str]:
    """Mapping keys present in ``ours`` but not in ``seed`` (by leaf key name)."""
    found: set[str] = set()
    if isinstance(seed, dict) and isinstance(ours, dict):
        for key, value in ours.items():
            if key not in seed:
                found.add(key)
            else:
                found |= extras(seed[key], value, f"{path}.{key}")
    elif isinstance(seed, list) and isinstance(ours, list):
        for a, b in zip(seed, ours, strict=False):
            found |= extras(a, b, path)
    return found


def test_render_writes_the_four_files(seed_render):
    for name in ("node-labels.yaml", "hypernodes.yaml", "pd-prefill-service.yaml", "pd-decode-service.yaml"):
        assert (seed_render / name).is_file(), name


def test_hypernodes_equal_the_seed(seed_render):
    ours = {h["metadata"]["name"]: h for h in load_all(seed_render / "hypernodes.yaml")}
    seed = {h["metadata"]["name"]: h for h in load_all(SEED / "hypernodes.yaml")}
    assert set(ours) == set(seed)
    for name, expected in seed.items():
        got = copy.deepcopy(ours[name])
        assert got["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "hypertopo"
        got["metadata"].pop("labels")
        assert got == expected, name


@pytest.mark.parametrize("name", ["pd-prefill-service", "pd-decode-service"])
def test_jobs_equal_the_seed(seed_render, name):
    (ours,) = load_all(seed_render / f"{name}.yaml")
    (seed,) = load_all(SEED / f"{name}.yaml")
    assert_contains(seed, ours)
    ours_meta = {k: v for k, v in ours["metadata"].items() if k not in ("namespace", "labels")}
    assert ours_meta == seed["metadata"]
    unexpected = extras(seed["spec"], ours["spec"]) - ALLOWED_JOB_EXTRAS
    assert not unexpected, f"fields beyond the seed's: {unexpected}"
    for task in ours["spec"]["tasks"]:
        assert task["minAvailable"] == task["replicas"]


def test_node_labels_match_the_seed(seed_render):
    ours = yaml.safe_load((seed_render / "node-labels.yaml").read_text())
    seed = yaml.safe_load((SEED / "node-labels.yaml").read_text())
    assert len(ours) == 256
    for node, labels in seed.items():
        for key, value in labels.items():
            assert ours[node][key] == value, (node, key)
    seed_gpu_nodes = [n for n, labels in seed.items() if LABEL_GPU_TYPE in labels]
    assert len(seed_gpu_nodes) == 24


def test_ethernet_leaves_also_hold_h100_and_rtx4090(seed_render):
    ours = yaml.safe_load((seed_render / "node-labels.yaml").read_text())
    eth = [labels[LABEL_GPU_TYPE] for labels in ours.values() if labels[LABEL_SWITCH_TYPE] == "ethernet"]
    assert eth.count("h100") > 12 and eth.count("rtx4090") > 12


def _selector_rule(hypernode: dict[str, Any]) -> None:
    for member in hypernode["spec"]["members"]:
        chosen = [k for k in ("exactMatch", "regexMatch", "labelMatch") if k in member["selector"]]
        assert len(chosen) == 1, f"{hypernode['metadata']['name']}: exactly one selector, got {chosen}"


@pytest.mark.parametrize(
    ("file_name", "kind", "version"),
    [
        ("hypernodes.yaml", "HyperNode", "v1alpha1"),
        ("pd-prefill-service.yaml", "Job", "v1alpha1"),
        ("pd-decode-service.yaml", "Job", "v1alpha1"),
    ],
)
def test_rendered_objects_validate_against_volcano_crds(seed_render, file_name, kind, version):
    schema = schema_for(kind, version)
    for obj in load_all(seed_render / file_name):
        jsonschema.validate(obj, schema)
        if kind == "HyperNode":
            _selector_rule(obj)


def test_schema_validation_can_fail():
    """The CRD schema check really rejects bad objects (guards against a vacuous schema)."""
    schema = schema_for("HyperNode", "v1alpha1")
    bad = {
        "apiVersion": "topology.volcano.sh/v1alpha1",
        "kind": "HyperNode",
        "metadata": {"name": "x"},
        "spec": {"tier": "one", "members": [{"type": "Rack", "selector": {}}]},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_bad_inventory_fails_and_writes_nothing(tmp_path):
    tree = good_tree()
    del tree["switches"]["leaf-a"]["tier"]
    tree["hosts"]["leaf-b"]["n2"]["gpu_model"] = "tpu9"
    inv = write_inventory(tmp_path, tree)
    out = tmp_path / "render"
    proc = render(out, inv)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "has no tier" in text and "unknown gpu_model 'tpu9'" in text
    assert "(2 problem(s))" in text
    assert not out.exists() or not any(out.iterdir())
