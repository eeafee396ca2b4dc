"""bin/topology-hints, the Ansible filter and the preflight verdict."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hypertopo.cli.hints import main
from hypertopo.placement import predict, preflight
from hypertopo.placement.preflight import blockers

from .helpers import DEFAULT_TIERS, GPU, hard, job, leaf, node, task, template
from .synthetic import seed_cluster, seed_pd_jobs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def files(tmp_path):
    nodes, hns = seed_cluster()
    (tmp_path / "nodes.json").write_text(json.dumps({"apiVersion": "v1", "kind": "NodeList", "items": nodes}))
    (tmp_path / "hns.yaml").write_text(yaml.safe_dump_all(hns))
    (tmp_path / "jobs.yaml").write_text(yaml.safe_dump_all(seed_pd_jobs()))
    return tmp_path


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_the_prediction(files, capsys):
    code, out, err = run_cli(
        capsys,
        "--hypernodes",
        files / "hns.yaml",
        "--nodes",
        files / "nodes.json",
        "--jobs",
        files / "jobs.yaml",
        "--baseline-samples",
        "2",
    )
    assert code == 0 and err == ""
    result = json.loads(out)
    assert set(result) >= {"jobs", "warnings", "network", "baseline"}
    first = result["jobs"][0]
    assert set(first) >= {
        "kind",
        "name",
        "namespace",
        "feasible",
        "hypernode",
        "tier",
        "placements",
        "ties",
        "reasons",
        "warnings",
        "network",
    }
    assert first["placements"][0] == {
        "pod": "pd-prefill-service-prefill-worker-0",
        "task": "prefill-worker",
        "node": "node0",
        "leaf": "ib-switch0",
        "existing": False,
        "candidates": ["node0", "node1", "node5", "node10", "node15", "node20"],
    }
    # Volcano picks one of the two identical IB leaves at random: two outcomes; the job's pick
    # follows Go map iteration order over the IB aggregation's spec.members order, which favours
    # the leaf listed first (91/128 of two)
    assert [(o["hypernode"], o["pods_per_leaf"], o["probability"]) for o in first["outcomes"]] == [
        ("ib-switch0", {"ib-switch0": 12}, 0.710938),
        ("ib-switch1", {"ib-switch1": 12}, 0.289062),
    ]


def test_cli_single_object_and_infeasible_job_exit_zero(tmp_path, capsys):
    (tmp_path / "nodes.yaml").write_text(yaml.safe_dump(node("n0")))
    (tmp_path / "hns.yaml").write_text(yaml.safe_dump(leaf("l0", ["n0"])))
    (tmp_path / "job.yaml").write_text(
        yaml.safe_dump(job("big", [task("w", 2, template(gpus=8))], topology=hard(1)))
    )
    code, out, _ = run_cli(
        capsys,
        "--hypernodes",
        tmp_path / "hns.yaml",
        "--nodes",
        tmp_path / "nodes.yaml",
        "--jobs",
        tmp_path / "job.yaml",
        "--no-baseline",
    )
    assert code == 0
    assert json.loads(out)["jobs"][0]["feasible"] is False


def test_cli_scheduler_conf_without_nta_and_configmap(files, tmp_path, capsys):
    conf = {"actions": "enqueue, allocate, backfill", "tiers": DEFAULT_TIERS}
    (tmp_path / "conf.yaml").write_text(yaml.safe_dump(conf))
    args = [
        "--hypernodes",
        files / "hns.yaml",
        "--nodes",
        files / "nodes.json",
        "--jobs",
        files / "jobs.yaml",
        "--no-baseline",
    ]
    code, out, _ = run_cli(capsys, *args, "--scheduler-conf", tmp_path / "conf.yaml")
    assert (
        code == 0
        and "network-topology-aware not enabled: constraints silently ignored" in json.loads(out)["warnings"]
    )
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "volcano-scheduler-configmap"},
        "data": {"volcano-scheduler.conf": yaml.safe_dump(conf)},
    }
    (tmp_path / "cm.yaml").write_text(yaml.safe_dump(cm))
    code, out, _ = run_cli(capsys, *args, "--scheduler-conf", tmp_path / "cm.yaml")
    assert (
        code == 0
        and "network-topology-aware not enabled: constraints silently ignored" in json.loads(out)["warnings"]
    )


@pytest.mark.parametrize(
    ("which", "content", "message"),
    [
        ("hns", "a: [\n", "not valid YAML or JSON (line 2"),
        (
            "nodes",
            yaml.safe_dump(
                {"kind": "Node", "metadata": {"name": "n7"}, "status": {"allocatable": {"cpu": "lots"}}}
            ),
            "Node n7: status.allocatable.cpu: cannot parse quantity 'lots'",
        ),
        (
            "jobs",
            yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
            "ConfigMap x: kind: unsupported kind 'ConfigMap'",
        ),
        (
            "jobs",
            yaml.safe_dump(job("j", [{"name": "w", "replicas": 1}])),
            "Job default/j: spec.tasks[0].template: required",
        ),
        (
            "hns",
            yaml.safe_dump(
                {"kind": "HyperNode", "metadata": {"name": "h"}, "spec": {"tier": 1, "members": []}}
            ),
            "HyperNode h: spec.members: at least one member",
        ),
    ],
)
def test_cli_malformed_input_one_line_exit_2(files, tmp_path, capsys, which, content, message):
    paths = {"hns": files / "hns.yaml", "nodes": files / "nodes.json", "jobs": files / "jobs.yaml"}
    bad = tmp_path / f"bad-{which}.yaml"
    bad.write_text(content)
    paths[which] = bad
    code, out, err = run_cli(
        capsys,
        "--hypernodes",
        paths["hns"],
        "--nodes",
        paths["nodes"],
        "--jobs",
        paths["jobs"],
        "--no-baseline",
    )
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_missing_file(files, capsys):
    code, _, err = run_cli(
        capsys,
        "--hypernodes",
        files / "nope.yaml",
        "--nodes",
        files / "nodes.json",
        "--jobs",
        files / "jobs.yaml",
    )
    assert code == 2 and "cannot read" in err


def test_bin_script_runs(files):
    proc = subprocess.run(
        [
            str(ROOT / "bin" / "topology-hints"),
            "--hypernodes",
            str(files / "hns.yaml"),
            "--nodes",
            str(files / "nodes.json"),
            "--jobs",
            str(files / "jobs.yaml"),
            "--no-baseline",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["jobs"][1]["name"] == "pd-decode-service"


def load_filter():
    spec = importlib.util.spec_from_file_location(
        "hypertopo_hints", ROOT / "filter_plugins" / "hypertopo_topology_hints.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_filter_accepts_k8s_info_results_and_raises_filter_errors():
    from ansible.errors import AnsibleFilterError

    module = load_filter()
    filters = module.FilterModule().filters()
    nodes, hns = seed_cluster()
    result = filters["topology_hints"](
        {"resources": seed_pd_jobs()},
        nodes={"resources": nodes, "changed": False},
        hypernodes={"resources": hns},
        baseline=False,
    )
    assert [j["feasible"] for j in result["jobs"]] == [True, True]
    assert filters["topology_hints_blockers"](result) == []
    assert "pd-prefill-service" in filters["topology_hints_table"](result)
    with pytest.raises(AnsibleFilterError, match=r"topology_hints: Node #0: metadata.name: required"):
        filters["topology_hints"]([], nodes=[{"metadata": {}}])


def test_filter_in_a_playbook(tmp_path):
    nodes = [node("a0"), node("a1")]
    hns = [leaf("la", ["a0"]), leaf("lb", ["a1"])]
    jobs = [
        job("ok", [task("w", 1, template(gpus=8))], topology=hard(1)),
        job("bad", [task("w", 2, template(gpus=8))], topology=hard(1)),
    ]
    (tmp_path / "vars.json").write_text(json.dumps({"nodes": nodes, "hns": hns, "jobs": jobs}))
    (tmp_path / "play.yml").write_text(
        """
