"""bin/topology-hints refuses every malformed input with exit 2 and a message naming object and field.

Each case is an input the real API would reject (Volcano's job admission webhook,
``pkg/webhooks/admission/jobs/validate/admit_job.go`` ``validateJobCreate`` /
``validatePartitionPolicy``; the Job CRD's int32 fields and minimums; the API server's pod
and node validation of resource quantities) or one too large for the predictor to compute
(the bounds are far above any real cluster). None may end in a prediction, an exit 70 or a
stall.
"""

import copy
import json

import pytest
import yaml

from hypertopo.cli.hints import main
from tests.placement.helpers import job, leaf, node, task, template

EXIT_INPUT = 2


def jobs_with(**changes):
    """One Volcano Job ``default/j`` with a task ``w`` of 2 one-GPU pods, then ``changes`` applied."""
    obj = job("j", [task("w", 2, template(gpus=1))])
    for path, value in changes.items():
        target = obj
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        target[keys[-1]] = value
    return [obj]


def deployment(replicas):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "default"},
        "spec": {"replicas": replicas, "template": template(gpus=1)},
    }


def with_container_resources(requests, limits=None):
    obj = job("j", [task("w", 2, template(gpus=0))])
    obj["spec"]["tasks"][0]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": requests,
        "limits": limits or {},
    }
    return [obj]


def nested(depth):
    value = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


NODES = [node("n0"), node("n1")]
RESOURCES = "Job default/j: spec.tasks[0].template.spec.containers[0].resources"
HNS = [leaf("leaf0", ["n0", "n1"])]


def run(tmp_path, capsys, *, jobs=None, nodes=None, hns=None, jobs_text=None, nodes_text=None, extra=()):
    (tmp_path / "jobs.yaml").write_text(jobs_text if jobs_text is not None else yaml.safe_dump_all(jobs))
    (tmp_path / "nodes.json").write_text(nodes_text if nodes_text is not None else json.dumps(nodes or NODES))
    (tmp_path / "hns.yaml").write_text(yaml.safe_dump_all(hns or HNS))
    args = ["--jobs", tmp_path / "jobs.yaml", "--nodes", tmp_path / "nodes.json", "--hypernodes"]
    code = main([str(a) for a in [*args, tmp_path / "hns.yaml", "--no-baseline", *extra]])
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_input_still_predicts(tmp_path, capsys):
    code, out, err = run(tmp_path, capsys, jobs=jobs_with())
    assert code == 0 and err == ""
    assert json.loads(out)["jobs"][0]["feasible"] is True


