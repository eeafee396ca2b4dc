"""Process handling for the local control plane: start, watch, stop by PID.

Processes are identified by PID *and* their kernel start time
(``/proc/<pid>/stat`` field 22), so a recycled PID is never signalled.
Nothing here ever looks processes up by name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
ADDRESS_IN_USE = "address already in use"

# Popen objects of children started by this Python process, so that they are
# reaped (no zombies) when they exit while we are still running.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class ClusterError(RuntimeError):
    """The local control plane could not be built, started, used or stopped."""


class ComponentDied(ClusterError):
    """A component exited while it was starting (or when it should be running)."""

    def __init__(self, name: str, returncode: int | None, log: Path, tail: str) -> None:
        self.name = name
        self.returncode = returncode
        self.log = log
        self.tail = tail
        code = "unknown" if returncode is None else str(returncode)
        super().__init__(
            f"{name} exited during start-up (exit code {code}); last lines of {log}:\n{indent(tail)}"
        )

    @property
    def port_in_use(self) -> bool:
        return ADDRESS_IN_USE in self.tail.lower()


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


@dataclass(frozen=True)
class Proc:
    """A started component: enough to find, check and stop it later."""

    name: str
    pid: int
    start_ticks: int
    log: str
    argv: tuple[str, ...]
    # the environment added to ours at start (kept so that a restart starts it alike)
    env: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["argv"] = list(self.argv)
        d["env"] = dict(self.env)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Proc:
        return cls(
            name=str(d["name"]),
            pid=int(d["pid"]),
            start_ticks=int(d["start_ticks"]),
            log=str(d["log"]),
            argv=tuple(d.get("argv") or ()),
            env=tuple(sorted((str(k), str(v)) for k, v in (d.get("env") or {}).items())),
        )


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # the command name (field 2) may contain spaces and parentheses
    return raw[raw.rfind(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """The process' start time in clock ticks since boot, or None if it does not exist."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return int(fields[19])  # field 22 overall; fields[0] is field 3 (state)


def is_alive(proc: Proc) -> bool:
    """True if *this* process (same PID and start time) exists and is not a zombie."""
    child = _CHILDREN.get(proc.pid)
    if child is not None and child.poll() is not None:
        return False
    fields = _stat_fields(proc.pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return int(fields[19]) == proc.start_ticks


def exit_code(proc: Proc) -> int | None:
    child = _CHILDREN.get(proc.pid)
    return None if child is None else child.poll()


def spawn(
    name: str,
    argv: Sequence[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Proc:
    """Start ``argv`` detached (own session), stdout+stderr appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with log.open("ab") as out:
        out.write(f"==> {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        out.flush()
        try:
            child = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=cwd,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise ClusterError(f"cannot start {name} ({argv[0]}): {exc}") from exc
    _CHILDREN[child.pid] = child
    ticks = start_ticks(child.pid)
    if ticks is None:  # already gone (and reaped by nobody yet, so this is rare)
        ticks = -1
    return Proc(
        name=name,
        pid=child.pid,
        start_ticks=ticks,
        log=str(log),
        argv=tuple(argv),
        env=tuple(sorted((env or {}).items())),
    )


def stop(proc: Proc, *, timeout: float = 15.0) -> bool:
    """SIGTERM, then SIGKILL after ``timeout``; returns True if it was running."""
    return bool(stop_together([proc], timeout=timeout))


def _signal(procs: Iterable[Proc], sig: int) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, sig)


def _wait_gone(procs: list[Proc], seconds: float) -> list[Proc]:
    """Wait until every one of ``procs`` has exited or ``seconds`` passed; returns those alive."""
    deadline = time.monotonic() + seconds
    alive = [p for p in procs if is_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if is_alive(p)]
    return alive


def stop_together(procs: Sequence[Proc], *, timeout: float = 15.0) -> list[str]:
    """SIGTERM to all of ``procs`` at once, SIGKILL to those still running after ``timeout``;
    returns the names of those that were running. Their shutdowns overlap: stopping n processes
    takes as long as the slowest one, not the sum."""
    running = [p for p in procs if is_alive(p)]
    _signal(running, signal.SIGTERM)
    stubborn = _wait_gone(running, timeout)
    if stubborn:
        _signal(stubborn, signal.SIGKILL)
        _wait_gone(stubborn, 5)
    for p in procs:
        _reap(p.pid)
    return [p.name for p in running]


def stop_all(procs: Iterable[Proc], *, timeout: float = 15.0) -> list[str]:
    """Stop in the given order (callers pass reverse start order); returns names stopped."""
    stopped = []
    for p in procs:
        if stop(p, timeout=timeout):
            stopped.append(p.name)
    return stopped


def _reap(pid: int) -> None:
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1)


def log_tail(path: Path | str, lines: int = 25) -> str:
    """The last ``lines`` lines of a log file (empty string if it does not exist)."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def listens_on(pid: int, port: int) -> bool:
    """True if process ``pid`` owns a TCP socket listening on ``port`` (IPv4).

    Readiness checks use it so that a *foreign* server that already listens on
    a port we picked is never mistaken for our component.
    """
    return _owns_socket(pid, lambda local, remote, state: state == "0A" and local == port)


def connected_to(pid: int, port: int) -> bool:
    """True if process ``pid`` owns an established TCP connection to ``port`` (IPv4)."""
    return _owns_socket(pid, lambda local, remote, state: state == "01" and remote == port)


def _owns_socket(pid: int, match: Callable[[int, int, str], bool]) -> bool:
    """True if ``pid`` has an open IPv4 TCP socket for which ``match(local port, remote port,
    state)`` holds (states as in ``/proc/net/tcp``: ``0A`` listening, ``01`` established)."""
    inodes = set()
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return True  # cannot tell: do not block start-up on it
    for line in lines:
        f = line.split()
        local, remote, state, inode = f[1], f[2], f[3], f[9]
        if match(int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16), state):
            inodes.add(f"socket:[{inode}]")
    if not inodes:
        return False
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) in inodes:
                return True
        except OSError:
            continue
    return False


def free_port(exclude: Iterable[int] = (), host: str = LOOPBACK) -> int:
    """A port that is free on ``host`` right now (the OS picks it)."""
    taken = set(exclude)
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port not in taken:
            return port
    raise ClusterError("could not find a free TCP port on 127.0.0.1")


def wait_ready(
    proc: Proc,
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    watch: Sequence[Proc] = (),
    interval: float = 0.2,
    fatal: type[Exception] | tuple[type[Exception], ...] = (),
) -> float:
    """Poll ``check`` until True; fail early if ``proc`` (or any of ``watch``) dies.

    Returns the seconds waited. Exceptions raised by ``check`` count as "not
    ready yet", except those of the ``fatal`` types, which propagate.
    """
    t0 = time.monotonic()
    deadline = t0 + timeout
    last_exc: BaseException | None = None
    while True:
        for p in (proc, *watch):
            if not is_alive(p):
                # give the log a moment to be flushed
                time.sleep(0.1)
                raise ComponentDied(p.name, exit_code(p), Path(p.log), log_tail(p.log))
        try:
            if check():
                return time.monotonic() - t0
        except fatal:
            raise
        except Exception as exc:  # not ready yet
            last_exc = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {last_exc})" if last_exc else ""
            raise ClusterError(
                f"{what} not ready after {timeout:.0f} s{detail}; last lines of {proc.log}:\n"
                f"{indent(log_tail(proc.log))}"
            )
        time.sleep(interval)
