"""``topology-hints headroom``: the table by default, JSON with --json, exit 2 on bad input."""

import json

import pytest
import yaml

from hypertopo.cli.hints import SUBCOMMANDS, main
from tests.placement.synthetic import seed_cluster, seed_pd_jobs

INPUT = ["--jobs", "jobs.yaml", "--nodes", "nodes.json", "--hypernodes", "hns.json"]


@pytest.fixture
def run(tmp_path, capsys):
    nodes, hns = seed_cluster()
    (tmp_path / "nodes.json").write_text(json.dumps(nodes))
    (tmp_path / "hns.json").write_text(json.dumps(hns))
    (tmp_path / "jobs.yaml").write_text(yaml.safe_dump_all(seed_pd_jobs()))

    def go(*extra):
        args = [str(tmp_path / a) if a.endswith((".json", ".yaml")) else a for a in INPUT]
        code = main(["headroom", *args, *extra])
        out, err = capsys.readouterr()
        return code, out, err

    return go


def test_registered_as_a_subcommand():
    assert SUBCOMMANDS["headroom"] == "hypertopo.cli.headroom"


def test_answers_decode_12_to_20_on_infiniband_as_a_table(run):
    code, out, err = run("--job", "default/pd-decode-service", "--task", "decode-worker", "--replicas", "20")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (
        "decode-worker of default/pd-decode-service at 20 replicas: yes: all 20 pods placed under "
        "ib-switch0 (tier 1), switch types ib; pods per leaf ib-switch0 20"
    )
    row = next(line for line in lines if line.startswith("default/pd-decode-service"))
    assert row.split()[-8:] == ["12", "96", "ib-switch4", "(tier", "2,", "ib)", "yes", "-"]
    assert any(line.split()[:2] == ["ib-switch4", "2"] and "rtx4090 84" in line for line in lines)


def test_json_output(run):
    code, out, _err = run("--json")
    assert code == 0
    data = json.loads(out)
    assert [(j["job"], j["max_replicas"], j["confirmed"]) for j in data["jobs"]] == [
        ("default/pd-prefill-service", 96, True),
        ("default/pd-decode-service", 96, True),
    ]
    assert data["check"] is None and {h["tier"] for h in data["hypernodes"]} == {1, 2}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--job", "default/nope"],
            "topology-hints: job: no job default/nope (jobs: default/pd-prefill-service, "
            "default/pd-decode-service)",
        ),
        (
            ["--job", "default/pd-decode-service", "--task", "x"],
            "topology-hints: task: job default/pd-decode-service has no task 'x' (tasks: decode-worker)",
        ),
        (["--replicas", "3"], "topology-hints: replicas: give the job (and task) whose count to check"),
        (
            ["--job", "default/pd-decode-service", "--replicas", "-1"],
            "topology-hints headroom: --replicas: must be >= 0, got -1",
        ),
    ],
)
def test_bad_input_exits_2(run, extra, message):
    code, out, err = run(*extra)
    assert code == 2 and out == ""
    assert err.splitlines() == [message]
