"""Faults and concurrency on the real local control plane (issue #12, item 5).

* (e) two writing runs at once: the rollout lock (a Lease) lets one through and refuses the other
  before its first write; a Lease held by another run refuses a run, an expired one is taken
  over, check mode takes no lock;
* (c) another client editing other labels of the same Nodes while the patch step runs: none of
  its edits is lost (our patches are strategic-merge patches of our keys only);
* (a) kube-apiserver stopped in the middle of the node-label patch step: the play fails naming
  exactly the nodes whose patch did not land, no label key we do not own changed on any Node,
  and a rerun converges;
* (d) the same stop with the retries on and the API server back within them: the run succeeds,
  saying what it retried;
* (b) vc-scheduler stopped once the run has written the HyperNodes, before the PD workloads: the
  wait fails naming the PodGroups no scheduler looked at and saying to check vc-scheduler; with
  vc-scheduler restarted, the same command completes;
* (d) real 5xx answers (a validating webhook for Node updates, failurePolicy Fail, that cannot be
  called: kube-apiserver answers 500): bounded retries with backoff, then every node named with
  the answer and the attempts; repaired while the run retries, the run converges.

Onboarding runs ``onboard.yml`` on the seed inventory (256 nodes, one kubernetes.core.k8s run so
the patch step lasts long enough to be interrupted); (b) and the 5xx case use a private control
plane with a four-node inventory of their own.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client.rest import ApiException

from hypertopo.cluster.local import HYPERNODES, PODGROUPS
from hypertopo.cluster.nodes import hosts_from_inventory
from hypertopo.rollout.node_labels import UNCONFIRMED
from hypertopo.rollout.rollout_lock import format_time
from hypertopo.topology import load_topology
from hypertopo.topology.labels import LABEL_MANAGED, MANAGED_LABEL_KEYS

from .test_rbac import small_inventory
from .test_site import SEED_INVENTORY, run_playbook, start_playbook

pytestmark = pytest.mark.cluster

NODES = [h.name for h in hosts_from_inventory(SEED_INVENTORY)]
WANTED: dict[str, dict[str, str]] = load_topology(str(SEED_INVENTORY)).node_labels()
ONBOARD = "playbooks/onboard.yml"


def labels(cluster: Any) -> dict[str, dict[str, str]]:
    return {n.metadata.name: dict(n.metadata.labels or {}) for n in cluster.core.list_node().items}


def foreign(snapshot: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Every Node's labels but our keys."""
    return {n: {k: v for k, v in ls.items() if k not in MANAGED_LABEL_KEYS} for n, ls in snapshot.items()}


def ours(snapshot: dict[str, dict[str, str]], node: str) -> dict[str, str]:
    return {k: v for k, v in snapshot[node].items() if k in MANAGED_LABEL_KEYS}


def strip_our_labels(cluster: Any) -> None:
    """Remove our keys from the seed nodes, so the next onboarding patches all 256."""
    for name in NODES:
        cluster.core.patch_node(name, {"metadata": {"labels": dict.fromkeys(MANAGED_LABEL_KEYS)}})


def converged(snapshot: dict[str, dict[str, str]]) -> list[str]:
    """Seed nodes whose labels are not (yet) the inventory's."""
    return [n for n in NODES if ours(snapshot, n) != WANTED[n]]


def recap(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("localhost")]
    return lines[-1] if lines else ""


def lease_args(name: str, *extra: str) -> list[str]:
    return ["-e", f"rollout_lock_name={name}", *extra]


@pytest.fixture
def seed_nodes(cluster: Any) -> Iterator[Any]:
    cluster.create_nodes(hosts_from_inventory(SEED_INVENTORY))
    yield cluster


# ---- (e) the rollout lock


LOCK_NAMESPACE = "hypertopo-system"  # the rollout_lock role's default


