"""ibnetdiscover: the hand-written fixture, round trips from generated files, bad input."""

from __future__ import annotations

import pytest

from hypertopo.topology import load_topology

from .conftest import FIXTURES, SEED, shape
from .gen import fat_tree, ibnetdiscover


def test_fixture_fat_tree_and_multi_rail(tmp_path, run_import):
    code, _out, err = run_import(
        "ibnetdiscover", FIXTURES / "fat-tree.ibnetdiscover", "--gpu-model", "h200", "--out", tmp_path / "inv"
    )
    assert code == 0, err
    got = shape(tmp_path / "inv")
    assert got["switches"] == {
        "spine-1": (2, "ib", None, []),
        "leaf-1": (1, "ib", "spine-1", ["gpu-a1", "gpu-a2"]),
        "leaf-2": (1, "ib", "spine-1", ["gpu-b1"]),
    }
    # gpu-a2 has two HCAs on leaf-1 and one on leaf-2: reported, placed on leaf-1
    assert "multi-rail host gpu-a2" in err and "placed on leaf-1" in err
    assert "spine-1, spine-2 (tier 2) share children; merged as spine-1" in err
    hosts = (tmp_path / "inv" / "hosts.yml").read_text()
    assert f"gpu-a1: {{gpu_model: h200}}  # {FIXTURES}/fat-tree.ibnetdiscover:47" in hosts
    spine = (tmp_path / "inv" / "group_vars" / "spine-1.yml").read_text()
    assert f"# spine-2: {FIXTURES}/fat-tree.ibnetdiscover:18" in spine


def test_a_tie_goes_to_the_first_adapters_leaf(tmp_path, run_import):
    model = fat_tree(8, leaves=2)
    path = tmp_path / "f.txt"
    path.write_text(ibnetdiscover(model, rails={"gpu0": ["leaf1"]}))
    code, _, err = run_import("ibnetdiscover", path, "--gpu-model", "h100", "--out", tmp_path / "inv")
    assert code == 0, err
    assert shape(tmp_path / "inv")["hosts"]["gpu0"] == ("leaf0", "h100")
    assert "multi-rail host gpu0: adapters on leaf0 (1:" in err


def test_multi_rail_refused_when_asked(tmp_path, run_import):
    path = tmp_path / "f.txt"
    path.write_text(ibnetdiscover(fat_tree(8, leaves=2), rails={"gpu5": ["leaf0"]}))
    code, _, err = run_import(
        "ibnetdiscover", path, "--gpu-model", "h100", "--multi-rail", "refuse", "--out", tmp_path / "inv"
    )
    assert code == 2
    assert "host 'gpu5' is on 2 leaves: leaf1 (1: " in err and f"{path}:" in err
    assert not (tmp_path / "inv").exists()


@pytest.mark.parametrize("spines", [2, 3, 4])
@pytest.mark.parametrize("groups", [1, 2])
def test_round_trip_fat_trees(tmp_path, run_import, spines, groups):
    model = fat_tree(64, leaves=8, spine_groups=groups)
    path = tmp_path / "f.txt"
    path.write_text(ibnetdiscover(model, spines=spines))
    code, _, err = run_import("ibnetdiscover", path, "--gpu-model", "h100", "--out", tmp_path / "inv")
    assert code == 0, err
    got = shape(tmp_path / "inv")
    want = {s["name"]: (s["tier"], s["type"], s["parent"]) for s in model["switches"]}
    # each group's spines merge back into the group (lowest name); a group's spines all link to
    # every core switch, so the cores merge too, while groups that share no leaf stay apart
    assert {n: v[:3] for n, v in got["switches"].items()} == want
    assert {h: v[0] for h, v in got["hosts"].items()} == {h: v["leaf"] for h, v in model["hosts"].items()}


def test_round_trip_seed_ib_side(tmp_path, run_import):
    model = load_topology(str(SEED)).as_dict()
    path = tmp_path / "seed-ib.txt"
    path.write_text(ibnetdiscover(model))
    code, _, err = run_import("ibnetdiscover", path, "--gpu-model", "h100", "--out", tmp_path / "inv")
    assert code == 0, err
    got = shape(tmp_path / "inv")
    want = shape(SEED)
    assert {n: v for n, v in got["switches"].items() if n != "ib-switch4"} == {
        n: v for n, v in want["switches"].items() if v[1] == "ib" and n != "ib-switch4"
    }
    assert got["switches"]["ib-switch4"] == (2, "ib", None, [])  # its Ethernet parent is not in the file


def test_2048_hosts_with_multi_rail(tmp_path, run_import):
    model = fat_tree(2048, leaves=64, spine_groups=4)
    rails = {f"gpu{h}": [f"leaf{(h // 32 + 1) % 64}"] for h in range(0, 2048, 97)}
    path = tmp_path / "big.txt"
    path.write_text(ibnetdiscover(model, spines=2, rails=rails))
    code, _, err = run_import("ibnetdiscover", path, "--gpu-model", "h100", "--out", tmp_path / "inv")
    assert code == 0, err
    got = shape(tmp_path / "inv")
    assert len(got["hosts"]) == 2048
    # a tie (one adapter on each leaf): the first adapter's leaf, the model's
    assert {h: v[0] for h, v in got["hosts"].items()} == {h: v["leaf"] for h, v in model["hosts"].items()}
    assert err.count("multi-rail host") == len(rails)


