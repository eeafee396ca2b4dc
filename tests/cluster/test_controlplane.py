"""The local control plane itself: kubeconfig, status, idempotence, and faults
(missing Go, unreachable module proxy, port in use, a component dying at
start-up, stale PIDs, missing binaries)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hypertopo.cluster import paths
from hypertopo.cluster.controlplane import ControlPlane
from hypertopo.cluster.nodes import NodeSpec, apply_nodes, delete_nodes, hosts_from_inventory
from hypertopo.cluster.processes import ClusterError, Proc, is_alive, spawn, start_ticks, stop, stop_together
from hypertopo.topology.labels import kubelet_labels

from ..cluster_helpers import cli, processes_mentioning

REPO = Path(__file__).resolve().parents[2]
BUILD_SH = REPO / "controlplane" / "build.sh"

pytestmark = pytest.mark.cluster


# ---------------------------------------------------------------- the shared cluster


def test_kubeconfig_works_with_the_python_kubernetes_client(cluster, cluster_ws) -> None:
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    try:
        names = cluster_ws.create_nodes([NodeSpec("k0", gpu=8)])
        ws_hn = cluster_ws.create_hypernode("leaf", 1, nodes=names)
        nodes = client.CoreV1Api(api).list_node().items
        assert names[0] in {n.metadata.name for n in nodes}
        co = client.CustomObjectsApi(api)
        hns = co.list_cluster_custom_object("topology.volcano.sh", "v1alpha1", "hypernodes")["items"]
        assert ws_hn in {h["metadata"]["name"] for h in hns}
        queues = {
            q["metadata"]["name"]: q
            for q in co.list_cluster_custom_object("scheduling.volcano.sh", "v1beta1", "queues")["items"]
        }
        assert queues["default"]["status"]["state"] == "Open"
        assert "root" in queues
        # RBAC is on and we are system:masters through an x509 client certificate
        review = client.AuthorizationV1Api(api).create_self_subject_access_review(
            {"spec": {"resourceAttributes": {"verb": "*", "resource": "*", "group": "*"}}}
        )
        assert review.status.allowed
        user = client.AuthenticationV1Api(api).create_self_subject_review({}).status.user_info
        assert user.username == "admin" and "system:masters" in user.groups
        ver = client.VersionApi(api).get_code()
        assert (ver.major, ver.minor) == ("1", "35")
    finally:
        api.close()


def test_status_and_idempotent_up(cluster) -> None:
    state_dir = cluster.control_plane.state_dir
    before = cluster.control_plane.load_state()
    r = cli("status", state_dir=state_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "up, healthy" in r.stdout
    for comp in paths.COMPONENTS:
        assert comp in r.stdout
    t0 = time.monotonic()
    r = cli("up", "--no-nodes", state_dir=state_dir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == f"KUBECONFIG={cluster.kubeconfig}"
    assert "already up" in r.stderr
    assert time.monotonic() - t0 < 15
    after = cluster.control_plane.load_state()
    assert [p.pid for p in after.procs] == [p.pid for p in before.procs]


def test_scheduler_gets_exactly_the_role_configuration(cluster) -> None:
    from hypertopo.topology import scheduler_conf as schedconf

    conf = cluster.control_plane.layout.scheduler_conf.read_text()
    assert conf == schedconf.dump_conf(schedconf.default_conf_from_role())
    args = schedconf.nta_arguments(schedconf.parse_conf(conf))
    assert args.get("hypernode.binpack.resources") == "nvidia.com/gpu"


def test_nodes_have_resources_and_only_fresh_cluster_labels(cluster, cluster_ws) -> None:
    # straight from the seed inventory, renamed so as not to touch a seed cluster's nodes
    hosts = hosts_from_inventory(REPO / "inventory" / "seed")
    assert len(hosts) > 0 and all(h.gpu > 0 for h in hosts)
    specs = [NodeSpec(f"{cluster_ws.prefix}-{h.name}", h.cpu, h.memory, h.gpu, h.pods) for h in hosts]
    rest = cluster.rest
    try:
        res = apply_nodes(rest, specs)
        assert res.created == len(specs)
        again = apply_nodes(rest, specs[:3])  # idempotent: updates in place
        assert again.updated == 3 and again.created == 0
        for spec in (specs[0], specs[-1]):
            node = rest.get(f"/api/v1/nodes/{spec.name}")
            assert node["metadata"]["labels"] == kubelet_labels(spec.name)
            alloc = node["status"]["allocatable"]
            assert alloc == node["status"]["capacity"]
            assert alloc["nvidia.com/gpu"] == str(spec.gpu)
            assert alloc["cpu"] == spec.cpu and alloc["memory"] == spec.memory
            assert alloc["pods"] == str(spec.pods)
            assert not node["spec"].get("taints"), "the not-ready taint must be gone once it is Ready"
    finally:
        delete_nodes(rest, [s.name for s in specs])


def test_node_simulator_accepts_plain_tuples() -> None:
    spec = NodeSpec.of(("gpu-a", "96", "768Gi", 4, 64))
    assert (spec.name, spec.cpu, spec.memory, spec.gpu, spec.pods) == ("gpu-a", "96", "768Gi", 4, 64)


# ---------------------------------------------------------------- build faults


def _path_without_go() -> str:
    keep = [d for d in os.environ["PATH"].split(os.pathsep) if d and not os.access(Path(d) / "go", os.X_OK)]
    return os.pathsep.join(keep)


def test_build_without_go_toolchain_gives_one_clear_error(tmp_path) -> None:
    env = {**os.environ, "PATH": _path_without_go(), "HYPERTOPO_CACHE": str(tmp_path)}
    r = subprocess.run(
        ["bash", str(BUILD_SH)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert r.returncode != 0
    errors = [line for line in r.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, r.stderr
    assert "Go toolchain ('go') is not on PATH" in errors[0]


def test_build_with_unreachable_module_proxy_names_it(tmp_path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    proxy = f"http://127.0.0.1:{dead}"
    env = {
        **os.environ,
        "HYPERTOPO_CACHE": str(tmp_path / "cache"),
        "GOMODCACHE": str(tmp_path / "modcache"),  # empty: everything must be downloaded
        "GOPROXY": proxy,
        "GOFLAGS": "",
    }
    r = subprocess.run(
        ["bash", str(BUILD_SH)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert r.returncode != 0
    assert "could not download modules" in r.stderr and proxy in r.stderr, r.stderr
    subprocess.run(["go", "clean", "-modcache"], env=env, capture_output=True, check=False)


# ---------------------------------------------------------------- start-up faults (private clusters)


def test_port_in_use_is_retried_on_another_port(tmp_path) -> None:
    holders = []
    busy = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        holders.append(s)
        busy.append(s.getsockname()[1])
    messages: list[str] = []
    cp = ControlPlane(
        tmp_path / "state",
        preferred_ports={"etcd-client": busy[0], "apiserver": busy[1]},
        log=messages.append,
    )
    pids: list[int] = []
    try:
        state = cp.up(owner="test")
        pids = [p.pid for p in state.procs]
        assert state.ports["etcd-client"] not in busy
        assert state.ports["apiserver"] not in busy
        retried = [m for m in messages if "port in use" in m]
        assert any(m.startswith("etcd:") for m in retried), messages
        assert any(m.startswith("kube-apiserver:") for m in retried), messages
        assert cp.status().healthy
    finally:
        cp.down()
        for s in holders:
            s.close()
    assert not any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in pids)
    assert not (tmp_path / "state" / "state.json").exists()
    assert (tmp_path / "state" / "logs" / "kube-apiserver.log").exists(), "logs must be kept"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize(
    "component", ["kube-apiserver", "kube-controller-manager", "vc-webhook-manager", "vc-scheduler", "kwok"]
)
def test_component_dying_at_startup_fails_up_with_log_tail_and_leaves_nothing(tmp_path, component) -> None:
    state_dir = tmp_path / "state"
    var = "HYPERTOPO_CLUSTER_EXTRA_ARGS_" + component.upper().replace("-", "_")
    r = cli("up", "--no-nodes", state_dir=state_dir, env={var: "--no-such-flag-for-testing"})
    assert r.returncode == 1
    assert f"{component} exited during start-up" in r.stderr, r.stderr
    assert "no-such-flag-for-testing" in r.stderr, "the log tail must be shown"
    assert "KUBECONFIG=" not in r.stdout
    assert processes_mentioning(str(state_dir)) == []
    assert not (state_dir / "state.json").exists()
    assert (state_dir / "logs" / f"{component}.log").exists()
    # and the next `status` says down
    st = cli("status", state_dir=state_dir)
    assert st.returncode == 1 and "down" in st.stdout


def test_missing_binaries_give_a_clear_error(tmp_path) -> None:
    cp = ControlPlane(tmp_path / "state", bin_dir=tmp_path / "nobin", log=lambda m: None)
    with pytest.raises(ClusterError, match=r"binaries missing .*make build-controlplane"):
        cp.up()
    assert not (tmp_path / "state" / "state.json").exists()


def test_stop_never_signals_a_recycled_pid(tmp_path) -> None:
    """A PID whose start time differs from the recorded one is another process: left alone."""
    real = spawn("sleeper", ["sleep", "30"], tmp_path / "sleeper.log")
    try:
        impostor = Proc("sleeper", real.pid, real.start_ticks + 1, real.log, real.argv)
        assert not is_alive(impostor)
        assert stop(impostor) is False
        assert is_alive(real) and start_ticks(real.pid) == real.start_ticks
    finally:
        stop(real)
    assert not is_alive(real)


# Exits cleanly on SIGTERM only once every one of its peers got SIGTERM too (each touches a file
# when it gets its own); signalled one after the other, the first would wait forever.
PEER = """
import pathlib, signal, sys, time
me, peers = pathlib.Path(sys.argv[1]), [pathlib.Path(p) for p in sys.argv[2:]]
def term(*_):
    me.touch()
    while not all(p.exists() for p in peers):
        time.sleep(0.02)
    (me.parent / (me.name + ".clean")).touch()
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
print("re" + "ady", flush=True)  # not in the logged command line
while True:
    time.sleep(1)
