from hypertopo.placement import predict
from tests.agreement.compare import compare

from .helpers import hard, job, task, template, two_leaves


def bound(name, node_name):
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node_name, "containers": [{"name": "c"}]},
    }


def test_compare_agrees_and_disagrees():
    nodes, hns = two_leaves(per_leaf=2)
    jobs = [
        job("j", [task("w", 3, template(gpus=8))], topology=hard(2)),
        job("big", [task("w", 9, template(gpus=8))], topology=hard(2)),
    ]
    result = predict(jobs=jobs, nodes=nodes, hypernodes=hns, baseline=False)
    j = result["jobs"][0]
    assert (
        j["leaves"] == {"leaf-a": 2, "leaf-b": 1} and j["leaf_level_tie"]
    )  # the first pod's node tie spans leaves
    same = [bound("j-w-0", "b0"), bound("j-w-1", "b1"), bound("j-w-2", "a0")]
    verdict = {v["job"]: v for v in compare(result, same, nodes, hns)}
    assert verdict["default/j"]["agree"] and verdict["default/j"]["checks"]["leaves"] is None
    assert verdict["default/big"]["agree"]  # predicted infeasible, nothing bound
    wrong = [bound("j-w-0", "a0"), bound("big-w-0", "a1")]
    verdict = {v["job"]: v for v in compare(result, wrong, nodes, hns)}
    assert not verdict["default/j"]["agree"] and "pods bound" in verdict["default/j"]["details"][0]
    assert not verdict["default/big"]["agree"] and not verdict["default/big"]["checks"]["feasibility"]
