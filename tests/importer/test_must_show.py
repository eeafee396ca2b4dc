"""The issue's must-show: the seed from its fabric files, and an import that validate.yml accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypertopo.topology import load_topology

from .conftest import ROOT, SEED, shape
from .gen import fat_tree, ibnetdiscover, lldp_files, nodes_json

ENV = {
    **os.environ,
    "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
    "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
}


def test_seed_from_ibnetdiscover_lldp_and_gpu_labels(tmp_path, run_import):
    """IB side from ibnetdiscover, Ethernet side (and the IB spine's uplink) from LLDP, GPU models
    from nvidia.com/gpu.product: the model equals inventory/seed's."""
    seed = load_topology(str(SEED)).as_dict()
    (tmp_path / "ib.txt").write_text(ibnetdiscover(seed))
    lldp = lldp_files(seed, tmp_path / "lldp")
    (tmp_path / "nodes.json").write_text(nodes_json(seed))
    code, out, err = run_import(
        "merge",
        "--source",
        f"ibnetdiscover:{tmp_path / 'ib.txt'}",
        "--source",
        "lldp:" + ",".join(map(str, lldp)),
        "--source",
        f"labels:{tmp_path / 'nodes.json'}",
        "--out",
        tmp_path / "inv",
    )
    assert code == 0, err
    assert "7 switches (root eth-switch6), 256 hosts" in out
    assert shape(tmp_path / "inv") == shape(SEED)
    imported = load_topology(str(tmp_path / "inv"))
    assert imported.node_labels() == load_topology(str(SEED)).node_labels()


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    """A command from the repository root, as a user runs it."""
    return subprocess.run(list(argv), cwd=ROOT, env=ENV, capture_output=True, text=True, check=False)


def _playbook(*args: str) -> subprocess.CompletedProcess[str]:
    return _run(str(Path(sys.executable).parent / "ansible-playbook"), *args)


def test_import_then_validate_playbook_on_a_two_spine_fat_tree(tmp_path):
    (tmp_path / "f.txt").write_text(ibnetdiscover(fat_tree(64, leaves=8), spines=2))
    importer = str(ROOT / "bin" / "hypertopo-import")
    run = _run(
        importer,
        "ibnetdiscover",
        str(tmp_path / "f.txt"),
        "--gpu-model",
        "h100",
        "--out",
        str(tmp_path / "inv"),
    )
    assert run.returncode == 0, run.stderr
    check = _playbook("-i", str(tmp_path / "inv"), "playbooks/validate.yml")
    assert check.returncode == 0, check.stdout + check.stderr
    # 8 leaves and one tier-2 group (spine0 and spine0-b merged), as the import said
    assert "9 switches (root spine0), 64 hosts, 8 leaves" in check.stdout


def test_import_playbook(tmp_path):
    (tmp_path / "f.txt").write_text(ibnetdiscover(fat_tree(16, leaves=2), spines=2))
    ok = _playbook(
        "playbooks/import.yml",
        "-e",
        f"import_out={tmp_path / 'inv'}",
        "-e",
        json.dumps(
            {
                "import_sources": [f"ibnetdiscover:{tmp_path / 'f.txt'}"],
                "import_options": ["--gpu-model", "h100"],
            }
        ),
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "changed=1" in ok.stdout
    assert shape(tmp_path / "inv")["root"] == "spine0"
    bad = _playbook(
        "playbooks/import.yml",
        "-e",
        f"import_out={tmp_path / 'inv2'}",
        "-e",
        json.dumps({"import_sources": [f"ibnetdiscover:{tmp_path / 'f.txt'}"]}),
    )
    assert bad.returncode != 0
    assert "without a GPU model" in bad.stdout
    assert not (tmp_path / "inv2").exists()