- hosts: localhost
  gather_facts: false
  vars_files: [vars.json]
  tasks:
    - set_fact:
        hints: "{{ jobs | hypertopo.volcano.topology_hints(nodes=nodes, hypernodes=hns, baseline=false) }}"
    - assert:
        that:
          - hints.jobs[0].feasible
          - not hints.jobs[1].feasible
          - (hints | hypertopo.volcano.topology_hints_blockers) | length == 1
    - debug:
        msg: "{{ (hints | hypertopo.volcano.topology_hints_table).split('\\n') }}"
"""
    )
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            str(tmp_path / "play.yml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "INFEASIBLE" in proc.stdout


def test_preflight_ok_strict_and_table():
    nodes = [node("a0"), node("a1")]
    hns = [leaf("la", ["a0"]), leaf("lb", ["a1"])]
    soft_big = job("soft", [task("w", 3, template(gpus=8))], topology={"mode": "soft"})
    result = predict(jobs=[soft_big], nodes=nodes, hypernodes=hns, baseline=False)
    ok, table, reasons = preflight(result)
    assert ok and reasons[0].startswith("(not blocking)") and blockers(result) == []
    assert not preflight(result, strict=True)[0] and blockers(result, strict=True)
    assert table.splitlines()[0].split() == [
        "job",
        "HyperNode",
        "tier",
        "pods",
        "per",
        "leaf",
        "pair",
        "classes",
        "KV",
        "ms",
        "mean/worst",
    ]
    assert GPU
