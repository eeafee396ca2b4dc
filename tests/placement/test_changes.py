"""The what-if change vocabulary: each kind changes what it names and nothing else, every mistake
is one line naming the list index and the field, and the caller's inputs are never modified."""

import copy

import pytest

from hypertopo.placement import PlacementInputError, predict
from hypertopo.placement.changes import KINDS, Change, apply_changes, change, parse_changes
from hypertopo.topology.labels import LABEL_GPU_TYPE, LABEL_MANAGED, LABEL_SWITCH, LABEL_SWITCH_TYPE

from .helpers import by_name, conf, hard, job, leaf, node, parent, task, template
from .synthetic import seed_cluster, seed_pd_jobs

DECODE = "default/pd-decode-service"
PREFILL = "default/pd-prefill-service"


@pytest.fixture
def seed():
    nodes, hypernodes = seed_cluster()
    return {
        "jobs": seed_pd_jobs(),
        "nodes": nodes,
        "hypernodes": hypernodes,
        "pods": [],
        "scheduler_conf": None,
        "network": None,
        "kv_model": None,
    }


def applied(inputs, *items):
    before = copy.deepcopy(inputs)
    out = apply_changes(inputs, parse_changes(list(items), "what-if.yml"))
    assert inputs == before, "the caller's inputs were modified"
    return out


def names(objs):
    return [o["metadata"]["name"] for o in objs]


def hn(out, name):
    return next(h for h in out["hypernodes"] if h["metadata"]["name"] == name)


def decode_task(out):
    return next(j for j in out["jobs"] if j["metadata"]["name"] == "pd-decode-service")["spec"]


# --------------------------------------------------------------------------- add_hosts


def test_add_hosts_clones_a_sibling_of_the_model_into_a_label_leaf(seed):
    out = applied(seed, {"add_hosts": {"leaf": "ib-switch0", "gpu_model": "rtx4090", "count": 2}})
    new = out["nodes"][256:]
    assert names(new) == ["ib-switch0-new-0", "ib-switch0-new-1"]
    labels = new[0]["metadata"]["labels"]
    assert labels[LABEL_SWITCH] == "ib-switch0" and labels[LABEL_GPU_TYPE] == "rtx4090"
    assert labels["kubernetes.io/hostname"] == "ib-switch0-new-0"
    assert new[0]["status"]["allocatable"] == seed["nodes"][2]["status"]["allocatable"]
    # the leaf selects its nodes by labels: its members are unchanged and the predictor sees them
    assert hn(out, "ib-switch0") == hn(seed, "ib-switch0")
    result = predict(**out, baseline=False)
    assert len(result["jobs"]) == 2
    pods = {p["node"] for j in result["jobs"] for p in j["placements"]}
    assert pods  # a prediction on the changed world runs


def test_add_hosts_renders_a_model_the_leaf_lacks_from_the_catalogue(seed):
    out = applied(seed, {"add_hosts": {"leaf": "ib-switch1", "gpu_model": "h200", "names": ["h200-a"]}})
    new = out["nodes"][-1]
    assert new["metadata"]["name"] == "h200-a"
    labels = new["metadata"]["labels"]
    assert labels[LABEL_GPU_TYPE] == "h200" and labels[LABEL_SWITCH_TYPE] == "ib"
    assert labels[LABEL_MANAGED] == "true" and labels[LABEL_SWITCH] == "ib-switch1"
    assert new["status"]["allocatable"]["cpu"] == "220"  # the package's catalogue
    assert new["status"]["allocatable"]["nvidia.com/gpu"] == "8"


