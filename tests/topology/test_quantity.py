"""Node CPU and memory follow the whole Kubernetes quantity grammar, with bounds on absurd values."""

from __future__ import annotations

import copy
from fractions import Fraction

import pytest

from hypertopo.topology import TopologyError, load_topology
from hypertopo.topology.quantity import check_positive_quantity, parse_quantity

from .invgen import good_tree, write_inventory

VALID = [
    ("220", Fraction(220)),
    ("1E3", Fraction(1000)),
    ("1e3", Fraction(1000)),
    ("+1", Fraction(1)),
    ("1.", Fraction(1)),
    (".5", Fraction(1, 2)),
    ("1e-3", Fraction(1, 1000)),
    ("2E+2", Fraction(200)),
    ("500m", Fraction(1, 2)),
    ("1.5Gi", Fraction(3 * 2**29)),
    ("1950Gi", Fraction(1950 * 2**30)),
    ("1E", Fraction(10**18)),
    ("3n", Fraction(3, 10**9)),
    ("7u", Fraction(7, 10**6)),
    (220, Fraction(220)),
    (1.5, Fraction(3, 2)),
]
INVALID = ["", ".", "+", "1ki", "1e", "1e3Ki", " 1", "1 ", "1.5.5", "0x10", "1Kb", "--1", "1e1.5"]


@pytest.mark.parametrize(("text", "value"), VALID, ids=[str(v[0]) for v in VALID])
def test_the_kubernetes_grammar(text, value):
    assert parse_quantity(text) == value
    assert check_positive_quantity(text) is None


@pytest.mark.parametrize("text", INVALID)
def test_not_quantities(text):
    assert "is not a Kubernetes quantity" in check_positive_quantity(text)


@pytest.mark.parametrize(
    ("value", "milli", "reason"),
    [
        ("9" * 5000, False, "is longer than the 64 characters"),
        (10**5000, False, "is larger than Kubernetes can count"),
        ("1e41", False, "has exponent 41"),
        ("1e-41", False, "has exponent -41"),
        ("8Ei", False, "is larger than Kubernetes can count (at most 9223372036854775807)"),
        ("9223372036854775807", False, None),
        ("9223372036854775807", True, "is larger than Kubernetes can count (at most 9223372036854775)"),
        ("-1", False, "is not greater than zero"),
        ("0", False, "is not greater than zero"),
        (float("inf"), False, "is not a finite number"),
        (True, False, "is not a Kubernetes quantity"),
        ([1], False, "is not a Kubernetes quantity"),
    ],
    # pytest cannot print a 5,000-digit int as a test id
    ids=lambda v: repr(v)[:12] if not isinstance(v, int) or v < 10**20 else "huge-int",
)
def test_bounds(value, milli, reason):
    got = check_positive_quantity(value, milli=milli)
    assert got == reason if reason is None else reason in got


def _inventory(tmp_path, **host_vars):
    tree = copy.deepcopy(good_tree())
    tree["hosts"]["leaf-a"]["n0"].update(host_vars)
    return str(write_inventory(tmp_path, tree))


def test_valid_forms_are_accepted_in_the_inventory(tmp_path):
    topo = load_topology(_inventory(tmp_path, node_cpu="1E3", node_memory="+1"))
    assert (topo.hosts["n0"].cpu, topo.hosts["n0"].memory) == ("1E3", "+1")


def test_yaml_numbers_become_quantity_text(tmp_path):
    topo = load_topology(_inventory(tmp_path, node_cpu=1.5, node_memory=1024))
    assert (topo.hosts["n0"].cpu, topo.hosts["n0"].memory) == ("1.5", "1024")


def test_a_five_thousand_digit_cpu_is_refused_in_one_short_line(tmp_path):
    with pytest.raises(TopologyError) as err:
        load_topology(_inventory(tmp_path, node_cpu="9" * 5000))
    text = str(err.value)
    assert len(err.value.problems) == 1
    assert "host 'n0'" in text and "node_cpu '9999" in text and "(5000 characters)" in text
    assert "is longer than the 64 characters a quantity may have here" in text
    assert len(text) < 600


def test_negative_memory_is_refused(tmp_path):
    with pytest.raises(TopologyError, match="node_memory '-1Gi' is not greater than zero"):
        load_topology(_inventory(tmp_path, node_memory="-1Gi"))
