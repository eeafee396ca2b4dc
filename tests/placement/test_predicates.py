"""Each filter of the predicates plugin / allocate resource check."""

from .helpers import by_name, job, node, nodes_of, run, task, template


def placed(result, name="j"):
    return set(nodes_of(by_name(result, name)).values())


def bound_pod(name, node_name, namespace="other", **spec):
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": spec.pop("labels", {})},
        "spec": {"nodeName": node_name, "containers": [{"name": "c", **spec.pop("container", {})}], **spec},
        "status": {"phase": "Running"},
    }


def test_gpu_resource_fit():
    result = run([job("j", [task("w", 1, template(gpus=2))])], [node("small", gpus=1), node("big", gpus=8)])
    assert placed(result) == {"big"}


def test_cpu_resource_fit_reason():
    result = run([job("j", [task("w", 1, template(gpus=0, cpu="100"))])], [node("n0", cpu="64")])
    j = by_name(result, "j")
    assert not j["feasible"] and "insufficient cpu" in " ".join(j["reasons"])


def test_pod_count_limit():
    nodes = [node("full", pods=1), node("free", pods=1)]
    result = run([job("j", [task("w", 1)])], nodes, pods=[bound_pod("old", "full")])
    assert placed(result) == {"free"}


def test_node_selector_and_required_affinity():
    nodes = [
        node("a", labels={"gpu-type": "a100"}),
        node("h", labels={"gpu-type": "h100", "zone": "z1"}),
        node("h2", labels={"gpu-type": "h100", "zone": "z2"}),
    ]
    by_selector = run([job("j", [task("w", 1, template(selector={"gpu-type": "a100"}))])], nodes)
    assert placed(by_selector) == {"a"}
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "gpu-type", "operator": "In", "values": ["h100"]},
                            {"key": "zone", "operator": "NotIn", "values": ["z1"]},
                        ]
                    }
                ]
            }
        }
    }
    assert placed(run([job("j", [task("w", 1, template(affinity=affinity))])], nodes)) == {"h2"}


def test_taints_and_tolerations():
    taint = [{"key": "dedicated", "value": "infer", "effect": "NoSchedule"}]
    nodes = [node("tainted", taints=taint), node("plain", gpus=1)]
    two = [task("w", 1, template(gpus=2))]
    assert not by_name(run([job("j", two)], nodes), "j")["feasible"]
    reasons = " ".join(by_name(run([job("j", two)], nodes), "j")["reasons"])
    assert "room for 0" in reasons
    tolerant = template(
        gpus=2,
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "infer", "effect": "NoSchedule"}],
    )
    assert placed(run([job("j", [task("w", 1, tolerant)])], nodes)) == {"tainted"}


def test_prefer_no_schedule_taint_lowers_the_score():
    nodes = [node("a0", taints=[{"key": "spot", "effect": "PreferNoSchedule"}]), node("a1")]
    assert placed(run([job("j", [task("w", 1)])], nodes)) == {"a1"}


def test_unschedulable_node():
    nodes = [node("cordoned", unschedulable=True), node("ok", gpus=1)]
    assert placed(run([job("j", [task("w", 1)])], nodes)) == {"ok"}


def test_host_port_conflict():
    ported = {"ports": [{"containerPort": 80, "hostPort": 8080}]}
    nodes = [node("n0"), node("n1", gpus=1)]
    pods = [bound_pod("web", "n0", container=ported)]
    tmpl = template()
    tmpl["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    assert placed(run([job("j", [task("w", 1, tmpl)])], nodes, pods=pods)) == {"n1"}


def test_required_pod_anti_affinity_spreads_pods():
    anti = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchLabels": {"volcano.sh/job-name": "j"}},
                    "topologyKey": "kubernetes.io/hostname",
                }
            ]
        }
    }
    result = run([job("j", [task("w", 2, template(affinity=anti))])], [node("n0"), node("n1")])
    assert placed(result) == {"n0", "n1"}
    crowded = run([job("j", [task("w", 3, template(affinity=anti))])], [node("n0"), node("n1")])
    assert not by_name(crowded, "j")["feasible"]


def test_existing_pods_required_anti_affinity_repels():
    anti = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "noisy"}}, "topologyKey": "kubernetes.io/hostname"}
            ]
        }
    }
    nodes = [node("n0"), node("n1", gpus=1)]
    tmpl = template()
    tmpl["metadata"] = {"labels": {"app": "noisy"}}
    # the term has no namespaces: it only covers pods of the guard's own namespace
    elsewhere = [bound_pod("guard", "n0", namespace="other", affinity=anti)]
    assert placed(run([job("j", [task("w", 1, tmpl)])], nodes, pods=elsewhere)) == {"n0"}
    same_ns = [bound_pod("guard", "n0", namespace="default", affinity=anti)]
    assert placed(run([job("j", [task("w", 1, tmpl)])], nodes, pods=same_ns)) == {"n1"}


def test_preferred_anti_affinity_is_only_a_score():
    anti = {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": {"volcano.sh/job-name": "j"}},
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        }
    }
    result = run([job("j", [task("w", 3, template(affinity=anti))])], [node("n0"), node("n1")])
    j = by_name(result, "j")
    assert j["feasible"] and placed(result) == {"n0", "n1"}


def test_image_locality_prefers_nodes_with_the_image():
    cached = node("cached")
    cached["status"]["images"] = [{"names": ["registry/vllm:v1"], "sizeBytes": 8 * 2**30}]
    nodes = [node("cold"), cached]
    tmpl = template()
    tmpl["spec"]["containers"][0]["image"] = "registry/vllm:v1"
    assert placed(run([job("j", [task("w", 1, tmpl)])], nodes)) == {"cached"}
    tmpl["spec"]["containers"][0]["image"] = "registry/other"  # normalised to :latest, not on the node
    result = run([job("j", [task("w", 1, tmpl)])], nodes)
    assert by_name(result, "j")["ties"][0]["candidates"] == ["cached", "cold"]