def test_add_hosts_names_them_in_an_exact_match_leaf():
    nodes = [node("a0", labels={LABEL_GPU_TYPE: "h100"}), node("b0")]
    hns = [leaf("leaf-a", ["a0"]), leaf("leaf-b", ["b0"]), parent("spine", ["leaf-a", "leaf-b"])]
    inputs = {"jobs": [], "nodes": nodes, "hypernodes": hns}
    out = applied(inputs, {"add_hosts": {"leaf": "leaf-a", "gpu_model": "h100", "count": 3}})
    members = [m["selector"]["exactMatch"]["name"] for m in hn(out, "leaf-a")["spec"]["members"]]
    assert members == ["a0", "leaf-a-new-0", "leaf-a-new-1", "leaf-a-new-2"]
    assert hn(out, "leaf-b") is hns[1]  # unchanged objects are shared, not copied
    # a hard tier-1 job of 4 full nodes now fits in leaf-a
    big = job("big", [task("w", 4, template(gpus=8, selector={LABEL_GPU_TYPE: "h100"}))], topology=hard(1))
    result = predict(jobs=[big], **{k: out[k] for k in ("nodes", "hypernodes")}, scheduler_conf=conf())
    assert by_name(result, "big")["feasible"] and by_name(result, "big")["hypernode"] == "leaf-a"


def test_add_hosts_regex_leaf_gets_exact_members_only_when_the_regex_misses():
    nodes = [node("gpu-0", labels={LABEL_GPU_TYPE: "h100"})]
    regex_leaf = {
        "kind": "HyperNode",
        "metadata": {"name": "r"},
        "spec": {"tier": 1, "members": [{"type": "Node", "selector": {"regexMatch": {"pattern": "^gpu-"}}}]},
    }
    inputs = {"jobs": [], "nodes": nodes, "hypernodes": [regex_leaf]}
    hit = applied(inputs, {"add_hosts": {"leaf": "r", "gpu_model": "h100", "names": ["gpu-1"]}})
    assert hn(hit, "r") == regex_leaf
    miss = applied(inputs, {"add_hosts": {"leaf": "r", "gpu_model": "h100", "names": ["other-1"]}})
    assert hn(miss, "r")["spec"]["members"][-1] == {
        "type": "Node",
        "selector": {"exactMatch": {"name": "other-1"}},
    }


def test_add_hosts_errors(seed):
    with pytest.raises(
        PlacementInputError,
        match=r"x: \[0\]\.add_hosts\.leaf: no HyperNode nope "
        r"\(leaves: eth-switch2, eth-switch3, ib-switch0, ib-switch1\)",
    ):
        apply_changes(seed, parse_changes([{"add_hosts": {"leaf": "nope", "gpu_model": "h100"}}], "x"), "x")
    with pytest.raises(
        PlacementInputError, match=r"\[0\]\.add_hosts\.leaf: HyperNode ib-switch4 is not a leaf"
    ):
        apply_changes(seed, parse_changes([{"add_hosts": {"leaf": "ib-switch4", "gpu_model": "h100"}}]))
    with pytest.raises(
        PlacementInputError, match=r"gpu_model: 'mi300x' is neither in the package's catalogue"
    ):
        apply_changes(seed, parse_changes([{"add_hosts": {"leaf": "ib-switch0", "gpu_model": "mi300x"}}]))
    with pytest.raises(PlacementInputError, match=r"names: node node1 exists already"):
        apply_changes(
            seed,
            parse_changes([{"add_hosts": {"leaf": "ib-switch0", "gpu_model": "h100", "names": ["node1"]}}]),
        )


# --------------------------------------------------------------------------- hosts


def test_remove_hosts_drops_nodes_their_pods_and_exact_members():
    nodes = [node("a0"), node("a1")]
    hns = [leaf("leaf-a", ["a0", "a1"])]
    pods = [
        {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"nodeName": "a1", "containers": []}},
        {"kind": "Pod", "metadata": {"name": "q"}, "spec": {"nodeName": "a0", "containers": []}},
    ]
    out = applied({"nodes": nodes, "hypernodes": hns, "pods": pods}, {"remove_hosts": {"nodes": ["a1"]}})
    assert names(out["nodes"]) == ["a0"] and names(out["pods"]) == ["q"]
    assert [m["selector"]["exactMatch"]["name"] for m in hn(out, "leaf-a")["spec"]["members"]] == ["a0"]
    with pytest.raises(PlacementInputError, match=r"\[0\]\.remove_hosts\.nodes: no node zz"):
        apply_changes(out, parse_changes([{"remove_hosts": {"nodes": ["zz"]}}]))