GOOD = (FIXTURES / "fat-tree.ibnetdiscover").read_text()


def _bad(text: str, tmp_path, run_import, *extra: str) -> str:
    path = tmp_path / "bad.txt"
    path.write_text(text)
    code, _, err = run_import("ibnetdiscover", path, "--gpu-model", "h100", *extra, "--out", tmp_path / "inv")
    assert code == 2, err
    assert not (tmp_path / "inv").exists()
    assert "nothing written" in err
    return err.replace(str(path), "F")


def test_truncated_file(tmp_path, run_import):
    cut = GOOD[: GOOD.index("vendid=0x2c9\ndevid=0xd2f0\nsysimgguid=0x0c42a10300000002")]
    err = _bad(cut, tmp_path, run_import)
    assert "1 problem(s)" in err
    assert (
        "F:12: link to S-0c42a10300000002, which the file never describes (and 4 more links): a trunc" in err
    )


def test_mixed_up_file_lldp_given_as_ibnetdiscover(tmp_path, run_import):
    err = _bad((FIXTURES / "host-gpu-c1.json").read_text(), tmp_path, run_import)
    assert "F:1: not ibnetdiscover output (unrecognised line '{')" in err


def test_unknown_format(tmp_path, run_import):
    err = _bad("hello world\n", tmp_path, run_import)
    assert "F:1: not ibnetdiscover output" in err


def test_empty_file(tmp_path, run_import):
    assert "no Switch or Ca line" in _bad("# nothing\n", tmp_path, run_import)


def test_ca_without_node_description(tmp_path, run_import):
    text = GOOD.replace(
        'Ca\t1 "H-0c42a10300a1b3c0"\t\t# "gpu-b1 mlx5_0"', 'Ca\t1 "H-0c42a10300a1b3c0"\t\t# ""'
    )
    err = _bad(text, tmp_path, run_import)
    assert "F:75: CA H-0c42a10300a1b3c0 has no NodeDescription" in err


def test_switch_loop(tmp_path, run_import):
    # leaf-1 linked to leaf-2: two tier-1 switches in one loop
    text = GOOD.replace(
        '[34]\t"S-0c42a10300000020"[2]',
        '[35]\t"S-0c42a10300000001"[40]\t\t# "MF0;leaf-1:MQM9700/U1" lid 3 4xNDR\n'
        '[34]\t"S-0c42a10300000020"[2]',
    )
    err = _bad(text, tmp_path, run_import)
    assert "switches 'leaf-1' and 'leaf-2' are both tier 1 and linked (a switch loop" in err
    assert "F:4" in err


def test_switch_linked_to_itself(tmp_path, run_import):
    text = GOOD.replace('[2]\t"S-0c42a10300000002"[34]', '[2]\t"S-0c42a10300000020"[3]')
    err = _bad(text, tmp_path, run_import)
    assert "switch 'spine-2' is linked to itself" in err


def test_two_switches_with_one_name(tmp_path, run_import):
    err = _bad(GOOD.replace("MF0;leaf-2:", "MF0;leaf-1:"), tmp_path, run_import)
    assert "switch name 'leaf-1' also names" in err


def test_hosts_without_gpu_model(tmp_path, run_import):
    path = FIXTURES / "fat-tree.ibnetdiscover"
    code, _, err = run_import("ibnetdiscover", path, "--out", tmp_path / "inv")
    assert code == 2
    assert f"3 host(s) without a GPU model: gpu-a1 ({path}:47)" in err


def test_existing_output_is_kept(tmp_path, run_import):
    out = tmp_path / "inv"
    out.mkdir()
    (out / "keep").write_text("x")
    path = FIXTURES / "fat-tree.ibnetdiscover"
    code, _, err = run_import("ibnetdiscover", path, "--gpu-model", "h100", "--out", out)
    assert code == 2 and "exists and is not empty" in err
    assert [p.name for p in out.iterdir()] == ["keep"]
    code, _, err = run_import("ibnetdiscover", path, "--gpu-model", "h100", "--out", out, "--force")
    assert code == 0, err
    assert not (out / "keep").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["inv"]  # no temporary directory left


def test_invalid_result_writes_nothing(tmp_path, run_import):
    # a GPU model the package does not know: validation (the same as validate.yml) refuses it
    path = FIXTURES / "fat-tree.ibnetdiscover"
    code, _, err = run_import("ibnetdiscover", path, "--gpu-model", "zz9000", "--out", tmp_path / "inv")
    assert code == 2
    # the validator's words, with the source line of the host it names
    assert "unknown gpu_model 'zz9000'" in err and f"[from {path}:47]" in err
    assert list(tmp_path.iterdir()) == []
