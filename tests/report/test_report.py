"""The reports: SVG marks and switch classes, the comparison table, escaping, files."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from html import escape as html_escape

import pytest

from hypertopo.report import render_reports, write_report
from hypertopo.report.svg import Mark, gpu_codes, render_svg
from hypertopo.report.verify import verify

from .conftest import make_pod, pods_from

SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_of(html: str, svg_id: str = "topology") -> ET.Element:
    """The inline SVG with ``svg_id``, parsed as XML (which also proves it is well-formed)."""
    match = re.search(rf'<svg [^>]*id="{svg_id}".*?</svg>', html, re.S)
    assert match, f"no <svg id={svg_id}>"
    return ET.fromstring(match.group(0))


def with_class(root: ET.Element, *classes: str) -> list[ET.Element]:
    return [e for e in root.iter() if set(classes) <= set((e.get("class") or "").split())]


@pytest.fixture
def reports(seed_model, predicted, pods):
    return render_reports(seed_model, predicted, verify(predicted, pods, seed_model))


def test_svg_has_one_mark_per_placed_pod_with_its_name(reports, predicted):
    svg = svg_of(reports["html"])
    marks = with_class(svg, "pod-mark")
    assert len(marks) == 24
    assert len(with_class(svg, "pod-mark", "prefill")) == 12
    assert len(with_class(svg, "pod-mark", "decode")) == 12
    titles = {m.find(f"{SVG_NS}title").text.split(" ")[0] for m in marks}
    assert titles == {p["pod"] for j in predicted["jobs"] for p in j["placements"]}
    # prefill and decode marks differ in shape, too
    assert {m[1].tag for m in with_class(svg, "pod-mark", "prefill")} == {f"{SVG_NS}circle"}
    assert {m[1].tag for m in with_class(svg, "pod-mark", "decode")} == {f"{SVG_NS}polygon"}
    # each mark sits on the node cell it names
    on = {m.get("data-pod"): m.get("data-node") for m in marks}
    assert on["pd-prefill-service-prefill-worker-0"] == "node0"
    assert on["pd-decode-service-decode-worker-11"] == "node86"


def test_svg_switches_ib_and_ethernet_distinct(reports, seed_model):
    svg = svg_of(reports["html"])
    ib = {g.get("data-switch") for g in with_class(svg, "switch", "ib")}
    eth = {g.get("data-switch") for g in with_class(svg, "switch", "ethernet")}
    assert ib == {"ib-switch0", "ib-switch1", "ib-switch4"}
    assert eth == {"eth-switch2", "eth-switch3", "eth-switch5", "eth-switch6"}
    assert len(with_class(svg, "badge", "ib")) == 3 and len(with_class(svg, "badge", "ethernet")) == 4
    assert len(with_class(svg, "link", "ib")) == 2  # ib-switch0/1 -> ib-switch4
    assert len(with_class(svg, "link", "ethernet")) == 4
    style = svg.find(f"{SVG_NS}style").text
    assert ".switch.ib rect.box" in style and ".switch.ethernet rect.box" in style
    legend = " ".join(t.text or "" for t in with_class(svg, "legend")[0].iter(f"{SVG_NS}text"))
    assert "InfiniBand" in legend and "Ethernet" in legend and "prefill pod" in legend
    # chosen HyperNode outlined
    chosen = [e for e in with_class(svg, "hypernode-chosen")]
    assert len(chosen) == 1 and "ib-switch4" in chosen[0].find(f"{SVG_NS}title").text


def test_svg_nodes_coloured_and_lettered_by_gpu(reports, seed_model):
    svg = svg_of(reports["html"])
    cells = with_class(svg, "node")
    assert len(cells) == 256
    by_node = {c.get("data-node"): c for c in cells}
    assert by_node["node0"].get("data-gpu") == "h100"
    assert by_node["node4"].get("data-gpu") == "a100"
    fills = {c.get("data-gpu"): c.find(f"{SVG_NS}rect").get("fill") for c in cells}
    assert len(set(fills.values())) == 4  # one colour per GPU model
    codes = {c.find(f"{SVG_NS}text").text for c in cells if c.find(f"{SVG_NS}text") is not None}
    assert codes == {"A1", "H1", "R4", "R5"}
    assert len(with_class(svg, "node", "busy")) == 24
    assert gpu_codes(["h100", "h200", "rtx4090", "rtx5090", "hx1"]) == {
        "h100": "H1",
        "h200": "H2",
        "hx1": "H12",
        "rtx4090": "R4",
        "rtx5090": "R5",
    }


def test_baseline_picture_does_not_count_as_pod_marks(reports):
    html = reports["html"]
    baseline = svg_of(html, "baseline")
    assert len(with_class(baseline, "baseline-mark")) == 24
    assert not with_class(baseline, "pod-mark")
    assert html.count('class="pod-mark ') == 24
    on_eth = [m for m in with_class(baseline, "baseline-mark") if int(m.get("data-node")[4:]) >= 128]
    assert len(on_eth) == 16


def test_comparison_table_has_both_columns_filled(reports):
    html = reports["html"]
    table = re.search(r'<table id="comparison">.*?</table>', html, re.S).group(0)
    assert "Simple affinity" in table and "Topology-aware + IB constraint" in table
    rows = re.findall(r'<tr data-key="([a-z-]+)">', table)
    assert rows == [
        "prefill-distribution",
        "decode-distribution",
        "prefill-internal-latency",
        "prefill-internal-bandwidth",
        "decode-internal-latency",
        "decode-internal-bandwidth",
        "prefill-decode-latency",
        "prefill-decode-bandwidth",
        "kv-transfer",
        "throughput",
    ]
    data = json.loads(reports["json"])["comparison"]
    by_key = {r["key"]: r for r in data["rows"]}
    assert by_key["prefill-distribution"]["ours"]["main"] == "ib-switch0 \u00d76, ib-switch1 \u00d76"
    assert by_key["prefill-distribution"]["ours"]["detail"] == "all under IB leaves"
    assert by_key["prefill-distribution"]["baseline"]["detail"] == "8 of 12 under Ethernet leaves"
    assert by_key["prefill-decode-bandwidth"]["ours"]["main"] == "200 Gbps"
    assert by_key["prefill-decode-latency"]["ours"]["main"] == "< 5 \u00b5s"
    assert "slower" in by_key["throughput"]["baseline"]["main"]
    assert data["ours_source"] == "actual"
    for row in data["rows"]:
        assert row["baseline"]["main"] and row["ours"]["main"]
        assert html_escape(row["baseline"]["main"], quote=True) in table
        assert html_escape(row["ours"]["main"], quote=True) in table


def test_comparison_without_baseline_says_so(seed_model, predicted):
    del predicted["baseline"]
    html = render_reports(seed_model, predicted)["html"]
    assert "not computed" in html


def test_html_escapes_every_name(seed_model, predicted, pods):
    evil = '<script>alert("x")</script>&'
    model = copy.deepcopy(seed_model)
    model["source"] = evil
    host = model["hosts"].pop("node0")
    model["hosts"][evil] = host
    model["node_labels"][evil] = model["node_labels"].pop("node0")
    for sw in model["switches"]:
        sw["hosts"] = [evil if h == "node0" else h for h in sw["hosts"]]
    predicted["jobs"][0]["placements"][0]["node"] = evil
    predicted["jobs"][0]["placements"][0]["pod"] = f"pod{evil}"
    predicted["warnings"].append(f"warning {evil}")
    pods[0]["metadata"]["name"] = f"pod{evil}"
    pods[0]["spec"]["nodeName"] = evil
    out = render_reports(model, predicted, verify(predicted, pods, model))
    html = out["html"]
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in html or "&lt;script&gt;" in html
    svg = svg_of(html)  # still well-formed XML
    marks = with_class(svg, "pod-mark")
    assert len(marks) == 24
    assert any(m.get("data-pod") == f"pod{evil}" for m in marks)  # parsed back: escaped correctly
    json.loads(out["json"])


def test_html_is_self_contained(reports):
    html = reports["html"]
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"\b(src|href)=", html)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}


def test_text_report(reports):
    text = reports["text"]
    assert "Verification: OK" in text
    assert "pd-prefill-service  ib-switch4" in text
    assert "ib-switch0: 6, ib-switch1: 6" in text
    assert "same_ib_leaf \u00d730, same_ib_aggregation \u00d736" in text
    assert "Simple affinity vs topology-aware + IB constraint" in text
    assert "PREDICTED" in text and "ACTUAL" in text
    assert "mode soft does not bound the tier" in text


def test_failures_show_in_every_format(seed_model, predicted, pods):
    pods[13]["spec"]["nodeName"] = "node129"
    result = verify(predicted, pods, seed_model)
    out = render_reports(seed_model, predicted, result)
    assert "Verification: FAILED (1 failure(s))" in out["text"]
    assert "under Ethernet leaf eth-switch2" in out["text"]
    assert 'class="verdict fail"' in out["html"]
    assert json.loads(out["json"])["ok"] is False


def test_prediction_only_report(seed_model, predicted):
    out = render_reports(seed_model, predicted)
    assert "Prediction only" in out["text"]
    assert len(with_class(svg_of(out["html"]), "pod-mark")) == 24
    assert json.loads(out["json"])["comparison"]["ours_source"] == "predicted"


def test_write_report_files_and_determinism(tmp_path, seed_model, predicted, pods):
    result = verify(predicted, pods, seed_model)
    paths = write_report(tmp_path / "out", seed_model, predicted, result)
    assert {k: p.name for k, p in paths.items()} == {
        "text": "report.txt",
        "json": "report.json",
        "html": "report.html",
    }
    first = {k: p.read_bytes() for k, p in paths.items()}
    write_report(tmp_path / "out", seed_model, predicted, result)
    assert first == {k: p.read_bytes() for k, p in paths.items()}
    data = json.loads(first["json"])
    assert data["schema"] == "hypertopo.report/v1"
    assert data["chosen_hypernodes"] == {"ib-switch4": ["pd-prefill-service", "pd-decode-service"]}
    assert len(data["marks"]) == 24


def test_several_pods_on_one_node_each_get_a_mark(seed_model):
    marks = [Mark(f"p-{i}", "node0", "prefill") for i in range(5)] + [Mark("d-0", "node0", "decode")]
    svg = ET.fromstring(render_svg(seed_model, marks))
    assert len(with_class(svg, "pod-mark")) == 6


def test_ghost_ring_marks_the_predicted_node_of_a_moved_pod(seed_model, predicted, pods):
    pods[0]["spec"]["nodeName"] = "node4"
    html = render_reports(seed_model, predicted, verify(predicted, pods, seed_model))["html"]
    rings = with_class(svg_of(html), "pod-predicted")
    assert len(rings) == 1 and "pd-prefill-service-prefill-worker-0" in rings[0].find(f"{SVG_NS}title").text


def test_unknown_role_pods_are_marked_other(seed_model):
    predicted = {
        "jobs": [
            {
                "name": "train",
                "namespace": "default",
                "hypernode": "ib-switch0",
                "tier": 1,
                "placements": [{"pod": "train-w-0", "task": "w", "node": "node7"}],
            }
        ],
        "warnings": [{"code": "no-requests", "message": "pods without resource requests"}],
    }
    pods = [make_pod("train-w-0", "train", "w", "node7", ib=False)]
    out = render_reports(seed_model, predicted, verify(predicted, pods, seed_model))
    assert len(with_class(svg_of(out["html"]), "pod-mark", "other")) == 1
    assert "[no-requests] pods without resource requests" in out["text"]


def test_baseline_expected_values_fill_the_baseline_column(seed_model, predicted, pods):
    predicted["baseline"]["expected"] = {
        "samples": 16,
        "ethernet_pod_fraction": 0.4375,
        "prefill_decode_kv_transfer_ms": {"mean": 169.3, "worst": 248.9},
        "prefill_decode_classes": {
            "ethernet_ethernet": 0.4375,
            "same_ib_aggregation": 0.28,
            "same_ib_leaf": 0.28,
        },
    }
    data = json.loads(render_reports(seed_model, predicted, verify(predicted, pods, seed_model))["json"])
    rows = {r["key"]: r for r in data["comparison"]["rows"]}
    assert rows["prefill-distribution"]["baseline"]["main"] == "44 % of PD pods under Ethernet leaves"
    assert "16 random tie-breaks" in rows["prefill-distribution"]["baseline"]["detail"]
    assert rows["prefill-decode-latency"]["baseline"]["main"] == "up to > 10 \u00b5s"
    assert rows["prefill-decode-bandwidth"]["baseline"]["main"] == "10-200 Gbps"
    assert rows["kv-transfer"]["baseline"]["main"] == "169.3 ms mean"
    assert rows["throughput"]["baseline"]["main"] == "KV transfer 1.58\u00d7 slower"
    # no expected values for internal pairs: the deterministic run, and the cell says so
    assert "deterministic tie-break run" in rows["prefill-internal-latency"]["baseline"]["detail"]


def test_report_of_the_engines_prediction(seed_model):
    """The real engine on the seed (12 + 12 pods; it may put two pods on one node): 24 marks."""
    from hypertopo.placement import predict
    from tests.placement.synthetic import seed_cluster, seed_pd_jobs

    nodes, hypernodes = seed_cluster()
    predicted = predict(jobs=seed_pd_jobs(), nodes=nodes, hypernodes=hypernodes)
    pods = pods_from(predicted)
    result = verify(predicted, pods, seed_model)
    assert result["ok"] and not result["differences"]
    # our cost model agrees with the engine's own numbers for the same placement
    engine_pd = predicted["network"]["prefill_decode"]
    ours = result["network"]["actual"]["prefill-decode"]
    assert ours["classes"] == engine_pd["classes"] and ours["kv_ms"] == engine_pd["kv_transfer_ms"]
    out = render_reports(seed_model, predicted, result)
    svg = svg_of(out["html"])
    assert len(with_class(svg, "pod-mark")) == 24
    assert {m.get("data-node") for m in with_class(svg, "pod-mark")} <= {
        f"node{i}"
        for i in (0, 1, 2, 3, 5, 6, 10, 11, 15, 16, 20, 21, 64, 65, 66, 67, 70, 71, 75, 76, 80, 81, 85, 86)
    }
    assert "does not bound the tier" in out["text"]
    rows = {r["key"]: r for r in json.loads(out["json"])["comparison"]["rows"]}
    assert "slower" in rows["throughput"]["baseline"]["main"]


def big_model(aggs: int = 4, leaves_per_agg: int = 10, hosts_per_leaf: int = 4) -> dict:
    switches = [{"name": "core", "tier": 3, "type": "ethernet", "parent": None, "children": [], "hosts": []}]
    hosts = {}
    for a in range(aggs):
        agg = {"name": f"agg{a}", "tier": 2, "type": "ib", "parent": "core", "children": [], "hosts": []}
        switches[0]["children"].append(agg["name"])
        switches.append(agg)
        for i in range(leaves_per_agg):
            leaf = f"leaf{a}-{i}"
            names = [f"n{a}-{i}-{h}" for h in range(hosts_per_leaf)]
            agg["children"].append(leaf)
            switches.append(
                {"name": leaf, "tier": 1, "type": "ib", "parent": agg["name"], "children": [], "hosts": names}
            )
            hosts.update({n: {"leaf": leaf, "gpu_model": "h100", "gpu_count": 8} for n in names})
    for sw in switches:
        sw["leaf"] = not sw["children"]
    return {"source": "big", "root": "core", "switches": switches, "hosts": hosts, "gpu_models": {}}


def test_large_trees_draw_only_the_leaves_with_pods():
    model = big_model()
    marks = [Mark("a-0", "n1-3-0", "prefill"), Mark("b-0", "n2-7-1", "decode")]
    svg = ET.fromstring(render_svg(model, marks, chosen={"core": ["job"]}))
    leaves = {g.get("data-switch") for g in with_class(svg, "leaf")}
    assert leaves == {"leaf1-3", "leaf2-7"}
    drawn = {g.get("data-switch") for g in with_class(svg, "switch")}
    assert drawn == {"core", "agg1", "agg2", "leaf1-3", "leaf2-7"}
    assert len(with_class(svg, "pod-mark")) == 2 and len(with_class(svg, "node")) == 8
    assert "38 leaves without pods are not drawn" in ET.tostring(svg, encoding="unicode")
    small = ET.fromstring(render_svg(big_model(aggs=2, leaves_per_agg=3), []))
    assert len(with_class(small, "leaf")) == 6  # small trees: every leaf


def test_reports_show_pod_phases_and_workload_states(seed_model, predicted, pods):
    pods = copy.deepcopy(pods)
    pods[0]["status"] = {"phase": "Pending"}
    live = [
        {
            "kind": "Job",
            "metadata": {"name": "pd-prefill-service", "namespace": "default"},
            "status": {"state": {"phase": "Pending"}, "running": 11},
        },
        {
            "kind": "Job",
            "metadata": {"name": "pd-decode-service", "namespace": "default"},
            "status": {"state": {"phase": "Running"}, "running": 12},
        },
    ]
    verification = verify(predicted, pods, seed_model, workloads=live)
    out = render_reports(seed_model, predicted, verification)
    text = out["text"]
    assert "23 Running and Ready" in text
    assert re.search(r"pd-prefill-service-prefill-worker-0 .* Pending$", text, re.M)
    assert re.search(r"pd-decode-service-decode-worker-0 .* Running/Ready$", text, re.M)
    assert re.search(r"^pd-prefill-service .* not Running: phase Pending, 11 pod\(s\) running$", text, re.M)
    assert re.search(r"^pd-decode-service .* Running$", text, re.M)
    data = json.loads(out["json"])
    assert [j["state"]["phase"] for j in data["jobs"]] == ["Pending", "Running"]
    assert data["jobs"][0]["pods"][0]["phase"] == "Pending"
    html = out["html"]
    assert '<span class="no">not Running: phase Pending, 11 pod(s) running</span>' in html
    assert html.count("<td>Running/Ready</td>") == 23
