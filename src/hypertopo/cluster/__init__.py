"""A real local Kubernetes control plane for tests and demos.

etcd, kube-apiserver and kube-controller-manager, Volcano as its Helm chart installs it
(vc-scheduler, vc-controller-manager, vc-webhook-manager with the chart's admission webhooks) and
kwok as the kubelet of simulated nodes, built from Go modules by ``controlplane/build.sh``
(``make build-controlplane``) and run as plain processes bound to 127.0.0.1.

Library API (documented in ``controlplane/README.md``):

* :func:`local_cluster` — a private control plane in a temporary directory, as a context
  manager that always stops it; yields a :class:`LocalCluster` to create Nodes
  (:class:`NodeSpec`), HyperNodes, bound pods and Volcano Jobs (:class:`Task`,
  :func:`vcjob`), to change vc-scheduler's configuration and to read objects back;
* :class:`ControlPlane` — one control plane in a state directory (start, status, stop), the
  one the ``hypertopo-cluster`` command (:mod:`hypertopo.cluster.cli`) shares between processes.
"""

from hypertopo.cluster.controlplane import ControlPlane
from hypertopo.cluster.local import LocalCluster, local_cluster
from hypertopo.cluster.nodes import NodeSpec
from hypertopo.cluster.processes import ClusterError
from hypertopo.cluster.rest import ApiError
from hypertopo.cluster.workloads import Task, bound_pod, vcjob

__all__ = [
    "ApiError",
    "ClusterError",
    "ControlPlane",
    "LocalCluster",
    "NodeSpec",
    "Task",
    "bound_pod",
    "local_cluster",
    "vcjob",
]
