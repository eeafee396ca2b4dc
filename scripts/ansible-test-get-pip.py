"""Offline-friendly pip bootstrap for ``ansible-test`` (``make sanity``).

ansible-test creates its sanity virtual environments without pip and then runs a bootstrap
script it downloads from ci-files.testing.ansible.com, which this machine cannot reach; it uses
``~/.ansible/test/cache/get_pip_<version>.py`` instead when that file exists. This is such a
script: pip from the interpreter's own ``ensurepip`` (no network), then ``pip install`` with the
arguments ansible-test passes (its pinned pip, from PyPI; setuptools and wheel too unless
``--no-setuptools``/``--no-wheel``, as get-pip.py does).
"""

from __future__ import annotations

import subprocess
import sys


def main() -> int:
    flags = {"--no-setuptools", "--no-wheel"}
    args = [a for a in sys.argv[1:] if a not in flags]
    args += [name for name in ("setuptools", "wheel") if f"--no-{name}" not in sys.argv[1:]]
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, capture_output=True)
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