JOB_CASES = {
    "task minAvailable above replicas": (
        jobs_with(spec__tasks__0__minAvailable=5),
        "Job default/j: spec.tasks[0].minAvailable: 5 is greater than replicas (2); the admission webhook "
        "rejects the job",
    ),
    "negative task minAvailable": (
        jobs_with(spec__tasks__0__minAvailable=-1),
        "Job default/j: spec.tasks[0].minAvailable: must be >= 0, got -1",
    ),
    "job minAvailable above the total replicas": (
        jobs_with(spec__minAvailable=9),
        "Job default/j: spec.minAvailable: 9 is greater than the tasks' total replicas (2)",
    ),
    "negative job minAvailable": (
        jobs_with(spec__minAvailable=-3),
        "Job default/j: spec.minAvailable: must be >= 0, got -3",
    ),
    "negative replicas": (
        jobs_with(spec__tasks__0__replicas=-2),
        "Job default/j: spec.tasks[0].replicas: must be >= 0, got -2",
    ),
    "replicas beyond int32": (
        jobs_with(spec__tasks__0__replicas=10**12),
        "Job default/j: spec.tasks[0].replicas: must be <= 2,147,483,647 (an int32 field), got 1000000000000",
    ),
    "replicas beyond the pod budget": (
        jobs_with(spec__tasks__0__replicas=10**9),
        "Job default/j: spec.tasks[0].replicas: 1,000,000,000 pods would bring the jobs to more than the "
        "150,000 pods one prediction places",
    ),
    "minAvailable not minPartitions x partitionSize": (
        jobs_with(
            spec__tasks__0__replicas=4,
            spec__tasks__0__minAvailable=3,
            spec__tasks__0__partitionPolicy={"totalPartitions": 2, "partitionSize": 2, "minPartitions": 1},
        ),
        "Job default/j: spec.tasks[0].minAvailable: 3 must equal minPartitions x partitionSize (1 x 2)",
    ),
    "minPartitions above totalPartitions": (
        jobs_with(
            spec__tasks__0__replicas=4,
            spec__tasks__0__partitionPolicy={"totalPartitions": 2, "partitionSize": 2, "minPartitions": 3},
        ),
        "Job default/j: spec.tasks[0].minAvailable: 6 is greater than replicas (4)",
    ),
    "negative Deployment replicas": (
        [deployment(-1)],
        "Deployment default/d: spec.replicas: must be >= 0, got -1",
    ),
    "negative CPU request": (
        with_container_resources({"cpu": "-2"}),
        "Job default/j: spec.tasks[0].template.spec.containers[0].resources.requests.cpu: '-2' is negative",
    ),
    "negative memory limit": (
        with_container_resources({}, {"memory": "-1Gi"}),
        "Job default/j: spec.tasks[0].template.spec.containers[0].resources.limits.memory: '-1Gi' is "
        "negative",
    ),
    "request above its limit": (
        with_container_resources({"cpu": "4"}, {"cpu": "2"}),
        "Job default/j: spec.tasks[0].template.spec.containers[0].resources.requests.cpu: greater than its "
        "limit",
    ),
    "a fraction of a GPU": (
        with_container_resources({"nvidia.com/gpu": "500m"}, {"nvidia.com/gpu": "500m"}),
        f"{RESOURCES}.limits.nvidia.com/gpu: must be an integer, an extended resource is counted in whole "
        "units",
    ),
    "a GPU request without its limit": (
        with_container_resources({"nvidia.com/gpu": "2"}),
        f"{RESOURCES}.limits.nvidia.com/gpu: missing; nvidia.com/gpu cannot be overcommitted",
    ),
    "a GPU request below its limit": (
        with_container_resources({"nvidia.com/gpu": "1"}, {"nvidia.com/gpu": "2"}),
        f"{RESOURCES}.requests.nvidia.com/gpu: must be equal to its limit (nvidia.com/gpu cannot be "
        "overcommitted",
    ),
    "a hugepages request without its limit": (
        with_container_resources({"cpu": "1", "hugepages-2Mi": "4Mi"}),
        f"{RESOURCES}.limits.hugepages-2Mi: missing; hugepages-2Mi cannot be overcommitted",
    ),
    "5,000-digit quantity": (
        with_container_resources({"cpu": "1" + "0" * 5000}),
        f"{RESOURCES}.requests.cpu: '10000000000000000000'... (5001 characters) is longer than the 64 "
        "characters a quantity may have",
    ),
    "quantity with a huge exponent": (
        with_container_resources({"memory": "1e999999999"}),
        f"{RESOURCES}.requests.memory: '1e999999999' is too large",
    ),
    "quantity too large for an int64 of thousandths": (
        with_container_resources({"cpu": "10P"}),
        f"{RESOURCES}.requests.cpu: '10P' is too large",
    ),
}


@pytest.mark.parametrize("case", list(JOB_CASES))
def test_job_inputs_the_api_would_reject(tmp_path, capsys, case):
    jobs, message = JOB_CASES[case]
    code, out, err = run(tmp_path, capsys, jobs=jobs)
    assert (code, out) == (EXIT_INPUT, "")
    assert err.startswith(f"topology-hints: {message}"), err


