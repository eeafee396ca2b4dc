# Copyright: hypertopo contributors
# Apache-2.0
"""Take, renew or release the rollout lock, a Lease, through kubernetes.core (``rollout/rollout_lock.py``).

Writes run the module ``kubernetes.core.k8s``; reads run ``kubernetes.core.k8s_info``'s code in
this process where that reads what the module would (``plugin_utils/k8s_info.py``: a module
process costs 0.6-0.8 s of CPU; a site run reads the Lease four to six times), else the module."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import socket
import time
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import require_core
from ansible_collections.hypertopo.volcano.plugins.plugin_utils.k8s_info import read, runs_here

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and fails when used.
try:
    from hypertopo.rollout.batches import failure_message
    from hypertopo.rollout.rollout_lock import (
        LEASE_API,
        LEASE_KIND,
        LeaseState,
        decide,
        format_time,
        held_message,
        lease_object,
        placeholder_object,
        read_lease,
    )
except ImportError as exc:
    HYPERTOPO_MISSING: ImportError | None = exc
else:
    HYPERTOPO_MISSING = None

# Documentation: plugins/modules/hypertopo_rollout_lock.py of the collection
# (collections/ansible_collections/hypertopo/volcano/plugins/modules/;
# ansible-doc hypertopo.volcano.hypertopo_rollout_lock).

INFO = "kubernetes.core.k8s_info"
WRITE = "kubernetes.core.k8s"


def default_holder() -> str:
    """``user@host pid N``: N is ansible-playbook's process (the parent of this worker), the same
    for every task of one run and different for two runs."""
    return f"{getpass.getuser()}@{socket.gethostname()} pid {os.getppid()}"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ActionModule(ActionBase):
    """Take, renew or release the rollout Lease."""

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        require_core(HYPERTOPO_MISSING)
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        self._vars = task_vars
        self._access = {k: args[k] for k in ("kubeconfig", "context") if args.get(k)}
        name = str(args.get("name") or "hypertopo-rollout")
        namespace = str(args.get("namespace") or "hypertopo-system")
        holder = str(args.get("holder") or "") or default_holder()
        state = args.get("state", "acquired")
        try:
            duration, wait, poll = (
                int(args.get(k, d)) for k, d in (("duration", 900), ("wait", 0), ("poll", 5))
            )
        except (TypeError, ValueError):
            return {
                **result,
                "failed": True,
                "msg": "hypertopo_rollout_lock: duration, wait and poll are integers",
            }
        if state not in ("acquired", "released") or duration < 1 or wait < 0 or poll < 1:
            return {
                **result,
                "failed": True,
                "msg": (
                    "hypertopo_rollout_lock: state is acquired or released; "
                    "duration >= 1, wait >= 0, poll >= 1"
                ),
            }
        base = {**result, "changed": False}
        if self._task.check_mode:
            return {**base, "skipped": True, "msg": "check mode writes nothing: no lock taken or released"}
        try:
            if state == "released":
                return {**base, **self._release(name, namespace, holder)}
            return {**base, **self._acquire(name, namespace, holder, duration, wait, poll)}
        except LockError as exc:
            return {**base, "failed": True, "msg": str(exc)}

    # ---- the modules

    def _module(self, module: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            out = self._execute_module(
                module_name=module, module_args={**self._access, **args}, task_vars=self._vars
            )
        except AnsibleError as exc:
            return {"failed": True, "msg": str(exc)}
        out = dict(out)
        if out.get("failed"):
            out["msg"] = failure_message(out)
        return out

    def _read(self, name: str, namespace: str) -> LeaseState | None:
        """The Lease, read with kubernetes.core.k8s_info's code: in this process where that reads
        what the module would (``plugin_utils/k8s_info.py``), else as the module."""
        args = {"api_version": LEASE_API, "kind": LEASE_KIND, "name": name, "namespace": namespace}
        if runs_here(self._connection, self._task):
            out = read({**self._access, **args})
            if out.get("failed"):
                out["msg"] = failure_message(out)
        else:
            out = self._module(INFO, args)
        if out.get("failed"):
            raise LockError(f"cannot read the rollout lock Lease {namespace}/{name}: {out.get('msg')}")
        resources = out.get("resources") or []
        return read_lease(resources[0] if resources else None)

    # ---- acquire

    def _acquire(
        self, name: str, namespace: str, holder: str, duration: int, wait: int, poll: int
    ) -> dict[str, Any]:
        start = time.monotonic()
        conflicts = 0
        created_namespace = False
        created = False
        while True:
            current = self._read(name, namespace)
            moment = now()
            action = decide(current, holder, moment)
            if action == "wait":
                if current is None:  # decide() waits only on a Lease that exists
                    raise LockError(f"Lease {namespace}/{name}: nothing to wait on")
                waited = time.monotonic() - start
                if waited >= wait:
                    raise LockError(held_message(current, name, namespace, moment, waited))
                time.sleep(min(poll, max(0.1, wait - waited)))
                continue
            if action == "create":
                lease = placeholder_object(name, namespace)
            else:
                lease = lease_object(name, namespace, holder, duration, moment, current)
            out = self._module(WRITE, {"state": "present", "definition": lease})
            if (
                out.get("failed")
                and current is None
                and not created_namespace
                and _no_namespace(out, namespace)
            ):
                # first run on a cluster without deploy/rbac/: create the namespace, then the Lease
                # (the namespace is never read first: the hypertopo account may not read namespaces)
                self._create_namespace(namespace)
                created_namespace = True
                continue
            if _lost_race(out):
                # another run wrote the Lease between our read and our write: read again
                conflicts += 1
                if conflicts > 20:
                    raise LockError(f"the rollout lock Lease {namespace}/{name} keeps changing under us")
                continue
            if out.get("failed"):
                raise LockError(
                    f"cannot {action} the rollout lock Lease {namespace}/{name}: {out.get('msg')}"
                )
            if action == "create":
                # the holder-less Lease exists now (ours or another run's): read it and take it
                created = True
                continue
            if created and action == "take":
                action = "create"
            return {
                "msg": f"rollout lock {namespace}/{name} held by {holder!r} ({action})",
                "lease": {
                    "name": name,
                    "namespace": namespace,
                    "holder": holder,
                    "action": action,
                    "expires": format_time(moment + dt.timedelta(seconds=duration)),
                    "waited": round(time.monotonic() - start, 1),
                },
            }

    def _create_namespace(self, namespace: str) -> None:
        """Create the Lease's namespace, found missing when the Lease was created (first run on a
        cluster without ``deploy/rbac/``)."""
        definition = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        out = self._module(WRITE, {"state": "present", "definition": definition})
        if out.get("failed") and not _lost_race(out):
            raise LockError(
                f"the rollout lock's namespace {namespace} does not exist and cannot be created: "
                f"{out.get('msg')}. Apply deploy/rbac/00-namespace.yaml or set rollout_lock_namespace"
            )

    # ---- release

    def _release(self, name: str, namespace: str, holder: str) -> dict[str, Any]:
        current = self._read(name, namespace)
        info = {"name": name, "namespace": namespace, "holder": holder, "action": "release"}
        if current is None:
            return {"msg": f"rollout lock {namespace}/{name}: no Lease (nothing to release)", "lease": info}
        if current.holder != holder:
            return {
                "msg": f"rollout lock {namespace}/{name} is held by {current.holder!r}: left alone",
                "warnings": [
                    f"the rollout lock Lease {namespace}/{name} is held by {current.holder!r}, not by this "
                    f"run ({holder!r}): this run's lock had expired and was taken over; not released"
                ]
                if current.holder
                else [],
                "lease": info,
            }
        out = self._module(
            WRITE,
            {
                "state": "absent",
                "api_version": LEASE_API,
                "kind": LEASE_KIND,
                "name": name,
                "namespace": namespace,
                "delete_options": {"preconditions": {"resourceVersion": current.resource_version}},
            },
        )
        if out.get("failed"):
            raise LockError(f"cannot release the rollout lock Lease {namespace}/{name}: {out.get('msg')}")
        return {"msg": f"rollout lock {namespace}/{name} released by {holder!r}", "lease": info}


class LockError(Exception):
    """The lock cannot be taken or released: the message says why."""


def _no_namespace(out: dict[str, Any], namespace: str) -> bool:
    """The write was answered 404 because the namespace does not exist."""
    pattern = re.compile(r'namespaces \\*"' + re.escape(namespace) + r'\\*" not found')
    return bool(pattern.search(str(out.get("msg", ""))))


def _lost_race(out: dict[str, Any]) -> bool:
    """A create answered 409 (kubernetes.core turns it into a warning) or a conditioned write 409."""
    texts = [str(out.get("msg", ""))] + [str(w) for w in out.get("warnings") or []]
    return any("409" in t or "Conflict" in t or "the object has been modified" in t for t in texts)
