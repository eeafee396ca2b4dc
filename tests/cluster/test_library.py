"""The local control plane's library pieces that need no running cluster: where the CRDs and
binaries come from, the objects the helpers build, the scheduler-configuration check, and the
signal handling around a private control plane."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from hypertopo.cluster import ClusterError, NodeSpec, Task, bound_pod, crds, paths, vcjob
from hypertopo.cluster import signals as sigmod
from hypertopo.cluster.scheduler_conf import SchedulerConf
from hypertopo.cluster.workloads import collection_path, object_path, plural
from hypertopo.topology import scheduler_conf as schedconf
from hypertopo.topology.labels import GPU_RESOURCE, kubelet_labels
from hypertopo.topology.objects import node_object, node_resources

SRC = Path(__file__).resolve().parents[2] / "src" / "hypertopo"

# ---------------------------------------------------------------- CRDs from the module cache


@pytest.fixture
def fresh_crd_lookup():
    crds.crd_dir.cache_clear()
    yield
    crds.crd_dir.cache_clear()


def _fake_module(root: Path) -> Path:
    version = paths.versions()["VOLCANO_VERSION"]
    bases = root / f"volcano.sh/volcano@{version}" / crds.CRD_SUBDIR
    bases.mkdir(parents=True)
    for name in crds.NEEDED_CRDS:
        (bases / name).write_text("kind: CustomResourceDefinition\n")
    return bases


def test_module_cache_honours_gomodcache_then_gopath_then_home(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GOMODCACHE", raising=False)
    monkeypatch.delenv("GOPATH", raising=False)
    assert crds.module_cache() == tmp_path / "home" / "go" / "pkg" / "mod"
    monkeypatch.setenv("GOPATH", f"{tmp_path / 'gp1'}{os.pathsep}{tmp_path / 'gp2'}")
    assert crds.module_cache() == tmp_path / "gp1" / "pkg" / "mod"
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "mc"))
    assert crds.module_cache() == tmp_path / "mc"


def test_crds_come_from_the_module_cache_without_go_and_read_only(
    monkeypatch, tmp_path, fresh_crd_lookup
) -> None:
    bases = _fake_module(tmp_path / "mc")
    for d in [bases, *bases.parents][:5]:
        d.chmod(0o555)  # as the Go module cache is
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "mc"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `go`
    try:
        before = sorted(p.name for p in bases.iterdir())
        assert crds.crd_dir() == bases
        assert sorted(p.name for p in bases.iterdir()) == before
    finally:
        for d in [bases, *bases.parents][:5]:
            d.chmod(0o755)


def test_crds_missing_from_the_cache_and_no_go_is_one_clear_error(
    monkeypatch, tmp_path, fresh_crd_lookup
) -> None:
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(crds.CrdError, match=r"not in the Go module cache .*'go'\) is not on PATH"):
        crds.crd_dir()


def test_module_paths_are_case_encoded() -> None:
    assert crds.escape_module_path("github.com/BurntSushi/toml") == "github.com/!burnt!sushi/toml"


# ---------------------------------------------------------------- versions and binaries


def test_versions_come_from_package_data() -> None:
    v = paths.versions()
    assert v["VOLCANO_VERSION"].startswith("v1.") and v["K8S_VERSION"].startswith("v1.")
    assert paths.build_key(v).startswith(f"cp-k8s{v['K8S_VERSION'][1:]}-etcd")


def test_missing_binaries_error_says_how_to_build(tmp_path) -> None:
    kwok = f"kwok-{paths.versions()['KWOK_VERSION']}"
    with pytest.raises(
        ClusterError,
        match=rf"missing in .*: etcd, kube-apiserver, kube-controller-manager, vc-webhook-manager, "
        rf"vc-controller-manager, vc-scheduler, {kwok}; .*make build-controlplane",
    ):
        paths.check_binaries(tmp_path)


def test_the_package_reaches_into_no_repository_and_no_test_code() -> None:
    for py in (SRC / "cluster").glob("*.py"):
        text = py.read_text()
        assert "parents[" not in text, py
        assert "import pytest" not in text and "from tests" not in text, py


# ---------------------------------------------------------------- nodes


def test_a_node_spec_renders_through_the_topology_node_object() -> None:
    node = NodeSpec("n0", cpu="96", memory="768Gi", gpu=4, pods=64, labels={"a": "b"}).node()
    assert node["metadata"]["labels"] == {**kubelet_labels("n0"), "a": "b"}
    res = node_resources(cpu="96", memory="768Gi", gpus=4, pods=64)
    # registered like a kubelet registers it: conditions are kwok's to report
    assert node["status"] == {"capacity": res, "allocatable": res}
    assert node == node_object("n0", {"a": "b"}, resources=res)


def test_nodes_without_gpus_with_taints_unschedulable_or_any_resources() -> None:
    taint = {"key": "dedicated", "value": "infra", "effect": "NoSchedule"}
    cpu_only = NodeSpec("c0", gpu=None, taints=[taint], unschedulable=True).node()
    assert GPU_RESOURCE not in cpu_only["status"]["allocatable"]
    assert cpu_only["spec"] == {"taints": [taint], "unschedulable": True}
    assert NodeSpec("z0", gpu=0).node()["status"]["allocatable"][GPU_RESOURCE] == "0"
    custom = NodeSpec("x0", resources={"cpu": "8", "example.com/fpga": 2}).node()
    assert custom["status"]["allocatable"] == {"cpu": "8", "example.com/fpga": "2"}


def test_node_spec_from_a_node_object_and_from_a_tuple() -> None:
    obj = node_object("n1", {"k": "v"}, resources=node_resources(cpu="4", memory="8Gi", gpus=2, pods=10))
    spec = NodeSpec.of(obj)
    assert spec.node()["metadata"]["labels"] == obj["metadata"]["labels"]
    assert spec.allocatable() == obj["status"]["allocatable"]
    t = NodeSpec.of(("gpu-a", "96", "768Gi", 4, 64))
    assert (t.name, t.cpu, t.memory, t.gpu, t.pods) == ("gpu-a", "96", "768Gi", 4, 64)


# ---------------------------------------------------------------- jobs and pods


def test_vcjob_defaults_are_a_fully_specified_job() -> None:
    job = vcjob("pd", "ns", [Task("prefill", 2, gpus=4), Task("decode", 1)])
    assert job["apiVersion"] == "batch.volcano.sh/v1alpha1" and job["metadata"] == {
        "name": "pd",
        "namespace": "ns",
    }
    spec = job["spec"]
    assert (spec["schedulerName"], spec["queue"], spec["minAvailable"], spec["maxRetry"]) == (
        "volcano",
        "default",
        3,
        3,
    )
    prefill = spec["tasks"][0]
    assert (prefill["replicas"], prefill["minAvailable"]) == (2, 2)
    pod = prefill["template"]["spec"]
    assert pod["schedulerName"] == "volcano"
    res = pod["containers"][0]["resources"]
    assert res["requests"] == res["limits"] == {"cpu": "1", "memory": "1Gi", GPU_RESOURCE: "4"}
    assert GPU_RESOURCE not in spec["tasks"][1]["template"]["spec"]["containers"][0]["resources"]["requests"]
    assert "networkTopology" not in spec and "nodeSelector" not in pod and "tolerations" not in pod


def test_vcjob_expresses_partitions_tolerations_priority_topology_and_any_field() -> None:
    tol = {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}
    policy = {"totalPartitions": 2, "partitionSize": 2, "minPartitions": 1}
    job = vcjob(
        "j",
        "ns",
        [Task("w", 4, gpus=8, partition_policy=policy, tolerations=[tol], min_available=2)],
        network_topology={"mode": "hard", "highestTierAllowed": 2},
        node_selector={"pool": "a"},
        tolerations=[{"key": "all", "operator": "Exists"}],
        queue="q1",
        min_available=2,
        priority_class_name="high",
        spec={"plugins": {"svc": []}},
    )
    spec = job["spec"]
    assert spec["networkTopology"] == {"mode": "hard", "highestTierAllowed": 2}
    assert (spec["queue"], spec["minAvailable"], spec["priorityClassName"]) == ("q1", 2, "high")
    assert spec["plugins"] == {"svc": []}
    task = spec["tasks"][0]
    assert task["partitionPolicy"] == policy and task["minAvailable"] == 2
    pod = task["template"]["spec"]
    assert pod["nodeSelector"] == {"pool": "a"}
    assert pod["tolerations"] == [{"key": "all", "operator": "Exists"}, tol]
    assert pod["priorityClassName"] == "high"


def test_bound_pod_and_rest_paths() -> None:
    pod = bound_pod("busy", "ns", "n0", gpus=2, labels={"x": "y"})
    assert pod["spec"]["nodeName"] == "n0"
    assert pod["spec"]["containers"][0]["resources"]["requests"][GPU_RESOURCE] == "2"
    assert object_path(pod) == "/api/v1/namespaces/ns/pods/busy"
    assert collection_path("topology.volcano.sh/v1alpha1", "HyperNode") == (
        "/apis/topology.volcano.sh/v1alpha1/hypernodes"
    )
    assert collection_path("scheduling.k8s.io/v1", "PriorityClass").endswith("/priorityclasses")
    assert plural("Numatopology") == "numatopologies"
    with pytest.raises(ValueError, match="namespaced"):
        collection_path("v1", "Pod")


# ---------------------------------------------------------------- scheduler configuration


def test_scheduler_conf_from_the_role_a_mapping_or_a_file(tmp_path) -> None:
    role = SchedulerConf.resolve()
    assert role.text == schedconf.dump_conf(schedconf.default_conf_from_role())
    assert role.nta and role.actions == ["enqueue", "allocate", "backfill"]
    assert not SchedulerConf.resolve(nta=False).nta
    conf = {"actions": "enqueue, allocate", "tiers": [{"plugins": [{"name": "gang"}, {"name": "binpack"}]}]}
    assert SchedulerConf.resolve(conf).plugins == ["gang", "binpack"]
    f = tmp_path / "volcano-scheduler.conf"
    f.write_text(yaml.safe_dump(conf))
    assert SchedulerConf.resolve(f).conf == conf
    with pytest.raises(ValueError, match="not both"):
        SchedulerConf.resolve(conf, nta=True)
    with pytest.raises(ClusterError, match="needs 'actions'"):
        SchedulerConf.resolve({"tiers": []})


def test_a_configuration_counts_as_loaded_only_with_its_own_actions_and_plugins() -> None:
    conf = SchedulerConf.resolve({"actions": "enqueue, allocate", "tiers": [{"plugins": [{"name": "gang"}]}]})
    line = (
        "I1202 scheduler.go:159] Finished loading scheduler config. Final state: actions=[{}], plugins=[{}]"
    )
    assert conf.loaded_in(line.format("enqueue allocate", "gang"))
    assert not conf.loaded_in(line.format("enqueue allocate backfill", "gang"))
    assert not conf.loaded_in(line.format("enqueue allocate", "gang binpack"))
    rejected = (
        "E1202 scheduler.go:195] Scheduler config actions: enqueue, nope\ntiers: [] is invalid: "
        "failed to find Action  nope\n" + line.format("enqueue allocate", "gang")
    )
    with pytest.raises(ClusterError, match="rejected the configuration: failed to find Action  nope"):
        conf.loaded_in(rejected)


# ---------------------------------------------------------------- signals


def test_deferred_holds_signals_back_until_the_block_is_over() -> None:
    # Python's own SIGINT handler, as in a foreground run (a background job of a shell without
    # job control starts with SIGINT ignored, and then there is nothing to hold back)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    reached_end = False
    try:
        with pytest.raises(KeyboardInterrupt), sigmod.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            reached_end = True
        assert reached_end
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_termination_raises_system_exit_inside_the_block_only() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with pytest.raises(SystemExit) as exc, sigmod.exit_on_termination():
            os.kill(os.getpid(), signal.SIGTERM)
        assert exc.value.code == 128 + signal.SIGTERM
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)


LOST_IN_A_FINALIZER = textwrap.dedent(
    """
    import os, signal, sys, time, weakref
    from hypertopo.cluster import signals

    sig = int(sys.argv[1])
    signal.signal(signal.SIGINT, signal.default_int_handler)

    class Resource:
        pass

    def close():  # the signal arrives, and its handler raises, while a finalizer runs
        os.kill(os.getpid(), sig)
        for _ in range(1000):
            pass

    with signals.exit_on_termination():
        try:
            resource = Resource()
            weakref.finalize(resource, close)
            del resource
            print("finalized", flush=True)
            time.sleep(30)
            print("still running", flush=True)
        finally:
            print("cleaned up", flush=True)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_termination_a_finalizer_swallowed_is_sent_again(sig: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOST_IN_A_FINALIZER, str(int(sig))],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert "Exception ignored in" in done.stderr, "the handler's exception was lost once"
    assert done.stdout.splitlines() == ["finalized", "cleaned up"], done.stderr
    # Python ends on an uncaught KeyboardInterrupt by signalling itself with SIGINT again
    assert done.returncode == (128 + sig if sig == signal.SIGTERM else -signal.SIGINT), done.stderr
