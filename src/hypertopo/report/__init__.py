"""Placement reports: a terminal table, a JSON document and a self-contained HTML page.

Entry points:

* :func:`render_reports` -> ``{"text": str, "json": str, "html": str}`` (what the Ansible filter
  ``topology_report`` returns, so a playbook writes the files with the action plugin
  ``hypertopo_write_files`` and check mode / diff work);
* :func:`write_report` writes ``report.txt``, ``report.json`` and ``report.html`` into a directory
  (what ``python -m hypertopo.report`` does).

The inputs are the inventory model (``Topology.as_dict()``), the placement engine's output
(``predict(...)``, with its ``baseline``) and, after a rollout, the result of
:func:`hypertopo.report.verify.verify`. Without a verification the report shows the prediction alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FILES = {"text": "report.txt", "json": "report.json", "html": "report.html"}


def render_reports(
    model: Mapping[str, Any],
    predicted: Mapping[str, Any],
    verification: Mapping[str, Any] | None = None,
    *,
    kv_model: Mapping[str, Any] | None = None,
    sections: Sequence[Mapping[str, Any]] = (),
) -> dict[str, str]:
    """The three reports as strings, keyed ``text``, ``json``, ``html``; ``sections`` are extra
    sections (what-if, headroom: :mod:`hypertopo.report.sections`) shown after the header."""
    from hypertopo.report.context import build_context
    from hypertopo.report.html import render_html
    from hypertopo.report.json_report import render_json
    from hypertopo.report.text import render_text

    ctx = build_context(model, predicted, verification, kv_model=kv_model)
    ctx["sections"] = [dict(section) for section in sections]
    return {"text": render_text(ctx), "json": render_json(ctx, predicted), "html": render_html(ctx, model)}


def write_report(
    out_dir: str | Path,
    model: Mapping[str, Any],
    predicted: Mapping[str, Any],
    verification: Mapping[str, Any] | None = None,
    *,
    kv_model: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``report.txt``, ``report.json`` and ``report.html`` into ``out_dir`` (the three or none,
    only those that differ: :func:`hypertopo.rollout.write_files.write_files`, the rule of the
    roles' ``hypertopo_write_files``); return their paths."""
    from hypertopo.rollout.write_files import write_files

    out = Path(out_dir)
    reports = render_reports(model, predicted, verification, kv_model=kv_model)
    write_files(out, {FILES[kind]: text for kind, text in reports.items()})
    return {kind: out / FILES[kind] for kind in reports}


__all__ = ["FILES", "render_reports", "write_report"]
