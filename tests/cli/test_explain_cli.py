"""bin/topology-hints explain: table and JSON, exit codes for a job that does not exist and
for inputs that contradict each other."""

import json

import pytest

from hypertopo.cli.hints import main
from tests.placement.test_explain import seed_big_prefill

EXIT_INPUT = 2


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain")
    inputs = seed_big_prefill()
    paths = {}
    for key in ("jobs", "nodes", "hypernodes"):
        paths[key] = root / f"{key}.json"
        paths[key].write_text(json.dumps(inputs[key]))
    return [
        "--nodes",
        str(paths["nodes"]),
        "--hypernodes",
        str(paths["hypernodes"]),
        "--jobs",
        str(paths["jobs"]),
    ]


def test_json(files, capsys):
    assert main(["explain", "--job", "pd/big-prefill", *files, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["job"] == "pd/big-prefill" and result["feasible"] is False
    assert set(result) >= {"job", "feasible", "tiers", "suggestions"}
    row = result["tiers"][0]["candidates"][0]
    assert set(row) >= {"hypernode", "eligible", "need", "free", "short", "excluded"}
    first = result["suggestions"][0]
    assert set(first) >= {"text", "change", "predicted_feasible", "hypernode"}
    assert (
        first["change"] == {"set_tier": {"job": "pd/big-prefill", "tier": 2}} and first["predicted_feasible"]
    )


def test_table(files, capsys):
    assert main(["explain", "--job", "pd/big-prefill", *files]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Job pd/big-prefill: infeasible")
    assert "tier 1:" in out and "prefill-worker 16 pods = 16 h100 GPUs" in out
    assert (
        "1. raise the tier: pd/big-prefill: hard, highestTierAllowed 1 → highestTierAllowed 2 "
        "-> places the job" in out
    )


def test_unknown_job_exits_2_listing_the_jobs(files, capsys):
    assert main(["explain", "--job", "pd/nope", *files]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.strip() == "topology-hints: job pd/nope not found; jobs: pd/big-prefill (Job)"


def test_files_and_from_cluster_exclude_each_other(files, capsys):
    assert main(["explain", "--job", "pd/big-prefill", "--from-cluster", *files]) == EXIT_INPUT
    assert "give no input files" in capsys.readouterr().err
    assert main(["explain", "--job", "pd/big-prefill"]) == EXIT_INPUT
    assert "--nodes and --hypernodes are required (or --from-cluster)" in capsys.readouterr().err


def test_from_cluster_with_an_unusable_kubeconfig_exits_2(tmp_path, capsys):
    missing = tmp_path / "nope.kubeconfig"
    assert main(["explain", "--job", "pd/x", "--from-cluster", "--kubeconfig", str(missing)]) == EXIT_INPUT
    assert f"{missing}: cannot use this kubeconfig" in capsys.readouterr().err


def test_from_cluster_reads_the_objects_through_the_rest_client(monkeypatch, capsys):
    from hypertopo.cluster.rest import Rest
    from tests.cluster.test_live_read import FakeApi

    inputs = seed_big_prefill()
    api = FakeApi(
        {
            "/api/v1/nodes": {"items": inputs["nodes"]},
            "/apis/topology.volcano.sh/v1alpha1/hypernodes": {"items": inputs["hypernodes"]},
            "/api/v1/pods": {"items": []},
            "/apis/batch.volcano.sh/v1alpha1/namespaces/pd/jobs": {"items": inputs["jobs"]},
        }
    )
    api.close = lambda: None
    used = {}

    def fake(path, *, pool_size=8, context=None):
        used.update(path=str(path), context=context)
        return api

    monkeypatch.setattr(Rest, "from_kubeconfig", staticmethod(fake))
    monkeypatch.setenv("KUBECONFIG", "/somewhere/kubeconfig")
    argv = ["explain", "--job", "pd/big-prefill", "--from-cluster", "--context", "prod", "--json"]
    assert main([*argv, "--workers", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert used == {"path": "/somewhere/kubeconfig", "context": "prod"}
    assert result["status"] == "infeasible" and result["suggestions"][0]["predicted_feasible"]
    # only reads: every request was a GET
    assert all(url.startswith("/api") for url in api.requests)
    assert any(url.startswith("/api/v1/namespaces/volcano-system/configmaps/") for url in api.requests)


@pytest.mark.parametrize("served", [True, False])
def test_from_cluster_reads_the_priority_classes(monkeypatch, capsys, served):
    """The job's PodGroup names a PriorityClass: read from the cluster, no warning; without it in
    the cluster, the engine warns that the default priority is assumed."""
    from hypertopo.cluster.rest import Rest
    from tests.cluster.test_live_read import FakeApi

    inputs = seed_big_prefill()
    job = inputs["jobs"][0]
    job["spec"]["priorityClassName"] = "pd-high"
    objects = {
        "/api/v1/nodes": {"items": inputs["nodes"]},
        "/apis/topology.volcano.sh/v1alpha1/hypernodes": {"items": inputs["hypernodes"]},
        "/api/v1/pods": {"items": []},
        "/apis/batch.volcano.sh/v1alpha1/namespaces/pd/jobs": {"items": [job]},
    }
    if served:
        objects["/apis/scheduling.k8s.io/v1/priorityclasses"] = {
            "items": [{"metadata": {"name": "pd-high"}, "value": 1000}]
        }
    api = FakeApi(objects)
    api.close = lambda: None
    monkeypatch.setattr(Rest, "from_kubeconfig", staticmethod(lambda path, *, pool_size=8, context=None: api))
    monkeypatch.setenv("KUBECONFIG", "/somewhere/kubeconfig")
    argv = ["explain", "--job", "pd/big-prefill", "--from-cluster", "--json", "--no-suggest"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert any(u.startswith("/apis/scheduling.k8s.io/v1/priorityclasses") for u in api.requests)
    warned = [w for w in result["warnings"] if "priorityClassName 'pd-high'" in w]
    assert bool(warned) is not served


def test_a_kubeconfig_with_a_bearer_token(tmp_path):
    from hypertopo.cluster.rest import Rest

    ca = tmp_path / "ca.crt"
    ca.write_text("not read before a request")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "current-context": "a",
                "contexts": [
                    {"name": "a", "context": {"cluster": "c", "user": "u"}},
                    {"name": "b", "context": {"cluster": "c", "user": "v"}},
                ],
                "clusters": [
                    {"name": "c", "cluster": {"server": "https://x:6443", "certificate-authority": str(ca)}}
                ],
                "users": [
                    {"name": "u", "user": {"token": "t-a"}},
                    {"name": "v", "user": {"tokenFile": str(ca)}},
                ],
            }
        )
    )
    assert Rest.from_kubeconfig(kubeconfig)._token == "t-a"
    assert Rest.from_kubeconfig(kubeconfig, context="b")._token == "not read before a request"
