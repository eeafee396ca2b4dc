"""pytest fixtures for the local control plane (registered by ``tests/conftest.py``).

``cluster`` (session)
    A :class:`~hypertopo.cluster.LocalCluster` on the shared control plane of the state
    directory (``$HYPERTOPO_CLUSTER_DIR``, default ``~/.cache/hypertopo/cluster``): reused when
    it is up and healthy, otherwise started. A control plane started by pytest is stopped by the
    last pytest session using it; one started by ``make cluster-up`` is never stopped by tests.
    If it cannot start, every test using it FAILS with the reason (in CI and locally alike):
    nothing is skipped silently.
    Under pytest-xdist (``-n N``) the workers run at once, so each has its own shared control
    plane: worker ``gw0`` uses the state directory above (a ``make cluster-up`` cluster is reused
    there), worker ``gwK`` the directory ``<state directory>-gwK`` (:func:`pytest_configure`
    sets ``$HYPERTOPO_CLUSTER_DIR`` for the worker and what it runs). The tests of one worker run
    one after another on its control plane, as in a run without workers: a rollout prunes the
    HyperNodes it owns cluster-wide, so two workers must never share one.

``cluster_ws`` (function)
    A :class:`tests.cluster_helpers.Workspace`: a unique namespace and name prefix; its Jobs,
    pods (force-deleted), PodGroups, Nodes, HyperNodes and the namespace itself are removed at
    the end of the test.

``cluster_ns`` (function)
    Just the unique namespace name of ``cluster_ws``.

``cluster_factory`` (module)
    ``cluster_factory(nta=None, scheduler_conf=None, extra_args=None) -> LocalCluster``: a
    *private* control plane (:func:`hypertopo.cluster.local_cluster`), e.g. with another
    scheduler configuration or a kube-apiserver audit log, so as not to change the shared one
    under other tests. Those a test module started are stopped when the module ends (not at the
    end of the session: a dozen idle control planes slow every later test down, and their
    watchers exhaust the kernel's inotify instances, 128 by default); their logs are kept in
    pytest's temporary directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

import pytest

from hypertopo.cluster import ClusterError, ControlPlane, LocalCluster, local_cluster
from hypertopo.cluster.paths import default_state_dir

from .cluster_helpers import Workspace


def pytest_configure(config: pytest.Config) -> None:
    """Give an xdist worker other than ``gw0`` its own shared control plane (module docstring)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if worker != "gw0":
        os.environ["HYPERTOPO_CLUSTER_DIR"] = f"{default_state_dir()}-{worker}"


def _hint(exc: BaseException) -> str:
    text = str(exc)
    if "binaries missing" in text:
        return text + "\n(run `make build-controlplane`, or `make integration` which builds first)"
    return text


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    cp = ControlPlane()
    cp.state_dir.mkdir(parents=True, exist_ok=True)
    users: IO[str] = (cp.state_dir / "users.lock").open("a")
    # held shared while this session uses the cluster; a session stopping a
    # pytest-owned cluster takes it exclusively (so it never pulls the rug)
    fcntl.flock(users, fcntl.LOCK_SH)
    handle: LocalCluster | None = None
    try:
        try:
            cp.up(owner="pytest")
            handle = LocalCluster(cp)
        except ClusterError as exc:
            pytest.fail(f"the local control plane could not start:\n{_hint(exc)}", pytrace=False)
        yield handle
    finally:
        if handle is not None:
            handle.close()
        fcntl.flock(users, fcntl.LOCK_UN)
        try:
            st = cp.load_state()
            if st is not None and st.owner == "pytest":
                try:
                    fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    pass  # another pytest session still uses it: the last one out stops it
                else:
                    cp.down()
        finally:
            users.close()


@pytest.fixture
def cluster_ws(cluster: LocalCluster, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    ws = Workspace.create(cluster, request.node.name)
    try:
        yield ws
    finally:
        ws.cleanup()


@pytest.fixture
def cluster_ns(cluster_ws: Workspace) -> str:
    return cluster_ws.namespace


@pytest.fixture(scope="module")
def cluster_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LocalCluster]]:
    with contextlib.ExitStack() as started:

        def make(
            *, nta: bool | None = None, scheduler_conf: Any = None, extra_args: Any = None
        ) -> LocalCluster:
            try:
                return started.enter_context(
                    local_cluster(
                        nta=nta,
                        scheduler_conf=scheduler_conf,
                        extra_args=extra_args,
                        workdir=tmp_path_factory.mktemp("cluster"),
                        keep_logs=tmp_path_factory.mktemp("cluster-logs"),
                    )
                )
            except ClusterError as exc:
                pytest.fail(f"a private control plane could not start:\n{_hint(exc)}", pytrace=False)

        yield make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """With ``$HYPERTOPO_TEST_TIMELINE`` set (``make unit`` and ``make integration`` set it),
    append one line per test: worker, start and end (Unix time, setup to teardown), CPU seconds, test id;
    ``bench/test_timeline.py`` shows from it what each worker ran when (are the lanes balanced?)
    and what cost the most. The CPU is the worker's own and that of the processes it started and
    waited for (``ansible-playbook`` runs, a private control plane once stopped); a shared control
    plane's work for the test is not in it."""
    path = os.environ.get("HYPERTOPO_TEST_TIMELINE")
    start, before = time.time(), _cpu()
    yield
    if path:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{worker}\t{start:.1f}\t{time.time():.1f}\t{_cpu() - before:.1f}\t{item.nodeid}\n")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