def put_lease(cluster: Any, name: str, holder: str, renewed: dt.datetime, duration: int) -> None:
    body = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": LOCK_NAMESPACE},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": duration,
            "acquireTime": format_time(renewed),
            "renewTime": format_time(renewed),
        },
    }
    if cluster.get_or_none(f"/api/v1/namespaces/{LOCK_NAMESPACE}") is None:
        cluster.create_namespace(LOCK_NAMESPACE)
    cluster.custom.create_namespaced_custom_object(
        "coordination.k8s.io", "v1", LOCK_NAMESPACE, "leases", body
    )


def get_lease(cluster: Any, name: str) -> dict[str, Any] | None:
    try:
        return cluster.custom.get_namespaced_custom_object(
            "coordination.k8s.io", "v1", LOCK_NAMESPACE, "leases", name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def delete_lease(cluster: Any, name: str) -> None:
    if get_lease(cluster, name) is not None:
        cluster.custom.delete_namespaced_custom_object(
            "coordination.k8s.io", "v1", LOCK_NAMESPACE, "leases", name
        )


def test_a_lock_held_by_another_run_refuses_before_any_write_and_check_mode_takes_none(seed_nodes):
    cluster = seed_nodes
    name = f"hypertopo-rollout-{uuid.uuid4().hex[:6]}"
    strip_our_labels(cluster)
    before = labels(cluster)
    put_lease(cluster, name, "ops@elsewhere pid 4242", dt.datetime.now(dt.UTC), 600)
    try:
        t0 = time.monotonic()
        refused = run_playbook(cluster.kubeconfig, ONBOARD, *lease_args(name))
        took = time.monotonic() - t0
        assert refused.returncode != 0
        held = f"the rollout lock Lease hypertopo-system/{name} is held by 'ops@elsewhere pid 4242'"
        assert held in refused.stdout
        assert "nothing was written by this one" in refused.stdout
        assert labels(cluster) == before, "a refused run wrote labels"
        assert get_lease(cluster, name)["spec"]["holderIdentity"] == "ops@elsewhere pid 4242"  # left alone
        # check mode writes nothing and takes no lock: it runs although the lock is held
        check = run_playbook(cluster.kubeconfig, ONBOARD, "--check", *lease_args(name))
        assert check.returncode == 0, check.stdout[-4000:]
        assert "check mode writes nothing: no lock taken" in check.stdout
        assert labels(cluster) == before
        print(f"refused in {took:.1f} s")
    finally:
        delete_lease(cluster, name)


def test_an_expired_lock_is_taken_over_and_released_at_the_end(seed_nodes):
    cluster = seed_nodes
    name = f"hypertopo-rollout-{uuid.uuid4().hex[:6]}"
    # a run that crashed 10 minutes ago with a 60 s lease
    put_lease(cluster, name, "crashed@host pid 1", dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10), 60)
    try:
        proc = run_playbook(cluster.kubeconfig, ONBOARD, *lease_args(name))
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
        assert "(take)" in proc.stdout
        assert f"rollout lock hypertopo-system/{name} released" in proc.stdout
        assert get_lease(cluster, name) is None
        assert converged(labels(cluster)) == []
    finally:
        delete_lease(cluster, name)


def test_two_runs_at_once_one_refused_never_interleaved(seed_nodes):
    cluster = seed_nodes
    name = f"hypertopo-rollout-{uuid.uuid4().hex[:6]}"
    strip_our_labels(cluster)
    holders: list[str] = []
    stop = threading.Event()

    def watch() -> None:  # every holder the Lease had, in order
        while not stop.is_set():
            lease = get_lease(cluster, name)
            holder = (lease or {}).get("spec", {}).get("holderIdentity") or ""
            if not holders or holders[-1] != holder:
                holders.append(holder)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        runs = [start_playbook(cluster.kubeconfig, ONBOARD, *lease_args(name)) for _ in range(2)]
        outs = [run.communicate(timeout=600) for run in runs]
    finally:
        stop.set()
        watcher.join()
        delete_lease(cluster, name)
    codes = [run.returncode for run in runs]
    assert sorted(codes)[0] == 0 and sorted(codes)[1] != 0, (codes, [o[0][-3000:] for o in outs])
    winner, loser = (outs[0][0], outs[1][0]) if codes[0] == 0 else (outs[1][0], outs[0][0])
    assert "is held by" in loser and "nothing was written by this one" in loser
    # the refused run stopped before its first write: it never reached the label patches
    assert "Patch the labels of the nodes that differ" not in loser
    assert "Patched 256 of 256 node(s)" in winner
    assert [h for h in holders if h] and len({h for h in holders if h}) == 1, holders
    assert converged(labels(cluster)) == []


