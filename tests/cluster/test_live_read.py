"""hypertopo.cluster.live: what explain --from-cluster reads, against a fake API server (no cluster)."""

import pytest

from hypertopo.cluster.live import find_workload, list_all, priority_classes, read_world
from hypertopo.cluster.rest import ApiError
from hypertopo.placement.explain import JobNotFoundError


class FakeApi:
    """GET-only: ``objects`` maps a path (without query) to a body; LISTs page by ``limit``."""

    def __init__(self, objects):
        self.objects = objects
        self.requests = []

    def get(self, url):
        self.requests.append(url)
        path, _, query = url.partition("?")
        if path not in self.objects:
            raise ApiError("GET", path, 404, "not found")
        body = self.objects[path]
        if "items" not in body:
            return dict(body)
        params = dict(p.split("=", 1) for p in query.split("&") if p)
        start = int(params.get("continue", 0))
        limit = int(params["limit"])
        items = body["items"][start : start + limit]
        more = start + limit < len(body["items"])
        return {
            "items": [dict(i) for i in items],
            "metadata": {"continue": str(start + limit) if more else ""},
        }

    def get_or_none(self, path):
        try:
            return self.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise


def meta(name, namespace=None, **extra):
    out = {"name": name, **extra}
    if namespace:
        out["namespace"] = namespace
    return {"metadata": out}


def test_list_all_follows_continue_tokens():
    api = FakeApi({"/api/v1/nodes": {"items": [meta(f"n{i}") for i in range(1203)]}})
    items = list_all(api, "/api/v1/nodes")
    assert [i["metadata"]["name"] for i in items] == [f"n{i}" for i in range(1203)]
    assert len(api.requests) == 3


def test_read_world_sets_kinds_and_tolerates_a_missing_configmap():
    api = FakeApi(
        {
            "/api/v1/nodes": {"items": [meta("n0")]},
            "/apis/topology.volcano.sh/v1alpha1/hypernodes": {"items": [meta("leaf0")]},
            "/api/v1/pods": {"items": []},
        }
    )
    world = read_world(api)
    assert world["nodes"][0]["kind"] == "Node" and world["hypernodes"][0]["kind"] == "HyperNode"
    assert world["scheduler_conf"] is None


def test_a_deployment_is_explained_through_its_podgroup():
    deployment = {**meta("decode", "pd"), "spec": {"selector": {"matchLabels": {"app": "decode"}}}}
    pod = meta("decode-5d9f-abc", "pd", labels={"app": "decode"})
    pod["metadata"]["annotations"] = {"scheduling.k8s.io/group-name": "podgroup-1234"}
    api = FakeApi(
        {
            "/apis/apps/v1/namespaces/pd/deployments": {"items": [deployment]},
            "/apis/scheduling.volcano.sh/v1beta1/namespaces/pd/podgroups": {
                "items": [meta("podgroup-1234", "pd")]
            },
        }
    )
    obj, ref = find_workload(api, "pd/decode", [pod])
    assert ref == "pd/podgroup-1234" and obj["kind"] == "PodGroup"
    assert obj["apiVersion"] == "scheduling.volcano.sh/v1beta1"


def test_a_volcano_job_is_taken_as_it_is():
    api = FakeApi({"/apis/batch.volcano.sh/v1alpha1/namespaces/pd/jobs": {"items": [meta("prefill", "pd")]}})
    obj, ref = find_workload(api, "pd/prefill", [])
    assert ref == "pd/prefill" and obj["kind"] == "Job"


def test_an_unknown_workload_lists_those_of_the_namespace():
    api = FakeApi(
        {
            "/apis/batch.volcano.sh/v1alpha1/namespaces/pd/jobs": {"items": [meta("prefill", "pd")]},
            "/apis/apps/v1/namespaces/pd/deployments": {"items": [meta("decode", "pd")]},
        }
    )
    with pytest.raises(
        JobNotFoundError, match=r"job pd/nope not found; in pd: Job prefill, Deployment decode"
    ):
        find_workload(api, "pd/nope", [])


def test_read_world_lists_the_priority_classes_with_only_the_fields_the_engine_reads():
    high = {
        **meta("high", annotations={"note": "x"}, managedFields=[{"manager": "kubectl"}]),
        "value": 1000,
        "globalDefault": False,
        "description": "long text",
        "preemptionPolicy": "Never",
    }
    default = {**meta("normal"), "value": 10, "globalDefault": True}
    api = FakeApi(
        {
            "/api/v1/nodes": {"items": []},
            "/apis/topology.volcano.sh/v1alpha1/hypernodes": {"items": []},
            "/api/v1/pods": {"items": []},
            "/apis/scheduling.k8s.io/v1/priorityclasses": {"items": [high, default]},
        }
    )
    world = read_world(api)
    assert world["priority_classes"] == [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "high"},
            "value": 1000,
            "globalDefault": False,
        },
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "normal"},
            "value": 10,
            "globalDefault": True,
        },
    ]
    assert any(u.startswith("/apis/scheduling.k8s.io/v1/priorityclasses?limit=") for u in api.requests)


def test_priority_classes_not_served_are_none_but_a_denied_listing_fails():
    api = FakeApi({})
    assert priority_classes(api) == []

    class Denied(FakeApi):
        def get(self, url):
            raise ApiError("GET", url.partition("?")[0], 403, "forbidden")

    with pytest.raises(ApiError, match="403"):
        priority_classes(Denied({}))
