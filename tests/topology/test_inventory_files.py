"""Inventory files Ansible would half-read: each mistake is one problem naming the file and line.

Ansible's YAML inventory plugin stops at the first bad entry of a file (keeping what it read
before it) or skips an entry with only a warning, and its YAML loader lets a repeated key win.
Each case below used to pass validation with hosts or a leaf missing (the onboarding would then
prune their labels and delete the leaf's HyperNode), or to fail with a misleading message.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from hypertopo.topology import TopologyError, load_topology

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "inventory" / "seed"
LAST_LEAF = "    eth-switch3:\n      hosts:\n"


def seed_copy(tmp_path: Path) -> Path:
    inv = tmp_path / "inv"
    shutil.copytree(SEED, inv)
    return inv


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, text: str) -> int:
    return path.read_text().splitlines().index(text) + 1


Case = tuple[str, Callable[[Path], None], Callable[[Path], list[str]]]


def _bool_host(inv: Path) -> None:
    edit(inv / "hosts.yml", LAST_LEAF, LAST_LEAF + "        yes: {gpu_model: h100}\n")


def _number_host(inv: Path) -> None:
    edit(inv / "hosts.yml", LAST_LEAF, LAST_LEAF + "        1234: {gpu_model: h100}\n")


def _bool_group(inv: Path) -> None:
    edit(inv / "hosts.yml", "    eth-switch6: {}\n", "    eth-switch6: {}\n    on: {}\n")


def _group_list(inv: Path) -> None:
    edit(inv / "hosts.yml", LAST_LEAF, "    eth-switch3:\n      - hosts:\n")


def _hosts_typo(inv: Path) -> None:
    edit(inv / "hosts.yml", LAST_LEAF, "    eth-switch3:\n      host:\n")


def _host_not_mapping(inv: Path) -> None:
    edit(inv / "hosts.yml", "        node1: {gpu_model: h100}\n", "        node1: h100\n")


def _duplicate_host(inv: Path) -> None:
    edit(
        inv / "hosts.yml",
        "        node1: {gpu_model: h100}\n",
        "        node1: {gpu_model: h100}\n        node1: {}\n",
    )


def _duplicate_group(inv: Path) -> None:
    edit(inv / "hosts.yml", "    ib-switch4: {}\n", "    ib-switch4: {}\n    ib-switch0: {}\n")


def _broken_group_vars(inv: Path) -> None:
    (inv / "group_vars" / "ib-switch0.yml").write_text(
        "topology_switch:\n  tier: 1\n  type: ib\n   parent: ib-switch4\n"
    )


def _duplicate_in_group_vars(inv: Path) -> None:
    (inv / "group_vars" / "ib-switch0.yml").write_text(
        "topology_switch:\n  tier: 1\n  type: ib\n  parent: ib-switch4\n  tier: 2\n"
    )


def _same_boolean_twice(inv: Path) -> None:
    with (inv / "group_vars" / "all.yml").open("a") as f:
        f.write("topology_gpu_models:\n  yes: {label: a}\n  on: {label: b}\n")


def _group_vars_list(inv: Path) -> None:
    (inv / "group_vars" / "ib-switch0.yml").write_text("- topology_switch: {tier: 1}\n")


def _broken_host_vars(inv: Path) -> None:
    (inv / "host_vars").mkdir()
    (inv / "host_vars" / "node3.yml").write_text("gpu_model: [h100\n")


def _empty_hosts(inv: Path) -> None:
    (inv / "hosts.yml").write_text("")


def _hosts_list(inv: Path) -> None:
    (inv / "hosts.yml").write_text("- node0\n- node1\n")


def _broken_ini(inv: Path) -> None:
    (inv / "hosts.yml").unlink()
    (inv / "hosts").write_text("[ib-switch0]\nnode0 gpu_model=h100\nnode1 gpu_model\n")


def _misnamed_group_vars(inv: Path) -> None:
    (inv / "group_vars" / "ib-switch1.yml").rename(inv / "group_vars" / "ib-swich1.yml")


def _switch_left_out_of_hosts(inv: Path) -> None:
    edit(inv / "hosts.yml", "    eth-switch6: {}\n", "")


def _vaulted_without_password(inv: Path) -> None:
    (inv / "group_vars" / "ib-switch0.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n")


CASES: list[Case] = [
    (
        "host name YAML reads as a boolean",
        _bool_host,
        lambda inv: [
            f"hosts.yml:{line_of(inv / 'hosts.yml', '        yes: {gpu_model: h100}')}:",
            "the host name 'yes' is read by YAML as a boolean",
            "quote it: 'yes':",
        ],
    ),
    (
        "host name YAML reads as a number",
        _number_host,
        lambda inv: ["host name '1234' is read by YAML as a number"],
    ),
    ("group name YAML reads as a boolean", _bool_group, lambda inv: ["hosts.yml:9:", "group name 'on'"]),
    ("group written as a list", _group_list, lambda inv: ["group 'eth-switch3' is a list; Ansible skips it"]),
    (
        "'host:' instead of 'hosts:'",
        _hosts_typo,
        lambda inv: [
            "group 'eth-switch3' has the key 'host', which Ansible ignores",
            "did you mean 'hosts'?",
        ],
    ),
    (
        "host followed by text",
        _host_not_mapping,
        lambda inv: ["host 'node1' (group 'ib-switch0') is followed by"],
    ),
    (
        "host listed twice",
        _duplicate_host,
        lambda inv: ["hosts.yml:15:", "repeats the key 'node1' of line 14"],
    ),
    (
        "group listed twice",
        _duplicate_group,
        lambda inv: ["hosts.yml:12:", "repeats the key 'ib-switch0' of line 10"],
    ),
    (
        "broken group_vars file",
        _broken_group_vars,
        lambda inv: ["group_vars/ib-switch0.yml:4:", "is not valid YAML, column 10", "correct the YAML"],
    ),
    (
        "key twice in a group_vars file",
        _duplicate_in_group_vars,
        lambda inv: ["group_vars/ib-switch0.yml:5:", "repeats the key 'tier' of line 2"],
    ),
    (
        "two keys YAML reads as the same boolean",
        _same_boolean_twice,
        lambda inv: ["repeats the key 'on'", "YAML reads 'yes' and 'on' alike"],
    ),
    (
        "group_vars file that is a list",
        _group_vars_list,
        lambda inv: ["group_vars/ib-switch0.yml:1:", "is a list"],
    ),
    ("broken host_vars file", _broken_host_vars, lambda inv: ["host_vars/node3.yml:2:", "is not valid YAML"]),
    ("empty hosts file", _empty_hosts, lambda inv: ["hosts.yml: is empty"]),
    (
        "hosts file that is a list",
        _hosts_list,
        lambda inv: ["hosts.yml:1:", "is a list, not a mapping of groups"],
    ),
    (
        "INI file Ansible cannot parse",
        _broken_ini,
        lambda inv: [
            "inv/hosts: could not be parsed as an inventory",
            "Expected key=value host variable assignment",
        ],
    ),
    (
        "group_vars file named after no group",
        _misnamed_group_vars,
        lambda inv: [
            "group_vars/ib-swich1.yml:2:",
            "sets topology_switch for group 'ib-swich1', which is not in the inventory",
            "is it 'ib-switch1'?",
        ],
    ),
    (
        "switch left out of the hosts file",
        _switch_left_out_of_hosts,
        lambda inv: ["group_vars/eth-switch6.yml:2:", "group 'eth-switch6', which is not in the inventory"],
    ),
    (
        "vaulted file without the vault password",
        _vaulted_without_password,
        lambda inv: ["group_vars/ib-switch0.yml", "vault password"],
    ),
]


@pytest.mark.parametrize(("case", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_one_problem_naming_the_file(tmp_path, case, mutate, expected):
    inv = seed_copy(tmp_path)
    mutate(inv)
    with pytest.raises(TopologyError) as err:
        load_topology(str(inv))
    text = str(err.value)
    assert len(err.value.problems) == 1, text
    for fragment in expected(inv):
        assert fragment in text, f"{case}: expected {fragment!r} in:\n{text}"
    assert "Fix:" in text
    assert "has no hosts" not in text


def test_every_problem_at_once_without_the_consequences(tmp_path):
    """A broken group_vars file hides nothing else: the other leaf's mistake is reported too."""
    inv = seed_copy(tmp_path)
    _broken_group_vars(inv)
    edit(inv / "hosts.yml", "        node64: {gpu_model: h100}\n", "        node64: {gpu_model: h900}\n")
    with pytest.raises(TopologyError) as err:
        load_topology(str(inv))
    problems = [str(p) for p in err.value.problems]
    assert len(problems) == 2, problems
    assert "group_vars/ib-switch0.yml:4" in problems[0]
    assert "host 'node64'" in problems[1] and "unknown gpu_model 'h900'" in problems[1]


def test_the_seed_inventory_reads_without_problems():
    topo = load_topology(str(SEED))
    assert len(topo.hosts) == 256 and topo.root == "eth-switch6"
    assert topo.hosts["node0"].source.endswith("inventory/seed/hosts.yml:13")
