from fractions import Fraction

import pytest

from hypertopo.placement import PlacementInputError
from hypertopo.placement.objects import parse_hypernode, parse_node, parse_pod
from hypertopo.placement.podspec import parse_pod_spec
from hypertopo.placement.quantity import format_resource, parse_quantity, volcano_value
from hypertopo.placement.selectors import LabelRequirement, Taint, Toleration


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("250m", Fraction(1, 4)),
        ("2Gi", Fraction(2 * 2**30)),
        ("1e9", Fraction(10**9)),
        ("1.5", Fraction(3, 2)),
        ("1E3", Fraction(1000)),
        ("100Mi", Fraction(100 * 2**20)),
        ("5k", Fraction(5000)),
        (8, Fraction(8)),
        (0.5, Fraction(1, 2)),
    ],
)
def test_quantities(text, value):
    assert parse_quantity(text, where="x") == value


@pytest.mark.parametrize("bad", ["lots", "1.2.3", "", "Gi", True, None, [1]])
def test_bad_quantity_names_where(bad):
    with pytest.raises(PlacementInputError, match=r"Node n1: status\.allocatable\.cpu"):
        parse_quantity(bad, where="Node n1: status.allocatable.cpu")


def test_volcano_units():
    assert volcano_value("cpu", "250m", where="x") == 250
    assert volcano_value("cpu", 2, where="x") == 2000
    assert volcano_value("memory", "1Ki", where="x") == 1024
    assert volcano_value("nvidia.com/gpu", "8", where="x") == 8000
    assert volcano_value("pods", "110", where="x") == 110
    assert volcano_value("memory", "0.5", where="x") == 1  # rounds up like Quantity.Value()
    assert format_resource("nvidia.com/gpu", 3000) == "3"
    assert format_resource("memory", 2 * 2**30) == "2Gi"
    assert format_resource("cpu", 1500) == "1500m"


def test_node_parse_and_errors():
    node = parse_node(
        {
            "metadata": {"name": "n1", "labels": {"a": "b"}},
            "status": {"allocatable": {"cpu": "4", "nvidia.com/gpu": 2}},
        },
        0,
    )
    assert node.allocatable == {"cpu": 4000, "nvidia.com/gpu": 2000, "pods": 110}
    with pytest.raises(PlacementInputError, match=r"Node #3: metadata.name: required"):
        parse_node({"metadata": {}}, 3)
    with pytest.raises(
        PlacementInputError, match=r"Node node7: status.allocatable.cpu: cannot parse quantity 'lots'"
    ):
        parse_node({"metadata": {"name": "node7"}, "status": {"allocatable": {"cpu": "lots"}}}, 0)
    with pytest.raises(PlacementInputError, match=r"Node n: spec.taints\[0\].effect: unknown effect"):
        parse_node({"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}}, 0)
    with pytest.raises(PlacementInputError, match=r"Node n: metadata.labels: must be a mapping"):
        parse_node({"metadata": {"name": "n", "labels": ["x"]}}, 0)
    with pytest.raises(PlacementInputError, match=r"Node #0: must be a mapping"):
        parse_node("node0", 0)


def test_pod_requests_default_from_limits_and_template_requests_do_not():
    spec = parse_pod_spec(
        {
            "containers": [
                {"name": "a", "resources": {"limits": {"nvidia.com/gpu": 1}, "requests": {"cpu": "1"}}},
                {"name": "b", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
            ],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "4"}}}],
        },
        "Job j",
        "spec",
        namespace="default",
    )
    assert spec.resreq == {"cpu": 4000, "nvidia.com/gpu": 1000, "memory": 2**30, "pods": 1}
    assert "nvidia.com/gpu" not in spec.template_requests
    assert spec.nonzero_cpu == 4000
    assert spec.nonzero_memory == 2**30 + 200 * 2**20  # container a gets the 200Mi default
    assert not spec.best_effort
    empty = parse_pod_spec({"containers": [{"name": "a"}]}, "Pod p", "spec", namespace="default")
    assert empty.best_effort and empty.resreq == {"pods": 1}


def test_pod_spec_errors_name_field():
    with pytest.raises(PlacementInputError, match=r"Pod p: spec.containers: at least one container"):
        parse_pod({"metadata": {"name": "p"}, "spec": {"containers": []}}, 0)
    with pytest.raises(
        PlacementInputError,
        match=r"Pod default/p: spec\.affinity\.nodeAffinity\.requiredDuringSchedulingIgnoredDuringExecution"
        r"\.nodeSelectorTerms\[0\]\.matchExpressions\[0\]\.operator: unknown operator 'Near'",
    ):
        parse_pod(
            {
                "metadata": {"name": "p", "namespace": "default"},
                "spec": {
                    "containers": [{"name": "c"}],
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [
                                    {"matchExpressions": [{"key": "k", "operator": "Near", "values": ["x"]}]}
                                ]
                            }
                        }
                    },
                },
            },
            0,
        )


def test_label_requirements():
    labels = {"gpu-type": "h100", "rank": "5"}
    assert LabelRequirement("gpu-type", "In", ("h100", "a100")).matches(labels)
    assert not LabelRequirement("gpu-type", "NotIn", ("h100",)).matches(labels)
    assert LabelRequirement("zone", "NotIn", ("x",)).matches(labels)
    assert LabelRequirement("rank", "Gt", ("4",)).matches(labels)
    assert not LabelRequirement("rank", "Lt", ("4",)).matches(labels)
    assert LabelRequirement("zone", "DoesNotExist").matches(labels)
    assert not LabelRequirement("zone", "Exists").matches(labels)


def test_tolerations():
    taint = Taint("dedicated", "gpu", "NoSchedule")
    assert Toleration("dedicated", "Equal", "gpu", "NoSchedule").tolerates(taint)
    assert Toleration("dedicated", "Exists", "", "").tolerates(taint)
    assert Toleration("", "Exists", "", "").tolerates(taint)
    assert not Toleration("dedicated", "Equal", "cpu", "").tolerates(taint)
    assert not Toleration("dedicated", "Equal", "gpu", "NoExecute").tolerates(taint)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"members": [{"type": "Node", "selector": {"exactMatch": {"name": "n"}}}]},
            r"HyperNode h: spec.tier: required",
        ),
        ({"tier": 1, "members": []}, r"HyperNode h: spec.members: at least one member"),
        ({"tier": -1, "members": [{}]}, r"HyperNode h: spec.tier: must be >= 0"),
        (
            {"tier": 1, "members": [{"type": "Rack", "selector": {}}]},
            r"spec.members\[0\].type: must be Node or HyperNode",
        ),
        (
            {"tier": 1, "members": [{"type": "Node", "selector": {}}]},
            r"spec.members\[0\].selector: one of exactMatch",
        ),
        (
            {
                "tier": 1,
                "members": [
                    {
                        "type": "Node",
                        "selector": {"exactMatch": {"name": "a"}, "regexMatch": {"pattern": "a"}},
                    }
                ],
            },
            r"only one of exactMatch, regexMatch, labelMatch",
        ),
        (
            {"tier": 1, "members": [{"type": "Node", "selector": {"regexMatch": {"pattern": "("}}}]},
            r"invalid regular expression",
        ),
        ({"tier": "one", "members": [{}]}, r"spec.tier: must be an integer"),
    ],
)
def test_hypernode_errors(spec, message):
    with pytest.raises(PlacementInputError, match=message):
        parse_hypernode({"metadata": {"name": "h"}, "spec": spec}, 0)
