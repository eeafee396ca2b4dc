"""The scheduler_config role's plan: our plugin merged into the operator's configuration."""

from __future__ import annotations

import pytest
import yaml

from hypertopo.rollout.scheduler_config import plan_scheduler_conf
from hypertopo.topology.scheduler_conf import NTA_PLUGIN, SchedulerConfError, role_defaults

ARGS = {"weight": 10}
OPERATOR = """
actions: "enqueue, allocate, preempt, backfill"
tiers:
- plugins:
  - name: priority
  - name: gang
- plugins:
  - name: binpack
    arguments: {binpack.weight: 5}
  - name: network-topology-aware
    arguments: {weight: 1}
"""


def _plugins(conf: dict) -> list[str]:
    return [p["name"] for tier in conf["tiers"] for p in tier["plugins"]]


def test_fresh_cluster_gets_the_role_defaults_plus_our_plugin() -> None:
    d = role_defaults()
    plan = plan_scheduler_conf(
        None,
        nta_arguments=ARGS,
        default_actions=d["scheduler_config_default_actions"],
        default_tiers=d["scheduler_config_default_tiers"],
    )
    assert plan["existed"] is False and plan["changed"] is True and plan["nta_enabled"] is True
    assert plan["conf"]["actions"] == d["scheduler_config_default_actions"]
    assert _plugins(plan["conf"])[-1] == NTA_PLUGIN
    assert yaml.safe_load(plan["text"]) == plan["conf"]


def test_operator_configuration_is_kept_and_our_arguments_replaced_in_place() -> None:
    plan = plan_scheduler_conf(OPERATOR, nta_arguments=ARGS)
    conf = plan["conf"]
    assert conf["actions"] == "enqueue, allocate, preempt, backfill"
    assert _plugins(conf) == ["priority", "gang", "binpack", NTA_PLUGIN]
    assert conf["tiers"][1]["plugins"][0]["arguments"] == {"binpack.weight": 5}
    assert conf["tiers"][1]["plugins"][1]["arguments"] == ARGS
    assert plan["changed"] is True and plan["existed"] is True


def test_same_configuration_in_other_formatting_is_no_change() -> None:
    first = plan_scheduler_conf(OPERATOR, nta_arguments=ARGS)
    reformatted = yaml.safe_dump(first["conf"], default_flow_style=True)
    again = plan_scheduler_conf(reformatted, nta_arguments=ARGS)
    assert again["changed"] is False and again["conf"] == first["conf"]


def test_disabled_removes_only_our_plugin() -> None:
    plan = plan_scheduler_conf(OPERATOR, nta_arguments=ARGS, enabled=False)
    assert _plugins(plan["conf"]) == ["priority", "gang", "binpack"]
    assert plan["nta_enabled"] is False and plan["changed"] is True


@pytest.mark.parametrize("text", ["actions: [unclosed", "- just a list", "tiers: 3"])
def test_unparsable_configuration_is_refused(text: str) -> None:
    with pytest.raises(SchedulerConfError):
        plan_scheduler_conf(text, nta_arguments=ARGS)