# ---- (c) another client editing other labels of the same Nodes during the patch step

EDITOR = "editor.example.com/seq"


def test_concurrent_edits_of_other_labels_are_never_lost(seed_nodes):
    cluster = seed_nodes
    name = f"hypertopo-rollout-{uuid.uuid4().hex[:6]}"
    strip_our_labels(cluster)
    last: dict[str, str] = {}
    # per node: did the editor write before our marker was there, and after?
    seen: dict[str, set[bool]] = {n: set() for n in NODES}
    stop = threading.Event()

    def edit() -> None:
        seq = 0
        while not stop.is_set():
            for node in NODES:
                seq += 1
                out = cluster.core.patch_node(node, {"metadata": {"labels": {EDITOR: str(seq)}}})
                last[node] = str(seq)
                seen[node].add(LABEL_MANAGED in (out.metadata.labels or {}))
                if stop.is_set():
                    break

    editor = threading.Thread(target=edit, daemon=True)
    t0 = time.monotonic()
    editor.start()
    try:
        proc = run_playbook(
            cluster.kubeconfig, ONBOARD, *lease_args(name), "-e", "node_labels_patch_batches=1"
        )
    finally:
        stop.set()
        editor.join()
        delete_lease(cluster, name)
    took = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout[-6000:]
    after = labels(cluster)
    lost = {n: (after[n].get(EDITOR), v) for n, v in last.items() if after[n].get(EDITOR) != v}
    assert lost == {}, f"edits lost: {lost}"
    assert converged(after) == []
    interleaved = [n for n, kinds in seen.items() if kinds == {False, True}]
    assert interleaved, "the editor never wrote a node both before and after our patch of it"
    print(f"{len(interleaved)} nodes edited before and after our patch; {took:.1f} s")
    for node in NODES:  # leave the shared cluster as we found it
        cluster.core.patch_node(node, {"metadata": {"labels": {EDITOR: None}}})


# ---- (a), (d) kube-apiserver stopped during the patch step


@pytest.fixture(scope="module")
def private(cluster_factory: Any) -> Any:
    c = cluster_factory()
    c.create_nodes(hosts_from_inventory(SEED_INVENTORY))
    return c


def stop_apiserver_once_patching(cluster: Any, run: Any, *, restart_after: float | None) -> dict[str, float]:
    """Wait until the first seed node carries our marker, then stop kube-apiserver; restart it
    ``restart_after`` seconds later (None: once the run has ended). Returns the timings."""
    t0 = time.monotonic()
    while run.poll() is None:
        marked = cluster.core.list_node(label_selector=LABEL_MANAGED, limit=1).items
        if marked:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the run ended before any node was patched")
    cluster.stop_component("kube-apiserver")
    stopped = time.monotonic() - t0
    if restart_after is not None:
        time.sleep(restart_after)
        cluster.restart_component("kube-apiserver")
    return {"stopped_at": stopped}


