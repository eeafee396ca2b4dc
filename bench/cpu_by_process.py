"""Where a command's CPU goes, process by process (used for ``make test``, issue #15).

    sudo .venv/bin/python bench/cpu_by_process.py [--top 25] -- make test

Turns on the kernel's process accounting (``acct(2)``, needs root or CAP_SYS_PACCT) into a temporary
file, runs the command, turns it off, and adds up the CPU time (user + system) of every process that
ended meanwhile, by program name (the kernel's 16-character ``comm``: ``kube-apiserver``,
``ansible-playboo``, ``python``...). Processes that daemonise (a control plane's components) count
too: accounting records every process at its exit, whoever its parent. Python processes are told
apart by their command line, sampled every second from ``/proc`` while the command runs: an Ansible
module run (``AnsiballZ_<module>``), a pytest worker, or the script it runs. Everything on the
machine is counted, so run it on a quiet one.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

#: ``struct acct_v3`` (linux/acct.h): flag, version, tty, exitcode, uid, gid, pid, ppid, btime,
#: etime (float), utime, stime, mem, io, rw, minflt, majflt, swaps (comp_t), comm[16]
RECORD = struct.Struct("<ccHIIIIIIf8H16s")
AHZ = 100  # the unit of comp_t times


def comp_t(value: int) -> int:
    """A ``comp_t``: 13-bit mantissa, 3-bit base-8 exponent."""
    return (value & 0x1FFF) << (3 * ((value >> 13) & 7))


def sample_cmdlines(seen: dict[int, str], stop: threading.Event) -> None:
    while not stop.wait(1.0):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and int(entry.name) not in seen:
                try:
                    raw = Path(entry.path, "cmdline").read_bytes()
                except OSError:
                    continue
                if raw:
                    seen[int(entry.name)] = raw.replace(b"\0", b" ").decode(errors="replace")[:300]


def kind(comm: str, cmdline: str | None) -> str:
    if not comm.startswith("python") or cmdline is None:
        return comm
    module = re.search(r"AnsiballZ_(\w+)", cmdline)
    if module:
        return f"{comm}: module {module.group(1)}"
    if "xdist" in cmdline or "execnet" in cmdline:
        return f"{comm}: pytest-xdist worker"
    script = next((Path(a).name for a in cmdline.split()[1:] if not a.startswith("-")), "?")
    return f"{comm}: {script}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --")
    libc = ctypes.CDLL(None, use_errno=True)
    seen: dict[int, str] = {}
    stop = threading.Event()
    with tempfile.NamedTemporaryFile(prefix="acct-") as log:
        if libc.acct(log.name.encode()) != 0:
            sys.exit(f"acct(2) failed: {os.strerror(ctypes.get_errno())} (root or CAP_SYS_PACCT needed)")
        sampler = threading.Thread(target=sample_cmdlines, args=(seen, stop), daemon=True)
        sampler.start()
        try:
            rc = subprocess.call(command)
        finally:
            libc.acct(None)
            stop.set()
        data = Path(log.name).read_bytes()
    cpu: collections.Counter[str] = collections.Counter()
    count: collections.Counter[str] = collections.Counter()
    for offset in range(0, len(data) - RECORD.size + 1, RECORD.size):
        rec = RECORD.unpack_from(data, offset)
        comm = rec[18].split(b"\0")[0].decode(errors="replace")
        name = kind(comm, seen.get(rec[6]))
        cpu[name] += (comp_t(rec[10]) + comp_t(rec[11])) / AHZ
        count[name] += 1
    total = sum(cpu.values())
    print(f"command exit status {rc}; {total / 60:.1f} CPU-minutes in {sum(count.values())} processes")
    print("| process | CPU min | share | processes |")
    print("|---|---:|---:|---:|")
    for name, seconds in cpu.most_common(args.top):
        print(f"| {name} | {seconds / 60:.2f} | {100 * seconds / total:.0f} % | {count[name]} |")
    return rc


if __name__ == "__main__":
    sys.exit(main())
