"""A real local Kubernetes control plane for tests and demos.

etcd + kube-apiserver + Volcano's vc-scheduler and vc-controller-manager,
built from Go modules by ``controlplane/build.sh`` and run as plain processes
bound to 127.0.0.1, with simulated (API-only) GPU nodes.

Entry points: :mod:`hypertopo.cluster.cli` (``hypertopo-cluster``),
:class:`hypertopo.cluster.controlplane.ControlPlane`, and the pytest plugin
:mod:`hypertopo.cluster.pytest_plugin`.
"""
