"""kwok (``sigs.k8s.io/kwok``) as the simulated nodes' kubelet: node status and leases, pod phases.

kwok, run as a plain binary, has no built-in stages: it refuses to start without Stage objects
from ``--config`` files (or the Stage CRD with ``--enable-crds=Stage``). kwokctl gives it the
stages of its module's ``kustomize/stage`` folder, and so do we, read from the kwok module in the
Go module cache (the one ``bin/kwok-<KWOK_VERSION>`` is built from):

* ``node/fast/node-initialize``: a node without a ``Ready=True`` condition gets the kubelet's
  conditions (``Ready``, no pressure), addresses, ``nodeInfo`` and ``phase: Running``;
* ``node/heartbeat-with-lease/node-heartbeat-with-lease``: node status refreshed every 10-20
  minutes, the heartbeat itself being the node Lease, renewed every ``NODE_LEASE_SECONDS / 4``
  (what kwokctl runs with leases on), kube-controller-manager's node lifecycle controller
  marking a node whose Lease is older than ``NODE_MONITOR_GRACE_SECONDS`` NotReady;
* ``pod/fast/pod-ready``: a pod bound to a managed node becomes ``Running`` and ``Ready``;
* ``pod/fast/pod-delete``: a deleted pod (graceful or not) is removed.

kwokctl's third pod stage, ``pod/fast/pod-complete``, is left out on purpose: it turns every
Running pod owned by any ``kind: Job`` into ``Succeeded``, and Volcano's ``batch.volcano.sh``
Jobs are ``kind: Job`` too, so every Volcano Job would complete within a second. Our pods are
long-running servers (a ``pause`` container never exits).

kwok opens no port here (no ``--server-address``/``--node-port``), manages every node
(``--manage-all-nodes``), and gets a private ``HOME``: it would otherwise also load
``~/.kwok/kwok.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from hypertopo.cluster.gomodules import module_dir
from hypertopo.cluster.paths import versions

KWOK_MODULE = "sigs.k8s.io/kwok"
STAGES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
)
#: kubelet's ``nodeLeaseDurationSeconds`` (renewed every quarter of it). Kubelet's default is 40 s,
#: a renewal every 10 s: 25 Lease writes a second for 256 nodes, which kept kube-apiserver, etcd,
#: kwok and kube-controller-manager busy even on an idle control plane (14 % of a core, 10 points
#: of it the renewals; bench/RESULTS-testsuite.md). Simulated nodes do not fail, so
#: they renew every minute.
NODE_LEASE_SECONDS = 240
#: kube-controller-manager's ``--node-monitor-grace-period`` (default 50 s, for 10 s renewals): a
#: Lease not renewed for this long makes its node NotReady. Four renewals, so that a busy machine
#: (kwok's renewals fall behind at a load average of 10) does not take nodes down.
NODE_MONITOR_GRACE_SECONDS = NODE_LEASE_SECONDS + 60
#: kwok's pod addresses (its default, 10.0.0.0/24, would overlap the service range and hold 254 pods).
POD_CIDR = "10.244.0.0/16"


def stage_files() -> list[Path]:
    """The stage files (read-only, in the Go module cache)."""
    root = module_dir(KWOK_MODULE, versions()["KWOK_VERSION"], STAGES)
    return [root / s for s in STAGES]


def kwok_args(kubeconfig: Path) -> list[str]:
    """kwok's command line (without the program)."""
    return [
        f"--kubeconfig={kubeconfig}",
        f"--config={','.join(str(f) for f in stage_files())}",
        "--manage-all-nodes=true",
        f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}",
        f"--cidr={POD_CIDR}",
        # INFO would log every lease renewal (one line per node every 10 s)
        "--v=WARN",
    ]
