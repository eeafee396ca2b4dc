"""The collection hypertopo.volcano works installed on its own (issue #15).

``make collection`` builds the tarball and the wheel of the Python core into a temporary folder;
``ansible-galaxy collection install`` puts the collection into a temporary collections path and
pip the wheel into a temporary ``--target``. Every run is from a temporary folder outside the
repository, without ``ansible.cfg``, and names everything by FQCN: the playbooks
(``hypertopo.volcano.plan``), the roles, the filters and the action plugins.

Offline: the plan of the seed inventory equals, file for file, the repository's own plan.
On the local control plane (marker ``cluster``): plan, site, verify and teardown of the seed
inventory, on a private control plane because teardown removes our labels and HyperNodes
cluster-wide (the shared one stays as other sessions left it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from hypertopo.cluster.nodes import hosts_from_inventory

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SOURCE = ROOT / "collections" / "ansible_collections" / "hypertopo" / "volcano"


class Installed(NamedTuple):
    """A temporary install of the collection and its Python core, and a folder to run in."""

    run_dir: Path
    inventory: Path
    env: dict[str, str]

    def playbook(
        self, *args: str, kubeconfig: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``ansible-playbook`` in ``run_dir`` on the copied seed inventory (``env``: instead of ours)."""
        env = dict(env or self.env)
        if kubeconfig:
            env["KUBECONFIG"] = str(kubeconfig)
        return subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(self.inventory), *args],
            cwd=self.run_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )


def _run(*cmd: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{cmd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("collection")
    dist = base / "dist"
    _run("make", "-s", "collection", f"DIST={dist}", f"COLLECTION_BUILD={base / 'build'}", cwd=ROOT)
    version = yaml.safe_load((SOURCE / "galaxy.yml").read_text())["version"]
    tarball = dist / f"hypertopo-volcano-{version}.tar.gz"
    wheel = dist / f"hypertopo-{version}-py3-none-any.whl"
    assert tarball.is_file() and wheel.is_file(), sorted(p.name for p in dist.iterdir())
    collections = base / "collections"
    run_dir = base / "run"
    run_dir.mkdir()
    inventory = run_dir / "inventory"
    shutil.copytree(ROOT / "inventory" / "seed", inventory)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env |= {
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        # the wheel's copy comes first on sys.path, before the venv's editable install
        "PYTHONPATH": str(base / "py"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "HOME": str(base / "home"),
    }
    # --offline: Galaxy is not asked; kubernetes.core (a dependency) is the one the venv has.
    # From run_dir: the repository's ansible.cfg would show its own hypertopo.volcano as installed.
    galaxy = [BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", collections, tarball]
    _run(*galaxy, cwd=run_dir, env=env)
    _run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", base / "py", wheel)
    assert not (run_dir / "ansible.cfg").exists() and ROOT not in run_dir.parents
    return Installed(run_dir, inventory, env)


def test_versions_agree() -> None:
    """The collection, the wheel and the pin in the collection's requirements name one version."""
    collection = yaml.safe_load((SOURCE / "galaxy.yml").read_text())["version"]
    package = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    pins = (SOURCE / "requirements.txt").read_text().splitlines()
    assert collection == package
    assert f"hypertopo=={package}" in pins


def test_the_installed_collection_uses_the_wheel(installed: Installed) -> None:
    proc = _run(sys.executable, "-c", "import hypertopo; print(hypertopo.__file__)", env=installed.env)
    assert proc.stdout.strip().startswith(installed.env["PYTHONPATH"]), proc.stdout
    names = ["hypertopo.volcano.topology_hints", "hypertopo.volcano.topology_model"]
    docs = json.loads(_run(BIN / "ansible-doc", "-t", "filter", "--json", *names, env=installed.env).stdout)
    assert sorted(docs) == names
    actions = [
        "hypertopo.volcano.hypertopo_k8s_batches",
        "hypertopo.volcano.hypertopo_rollout_lock",
        "hypertopo.volcano.hypertopo_write_files",
    ]
    docs = json.loads(_run(BIN / "ansible-doc", "-t", "module", "--json", *actions, env=installed.env).stdout)
    assert sorted(docs) == actions


@pytest.mark.parametrize(
    ("module", "args"),
    [
        pytest.param(
            "ansible.builtin.debug", "msg={{ 'switch' | hypertopo.volcano.hypertopo_key }}", id="filter"
        ),
        pytest.param("hypertopo.volcano.hypertopo_write_files", "dest=written files={}", id="action"),
    ],
)
def test_without_the_python_core_a_plugin_fails_naming_it(
    installed: Installed, tmp_path: Path, module: str, args: str
) -> None:
    """The plugins load without the package hypertopo; using a filter or an action plugin fails and
    says what is missing (and the action writes nothing)."""
    shadow = tmp_path / "shadow" / "hypertopo"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('hypertopo is not installed')\n")
    env = {**installed.env, "PYTHONPATH": str(shadow.parent)}
    cmd = [BIN / "ansible", "localhost", "-m", module, "-a", args]
    proc = subprocess.run([str(c) for c in cmd], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "hypertopo.volcano needs the Python package hypertopo (requirements.txt)" in out, out
    assert not (tmp_path / "written").exists()


def test_offline_plan_by_fqcn_equals_the_repository_plan(installed: Installed, tmp_path: Path) -> None:
    proc = installed.playbook("hypertopo.volcano.plan", "-e", f"plan_dir={tmp_path / 'collection'}")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    # the same inventory and folder, so the reports (which name the inventory relative to the
    # folder) can be compared byte for byte
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": installed.env["PATH"]}
    repo = installed.playbook(
        str(ROOT / "playbooks" / "plan.yml"), "-e", f"plan_dir={tmp_path / 'repo'}", env=env
    )
    assert repo.returncode == 0, repo.stdout[-4000:] + repo.stderr[-2000:]
    files = sorted(p.name for p in (tmp_path / "repo").iterdir())
    assert "report.json" in files and "hints.json" in files
    assert sorted(p.name for p in (tmp_path / "collection").iterdir()) == files
    for name in files:
        assert (tmp_path / "collection" / name).read_bytes() == (tmp_path / "repo" / name).read_bytes(), name


FQCN_PLAYBOOK = """\
- name: The playbook of the collection, by FQCN
  ansible.builtin.import_playbook: hypertopo.volcano.{playbook}

- name: The roles, filters and action plugins of the collection, by FQCN
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    marker:
      apiVersion: v1
      kind: ConfigMap
      metadata: {{name: "{{{{ fqcn_name }}}}", namespace: default}}
      data: {{switch_label: "{{{{ 'switch' | hypertopo.volcano.hypertopo_key }}}}"}}
  tasks:
    - name: The topology role
      ansible.builtin.import_role:
        name: hypertopo.volcano.topology
    - name: Take a rollout lock of this test (action plugin)
      hypertopo.volcano.hypertopo_rollout_lock:
        name: "{{{{ fqcn_name }}}}"
        namespace: default
    - name: Write a marker ConfigMap (action plugin)
      hypertopo.volcano.hypertopo_k8s_batches:
        state: present
        definition: ["{{{{ marker }}}}"]
      register: fqcn_batches
    - name: Release the lock (action plugin)
      hypertopo.volcano.hypertopo_rollout_lock:
        name: "{{{{ fqcn_name }}}}"
        namespace: default
        state: released
    - name: Count the hosts (filter)
      ansible.builtin.debug:
        msg: >-
          fqcn: {{{{ fqcn_batches.result.results | length }}}} object,
          {{{{ topology_model.hosts | length }}}} hosts
"""


PLAYBOOKS = ("plan", "site", "verify", "teardown")


def fqcn_playbook(installed: Installed, playbook: str) -> str:
    """``<playbook>.yml`` in the run folder: the collection's playbook, then the play of our own."""
    (installed.run_dir / f"{playbook}.yml").write_text(FQCN_PLAYBOOK.format(playbook=playbook))
    return f"{playbook}.yml"


Run = Callable[..., subprocess.CompletedProcess[str]]


def syntax_errors(check: Run, playbooks: list[str]) -> dict[str, str]:
    """Playbook -> what ``ansible-playbook --syntax-check`` said about it, for those that fail.
    One run checks them all (a run costs about a second of CPU); only when it fails is each
    checked alone, so that every failing playbook is named."""
    if check("--syntax-check", *playbooks).returncode == 0:
        return {}
    failed = {}
    for playbook in playbooks:
        proc = check("--syntax-check", playbook)
        if proc.returncode != 0:
            failed[playbook] = (proc.stdout[-1500:] + proc.stderr[-1500:]).strip()
    return failed


def test_the_fqcn_playbooks_parse(installed: Installed) -> None:
    """Offline: every name in the cluster test's playbooks resolves from the installed collection."""
    assert syntax_errors(installed.playbook, [fqcn_playbook(installed, p) for p in PLAYBOOKS]) == {}


def test_every_playbook_parses_from_the_repository_and_installed(installed: Installed) -> None:
    """Offline: each playbook resolves every role, filter and module it names, both run from a
    clone (``playbooks/<name>.yml`` with the repository's ``ansible.cfg``) and installed
    (``hypertopo.volcano.<name>`` outside the repository). A short role name passes the second
    (a collection's playbook finds its own roles) and fails the first."""
    names = sorted(p.stem for p in (ROOT / "playbooks").glob("*.yml"))

    def from_the_repository(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    assert syntax_errors(installed.playbook, [f"hypertopo.volcano.{name}" for name in names]) == {}
    assert syntax_errors(from_the_repository, [f"playbooks/{name}.yml" for name in names]) == {}


@pytest.mark.cluster
def test_plan_site_verify_teardown_by_fqcn(installed: Installed, cluster_factory, tmp_path: Path) -> None:
    cluster = cluster_factory()
    cluster.create_nodes(hosts_from_inventory(installed.inventory))
    namespace = f"coll-{uuid.uuid4().hex[:6]}"
    common = ["-e", f"pd_services_namespace={namespace}", "-e", f"fqcn_name={namespace}"]
    common += ["-e", f"placement_report_dir={tmp_path / 'report'}"]
    common += ["-e", f"plan_dir={tmp_path / 'plan'}", "-e", f"verify_render_dir={tmp_path / 'verify'}"]
    for playbook in PLAYBOOKS:
        proc = installed.playbook(fqcn_playbook(installed, playbook), *common, kubeconfig=cluster.kubeconfig)
        assert proc.returncode == 0, f"{playbook}:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
        assert "fqcn: 1 object, 256 hosts" in proc.stdout, f"{playbook}:\n{proc.stdout[-3000:]}"
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["verified"] and report["ok"], report["failures"]
    assert not cluster.core.list_namespaced_pod(namespace).items, "teardown left pods behind"
