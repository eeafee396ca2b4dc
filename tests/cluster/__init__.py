"""Tests against the local control plane (etcd + kube-apiserver + Volcano)."""
