"""The local control plane as a real Volcano install: the admission webhooks of Volcano's Helm
chart served by vc-webhook-manager, kube-controller-manager (Deployments, garbage collection,
namespaces, service accounts and their tokens) and kwok (nodes Ready with renewed Leases, pods
Running, deleted pods gone)."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pytest
import yaml

from hypertopo.cluster import NodeSpec, Task
from hypertopo.cluster.admission import (
    ADMISSION_API,
    ENABLED_ADMISSIONS,
    RELEASE_NAMESPACE,
    configuration_name,
    kind_of,
    webhook_configurations,
)
from hypertopo.cluster.gomodules import module_file
from hypertopo.cluster.kwok import NODE_LEASE_SECONDS
from hypertopo.cluster.paths import COMPONENTS, versions
from hypertopo.cluster.rest import ApiError
from hypertopo.cluster.workloads import container, pod_running

from ..cluster_helpers import cli

pytestmark = pytest.mark.cluster

CHART = "installer/helm/chart/volcano"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"


def _chart_file(name: str) -> str:
    return module_file("volcano.sh/volcano", versions()["VOLCANO_VERSION"], f"{CHART}/{name}").read_text()


def render_chart_webhooks(template: str, enabled: Sequence[str]) -> list[dict[str, Any]]:
    """``templates/webhooks.yaml`` rendered with the chart's default values (release ``volcano`` in
    :data:`RELEASE_NAMESPACE`): ``if`` blocks on ``enabled_admissions`` follow ``enabled``,
    ``admission_enable`` is true, and the optional label/selector blocks are empty by default."""
    joined = ",".join(enabled)
    out: list[str] = []
    taken: list[bool] = []
    for line in template.splitlines():
        stripped = line.strip()
        cond = re.fullmatch(r"\{\{-?\s*if (.+?)\s*-?\}\}", stripped)
        if cond:
            admission = re.search(r'regexMatch "([^"]+)"', cond.group(1))
            if admission:
                taken.append(re.search(admission.group(1), joined) is not None)
            else:
                taken.append(cond.group(1) == ".Values.custom.admission_enable")
            continue
        if re.fullmatch(r"\{\{-?\s*end\s*-?\}\}", stripped):
            taken.pop()
            continue
        if all(taken):
            out.append(
                line.replace("{{ .Release.Namespace }}", RELEASE_NAMESPACE).replace(
                    "{{ .Release.Name }}", "volcano"
                )
            )
    return [d for d in yaml.safe_load_all("\n".join(out)) if d]


def _without_client_config(obj: dict[str, Any]) -> dict[str, Any]:
    return {**obj, "webhooks": [{k: v for k, v in w.items() if k != "clientConfig"} for w in obj["webhooks"]]}


def _wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f} s")
        time.sleep(0.2)


# ---------------------------------------------------------------- Volcano's admission webhooks


def test_our_webhook_configurations_are_the_helm_charts_defaults() -> None:
    values = yaml.safe_load(_chart_file("values.yaml"))["custom"]
    assert values["admission_enable"] is True
    assert tuple(values["enabled_admissions"].split(",")) == ENABLED_ADMISSIONS
    chart = render_chart_webhooks(_chart_file("templates/webhooks.yaml"), ENABLED_ADMISSIONS)
    ours = webhook_configurations("https://127.0.0.1:1", "Q0E=")
    chart.sort(key=lambda o: [configuration_name(p) for p in ENABLED_ADMISSIONS].index(o["metadata"]["name"]))
    assert [_without_client_config(o) for o in ours] == [_without_client_config(c) for c in chart]
    for o, c in zip(ours, chart, strict=True):
        service = c["webhooks"][0]["clientConfig"]["service"]
        assert (service["name"], service["namespace"]) == ("volcano-admission-service", RELEASE_NAMESPACE)
        assert o["webhooks"][0]["clientConfig"] == {
            "url": f"https://127.0.0.1:1{service['path']}",
            "caBundle": "Q0E=",
        }


def test_volcanos_webhooks_are_registered_with_a_url_and_the_cluster_ca(cluster) -> None:
    state = cluster.control_plane.load_state()
    ca = base64.b64encode((cluster.state_dir / "pki" / "ca.crt").read_bytes()).decode()
    port = state.ports["vc-webhook-manager"]
    live = {
        kind: {o["metadata"]["name"]: o for o in cluster.list(f"{ADMISSION_API}/{kind.lower()}s")}
        for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
    }
    assert sorted(live["MutatingWebhookConfiguration"]) == [
        "volcano-admission-service-jobs-mutate",
        "volcano-admission-service-queues-mutate",
    ]
    assert sorted(live["ValidatingWebhookConfiguration"]) == sorted(
        configuration_name(p) for p in ENABLED_ADMISSIONS if p.endswith("/validate")
    )
    for path in ENABLED_ADMISSIONS:
        obj = live[kind_of(path)][configuration_name(path)]
        (hook,) = obj["webhooks"]
        assert hook["clientConfig"] == {"url": f"https://127.0.0.1:{port}{path}", "caBundle": ca}
        assert hook["failurePolicy"] == "Fail"


def test_a_job_asking_more_than_its_replicas_is_refused_with_volcanos_message(cluster, cluster_ws) -> None:
    with pytest.raises(ApiError) as exc:
        cluster_ws.create_job("too-big", [Task("w", 2)], min_available=3)
    assert exc.value.status == 400
    assert (
        'admission webhook "validatejob.volcano.sh" denied the request: '
        "job 'minAvailable' should not be greater than total replicas in tasks" in str(exc.value)
    )
    assert (
        cluster.get_or_none(f"/apis/batch.volcano.sh/v1alpha1/namespaces/{cluster_ws.namespace}/jobs/too-big")
        is None
    )


def test_the_mutating_webhook_fills_in_a_minimal_job_and_leaves_a_full_one_alone(cluster, cluster_ws) -> None:
    ns = cluster_ws.namespace
    minimal = {
        "apiVersion": "batch.volcano.sh/v1alpha1",
        "kind": "Job",
        "metadata": {"name": "minimal", "namespace": ns},
        "spec": {"tasks": [{"replicas": 2, "template": {"spec": {"containers": [container()]}}}]},
    }
    spec = cluster.create_job(minimal)["spec"]
    assert (spec["schedulerName"], spec["queue"], spec["minAvailable"], spec["maxRetry"]) == (
        "volcano",
        "default",
        2,
        3,
    )
    assert (spec["tasks"][0]["name"], spec["tasks"][0]["minAvailable"]) == ("default0", 2)
    full = cluster.vcjob(
        "full", ns, [Task("w", 1)], network_topology={"mode": "hard", "highestTierAllowed": 1}
    )
    assert cluster.create_job(full)["spec"] == full["spec"]


# ---------------------------------------------------------------- kwok: nodes and pods


def test_simulated_nodes_are_ready_and_keep_their_lease_renewed(cluster, cluster_ws) -> None:
    (name,) = cluster_ws.create_nodes([NodeSpec("hb", gpu=8)])
    node = cluster.get(f"/api/v1/nodes/{name}")
    conds = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert conds["Ready"] == "True" and conds["MemoryPressure"] == "False"
    assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("kwok-")
    assert not node["spec"].get("taints"), "kube-controller-manager removes the not-ready taint"

    def renewed_at() -> float:
        lease = cluster.get_or_none(f"{LEASES}/{name}")
        renew = ((lease or {}).get("spec") or {}).get("renewTime")
        return datetime.fromisoformat(renew.replace("Z", "+00:00")).timestamp() if renew else 0.0

    first = _wait(renewed_at, 15, f"a Lease for node {name}")
    lease = cluster.get(f"{LEASES}/{name}")["spec"]
    assert lease["leaseDurationSeconds"] == NODE_LEASE_SECONDS
    # kwok renews every quarter of the duration (60 s): wait for one renewal, with room for a busy machine
    _wait(lambda: renewed_at() > first, NODE_LEASE_SECONDS / 4 + 30, f"the Lease of node {name} renewed")


def test_a_jobs_pods_run_and_a_deleted_pod_goes_away(cluster, cluster_ws) -> None:
    cluster_ws.create_nodes([NodeSpec("r0", gpu=8)])
    cluster_ws.create_job("run", [Task("w", 2, gpus=2)])
    pods = cluster.wait_running(cluster_ws.namespace, "run", 2)
    job = cluster.get(f"/apis/batch.volcano.sh/v1alpha1/namespaces/{cluster_ws.namespace}/jobs/run")
    _wait(
        lambda: (
            cluster.get(f"/apis/batch.volcano.sh/v1alpha1/namespaces/{cluster_ws.namespace}/jobs/run")
            .get("status", {})
            .get("state", {})
            .get("phase")
            == "Running"
        ),
        20,
        f"job run in phase Running (was {job.get('status')})",
    )
    victim = pods[0]
    path = f"/api/v1/namespaces/{cluster_ws.namespace}/pods/{victim['metadata']['name']}"
    cluster.delete(path, grace_period_seconds=None)  # graceful: kwok confirms it

    def gone() -> bool:
        now = cluster.get_or_none(path)
        return now is None or now["metadata"]["uid"] != victim["metadata"]["uid"]

    _wait(gone, 20, "the deleted pod removed")


def test_a_deployment_for_volcano_gets_its_pods_bound_running_and_available(cluster, cluster_ws) -> None:
    names = cluster_ws.create_nodes([NodeSpec("d0", gpu=8), NodeSpec("d1", gpu=8)])
    ns = cluster_ws.namespace
    labels = {"app": "pd-web"}
    cluster.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "pd-web", "namespace": ns},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "schedulerName": "volcano",
                        "nodeSelector": cluster_ws.pin,
                        "terminationGracePeriodSeconds": 0,
                        "containers": [container(gpus=4)],
                    },
                },
            },
        }
    )

    def available() -> dict[str, Any] | None:
        dep = cluster.get(f"/apis/apps/v1/namespaces/{ns}/deployments/pd-web")
        conds = {c["type"]: c["status"] for c in (dep.get("status") or {}).get("conditions") or ()}
        return (
            dep if conds.get("Available") == "True" and dep["status"].get("availableReplicas") == 3 else None
        )

    _wait(available, 60, "Deployment pd-web Available with 3 replicas")
    pods = cluster.list(f"/api/v1/namespaces/{ns}/pods", label_selector="app=pd-web")
    assert len(pods) == 3 and all(pod_running(p) for p in pods)
    assert {p["spec"]["nodeName"] for p in pods} <= set(names)
    assert all(p["spec"]["schedulerName"] == "volcano" for p in pods)


# ---------------------------------------------------------------- kube-controller-manager


def test_deleting_a_job_or_a_namespace_cleans_up_after_it(cluster, cluster_ws) -> None:
    cluster_ws.create_nodes([NodeSpec("g0", gpu=8)])
    cluster_ws.create_job("gc", [Task("w", 2, gpus=1)])
    ns = cluster_ws.namespace
    cluster.wait_running(ns, "gc", 2)
    cluster.delete(f"/apis/batch.volcano.sh/v1alpha1/namespaces/{ns}/jobs/gc", grace_period_seconds=None)
    _wait(lambda: not cluster.pods(ns, job="gc"), 30, "the garbage collector deleting the job's pods")

    other = cluster.create_namespace(f"{ns}-gone")
    cluster.delete(f"/api/v1/namespaces/{other}", grace_period_seconds=None)
    _wait(lambda: cluster.get_or_none(f"/api/v1/namespaces/{other}") is None, 30, "namespace deleted")


def test_controller_manager_signs_service_account_tokens_the_apiserver_accepts(cluster, cluster_ws) -> None:
    ns = cluster_ws.namespace
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {
                "name": "default-token",
                "namespace": ns,
                "annotations": {"kubernetes.io/service-account.name": "default"},
            },
        }
    )
    secret = _wait(
        lambda: (
            (cluster.get(f"/api/v1/namespaces/{ns}/secrets/default-token").get("data") or {}).get("token")
            and cluster.get(f"/api/v1/namespaces/{ns}/secrets/default-token")
        ),
        30,
        "the token controller filling in the token",
    )
    token = base64.b64decode(secret["data"]["token"]).decode()
    assert base64.b64decode(secret["data"]["ca.crt"]) == (cluster.state_dir / "pki" / "ca.crt").read_bytes()
    review = cluster.rest.post(
        "/apis/authentication.k8s.io/v1/tokenreviews",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}},
    )
    assert review["status"]["authenticated"] is True
    assert review["status"]["user"]["username"] == f"system:serviceaccount:{ns}:default"


# ---------------------------------------------------------------- status


def test_status_lists_every_component_as_healthy(cluster) -> None:
    r = cli("status", state_dir=cluster.state_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = {line.split()[0]: line for line in r.stdout.splitlines() if line.startswith("  ")}
    assert list(lines) == list(COMPONENTS)
    for comp in COMPONENTS:
        assert " healthy (" in lines[comp], lines[comp]
    assert "TLS on port" in lines["vc-webhook-manager"]
    assert "/healthz" in lines["kube-controller-manager"]
    assert re.search(r"\d+ node lease\(s\) renewed, 0 expired", lines["kwok"])


# ---------------------------------------------------------------- one component down, then back


def test_a_stopped_webhook_refuses_writes_by_name_and_a_restart_brings_it_back(cluster, cluster_ws) -> None:
    """failurePolicy Fail: with vc-webhook-manager down, kube-apiserver refuses a Job naming the
    webhook; ``restart_component`` starts it again with the same flags and port."""
    port_before = cluster.control_plane.load_state().ports["vc-webhook-manager"]
    assert cluster.stop_component("vc-webhook-manager") is True
    try:
        status = cluster.control_plane.status(deep=False)
        assert not status.healthy and "vc-webhook-manager" in status.detail
        with pytest.raises(ApiError) as exc:
            cluster_ws.create_job("while-down", [Task("w", 1)])
        assert exc.value.status == 500
        assert 'failed calling webhook "mutatejob.volcano.sh"' in str(exc.value)
    finally:
        took = cluster.restart_component("vc-webhook-manager")
    assert took < 60
    assert cluster.control_plane.load_state().ports["vc-webhook-manager"] == port_before
    assert cluster.control_plane.status().healthy
    cluster_ws.create_job("after-restart", [Task("w", 1)])


def test_restarting_the_scheduler_reloads_its_configuration_and_it_binds_again(cluster, cluster_ws) -> None:
    cluster_ws.two_leaf_topology(nodes_per_leaf=1)
    cluster.restart_component("vc-scheduler")
    cluster_ws.create_job("after-scheduler-restart", [Task("w", 1)])
    assert len(cluster_ws.wait_bound("after-scheduler-restart", 1, timeout=60)) == 1
