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


def _seed_merge(tmp_path, run_import, edit=lambda: None) -> tuple[int, str, str]:
    """The seed's IB side as ibnetdiscover, its Ethernet side as LLDP json0, its GPUs as node
    labels (``edit`` changes the files first), merged into tmp_path/inv."""
    seed = load_topology(str(SEED)).as_dict()
    (tmp_path / "ib.txt").write_text(ibnetdiscover(seed))
    lldp_files(seed, tmp_path / "lldp")
    (tmp_path / "nodes.json").write_text(nodes_json(seed))
    edit()
    return run_import(
        "merge",
        "--source",
        f"ibnetdiscover:{tmp_path / 'ib.txt'}",
        "--source",
        "lldp:" + ",".join(map(str, sorted((tmp_path / "lldp").iterdir()))),
        "--source",
        f"labels:{tmp_path / 'nodes.json'}",
        "--out",
        tmp_path / "inv",
    )


def test_seed_from_ibnetdiscover_lldp_and_gpu_labels(tmp_path, run_import):
    """IB side from ibnetdiscover, Ethernet side (and the IB spine's uplink) from LLDP, GPU models
    from nvidia.com/gpu.product: the model equals inventory/seed's."""
    code, out, err = _seed_merge(tmp_path, run_import)
    assert code == 0, err
    assert "7 switches (root eth-switch6), 256 hosts" in out
    assert shape(tmp_path / "inv") == shape(SEED)
    imported = load_topology(str(tmp_path / "inv"))
    assert imported.node_labels() == load_topology(str(SEED)).node_labels()


def test_mixed_up_sources_in_a_merge(tmp_path, run_import):
    """An ibnetdiscover file given as LLDP, LLDP given as node labels: located, nothing written."""
    fabric = ROOT / "tests" / "importer" / "fixtures" / "fat-tree.ibnetdiscover"
    lldp = ROOT / "tests" / "importer" / "fixtures" / "host-gpu-c1.json"
    code, _, err = run_import("merge", "--source", f"lldp:{fabric}", "--out", tmp_path / "inv")
    assert code == 2 and f"{fabric}:1: not JSON" in err and "lldpctl -f json0" in err
    code, _, err = run_import("merge", "--source", f"labels:{lldp}", "--out", tmp_path / "inv")
    assert code == 2 and f"{lldp}: not a Node list" in err
    code, _, err = run_import("merge", "--source", f"snmp:{lldp}", "--out", tmp_path / "inv")
    assert code == 2 and "unknown source 'snmp'" in err
    assert not (tmp_path / "inv").exists()


def test_a_host_seen_by_two_sources_is_multi_rail(tmp_path, run_import):
    """node0 has its HCA on ib-switch0 and, per LLDP, a NIC on eth-switch2: one adapter each, the
    first source's wins the tie, and the host is reported."""
    lldp = tmp_path / "lldp"
    code, _, err = _seed_merge(
        tmp_path, run_import, lambda: (lldp / "node0.json").write_text((lldp / "node128.json").read_text())
    )
    assert code == 0, err
    assert shape(tmp_path / "inv")["hosts"]["node0"] == ("ib-switch0", "h100")
    assert "multi-rail host node0: adapters on ib-switch0 (1: " in err


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
