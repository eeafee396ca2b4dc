"""The action plugin hypertopo_k8s_info: kubernetes.core.k8s_info's own code, in the controller.

Without a cluster: which runs read in the controller process (a ``local`` connection, no task
``environment``, the Kubernetes client importable) and which run the module, and that bad options
fail with the module's own words. On the shared control plane: one playbook reads the same things
with the plugin and with ``kubernetes.core.k8s_info`` and asserts equal results (listings with
label selectors and hidden fields, a named object, a custom resource, a missing API, a missing
object), each way getting the kubeconfig only from ``module_defaults`` of a group holding
``kubernetes.core.k8s_info``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from hypertopo.cluster.nodes import NodeSpec

ROOT = Path(__file__).resolve().parents[2]
HYPERNODE_API = "topology.volcano.sh/v1alpha1"


def _plugin() -> Any:
    """The action plugin's module, loaded as Ansible loads it (its plugin_utils from the collection)."""
    if str(ROOT / "collections") not in sys.path:
        sys.path.insert(0, str(ROOT / "collections"))
    spec = importlib.util.spec_from_file_location(
        "hypertopo_k8s_info", ROOT / "action_plugins/hypertopo_k8s_info.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PLUGIN = _plugin()
CORE = importlib.import_module("ansible_collections.hypertopo.volcano.plugins.plugin_utils.k8s_info")


def _runs_here(transport: str, environment: list[Any]) -> bool:
    return CORE.runs_here(SimpleNamespace(transport=transport), SimpleNamespace(environment=environment))


def test_the_kubernetes_client_is_importable_in_the_controller() -> None:
    assert CORE.MISSING is None
    assert PLUGIN.runs_here is CORE.runs_here, "the plugin decides with the shared rule"


@pytest.mark.parametrize(
    ("transport", "environment", "here"),
    [
        ("local", [{}], True),  # what a task without `environment` carries
        ("local", [], True),
        ("local", [{"K8S_AUTH_CONTEXT": "other"}], False),  # the module process would see it
        ("ssh", [{}], False),
        ("paramiko", [], False),
    ],
)
def test_reads_in_the_controller_only_where_the_module_would_see_the_same(
    transport: str, environment: list[Any], here: bool
) -> None:
    assert _runs_here(transport, environment) is here


def test_without_the_client_the_module_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CORE, "MISSING", ImportError("No module named 'kubernetes'"))
    assert not _runs_here("local", [{}])


def test_bad_options_fail_with_the_modules_words() -> None:
    unknown = PLUGIN.read({"kind": "Node", "bogus": 1})
    assert unknown["failed"]
    assert unknown["msg"].startswith(
        "Unsupported parameters for (kubernetes.core.k8s_info) module: bogus. Supported parameters include: "
    ), unknown
    missing = PLUGIN.read({"api_version": "v1"})
    assert missing == {"failed": True, "msg": "missing required arguments: kind"}


def test_an_unreachable_api_server_fails_as_the_module_fails(tmp_path: Path) -> None:
    """Both ways through ansible-playbook, against a port nothing listens on: both fail, naming it."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    out = _run_playbook(
        tmp_path,
        f"""
        - hosts: localhost
          connection: local
          gather_facts: false
          tasks:
            - hypertopo.volcano.hypertopo_k8s_info: {{kind: Node, kubeconfig: "{kubeconfig}"}}
              register: ours
              ignore_errors: true
            - kubernetes.core.k8s_info: {{kind: Node, kubeconfig: "{kubeconfig}"}}
              register: module
              ignore_errors: true
        """,
    )
    ours, module = _results(out)
    assert ours["failed"] and module["failed"]
    assert "127.0.0.1" in ours["msg"] and "127.0.0.1" in module["msg"], (ours, module)


def _run_playbook(tmp_path: Path, text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "read.yml"
    playbook.write_text(textwrap.dedent(text))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
    }
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook), *extra]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def _results(out: subprocess.CompletedProcess[str]) -> list[Any]:
    """Each task's result on localhost (the json callback's report)."""
    try:
        report = json.loads(out.stdout)
    except ValueError:
        raise AssertionError(out.stdout[-4000:] + out.stderr[-2000:]) from None
    return [task["hosts"]["localhost"] for task in report["plays"][0]["tasks"]]


@pytest.mark.cluster
def test_reads_equal_the_modules_on_the_control_plane(cluster_ws: Any, tmp_path: Path) -> None:
    ws = cluster_ws
    nodes = ws.create_nodes(
        [NodeSpec("a", gpu=8), NodeSpec("b", gpu=8)], labels={"hypertopo.test/read": "yes"}
    )
    hypernode = ws.create_hypernode("leaf", 1, nodes=nodes)
    selector = f"hypertopo.test/read=yes,{next(iter(ws.pin))}={ws.namespace}"
    reads = [
        {
            "kind": "Node",
            "label_selectors": [selector],
            "hidden_fields": ["metadata.managedFields", "status"],
        },
        {"kind": "Node", "name": nodes[0]},
        {"kind": "Node", "name": f"{ws.prefix}-absent"},
        {"api_version": HYPERNODE_API, "kind": "HyperNode", "name": hypernode},
        {"api_version": "example.invalid/v1", "kind": "Nothing"},
        {"kind": "Pod", "namespace": ws.namespace},
        {"kind": "Namespace", "name": ws.namespace, "hidden_fields": ["metadata.managedFields"]},
    ]
    out = _run_playbook(
        tmp_path,
        f"""
        - hosts: localhost
          connection: local
          gather_facts: false
          vars:
            reads: {json.dumps(reads)}
          tasks:
            - name: The plugin, its kubeconfig from group/kubernetes.core.k8s
              module_defaults:
                group/kubernetes.core.k8s: {{kubeconfig: "{ws.cluster.kubeconfig}"}}
              hypertopo.volcano.hypertopo_k8s_info: "{{{{ item }}}}"
              loop: "{{{{ reads }}}}"
              register: ours
            - name: The module, its kubeconfig from group/hypertopo.volcano.k8s
              module_defaults:
                group/hypertopo.volcano.k8s: {{kubeconfig: "{ws.cluster.kubeconfig}"}}
              kubernetes.core.k8s_info: "{{{{ item }}}}"
              loop: "{{{{ reads }}}}"
              register: module
        """,
    )
    mine, theirs = (task["results"] for task in _results(out))
    keys = ("changed", "failed", "resources", "api_found", "msg")
    ours = [{k: r.get(k) for k in keys} for r in mine]
    module = [{k: r.get(k) for k in keys} for r in theirs]
    assert ours == module
    listed, named, absent, hn, missing_api, pods, namespace = ours
    assert sorted(n["metadata"]["name"] for n in listed["resources"]) == sorted(nodes)
    assert all("status" not in n and "managedFields" not in n["metadata"] for n in listed["resources"])
    assert named["resources"][0]["metadata"]["name"] == nodes[0]
    assert absent["resources"] == [] and absent["api_found"]
    assert hn["resources"][0]["metadata"]["name"] == hypernode
    assert missing_api["api_found"] is False and "Failed to find API" in missing_api["msg"]
    assert pods["resources"] == [] and namespace["resources"][0]["metadata"]["name"] == ws.namespace