def test_apiserver_stopped_mid_patch_fails_naming_what_did_not_land_and_a_rerun_converges(private):
    cluster = private
    strip_our_labels(cluster)
    before = labels(cluster)
    t0 = time.monotonic()
    # the failed run cannot release its lock (no API server): it expires 10 s after it was taken
    run = start_playbook(
        cluster.kubeconfig,
        ONBOARD,
        "-e",
        "node_labels_patch_batches=1",
        "-e",
        "node_labels_retries=0",
        "-e",
        "rollout_lock_duration=10",
    )
    try:
        stop_apiserver_once_patching(cluster, run, restart_after=None)
        out, _err = run.communicate(timeout=600)
    finally:
        cluster.restart_component("kube-apiserver")
    assert run.returncode != 0
    # the message as one line (the YAML callback folds it and doubles the quotes it single-quotes)
    out = " ".join(out.split()).replace("''", "'")
    middle = labels(cluster)
    landed = [n for n in NODES if ours(middle, n) == WANTED[n]]
    missing = [n for n in NODES if n not in landed]
    assert landed and missing, (len(landed), len(missing))
    failed = re.search(
        r"(\d+) of 256 node patch\(es\) did not land( or are not confirmed)? \(the others were applied\)", out
    )
    assert failed, out[-4000:]
    assert all(f"'node': '{n}'" in out for n in missing)
    if int(failed.group(1)) != len(missing):
        # kubernetes.core lost the run's results (it cannot serialize the connection error): the
        # whole batch is named, as not confirmed, the patches that did land included
        assert failed.group(2) and int(failed.group(1)) == 256, (failed.group(0), len(missing))
        named = out[failed.end() : out.index("Rerun the role", failed.end())]
        assert named.count(UNCONFIRMED) == 256, named[-4000:]
    else:
        assert not any(f"'node': '{n}'" in out for n in landed)
    assert "no answer (connection failed), still after 1 attempt" in out
    assert foreign(middle) == foreign(before), "a label key we do not own changed"
    assert "The rollout lock could not be released" in out
    rerun = run_playbook(
        cluster.kubeconfig, ONBOARD, "-e", "rollout_lock_wait=60", "-e", "rollout_lock_poll=1"
    )
    assert rerun.returncode == 0, rerun.stdout[-4000:]
    assert f"Patched {len(missing)} of {len(missing)} node(s)" in rerun.stdout
    after = labels(cluster)
    assert converged(after) == []
    assert foreign(after) == foreign(before), "a label key we do not own changed"
    print(f"{len(landed)} landed before the stop; {time.monotonic() - t0:.1f} s with the rerun")


def test_retries_outlast_an_apiserver_restart(private):
    cluster = private
    strip_our_labels(cluster)
    before = labels(cluster)
    t0 = time.monotonic()
    run = start_playbook(
        cluster.kubeconfig,
        ONBOARD,
        "-e",
        "node_labels_patch_batches=1",
        "-e",
        "node_labels_retries=6",
        "-e",
        "node_labels_retry_delay=1",
        "-e",
        "node_labels_retry_max_delay=8",
    )
    stop_apiserver_once_patching(cluster, run, restart_after=1.0)
    out, _err = run.communicate(timeout=600)
    assert run.returncode == 0, out[-6000:]
    assert "of 256 node(s) in 1 concurrent kubernetes.core.k8s run(s); retried" in out
    assert "(no answer (connection failed))" in out
    after = labels(cluster)
    assert converged(after) == []
    assert foreign(after) == foreign(before)
    print(f"{time.monotonic() - t0:.1f} s")


# ---- (b) vc-scheduler stopped, (d) real 429 answers: a small inventory on a private control plane


@pytest.fixture(scope="module")
def small(cluster_factory: Any, tmp_path_factory: Any) -> dict[str, Any]:
    """A private control plane with a four-node inventory (two leaves) of its own."""
    tmp = tmp_path_factory.mktemp("small")
    c = cluster_factory()
    prefix = f"ft{uuid.uuid4().hex[:6]}"
    inv = small_inventory(tmp, prefix)
    c.create_nodes(hosts_from_inventory(inv))
    return {"cluster": c, "inventory": inv, "prefix": prefix, "tmp": tmp}


def pd_args(namespace: str, report_dir: Any, *extra: str) -> list[str]:
    return [
        "-e",
        f"pd_services_namespace={namespace}",
        "-e",
        "pd_services_prefill_replicas=2",
        "-e",
        "pd_services_decode_replicas=2",
        "-e",
        f"placement_report_dir={report_dir}",
        *extra,
    ]


