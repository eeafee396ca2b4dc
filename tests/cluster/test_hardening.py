"""The local control plane as a hardened cluster runs: etcd over TLS with client-certificate
authentication, kube-apiserver refusing anonymous requests, the admin kubeconfig 0600 in a 0700
state folder, and no pod environment value in the playbooks' output at any verbosity.

A private control plane (``cluster_factory``): the shared one may have been started by older code.
"""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from hypertopo.cluster import pki as pki_mod
from hypertopo.cluster.components import client_tls, etcd_healthy
from hypertopo.cluster.nodes import hosts_from_inventory

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "inventory" / "seed"
pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def hardened(cluster_factory):
    c = cluster_factory()
    state = c.control_plane.load_state()
    assert state is not None
    return c, state, pki_mod.Pki.at(c.control_plane.layout.pki)


def test_etcd_refuses_a_client_without_a_certificate(hardened):
    _, state, p = hardened
    port = state.ports["etcd-client"]
    assert etcd_healthy(port, p), "kube-apiserver's etcd client certificate is accepted"
    with pytest.raises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
        urllib.request.urlopen(f"https://127.0.0.1:{port}/health", timeout=5, context=client_tls(p.ca_cert))
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)


def test_etcd_refuses_a_certificate_of_another_ca(hardened, tmp_path):
    _, state, p = hardened
    other = pki_mod.generate(tmp_path / "other")
    ctx = client_tls(p.ca_cert, other.etcd_client_cert, other.etcd_client_key)
    with pytest.raises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
        url = f"https://127.0.0.1:{state.ports['etcd-client']}/health"
        urllib.request.urlopen(url, timeout=5, context=ctx)


@pytest.mark.parametrize("path", ["/api/v1/namespaces", "/readyz", "/version"])
def test_apiserver_refuses_anonymous_requests(hardened, path):
    _, state, p = hardened
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(state.server + path, timeout=5, context=client_tls(p.ca_cert))
    assert err.value.code == 401


def test_every_component_is_healthy_with_anonymous_auth_off(hardened):
    c, _, _ = hardened
    st = c.control_plane.status()
    assert st.healthy, st.detail
    assert all(h.ok for h in st.health.values()), st.health


def test_kubeconfig_0600_in_a_0700_state_folder(hardened):
    c, _, _ = hardened
    layout = c.control_plane.layout
    assert stat.S_IMODE(layout.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(layout.pki.stat().st_mode) == 0o700
    for kubeconfig in (layout.kubeconfig, layout.kubeconfig_of("kube-controller-manager")):
        assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600, kubeconfig
    leftovers = [f.name for f in layout.root.iterdir() if f.name.startswith(".kubeconfig.")]
    assert leftovers == []


def test_verify_at_vvv_prints_no_pod_environment_value(hardened, tmp_path):
    c, _, _ = hardened
    c.create_nodes(hosts_from_inventory(SEED))
    namespace = f"env-{uuid.uuid4().hex[:6]}"
    secret = f"planted-{uuid.uuid4().hex}"
    c.create_namespace(namespace)
    spec = {
        "containers": [
            {
                "name": "app",
                "image": "busybox",
                "env": [{"name": "API_TOKEN", "value": secret}],
                "resources": {"requests": {"cpu": "1"}},
            }
        ]
    }
    c.create_pod("holder", namespace, "node0", spec=spec)
    env = {
        **os.environ,
        "KUBECONFIG": str(c.kubeconfig),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-vvv",
        "-i",
        str(SEED),
        "playbooks/verify.yml",
        "-e",
        f"pd_services_namespace={namespace}",
        "-e",
        f"placement_report_dir={tmp_path / 'report'}",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    assert "List the Pods" in out and "Read the workloads' pods" in out, out[-3000:]
    assert secret not in out