def test_cordon_marks_unschedulable_and_the_predictor_avoids_them():
    nodes, hns = [node("a0"), node("a1")], [leaf("leaf-a", ["a0", "a1"])]
    out = applied({"nodes": nodes, "hypernodes": hns}, {"cordon": {"nodes": ["a0"]}})
    assert out["nodes"][0]["spec"]["unschedulable"] is True and "unschedulable" not in out["nodes"][1]["spec"]
    one = job("j", [task("w", 2, template(gpus=4))])
    result = predict(jobs=[one], nodes=out["nodes"], hypernodes=hns, scheduler_conf=conf(), baseline=False)
    assert {p["node"] for p in by_name(result, "j")["placements"]} == {"a1"}
    with pytest.raises(PlacementInputError, match=r"\[0\]\.cordon\.nodes: no node zz"):
        apply_changes(out, parse_changes([{"cordon": {"nodes": ["zz"]}}]))


# --------------------------------------------------------------------------- jobs


def test_set_replicas_of_a_volcano_job_task_keeps_the_gang_whole(seed):
    out = applied(seed, {"set_replicas": {"job": DECODE, "task": "decode-worker", "replicas": 20}})
    spec = decode_task(out)
    assert spec["tasks"][0]["replicas"] == 20 and spec["minAvailable"] == 20
    result = predict(**out, baseline=False)
    decode = by_name(result, "pd-decode-service")
    assert decode["feasible"] and len(decode["placements"]) == 20
    text = parse_changes([{"set_replicas": {"job": DECODE, "task": "decode-worker", "replicas": 20}}])[
        0
    ].text(seed)
    assert text == "decode-worker of default/pd-decode-service: 12 → 20 replicas"


def test_set_replicas_keeps_a_lower_minimum_and_lowers_a_higher_one():
    two = job("j", [task("a", 4, template(), minAvailable=2), task("b", 4, template())], min_available=3)
    out = applied({"jobs": [two]}, {"set_replicas": {"job": "j", "task": "a", "replicas": 1}})
    spec = out["jobs"][0]["spec"]
    assert spec["tasks"][0] == {**two["spec"]["tasks"][0], "replicas": 1, "minAvailable": 1}
    assert spec["minAvailable"] == 3  # not the old total (8): kept


def test_set_replicas_of_a_deployment_and_its_min_member():
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "d",
            "namespace": "ns",
            "annotations": {"scheduling.volcano.sh/group-min-member": "3"},
        },
        "spec": {"replicas": 3, "template": template()},
    }
    out = applied({"jobs": [dep]}, {"set_replicas": {"job": "ns/d", "replicas": 5}})
    assert out["jobs"][0]["spec"]["replicas"] == 5
    assert out["jobs"][0]["metadata"]["annotations"]["scheduling.volcano.sh/group-min-member"] == "5"
    with pytest.raises(PlacementInputError, match=r"\[0\]\.set_replicas\.task: a Deployment has no tasks"):
        apply_changes(
            {"jobs": [dep]}, parse_changes([{"set_replicas": {"job": "ns/d", "task": "x", "replicas": 1}}])
        )


