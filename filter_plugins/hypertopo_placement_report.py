# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters: verify the actual placement against the hints, and render the reports.

Thin adapters over :func:`hypertopo.report.verify.verify` and :func:`hypertopo.report.render_reports`.
The report filter returns the text, JSON and HTML as strings, so a playbook writes them with
``ansible.builtin.copy`` (idempotent, honours check mode and ``--diff``; the reports carry no
timestamps, so an unchanged placement gives unchanged files). For use outside Ansible the same
files come from ``python -m hypertopo.report`` (see ``hypertopo/report/__main__.py``).
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from hypertopo.report import render_reports
from hypertopo.report.verify import pod_list, verify
from hypertopo.rollout.plain import plain_filters

DOCUMENTATION = r"""
name: topology_verify
short_description: Compare the predicted placement with the pods Kubernetes actually bound
description:
  - Takes the placement engine's output (the hints) and the live pods, and returns per pod the predicted
    and actual node, per job the HyperNode (lowest switch holding all its bound pods), its tier and the
    pods per leaf (predicted and actual), and the network pair classes achieved (prefill-internal,
    decode-internal, prefill-decode) with latency, bandwidth and KV-cache ms.
  - C(ok) is false, with C(failures), when a pod is missing, unbound or on a node outside the inventory,
    when a job with C(mode: hard) is not under one switch of tier <= C(highestTierAllowed), or when a pod
    of an IB-required role sits under an Ethernet leaf. Other deviations (e.g. another node of a tie) are
    listed in C(differences) without failing.
  - Companion filters C(topology_report) (text, JSON and HTML as strings) and C(topology_report_text).
options:
  _input:
    description: The placement engine's output (C(jobs) with C(placements), C(hypernode), C(tier), C(ties)).
    type: dict
    required: true
  pods:
    description: The pods as the API returns them, a C(kind: List), or a C(kubernetes.core.k8s_info) result.
    type: raw
    required: true
  model:
    description: The inventory model (output of the C(topology_model) filter).
    type: dict
    required: true
  ib_required_roles:
    description:
      - Roles that must run under IB leaves even when their pods do not say so. Pods whose required node
        affinity or nodeSelector demands C(topology.kubernetes.io/switch-type=ib) are always checked.
    type: list
    elements: str
    default: []
  role_keywords:
    description: Role name -> the word that identifies it in a task or job name.
    type: dict
    default: {prefill: prefill, decode: decode}
  jobs:
    description: The submitted Volcano Jobs / PodGroups; their C(spec.networkTopology) gives the hard limits.
    type: list
    elements: dict
    default: []
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: Read the PD pods
  kubernetes.core.k8s_info:
    kind: Pod
    namespace: default
    label_selectors: ["volcano.sh/job-name"]
  register: __pd_pods

- name: Verify the placement
  ansible.builtin.set_fact:
    pd_verification: "{{ pd_hints | topology_verify(__pd_pods, topology, jobs=pd_jobs) }}"

- name: Write the reports (check mode and --diff work)
  ansible.builtin.copy:
    content: "{{ (pd_hints | topology_report(topology, pd_verification))[item.key] }}"
    dest: "{{ report_dir }}/{{ item.value }}"
    mode: "0644"
  loop: "{{ {'text': 'report.txt', 'json': 'report.json', 'html': 'report.html'} | dict2items }}"

- name: Show the table
  ansible.builtin.debug:
    msg: "{{ (pd_hints | topology_report_text(topology, pd_verification)).splitlines() }}"

- name: Fail on a violated constraint
  ansible.builtin.assert:
    that: pd_verification.ok
    fail_msg: "{{ pd_verification.failures }}"
"""

RETURN = r"""
_value:
  description:
    - topology_verify - C(ok), C(failures), C(differences), C(jobs) (per job C(predicted) and C(actual)
      C(hypernode), C(tier), C(pods_per_leaf); C(pods) with C(predicted_node), C(actual_node), C(match);
      C(constraint)), C(network) (C(predicted) and C(actual) pair summaries), C(summary).
    - topology_report - a dict with C(text), C(json) and C(html) strings.
    - topology_report_text - the terminal report as one string.
  type: dict
"""


def topology_verify(
    predicted: dict[str, Any],
    pods: Any,
    model: dict[str, Any],
    ib_required_roles: list[str] | None = None,
    role_keywords: dict[str, str] | None = None,
    jobs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Predicted vs actual placement (see DOCUMENTATION)."""
    kwargs: dict[str, Any] = {"ib_required_roles": list(ib_required_roles or []), "jobs": list(jobs or [])}
    if role_keywords:
        kwargs["role_keywords"] = dict(role_keywords)
    try:
        return verify(_plain(predicted), pod_list(_plain(pods)), _plain(model), **kwargs)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"topology_verify: {type(exc).__name__}: {exc}") from None


def topology_report(
    predicted: dict[str, Any], model: dict[str, Any], verification: dict[str, Any] | None = None
) -> dict[str, str]:
    """The text, JSON and HTML reports as strings."""
    checked = _plain(verification) if verification else None
    try:
        return render_reports(_plain(model), _plain(predicted), checked)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"topology_report: {type(exc).__name__}: {exc}") from None


def topology_report_text(
    predicted: dict[str, Any], model: dict[str, Any], verification: dict[str, Any] | None = None
) -> str:
    """The terminal report."""
    return topology_report(predicted, model, verification)["text"]


def _plain(value: Any) -> Any:
    """Ansible's lazy/tagged containers and strings as plain Python data."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


class FilterModule:
    """hypertopo verify/report filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters(
            {
                "topology_verify": topology_verify,
                "topology_report": topology_report,
                "topology_report_text": topology_report_text,
            }
        )
