"""Volcano's admission webhooks as its Helm chart installs them, served by vc-webhook-manager on
127.0.0.1.

:func:`webhook_configurations` renders the ``MutatingWebhookConfiguration`` and
``ValidatingWebhookConfiguration`` objects of ``installer/helm/chart/volcano/templates/webhooks.yaml``
(Volcano v1.15.1) for the chart's default ``custom.enabled_admissions`` (:data:`ENABLED_ADMISSIONS`):
the same names, webhooks, rules, failure and match policies, namespace selectors, side effects
and timeouts. One thing differs: the chart reaches the webhook through its Service
(``<release>-admission-service`` in the release namespace, port 443); here ``clientConfig.url``
points at vc-webhook-manager on loopback, with the cluster CA as ``caBundle`` (the chart's
init job writes the bundle; vc-webhook-manager would patch it in, but finds it already set).

vc-webhook-manager does not create these objects: at start-up it waits (up to five minutes
each) until every configuration of its ``--enabled-admission`` list exists and only patches
its ``caBundle`` (``cmd/webhook-manager/app/util.go``), so they are created before it starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypertopo.cluster.rest import ApiError, Rest

#: The chart's default ``custom.enabled_admissions`` (``values.yaml``); vc-webhook-manager's own
#: default ``--enabled-admission`` differs (it has the pods webhooks), so it is passed explicitly.
ENABLED_ADMISSIONS = (
    "/jobs/mutate",
    "/jobs/validate",
    "/podgroups/validate",
    "/queues/mutate",
    "/queues/validate",
    "/hypernodes/validate",
    "/cronjobs/validate",
)
#: The namespace a Helm release of Volcano usually lives in; the chart's webhooks skip it and
#: ``kube-system``.
RELEASE_NAMESPACE = "volcano-system"
NAME_PREFIX = "volcano-admission-service"
ADMISSION_API = "/apis/admissionregistration.k8s.io/v1"
KINDS = {"mutate": "MutatingWebhookConfiguration", "validate": "ValidatingWebhookConfiguration"}


@dataclass(frozen=True)
class Webhook:
    """One webhook of the chart: its name, the API group/version/resource and operations it sees."""

    name: str
    group: str
    version: str
    resource: str
    operations: tuple[str, ...]
    #: the hypernodes webhook is cluster-wide: no namespace/object selector, scope or dry-run note
    namespaced: bool = True


#: Every webhook ``webhooks.yaml`` can render, by path.
WEBHOOKS: Mapping[str, Webhook] = {
    "/pods/mutate": Webhook("mutatepod.volcano.sh", "", "v1", "pods", ("CREATE",)),
    "/queues/mutate": Webhook(
        "mutatequeue.volcano.sh", "scheduling.volcano.sh", "v1beta1", "queues", ("CREATE",)
    ),
    "/podgroups/mutate": Webhook(
        "mutatepodgroup.volcano.sh", "scheduling.volcano.sh", "v1beta1", "podgroups", ("CREATE",)
    ),
    "/jobs/mutate": Webhook("mutatejob.volcano.sh", "batch.volcano.sh", "v1alpha1", "jobs", ("CREATE",)),
    "/jobs/validate": Webhook(
        "validatejob.volcano.sh", "batch.volcano.sh", "v1alpha1", "jobs", ("CREATE", "UPDATE")
    ),
    # the chart gives the jobflows webhook the jobs webhook's name
    "/jobflows/validate": Webhook(
        "validatejob.volcano.sh", "flow.volcano.sh", "v1alpha1", "jobflows", ("CREATE", "UPDATE")
    ),
    "/pods/validate": Webhook("validatepod.volcano.sh", "", "v1", "pods", ("CREATE",)),
    "/queues/validate": Webhook(
        "validatequeue.volcano.sh",
        "scheduling.volcano.sh",
        "v1beta1",
        "queues",
        ("CREATE", "UPDATE", "DELETE"),
    ),
    "/podgroups/validate": Webhook(
        "validatepodgroup.volcano.sh", "scheduling.volcano.sh", "v1beta1", "podgroups", ("CREATE",)
    ),
    "/hypernodes/validate": Webhook(
        "validatehypernodes.volcano.sh",
        "topology.volcano.sh",
        "v1alpha1",
        "hypernodes",
        ("CREATE", "UPDATE"),
        namespaced=False,
    ),
    "/cronjobs/validate": Webhook(
        "validatecronjob.volcano.sh", "batch.volcano.sh", "v1alpha1", "cronjobs", ("CREATE", "UPDATE")
    ),
}


def configuration_name(path: str) -> str:
    """``/jobs/mutate`` -> ``volcano-admission-service-jobs-mutate``, the name vc-webhook-manager
    looks up."""
    return NAME_PREFIX + path.replace("/", "-")


def kind_of(path: str) -> str:
    return KINDS[path.rsplit("/", 1)[1]]


def webhook_configuration(path: str, client_config: Mapping[str, Any]) -> dict[str, Any]:
    """The chart's configuration object for ``path``, reaching the server through ``client_config``."""
    hook = WEBHOOKS[path]
    kind = kind_of(path)
    rule: dict[str, Any] = {
        "apiGroups": [hook.group],
        "apiVersions": [hook.version],
        "operations": list(hook.operations),
        "resources": [hook.resource],
    }
    entry: dict[str, Any] = {
        "admissionReviewVersions": ["v1"],
        "clientConfig": dict(client_config),
        "failurePolicy": "Fail",
        "matchPolicy": "Equivalent",
        "name": hook.name,
    }
    if hook.namespaced:
        rule["scope"] = "*"
        entry["namespaceSelector"] = {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": [RELEASE_NAMESPACE, "kube-system"],
                }
            ]
        }
        entry["objectSelector"] = {}
        if kind == KINDS["mutate"]:
            entry["reinvocationPolicy"] = "Never"
    entry["rules"] = [rule]
    entry["sideEffects"] = "NoneOnDryRun" if hook.namespaced else "None"
    entry["timeoutSeconds"] = 10
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": configuration_name(path)},
        "webhooks": [entry],
    }


def webhook_configurations(
    base_url: str, ca_bundle: str, enabled: Sequence[str] = ENABLED_ADMISSIONS
) -> list[dict[str, Any]]:
    """The configurations of the ``enabled`` webhooks, each calling ``<base_url><path>`` and trusting
    ``ca_bundle`` (base64 of the PEM CA certificate)."""
    unknown = [p for p in enabled if p not in WEBHOOKS]
    if unknown:
        raise ValueError(f"no such Volcano admission webhook: {', '.join(unknown)}")
    return [
        webhook_configuration(p, {"url": base_url.rstrip("/") + p, "caBundle": ca_bundle}) for p in enabled
    ]


def collection(kind: str) -> str:
    return f"{ADMISSION_API}/{kind.lower()}s"


def apply_webhook_configurations(rest: Rest, configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Create the configurations, replacing those that exist (e.g. for another port); returns their names."""
    for obj in configs:
        path = collection(obj["kind"])
        try:
            rest.post(path, obj)
        except ApiError as exc:
            if exc.status != 409:
                raise
            name = obj["metadata"]["name"]
            current = rest.get(f"{path}/{name}")["metadata"]["resourceVersion"]
            rest.request(
                "PUT", f"{path}/{name}", {**obj, "metadata": {"name": name, "resourceVersion": current}}
            )
    return [obj["metadata"]["name"] for obj in configs]
