"""The admission check: every object a run would write, sent through the cluster's admission chain
as a server-side dry run (``dryRun=All``: mutating and validating admission, webhooks included,
nothing persisted), before the run writes anything.

:func:`requests` turns the objects into the dry-run requests the ``admission_check`` role sends with
``kubernetes.core.k8s`` in check mode (kubernetes.core 6.2.0 adds ``dryRun=All`` to every create,
apply, patch and delete of a module in check mode); :func:`failures` reads the module's per-object
errors back into one line per refused object, naming the object, the webhook and its message.

Two cases need another request than the plain apply the roles send:

* a Volcano Job is only ever created (the pd_services role deletes and recreates a Job whose spec
  changed; Volcano's validating webhook refuses spec updates, ``validateJobUpdate``), so it is
  checked as a dry-run *create* under a generated name of the same length (``generateName`` is the
  name minus the API server's 5 random characters), whether or not a Job of that name exists;
* an object in a namespace that does not exist yet (the roles create it first) is checked in
  ``fallback_namespace`` (the NamespaceLifecycle admission plugin would refuse it before any
  webhook), and the Namespace itself is checked as a dry-run create.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

#: characters the API server appends to ``generateName`` (``names.SimpleNameGenerator``)
GENERATED_SUFFIX = 5
VOLCANO_JOB_GROUP = "batch.volcano.sh/"
FORBIDDEN_HINT = (
    " (a dry run is authorized like the write it stands for: an identity that may only read, such as"
    " deploy/rbac/'s hypertopo-readonly, plans with -e plan_admission_check=false)"
)
_WEBHOOK = re.compile(r'webhook "([^"]+)"')
_BODY = re.compile(r"""b(['"]).*\1""", re.DOTALL)


def object_name(obj: Mapping[str, Any]) -> str:
    """``Kind namespace/name`` (``Kind name`` for cluster-scoped objects)."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')} {ns + '/' if ns else ''}{meta.get('name')}"


def namespaces(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """The namespaces the objects live in, sorted, each once."""
    return sorted({ns for o in objects if (ns := (o.get("metadata") or {}).get("namespace"))})


def _is_volcano_job(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Job" and str(obj.get("apiVersion", "")).startswith(VOLCANO_JOB_GROUP)


def requests(
    objects: Sequence[Mapping[str, Any]], present: Sequence[str], fallback_namespace: str
) -> list[dict[str, Any]]:
    """One dry-run request per object (and per missing namespace): ``{"name": the object as
    :func:`object_name` names it, "method": "apply" | "create", "object": what is sent}``."""
    out: list[dict[str, Any]] = []
    missing = [ns for ns in namespaces(objects) if ns not in set(present)]
    for ns in missing:
        out.append(
            {
                "name": f"Namespace {ns}",
                "method": "create",
                "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
            }
        )
    for obj in objects:
        meta = dict(obj.get("metadata") or {})
        if meta.get("namespace") in missing:
            meta["namespace"] = fallback_namespace
        method = "apply"
        if _is_volcano_job(obj):
            name = str(meta.pop("name", ""))
            meta["generateName"] = name[: max(len(name) - GENERATED_SUFFIX, 1)]
            method = "create"
        out.append({"name": object_name(obj), "method": method, "object": {**obj, "metadata": meta}})
    return out


def _status_message(text: str) -> str:
    """The ``message`` of the API Status that kubernetes.core quotes in its error
    (``Failed to create object: {"kind":"Status",...}``, or the body as a bytes literal
    ``b'{...}'``), or the text as it is."""
    match = _BODY.search(text)
    if match:
        try:
            body = ast.literal_eval(match.group(0))
            text_body = body.decode() if isinstance(body, bytes) else str(body)
        except (ValueError, SyntaxError, UnicodeDecodeError):
            text_body = text
    else:
        text_body = text
    start = text_body.find("{")
    if start < 0:
        return text
    try:
        status, _ = json.JSONDecoder().raw_decode(text_body[start:])
    except ValueError:
        return text
    if isinstance(status, Mapping) and status.get("kind") == "Status" and status.get("message"):
        return str(status["message"])
    return text


def failures(sent: Sequence[Mapping[str, Any]], results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The refused requests: ``{"object", "webhook" (None when no webhook is named), "message"}``,
    from ``kubernetes.core.k8s`` results (``continue_on_error``) in the order of ``sent``."""
    out = []
    for req, res in zip(sent, results, strict=True):
        error = res.get("error") if isinstance(res, Mapping) else None
        if not error:
            continue
        raw = str(error.get("msg") or error) if isinstance(error, Mapping) else str(error)
        message = _status_message(raw)
        webhook = _WEBHOOK.search(message)
        out.append({"object": req["name"], "webhook": webhook and webhook.group(1), "message": message})
    return out


def failure_lines(found: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per refused object: ``<object>: webhook <name>: <message>``; a refusal by RBAC
    says how a read-only identity plans without the dry runs."""
    return [
        f"{f['object']}: "
        + (f"webhook {f['webhook']}: " if f.get("webhook") else "")
        + str(f["message"])
        + (FORBIDDEN_HINT if not f.get("webhook") and "forbidden" in str(f["message"]).lower() else "")
        for f in found
    ]
