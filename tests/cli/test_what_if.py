"""``topology-hints --what-if FILE``: before and after, and every bad file refused with exit 2."""

import json

import pytest
import yaml

from hypertopo.cli.hints import main
from tests.placement.synthetic import seed_cluster, seed_pd_jobs

EXIT_INPUT = 2


@pytest.fixture
def seed_files(tmp_path):
    nodes, hns = seed_cluster()
    (tmp_path / "nodes.json").write_text(json.dumps(nodes))
    (tmp_path / "hns.json").write_text(json.dumps(hns))
    (tmp_path / "jobs.yaml").write_text(yaml.safe_dump_all(seed_pd_jobs()))
    return tmp_path


def run(tmp_path, capsys, changes_text, *extra):
    (tmp_path / "what-if.yaml").write_text(changes_text)
    args = ["--jobs", "jobs.yaml", "--nodes", "nodes.json", "--hypernodes", "hns.json", "--no-baseline"]
    args = [str(tmp_path / a) if a.endswith((".json", ".yaml")) else a for a in args]
    code = main([*args, "--what-if", str(tmp_path / "what-if.yaml"), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_what_if_prints_before_and_after_per_job(seed_files, capsys):
    changes = [
        {"set_replicas": {"job": "default/pd-decode-service", "task": "decode-worker", "replicas": 20}},
        {"set_tier": {"job": "default/pd-decode-service", "tier": 1}},
        {"set_mode": {"job": "default/pd-decode-service", "mode": "hard"}},
    ]
    code, out, err = run(seed_files, capsys, yaml.safe_dump(changes))
    assert code == 0, err
    data = json.loads(out)
    assert [c["change"] for c in data["changes"]] == changes
    assert data["changes"][0]["text"] == "decode-worker of default/pd-decode-service: 12 → 20 replicas"
    assert data["changes"][1]["text"] == (
        "default/pd-decode-service: soft, highestTierAllowed 2 → highestTierAllowed 1"
    )
    decode = next(j for j in data["jobs"] if j["job"] == "default/pd-decode-service")
    assert decode["before"]["placed"] == 12 and decode["before"]["feasible"]
    # 20 one-GPU decode pods need 20 RTX 4090 GPUs: one IB leaf has 6 such nodes (48 GPUs)
    assert decode["after"]["feasible"] and decode["after"]["placed"] == 20
    assert decode["after"]["tier"] == 1 and decode["changed"]
    assert sum(decode["after"]["pods_per_leaf"].values()) == 20
    assert {o["hypernode"] for o in decode["after"]["outcomes"]} <= {"ib-switch0", "ib-switch1"}
    assert data["before"]["jobs"][1]["name"] == "pd-decode-service" and len(data["after"]["jobs"]) == 2
    prefill = next(j for j in data["jobs"] if j["job"] == "default/pd-prefill-service")
    assert prefill["before"]["placed"] == prefill["after"]["placed"] == 12


def test_what_if_infeasible_after_is_a_prediction_not_an_error(seed_files, capsys):
    changes = [
        {"set_replicas": {"job": "default/pd-prefill-service", "replicas": 200}},
        {"set_tier": {"job": "default/pd-prefill-service", "tier": 1}},
        {"set_mode": {"job": "default/pd-prefill-service", "mode": "hard"}},
    ]
    code, out, _err = run(seed_files, capsys, yaml.safe_dump(changes))
    assert code == 0
    prefill = json.loads(out)["jobs"][0]
    assert prefill["before"]["feasible"] and not prefill["after"]["feasible"]
    assert prefill["after"]["placed"] == 0 and prefill["after"]["pending"] == 200
    assert prefill["after"]["reasons"]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (
            "- set_replicas: {job: default/pd-decode-service, replicas: many}\n- scale: {}\n",
            [
                "topology-hints: {f}: [0].set_replicas.replicas: must be an integer from 0 to 2,147,483,647, "
                "got 'many'",
                "{f}: [1]: unknown change 'scale' (known: add_hosts, remove_hosts, cordon, set_replicas, "
                "set_tier, set_mode, add_pods, remove_pods, relax_affinity)",
            ],
        ),
        (
            "- set_replicas: {job: default/nope, replicas: 3}\n",
            [
                "topology-hints: {f}: [0].set_replicas.job: no job default/nope (jobs: "
                "default/pd-prefill-service, default/pd-decode-service)"
            ],
        ),
        (
            "cordon: {nodes: [node0]}\n",
            ["topology-hints: {f}: must be a list of changes ({{kind: {{...}}}} per item), got dict"],
        ),
        ("- [unclosed\n", None),
        (
            "- {cordon: {nodes: [node0]}}\n---\n- {cordon: {nodes: [node1]}}\n",
            ["topology-hints: {f}: the what-if file must hold one list of changes"],
        ),
        (
            "- {set_replicas: {job: default/pd-decode-service, task: decode-worker, replicas: '{{ 20 }}'}}\n",
            None,
        ),
    ],
)
def test_bad_what_if_file_exits_2_one_line_per_mistake(seed_files, capsys, text, lines):
    code, out, err = run(seed_files, capsys, text)
    assert code == EXIT_INPUT and out == ""
    path = str(seed_files / "what-if.yaml")
    if lines is not None:
        assert err.splitlines() == [line.format(f=path) for line in lines]
    else:
        assert err.startswith(f"topology-hints: {path}") and len(err.splitlines()) == 1


def test_the_file_is_data_never_templated(seed_files, capsys):
    code, _out, err = run(seed_files, capsys, '- {cordon: {nodes: [\'{{ lookup("env", "HOME") }}\']}}\n')
    assert code == EXIT_INPUT
    assert 'no node {{ lookup("env", "HOME") }}' in err