def test_set_replicas_errors(seed):
    cases = [
        (
            {"job": "default/nope", "task": "t", "replicas": 1},
            r"job: no job default/nope \(jobs: default/pd-prefill",
        ),
        (
            {"job": DECODE, "task": "prefill", "replicas": 1},
            r"task: no task 'prefill' \(tasks: decode-worker\)",
        ),
    ]
    for params, message in cases:
        with pytest.raises(PlacementInputError, match=r"w: \[0\]\.set_replicas\." + message):
            apply_changes(seed, parse_changes([{"set_replicas": params}]), "w")
    two = job("j", [task("a", 1), task("b", 1)])
    with pytest.raises(PlacementInputError, match=r"task: required: the job has tasks a, b"):
        apply_changes({"jobs": [two]}, parse_changes([{"set_replicas": {"job": "j", "replicas": 2}}]))
    part = job("p", [task("a", 4, partitionPolicy={"totalPartitions": 2, "partitionSize": 2})])
    out = apply_changes({"jobs": [part]}, parse_changes([{"set_replicas": {"job": "p", "replicas": 6}}]))
    assert out["jobs"][0]["spec"]["tasks"][0]["partitionPolicy"]["totalPartitions"] == 3
    with pytest.raises(
        PlacementInputError, match=r"replicas: 5 is not a multiple of the task's partitionSize 2"
    ):
        apply_changes({"jobs": [part]}, parse_changes([{"set_replicas": {"job": "p", "replicas": 5}}]))


def test_set_tier_and_mode_on_a_job(seed):
    out = applied(
        seed, {"set_tier": {"job": PREFILL, "tier": 1}}, {"set_mode": {"job": PREFILL, "mode": "hard"}}
    )
    topo = out["jobs"][0]["spec"]["networkTopology"]
    assert topo == {"mode": "hard", "highestTierAllowed": 1}
    result = predict(**out, baseline=False)
    prefill = by_name(result, "pd-prefill-service")
    assert prefill["hard"] and prefill["feasible"] and prefill["tier"] == 1
    named = applied(out, {"set_tier": {"job": PREFILL, "tier_name": "leaf"}})
    assert named["jobs"][0]["spec"]["networkTopology"] == {"mode": "hard", "highestTierName": "leaf"}
    text = parse_changes([{"set_tier": {"job": PREFILL, "tier": 2}}])[0].text(out)
    assert text == "default/pd-prefill-service: hard, highestTierAllowed 1 → highestTierAllowed 2"


def test_set_tier_on_a_job_without_topology_and_on_a_deployment():
    plain = job("j", [task("w", 1)])
    out = applied({"jobs": [plain]}, {"set_tier": {"job": "j", "tier": 2}})
    assert out["jobs"][0]["spec"]["networkTopology"] == {"mode": "hard", "highestTierAllowed": 2}
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"template": template()},
    }
    out = applied(
        {"jobs": [dep]}, {"set_tier": {"job": "d", "tier": 1}}, {"set_mode": {"job": "d", "mode": "soft"}}
    )
    ann = out["jobs"][0]["spec"]["template"]["metadata"]["annotations"]
    assert ann == {
        "volcano.sh/network-topology-highest-tier": "1",
        "volcano.sh/network-topology-mode": "soft",
    }
    with pytest.raises(
        PlacementInputError, match=r"\[0\]\.set_tier\.tier_name: a Deployment/StatefulSet sets"
    ):
        apply_changes({"jobs": [dep]}, parse_changes([{"set_tier": {"job": "d", "tier_name": "x"}}]))


