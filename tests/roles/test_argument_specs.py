"""Every role documents exactly the variables it defaults, with the same default values.

``meta/argument_specs.yml`` is what ``ansible-doc -t role`` shows and what Ansible validates a
role's variables against; ``defaults/main.yml`` is where the values come from. A key in one but
not the other, or a documented default that differs from the real one, is a drift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
ROLE_NAMES = sorted(p.name for p in ROLES.iterdir() if (p / "meta" / "main.yml").is_file())


def defaults(role: str) -> dict[str, Any]:
    return yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}


def options(role: str) -> dict[str, dict[str, Any]]:
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    assert list(specs) == ["main"], f"{role}: only the main entry point is expected"
    return specs["main"].get("options") or {}


def templated(value: Any) -> bool:
    """True when ``value`` holds a Jinja expression (its default is computed, not a literal)."""
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(templated(v) for v in value.values())
    if isinstance(value, list):
        return any(templated(v) for v in value)
    return False


def test_every_role_is_checked():
    assert ROLE_NAMES == [
        "access",
        "admission_check",
        "hypernodes",
        "node_labels",
        "pd_services",
        "placement_report",
        "rollout_lock",
        "scheduler_config",
        "topology",
        "topology_hints",
    ]


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_argument_specs_and_defaults_list_the_same_keys(role):
    in_defaults, in_specs = set(defaults(role)), set(options(role))
    assert in_defaults - in_specs == set(), f"{role}: defaulted but not documented"
    assert in_specs - in_defaults == set(), f"{role}: documented but not defaulted"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_documented_defaults_are_the_real_ones(role):
    specs = options(role)
    for key, value in defaults(role).items():
        spec = specs[key]
        if templated(value):
            # A computed default is described in words; a literal here would be a second definition.
            assert "default" not in spec, f"{role}: {key} is computed in defaults/main.yml"
        elif spec.get("required"):
            assert "default" not in spec, f"{role}: {key} is required"
        else:
            assert spec.get("default") == value, f"{role}: {key}"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_role_has_a_readme_with_an_example_and_its_variables(role):
    text = (ROLES / role / "README.md").read_text()
    assert text.startswith(f"# {role}\n")
    assert "```yaml" in text, f"{role}/README.md has no example"
    assert "## Variables" in text, f"{role}/README.md has no Variables section"
    missing = [key for key in options(role) if f"`{key}`" not in text]
    assert not missing, f"{role}/README.md does not list {missing}"
