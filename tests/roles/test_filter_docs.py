"""Every filter has its own documentation, and ``ansible-doc -t filter <name>`` finds it.

A plugin file that registers one filter carries DOCUMENTATION, EXAMPLES and RETURN itself; a file
that registers several has none, and each of its filters has a sidecar ``<filter name>.yml`` next
to it (ansible-core looks there when the Python file has no DOCUMENTATION).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "filter_plugins"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_docs_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def registered() -> dict[str, Path]:
    """Filter name -> the plugin file that registers it."""
    out: dict[str, Path] = {}
    for path in sorted(PLUGINS.glob("*.py")):
        for name in load(path).FilterModule().filters():
            assert name not in out, f"{name} is registered twice"
            out[name] = path
    return out


def test_one_documentation_per_filter():
    filters = registered()
    by_file: dict[Path, list[str]] = {}
    for name, path in filters.items():
        by_file.setdefault(path, []).append(name)
    for path, names in by_file.items():
        module = load(path)
        if len(names) == 1:
            doc = yaml.safe_load(module.DOCUMENTATION)
            assert doc["name"] == names[0], path
            assert module.EXAMPLES.strip() and module.RETURN.strip(), path
            assert not (PLUGINS / f"{names[0]}.yml").exists(), f"{names[0]}: documented twice"
        else:
            assert not hasattr(module, "DOCUMENTATION"), f"{path.name} registers {names}: use sidecars"
            for name in names:
                sidecar = yaml.safe_load((PLUGINS / f"{name}.yml").read_text())
                assert set(sidecar) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}, name
                assert sidecar["DOCUMENTATION"]["name"] == name
    orphans = {p.stem for p in PLUGINS.glob("*.yml")} - set(filters)
    assert not orphans, f"sidecars without a filter: {sorted(orphans)}"


def test_ansible_doc_finds_every_filter():
    names = sorted(f"hypertopo.volcano.{name}" for name in registered())
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-doc"), "-t", "filter", "--json", *names],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    assert sorted(docs) == names
    for name, entry in docs.items():
        assert entry["doc"]["name"] == name.removeprefix("hypertopo.volcano.")
        assert entry["doc"]["short_description"] and entry["examples"] and entry["return"], name