def test_relax_affinity_drops_the_key_from_terms_and_node_selector(seed):
    out = applied(
        seed, {"relax_affinity": {"job": DECODE, "task": "decode-worker", "key": LABEL_SWITCH_TYPE}}
    )
    spec = decode_task(out)["tasks"][0]["template"]["spec"]
    exprs = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert [e["key"] for e in exprs[0]["matchExpressions"]] == [LABEL_GPU_TYPE]
    # dropping the last expression of a term leaves nothing required
    out2 = applied(out, {"relax_affinity": {"job": DECODE, "key": LABEL_GPU_TYPE}})
    assert (
        "requiredDuringSchedulingIgnoredDuringExecution"
        not in (decode_task(out2)["tasks"][0]["template"]["spec"]["affinity"]["nodeAffinity"])
    )
    sel = job("s", [task("w", 1, template(selector={LABEL_GPU_TYPE: "h100", "zone": "a"}))])
    out3 = applied({"jobs": [sel]}, {"relax_affinity": {"job": "s", "key": LABEL_GPU_TYPE}})
    assert out3["jobs"][0]["spec"]["tasks"][0]["template"]["spec"]["nodeSelector"] == {"zone": "a"}
    with pytest.raises(
        PlacementInputError, match=r"\[0\]\.relax_affinity\.key: the pod template requires no node label 'x'"
    ):
        apply_changes(seed, parse_changes([{"relax_affinity": {"job": DECODE, "key": "x"}}]))


def test_relax_affinity_makes_an_impossible_selector_job_fit():
    nodes, hns = [node("a0", labels={LABEL_GPU_TYPE: "a100"})], [leaf("leaf-a", ["a0"])]
    want = job("j", [task("w", 1, template(selector={LABEL_GPU_TYPE: "h100"}))])
    inputs = {"jobs": [want], "nodes": nodes, "hypernodes": hns, "scheduler_conf": conf()}
    assert not predict(**inputs, baseline=False)["jobs"][0]["feasible"]
    out = applied(inputs, {"relax_affinity": {"job": "j", "key": LABEL_GPU_TYPE}})
    assert predict(**out, baseline=False)["jobs"][0]["feasible"]


# --------------------------------------------------------------------------- pods


def test_add_pods_binds_running_pods_that_use_the_node():
    nodes, hns = [node("a0"), node("a1")], [leaf("leaf-a", ["a0", "a1"])]
    out = applied(
        {"nodes": nodes, "hypernodes": hns, "pods": []},
        {"add_pods": {"node": "a0", "count": 2, "requests": {"nvidia.com/gpu": 4}, "namespace": "t"}},
    )
    assert names(out["pods"]) == ["what-if-0", "what-if-1"]
    assert {p["spec"]["nodeName"] for p in out["pods"]} == {"a0"}
    assert out["pods"][0]["status"]["phase"] == "Running"
    one = job("j", [task("w", 2, template(gpus=4))])
    result = predict(
        jobs=[one], nodes=nodes, hypernodes=hns, pods=out["pods"], scheduler_conf=conf(), baseline=False
    )
    assert {p["node"] for p in by_name(result, "j")["placements"]} == {"a1"}
    with pytest.raises(PlacementInputError, match=r"\[0\]\.add_pods\.node: no node zz"):
        apply_changes(out, parse_changes([{"add_pods": {"node": "zz", "requests": {"cpu": 1}}}]))


def test_remove_pods_by_name_and_by_selector():
    pods = [
        {
            "kind": "Pod",
            "metadata": {"name": n, "namespace": ns, "labels": {"app": app}},
            "spec": {"nodeName": nd},
        }
        for n, ns, app, nd in (("p0", "a", "x", "n0"), ("p1", "a", "y", "n1"), ("p2", "b", "x", "n0"))
    ]
    out = applied({"pods": pods}, {"remove_pods": {"pods": ["a/p0"]}})
    assert names(out["pods"]) == ["p1", "p2"]
    out = applied({"pods": pods}, {"remove_pods": {"selector": {"labels": {"app": "x"}, "node": "n0"}}})
    assert names(out["pods"]) == ["p1"]
    out = applied({"pods": pods}, {"remove_pods": {"selector": {"namespace": "a"}}})
    assert names(out["pods"]) == ["p2"]
    with pytest.raises(PlacementInputError, match=r"\[0\]\.remove_pods\.pods: no pod a/zz"):
        apply_changes({"pods": pods}, parse_changes([{"remove_pods": {"pods": ["a/zz"]}}]))
    with pytest.raises(PlacementInputError, match=r"\[0\]\.remove_pods\.selector: matches no pod"):
        apply_changes({"pods": pods}, parse_changes([{"remove_pods": {"selector": {"namespace": "c"}}}]))