def test_pod_budget_spans_all_jobs(tmp_path, capsys):
    first = jobs_with(spec__tasks__0__replicas=100_000)[0]
    second = copy.deepcopy(first)
    second["metadata"]["name"] = "k"
    code, _out, err = run(tmp_path, capsys, jobs=[first, second])
    assert code == EXIT_INPUT
    assert err.startswith("topology-hints: Job default/k: spec.tasks[0].replicas: 100,000 pods would bring")


def test_node_and_hypernode_fields(tmp_path, capsys):
    bad_node = node("n2")
    bad_node["status"]["allocatable"]["cpu"] = "-4"
    code, _out, err = run(tmp_path, capsys, jobs=jobs_with(), nodes=[*NODES, bad_node])
    assert code == EXIT_INPUT
    assert err.startswith("topology-hints: Node n2: status.allocatable.cpu: '-4' is negative")

    tall = leaf("leaf0", ["n0", "n1"], tier=10**12)
    code, _out, err = run(tmp_path, capsys, jobs=jobs_with(), hns=[tall])
    assert code == EXIT_INPUT
    assert err.startswith("topology-hints: HyperNode leaf0: spec.tier: 1000000000000 is above 1000")

    long_tier = leaf("leaf0", ["n0", "n1"])
    long_tier["spec"]["tier"] = "9" * 5000
    code, _out, err = run(tmp_path, capsys, jobs=jobs_with(), hns=[long_tier])
    assert code == EXIT_INPUT
    assert err.startswith("topology-hints: HyperNode leaf0: spec.tier: must be <= 9,223,372,036,854,775,807")


@pytest.mark.parametrize(
    "text",
    ["", "---\n", "# nothing here\n", yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": []})],
)
def test_empty_jobs_file(tmp_path, capsys, text):
    code, out, err = run(tmp_path, capsys, jobs_text=text)
    assert (code, out) == (EXIT_INPUT, "")
    assert "jobs.yaml: no objects to place (Volcano Jobs, Deployments, StatefulSets or PodGroups)" in err


def test_empty_nodes_file(tmp_path, capsys):
    code, _out, err = run(tmp_path, capsys, jobs=jobs_with(), nodes_text="[]")
    assert code == EXIT_INPUT
    assert "nodes.json: no Node objects in the file" in err


def test_deep_nesting(tmp_path, capsys):
    code, _out, err = run(tmp_path, capsys, jobs=jobs_with(), nodes_text="[" * 100_000 + "]" * 100_000)
    assert code == EXIT_INPUT
    assert "nodes.json: nested deeper than the 100 levels read" in err
    deep = copy.deepcopy(NODES)
    deep[0]["metadata"]["managedFields"] = [nested(150)]  # a field the predictor never reads
    code, _out, err = run(tmp_path, capsys, jobs=jobs_with(), nodes=deep)
    assert code == EXIT_INPUT
    assert "nodes.json: nested deeper than the 100 levels read" in err


def test_integer_beyond_python_conversion(tmp_path, capsys):
    text = yaml.safe_dump_all(jobs_with()).replace("replicas: 2", "replicas: " + "9" * 5000)
    code, _out, err = run(tmp_path, capsys, jobs_text=text)
    assert code == EXIT_INPUT
    assert "jobs.yaml: not valid YAML or JSON" in err and "internal error" not in err


def test_baseline_samples_and_kv_model_bounds(tmp_path, capsys):
    code, _out, err = run(tmp_path, capsys, jobs=jobs_with(), extra=("--baseline-samples", str(10**12)))
    assert code == EXIT_INPUT
    assert "baseline_samples: at most 1000 random tie-break runs" in err
    (tmp_path / "kv.yaml").write_text("prompt_tokens: .nan\n")
    code, _out, err = run(tmp_path, capsys, jobs=jobs_with(), extra=("--kv-model", str(tmp_path / "kv.yaml")))
    assert code == EXIT_INPUT
    assert "kv_model.prompt_tokens: must be a positive integer" in err