def test_scheduler_stopped_after_the_hypernodes_fails_the_wait_naming_it_and_a_rerun_completes(small):
    c, inv, prefix = small["cluster"], small["inventory"], small["prefix"]
    namespace = f"pd-{prefix}-sched"
    args = pd_args(namespace, small["tmp"] / "report-sched")
    ours = {f"{prefix}-{s}" for s in ("agg", "leaf0", "leaf1")}
    t0 = time.monotonic()
    run = start_playbook(
        c.kubeconfig,
        "playbooks/site.yml",
        *args,
        "-e",
        "pd_services_wait_timeout=15",
        "-e",
        "pd_services_wait_delay=1",
        inventory=inv,
    )
    try:
        # stop vc-scheduler as soon as the run has written our HyperNodes
        while run.poll() is None and not ours <= {h["metadata"]["name"] for h in c.list(HYPERNODES)}:
            time.sleep(0.05)
        assert run.poll() is None, "the run ended before it wrote the HyperNodes"
        c.stop_component("vc-scheduler")
        stopped_at = time.monotonic() - t0
        workloads_then = c.get_or_none(f"/api/v1/namespaces/{namespace}") and c.list(
            f"/apis/batch.volcano.sh/v1alpha1/namespaces/{namespace}/jobs"
        )
        out, _err = run.communicate(timeout=600)
        bound_while_down = [
            p.metadata.name for p in c.core.list_namespaced_pod(namespace).items if p.spec.node_name
        ]
    finally:
        c.restart_component("vc-scheduler")
    failed_after = time.monotonic() - t0
    text = " ".join(out.split())
    assert not workloads_then, "the PD workloads existed before vc-scheduler was stopped"
    assert run.returncode != 0
    podgroups = [pg["metadata"]["name"] for pg in c.list(f"{PODGROUPS}/namespaces/{namespace}/podgroups")]
    assert len(podgroups) == 2, podgroups
    assert "0 of 4 pods bound after 15 s" in text, text[-4000:]
    assert "the scheduler is not binding: PodGroup(s) " in text, text[-4000:]
    assert all(pg in text for pg in podgroups), (podgroups, text[-4000:])
    assert "check that vc-scheduler is running and healthy" in text
    assert get_lease(c, "hypertopo-rollout") is None, "the failed run released its lock"
    assert bound_while_down == []
    # vc-scheduler is back: the same command again completes
    t1 = time.monotonic()
    rerun = run_playbook(c.kubeconfig, "playbooks/site.yml", *args, inventory=inv)
    assert rerun.returncode == 0, rerun.stdout[-6000:] + rerun.stderr[-2000:]
    pods = c.core.list_namespaced_pod(namespace).items
    assert len(pods) == 4 and all(p.spec.node_name and p.status.phase == "Running" for p in pods)
    print(
        f"vc-scheduler stopped {stopped_at:.1f} s into the run; the run failed at {failed_after:.1f} s; "
        f"rerun {time.monotonic() - t1:.1f} s"
    )


BROKEN = "hypertopo-test-unreachable"
WEBHOOKS = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
FAULT_LABEL = "hypertopo.test/fault"


def break_node_updates(cluster: Any) -> None:
    """A validating webhook for updates of Nodes labelled :data:`FAULT_LABEL`, failurePolicy Fail,
    at an address where nothing listens: kube-apiserver answers every such patch 500 (InternalError,
    ``failed calling webhook``), as when a cluster's admission webhook is down."""
    cluster.rest.post(
        WEBHOOKS,
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": BROKEN},
            "webhooks": [
                {
                    "name": "unreachable.hypertopo.test",
                    "clientConfig": {"url": "https://127.0.0.1:1/validate"},
                    "rules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["UPDATE"],
                            "resources": ["nodes"],
                            "scope": "Cluster",
                        }
                    ],
                    "objectSelector": {"matchLabels": {FAULT_LABEL: "yes"}},
                    "failurePolicy": "Fail",
                    "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                    "timeoutSeconds": 2,
                }
            ],
        },
    )


def repair_node_updates(cluster: Any) -> None:
    cluster.rest.delete(f"{WEBHOOKS}/{BROKEN}")