"""


def test_stop_together_signals_all_before_waiting(tmp_path) -> None:
    """The API server's clients stop together (ControlPlane._teardown): SIGTERM to all of them
    first, then the wait, so their graceful shutdowns overlap."""
    marks = [tmp_path / f"got-{i}" for i in range(3)]
    procs = []
    for i, mark in enumerate(marks):
        log = tmp_path / f"p{i}.log"
        procs.append(spawn(f"p{i}", [sys.executable, "-c", PEER, str(mark), *map(str, marks)], log))
        while "\nready" not in log.read_text():
            time.sleep(0.02)
    assert stop_together(procs, timeout=30) == ["p0", "p1", "p2"]
    assert not any(is_alive(p) for p in procs)
    assert all((tmp_path / f"got-{i}.clean").exists() for i in range(3)), "each shut down cleanly"
    assert stop_together(procs) == [], "already stopped: nothing to report"


def test_down_without_state_is_a_noop(tmp_path) -> None:
    r = cli("down", state_dir=tmp_path / "nothing")
    assert r.returncode == 0
    assert "nothing to stop" in r.stderr


def test_versions_key_matches_build_sh() -> None:
    r = subprocess.run(
        ["bash", str(BUILD_SH), "--print-bin"],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "HYPERTOPO_CP_BIN"},
    )
    assert Path(r.stdout.strip()) == paths.cache_root() / paths.build_key() / "bin"


def test_readiness_only_trusts_ports_our_process_listens_on(tmp_path) -> None:
    from hypertopo.cluster.processes import listens_on

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert listens_on(os.getpid(), port)
        other = spawn("sleeper", ["sleep", "30"], tmp_path / "sleeper.log")
        try:
            assert not listens_on(other.pid, port)
        finally:
            stop(other)
    assert not listens_on(os.getpid(), port)
