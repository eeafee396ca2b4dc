"""Resource name kinds as Kubernetes v1.35 ``pkg/apis/core/helper`` tells them apart."""

import pytest

from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.podspec import parse_pod_spec
from hypertopo.placement.resource_names import is_extended, overcommit_allowed


@pytest.mark.parametrize(
    ("name", "extended", "overcommit"),
    [
        ("cpu", False, True),
        ("memory", False, True),
        ("ephemeral-storage", False, True),
        ("hugepages-2Mi", False, False),
        ("kubernetes.io/something", False, True),
        ("nvidia.com/gpu", True, False),
        ("rdma/hca_shared_devices_a", True, False),
        ("example.com/UPPER_ok", True, False),
        ("requests.nvidia.com/gpu", False, False),  # a quota name, not a container's resource
        ("Bad_Domain.com/gpu", False, False),  # prefix not a DNS subdomain
        ("a/b/c", False, False),
    ],
)
def test_name_kinds(name, extended, overcommit):
    assert (is_extended(name), overcommit_allowed(name)) == (extended, overcommit)


@pytest.mark.parametrize(
    "resources",
    [
        {"requests": {"nvidia.com/gpu": "2000m"}, "limits": {"nvidia.com/gpu": 2}},  # equal quantities
        {"limits": {"nvidia.com/gpu": "2"}},  # the request defaults to the limit
        {"requests": {"cpu": "500m", "memory": "1Gi"}},  # native resources may go without limits
    ],
)
def test_what_the_api_server_accepts_is_parsed(resources):
    spec = {"containers": [{"name": "c", "resources": resources}]}
    info = parse_pod_spec(spec, "Pod ns/p", "spec", namespace="ns")
    assert info.resreq.get("nvidia.com/gpu", 2000) == 2000


def test_a_fraction_rounded_up_to_a_whole_unit_passes_as_in_kubernetes():
    """k8s checks MilliValue() (rounded up) % 1000: 2999500u is 3000 milli-units, accepted."""
    spec = {"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": "2999500u"}}}]}
    parse_pod_spec(spec, "Pod ns/p", "spec", namespace="ns")
    with pytest.raises(PlacementInputError, match="must be an integer"):
        spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = "2998500u"
        parse_pod_spec(spec, "Pod ns/p", "spec", namespace="ns")


# Each case: a container's resources, and whether the API server stores such a pod.
API_CASES = {
    "a fraction of a GPU": {"requests": {"nvidia.com/gpu": "500m"}, "limits": {"nvidia.com/gpu": "500m"}},
    "a GPU request without its limit": {"requests": {"nvidia.com/gpu": "2"}},
    "a GPU request below its limit": {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "2"}},
    "hugepages without a limit": {"requests": {"cpu": "1", "hugepages-2Mi": "4Mi"}},
    "2999500u GPUs (3000 milli-units rounded up)": {"limits": {"nvidia.com/gpu": "2999500u"}},
    "2998500u GPUs": {"limits": {"nvidia.com/gpu": "2998500u"}},
    "2000m requested, 2 limited": {
        "requests": {"nvidia.com/gpu": "2000m"},
        "limits": {"nvidia.com/gpu": "2"},
    },
    "only a GPU limit": {"limits": {"nvidia.com/gpu": "4"}},
    "CPU below its limit": {"requests": {"cpu": "1"}, "limits": {"cpu": "2"}},
}


@pytest.mark.cluster
def test_the_api_server_refuses_exactly_what_the_parser_refuses(cluster):
    """Every case as a server-side dry run (nothing stored) on the real kube-apiserver."""
    from kubernetes.client.rest import ApiException

    verdicts = {}
    for case, resources in API_CASES.items():
        spec = {"containers": [{"name": "c", "image": "busybox", "resources": resources}]}
        try:
            parse_pod_spec(spec, "Pod default/p", "spec", namespace="default")
            ours = "accepted"
        except PlacementInputError:
            ours = "refused"
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
        try:
            cluster.core.create_namespaced_pod("default", body, dry_run="All")
            theirs = "accepted"
        except ApiException as exc:
            assert exc.status == 422, exc
            theirs = "refused"
        verdicts[case] = (ours, theirs)
    assert {case: v for case, v in verdicts.items() if v[0] != v[1]} == {}
    assert sorted({v[1] for v in verdicts.values()}) == ["accepted", "refused"]