def webhook_failures(cluster: Any) -> int:
    """Requests kube-apiserver refused because it could not call the webhook of
    :func:`break_node_updates` (its /metrics)."""
    text = cluster.rest.request("GET", "/metrics", raw=True)
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith("apiserver_admission_webhook_rejection_count{")
        and 'name="unreachable.hypertopo.test"' in line
    )


def patch_status(cluster: Any, node: str) -> int:
    """The status a dry-run patch of ``node`` gets (200 when it would pass)."""
    try:
        cluster.core.patch_node(node, {"metadata": {"labels": {}}}, dry_run="All")
        return 200
    except ApiException as exc:
        return int(exc.status)


def wait_status(cluster: Any, node: str, status: int) -> None:
    deadline = time.monotonic() + 60
    while (got := patch_status(cluster, node)) != status:
        assert time.monotonic() < deadline, f"a Node patch is still answered {got}, not {status}"
        time.sleep(0.2)


def test_server_errors_are_retried_with_backoff_then_fail_clearly_and_converge_once_repaired(small):
    c, inv = small["cluster"], small["inventory"]
    nodes = [h.name for h in hosts_from_inventory(inv)]
    wanted = load_topology(str(inv)).node_labels()
    for node in nodes:
        c.core.patch_node(
            node, {"metadata": {"labels": {**dict.fromkeys(MANAGED_LABEL_KEYS), FAULT_LABEL: "yes"}}}
        )
    before = labels(c)
    break_node_updates(c)
    try:
        wait_status(c, nodes[0], 500)
        # 1. broken throughout: two retries, 0.5 s then 1 s, then every node named with the answer
        t0 = time.monotonic()
        failed = run_playbook(
            c.kubeconfig,
            ONBOARD,
            "-e",
            "node_labels_retries=2",
            "-e",
            "node_labels_retry_delay=0.5",
            "-e",
            "node_labels_retry_max_delay=1",
            inventory=inv,
        )
        took_failed = time.monotonic() - t0
        text = " ".join(failed.stdout.split())
        assert failed.returncode != 0
        assert "4 of 4 node patch(es) did not land" in text, text[-4000:]
        answer = "'reason': 'HTTP 500 Internal Server Error, still after 3 attempts: Failed to patch object"
        assert all(f"'node': '{n}', {answer}" in text for n in nodes), text[-4000:]
        assert "failed calling webhook" in text and "unreachable.hypertopo.test" in text, text[-4000:]
        assert "retried 4 after 0.5 s (HTTP 500 Internal Server Error); retried 4 after 1.0 s" in text, text[
            -4000:
        ]
        assert labels(c) == before, "a run answered 500 changed labels"
        # 2. repaired while the run is retrying: the retries carry it through
        seen = webhook_failures(c)
        t1 = time.monotonic()
        run = start_playbook(
            c.kubeconfig,
            ONBOARD,
            "-e",
            "node_labels_retries=4",
            "-e",
            "node_labels_retry_delay=2",
            inventory=inv,
        )
        # repaired once the run's first patch has been answered 500; its first retry comes 2 s later
        while run.poll() is None and webhook_failures(c) <= seen:
            time.sleep(0.1)
        repair_node_updates(c)
        out, _err = run.communicate(timeout=600)
        took_ok = time.monotonic() - t1
    finally:
        repair_node_updates(c)
        for node in nodes:
            c.core.patch_node(node, {"metadata": {"labels": {FAULT_LABEL: None}}})
    text = " ".join(out.split())
    assert run.returncode == 0, text[-6000:]
    assert "Patched 4 of 4 node(s)" in text and "(HTTP 500 Internal Server Error)" in text, text[-4000:]
    after = labels(c)
    assert {n: ours(after, n) for n in nodes} == {n: wanted[n] for n in nodes}
    assert foreign(after) == {
        n: {k: v for k, v in ls.items() if k != FAULT_LABEL} for n, ls in foreign(before).items()
    }
    print(f"answered 500 throughout: failed in {took_failed:.1f} s; repaired while retrying: {took_ok:.1f} s")
