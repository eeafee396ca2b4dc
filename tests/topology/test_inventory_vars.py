"""The model's per-host variables equal Ansible's own merge (VariableManager.get_vars)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible import constants as C
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.manager import VariableManager

from hypertopo.topology.inventory import init_ansible_plugins, inventory_host_vars

ROOT = Path(__file__).resolve().parents[2]
# Variables get_vars adds that no inventory defines (magic variables).
MAGIC = {"groups", "omit", "inventory_dir", "inventory_file", "playbook_dir"}

HOSTS = {
    "all": {
        "vars": {"level": "all-inventory", "shared": {"a": 1, "b": {"x": 1}}},
        "children": {
            "agg": {
                "vars": {"level": "agg-inventory", "agg_only": True},
                "children": {
                    "leaf0": {
                        "vars": {"level": "leaf0-inventory"},
                        "hosts": {"h0": {"level": "h0-inventory"}, "h1": {}},
                    },
                    "leaf1": {"hosts": {"h2": {}, "h3": {"shared": {"b": {"y": 2}}}}},
                },
            },
            # a host in two groups of the same depth: name order decides
            "extra": {"vars": {"level": "extra-inventory", "prio": "extra"}, "hosts": {"h1": {}}},
            "aaa": {"vars": {"prio": "aaa"}, "hosts": {"h1": {}}},
        },
    }
}
FILES = {
    "group_vars/all.yml": {"level": "all-file", "from_all_file": 1, "shared": {"c": 3}},
    "group_vars/leaf1.yml": {"level": "leaf1-file", "shared": {"b": {"z": 3}}},
    "group_vars/aaa.yml": {"prio": "aaa-file"},
    "host_vars/h2.yml": {"level": "h2-file"},
}


@pytest.fixture(scope="module", autouse=True)
def _plugins() -> None:
    init_ansible_plugins()


def _write(root: Path) -> Path:
    (root / "hosts.yml").write_text(yaml.safe_dump(HOSTS))
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(yaml.safe_dump(data))
    return root


def _compare(source: Path) -> int:
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(source)])
    ours = inventory_host_vars(loader, inventory)
    ansible = VariableManager(loader=loader, inventory=inventory)
    hosts = inventory.get_hosts()
    for host in hosts:
        expected = ansible.get_vars(host=host, include_hostvars=False)
        got = ours(host)
        assert set(expected) - set(got) <= MAGIC | {k for k in expected if k.startswith("ansible_")}, (
            host.name
        )
        assert {k: expected[k] for k in got} == got, host.name
    return len(hosts)


@pytest.mark.parametrize("behaviour", ["replace", "merge"])
def test_precedence_equals_ansible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behaviour: str):
    monkeypatch.setattr(C, "DEFAULT_HASH_BEHAVIOUR", behaviour)
    assert _compare(_write(tmp_path)) == 4


def test_seed_inventory_equals_ansible():
    assert _compare(ROOT / "inventory" / "seed") == 256


def test_values_of_interest(tmp_path: Path):
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(_write(tmp_path))])
    ours = inventory_host_vars(loader, inventory)
    get = {h.name: ours(h) for h in inventory.get_hosts()}
    # inventory vars of every group come before any group_vars file (VARIABLE_PRECEDENCE)
    assert get["h1"]["level"] == "all-file"
    assert get["h0"]["level"] == "h0-inventory"
    assert get["h2"]["level"] == "h2-file"
    assert get["h3"]["level"] == "leaf1-file"
    assert get["h1"]["prio"] == "aaa-file"