# --------------------------------------------------------------------------- parsing


def test_parse_reports_every_mistake_one_line_each():
    data = [
        {"set_replicas": {"job": DECODE, "replicas": -1}},
        {"grow": {}},
        {"cordon": {"nodes": []}},
        {"set_tier": {"job": DECODE}},
        {"add_pods": {"node": "n", "requests": {"cpu": "lots"}, "colour": "red"}},
        "cordon",
        {"set_mode": {"job": DECODE, "mode": "strict"}},
        {"remove_pods": {"pods": ["a/b"], "selector": {"namespace": "a"}}},
        {"add_hosts": {"leaf": "l", "gpu_model": "h100", "count": 2, "names": ["a"]}},
        {"add_pods": {"node": "n", "requests": {"nvidia.com/gpu": "0.5"}}},
    ]
    with pytest.raises(PlacementInputError) as err:
        parse_changes(data, "what-if.yml")
    lines = str(err.value).splitlines()
    assert lines == [
        "what-if.yml: [0].set_replicas.replicas: must be an integer from 0 to 2,147,483,647, got -1",
        f"what-if.yml: [1]: unknown change 'grow' (known: {', '.join(KINDS)})",
        "what-if.yml: [2].cordon.nodes: must be a non-empty list of names",
        "what-if.yml: [3].set_tier.tier: give exactly one of tier and tier_name",
        "what-if.yml: [4].add_pods.colour: unknown field "
        "(known: node, requests, count, namespace, name, labels)",
        "what-if.yml: [4].add_pods.requests: cpu: not a Kubernetes quantity: 'lots'",
        f"what-if.yml: [5]: must be a mapping with one key, the kind ({', '.join(KINDS)})",
        "what-if.yml: [6].set_mode.mode: must be one of hard, soft, got 'strict'",
        "what-if.yml: [7].remove_pods.pods: give exactly one of pods and selector",
        "what-if.yml: [8].add_hosts.names: 1 names for count 2",
        "what-if.yml: [9].add_pods.requests: nvidia.com/gpu: must be a whole number (an extended resource is "
        "counted in units): '0.5'",
    ]


def test_parse_refuses_a_non_list_and_accepts_a_changes_key():
    with pytest.raises(PlacementInputError, match=r"^f: must be a list of changes"):
        parse_changes({"cordon": {"nodes": ["a"]}}, "f")
    assert parse_changes({"changes": [{"cordon": {"nodes": ["a"]}}]}) == [Change("cordon", {"nodes": ["a"]})]
    assert parse_changes([]) == []


def test_change_builder_defaults_and_round_trip():
    item = change("add_hosts", leaf="l", gpu_model="h100")
    assert item.params == {"leaf": "l", "gpu_model": "h100", "count": 1}
    assert parse_changes([item.as_data()]) == [item]
    assert item.text() == "add 1 h100 host(s) under l"
    with pytest.raises(PlacementInputError, match=r"change: \[0\]\.set_tier\.job: required"):
        change("set_tier", tier=2)


def test_apply_reports_every_change_the_inputs_cannot_take(seed):
    data = [
        {"cordon": {"nodes": ["nodeX"]}},
        {"set_tier": {"job": "default/nope", "tier": 1}},
        {"cordon": {"nodes": ["node1"]}},
    ]
    with pytest.raises(PlacementInputError) as err:
        apply_changes(seed, parse_changes(data, "w.yml"), "w.yml")
    assert str(err.value).splitlines() == [
        "w.yml: [0].cordon.nodes: no node nodeX",
        "w.yml: [1].set_tier.job: no job default/nope "
        "(jobs: default/pd-prefill-service, default/pd-decode-service)",
    ]
