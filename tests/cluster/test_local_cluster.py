"""The library API: ``local_cluster()`` starts a private control plane, lets a caller build any
Nodes, HyperNodes, bound pods and Volcano Jobs, change vc-scheduler's configuration and read
everything back, and always stops what it started: when the block ends, on an exception, and
when the process gets SIGINT or SIGTERM (also during start-up)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from hypertopo.cluster import ClusterError, NodeSpec, Task, local_cluster
from hypertopo.cluster.paths import COMPONENTS
from hypertopo.topology import scheduler_conf as schedconf
from hypertopo.topology.labels import GPU_RESOURCE

from ..cluster_helpers import processes_mentioning

pytestmark = pytest.mark.cluster

TAINT = {"key": "dedicated", "value": "infra", "effect": "NoSchedule"}
TOLERATE = {"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}


def _alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.append(pid)
    return out


def test_local_cluster_builds_any_objects_and_stops_on_an_exception(tmp_path) -> None:
    pids: list[int] = []
    state_dir: Path | None = None
    with (
        pytest.raises(RuntimeError, match="the end"),
        local_cluster(workdir=tmp_path, log=lambda _m: None) as c,
    ):
        state = c.control_plane.load_state()
        assert state is not None
        pids = [p.pid for p in state.procs]
        state_dir = c.state_dir
        assert [p.name for p in state.procs] == list(COMPONENTS)
        assert len(_alive(pids)) == len(COMPONENTS)

        # nodes: with GPUs, tainted, GPU-less and cordoned, arbitrary resources
        c.create_nodes([NodeSpec("plain", gpu=8), NodeSpec("tainted", gpu=8, taints=[TAINT])])
        cpu = c.create_node("cpu", gpu=None, unschedulable=True, labels={"pool": "cpu"})
        assert GPU_RESOURCE not in cpu["status"]["allocatable"] and cpu["spec"]["unschedulable"]
        fpga = c.create_node(
            "fpga", resources={"cpu": "8", "memory": "16Gi", "pods": "10", "example.com/fpga": "2"}
        )
        assert fpga["status"]["allocatable"]["example.com/fpga"] == "2"
        assert c.get("/api/v1/nodes/tainted")["spec"]["taints"] == [TAINT]
        c.create_hypernode("leaf", 1, nodes=["plain", "tainted"])
        c.create_hypernode("spine", 2, children=["leaf"])
        hns = {h["metadata"]["name"]: h for h in c.list("/apis/topology.volcano.sh/v1alpha1/hypernodes")}
        assert hns["spine"]["spec"]["members"] == [
            {"type": "HyperNode", "selector": {"exactMatch": {"name": "leaf"}}}
        ]

        c.create_namespace("demo")
        c.create_pod("busy", "demo", "fpga", requests={"cpu": "2", "example.com/fpga": "1"})
        assert c.get("/api/v1/namespaces/demo/pods/busy")["spec"]["nodeName"] == "fpga"
        c.create(
            {
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": "high"},
                "value": 1000,
            }
        )

        # without a toleration the job avoids the tainted node; with one it may use it
        c.create_vcjob(
            "first",
            "demo",
            [Task("w", 2, gpus=4)],
            network_topology={"mode": "hard", "highestTierAllowed": 1},
        )
        assert set(c.wait_bound("demo", "first", 2).values()) == {"plain"}
        c.create_vcjob(
            "second",
            "demo",
            [Task("w", 2, gpus=4, partition_policy={"totalPartitions": 1, "partitionSize": 2})],
            tolerations=[TOLERATE],
            priority_class_name="high",
        )
        assert set(c.wait_bound("demo", "second", 2).values()) == {"tainted"}
        job = c.get("/apis/batch.volcano.sh/v1alpha1/namespaces/demo/jobs/second")
        assert job["spec"]["tasks"][0]["partitionPolicy"]["partitionSize"] == 2
        assert job["spec"]["priorityClassName"] == "high"
        pod = c.pods("demo", job="second")[0]
        assert (
            pod["spec"]["tolerations"][0]["key"] == "dedicated" and pod["spec"]["priorityClassName"] == "high"
        )

        # vc-scheduler's configuration: any mapping or file, loaded before the call returns
        assert c.scheduler_conf() == schedconf.default_conf_from_role()
        small = {
            "actions": "enqueue, allocate",
            "tiers": [{"plugins": [{"name": "gang"}, {"name": "predicates"}]}],
        }
        with c.using_scheduler_conf(small):
            assert c.scheduler_conf() == small
            f = tmp_path / "conf.yaml"
            f.write_text(yaml.safe_dump(schedconf.default_conf_from_role(nta_enabled_override=False)))
            assert not schedconf.nta_enabled(c.set_scheduler_conf(f))
            with pytest.raises(ClusterError, match="rejected the configuration"):
                c.set_scheduler_conf({"actions": "enqueue, no-such-action", "tiers": []})
            assert not schedconf.nta_enabled(c.scheduler_conf()), "the file vc-scheduler runs is kept"
        assert c.scheduler_conf() == schedconf.default_conf_from_role()  # what it ran before the block
        raise RuntimeError("the end")
    assert _alive(pids) == []
    assert state_dir is not None and not state_dir.exists()
    assert processes_mentioning(str(tmp_path)) == []
    assert list(tmp_path.iterdir()) == [tmp_path / "conf.yaml"]


SCRIPT = textwrap.dedent(
    """
    import sys, time
    from hypertopo.cluster import local_cluster
    with local_cluster(workdir=sys.argv[1]) as c:
        print("READY", flush=True)
        time.sleep(300)
    """
)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("sig", "when"),
    [(signal.SIGINT, "running"), (signal.SIGTERM, "running"), (signal.SIGTERM, "starting")],
    ids=["sigint-running", "sigterm-running", "sigterm-starting"],
)
def test_a_signal_stops_every_process_it_started(tmp_path, sig: int, when: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell without job control starts background commands with SIGINT ignored (`make test &`),
        # and Python then keeps ignoring it: Ctrl-C reaches the child as it does from a terminal.
        preexec_fn=_default_sigint,
    )
    try:
        stream, marker = (
            (proc.stdout, "READY") if when == "running" else (proc.stderr, "kube-apiserver ready")
        )
        assert stream is not None
        seen = []
        for line in stream:
            seen.append(line)
            if marker in line:
                break
        else:
            pytest.fail(f"no {marker!r}: {''.join(seen)}{proc.stderr.read() if proc.stderr else ''}")
        assert len(processes_mentioning(str(work))) >= 3, "python, etcd and kube-apiserver run"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            # a failed stop must not leave its control plane running under the rest of the suite
            # (the PIDs are those whose command line names this test's own temporary folder)
            for pid in processes_mentioning(str(work)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    assert proc.returncode in ((-signal.SIGINT, 1, 130) if sig == signal.SIGINT else (128 + sig,)), err
    assert "stopped" in err, err
    assert processes_mentioning(str(work)) == [], json.dumps(err[-2000:])
    assert list(work.iterdir()) == [], "the temporary directory is removed"
