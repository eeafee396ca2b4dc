"""The HTML report: one self-contained page (inline CSS and SVG; no scripts, fonts or links).

Rendered with Jinja2 and autoescaping on: every name from the inventory, the cluster or the
engine is escaped; only the SVG (built by :mod:`hypertopo.report.svg`, which escapes its own
text) is inserted as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from hypertopo.report.compare import format_bandwidth, format_latency
from hypertopo.report.context import (
    PAIR_TITLES,
    fmt_classes,
    fmt_counts,
    fmt_hypernode,
    fmt_kv,
    fmt_pod_status,
    fmt_predicted_leaves,
    fmt_state,
)
from hypertopo.report.svg import render_svg

_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_ENV.filters.update(
    counts=fmt_counts,
    predicted_leaves=fmt_predicted_leaves,
    hypernode=fmt_hypernode,
    classes=fmt_classes,
    kv=fmt_kv,
    latency=format_latency,
    bandwidth=format_bandwidth,
    state=fmt_state,
    pod_status=fmt_pod_status,
)

_TEMPLATE = _ENV.from_string(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hypertopo placement report — {{ ctx.source }}</title>
<style>
:root { --ib: #1f5fbf; --eth: #b0650a; --ok: #1b7f3b; --bad: #b3261e; --muted: #5b6472;
        --line: #d9dee6; }
* { box-sizing: border-box; }
body { margin: 0; padding: 18px 24px 40px; font: 14px/1.45 "DejaVu Sans", Arial, Helvetica, sans-serif;
       color: #1d232b; background: #f6f7f9; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 10px 0 6px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.verdict { display: inline-block; padding: 6px 12px; border-radius: 6px; font-weight: bold;
           margin-bottom: 14px; }
.verdict.ok { background: #e3f4e8; color: var(--ok); border: 1px solid #9fd3ae; }
.verdict.fail { background: #fbe7e5; color: var(--bad); border: 1px solid #eaa9a3; }
.verdict.plan { background: #eef1f5; color: #3a4350; border: 1px solid var(--line); }
.layout { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.column { display: flex; flex-direction: column; gap: 18px; flex: 0 1 auto; max-width: 100%; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.picture { overflow-x: auto; max-width: 100%; }
.compare { flex: 1 1 540px; min-width: 460px; }
section.card { margin-top: 18px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { background: #f0f2f6; font-size: 12.5px; }
td .main { font-weight: bold; display: block; }
td .detail { color: var(--muted); font-size: 12px; display: block; }
td .claim { color: #7a8290; font-size: 11.5px; font-style: italic; display: block; margin-top: 2px; }
.compare td.ours { background: #f3f8ff; }
.compare th.ours { background: #dfeafc; }
.mono { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12.5px; }
.no { color: var(--bad); font-weight: bold; }
.yes { color: var(--ok); }
ul.list { margin: 0; padding-left: 20px; }
ul.failures li { color: var(--bad); }
ul.warnings li { color: #6b4e00; }
details summary { cursor: pointer; font-weight: bold; }
.note { color: var(--muted); font-size: 12px; margin: 8px 0 0; }
.picture .note { contain: inline-size; margin: 0 0 6px; }
</style>
</head>
<body>
<header>
<h1>Placement report</h1>
<p class="meta">inventory <span class="mono">{{ ctx.source }}</span> ·
{{ ctx.pod_count }} placed pods in {{ ctx.jobs | length }} job(s)</p>
{% if not ctx.verified %}
<div class="verdict plan" id="verdict">Prediction only — not verified against a cluster;
{{ ctx.placement_summary }}</div>
{% elif ctx.ok %}
<div class="verdict ok" id="verdict">✔ Verified: {{ bound }}/{{ total }} pods bound;
{{ ctx.placement_summary }}; {{ ctx.differences | length }} difference(s), no failures</div>
{% else %}
<div class="verdict fail" id="verdict">✘ Verification failed: {{ ctx.failures | length }} failure(s),
{{ bound }}/{{ total }} pods bound</div>
{% endif %}
</header>
<div class="layout">
<div class="column">
<div class="card picture">
<h2>Switch tree and placed pods ({{ "actual" if ctx.verified else "predicted" }})</h2>
{{ svg }}
</div>
{% if baseline_svg %}
<div class="card picture baseline">
<h2>For comparison: simple affinity (engine baseline)</h2>
<p class="note">One run of the same jobs with GPU-model affinity only, ties broken in name order.
{% if expected and expected.ethernet_pod_fraction is not none %}Volcano breaks ties at random: over
{{ expected.samples }} random tie-breaks {{ "%.0f" | format(expected.ethernet_pod_fraction * 100) }} % of the
pods land under Ethernet leaves (see the table).{% endif %}</p>
{{ baseline_svg }}
</div>
{% endif %}
</div>
<div class="card compare">
<h2>Simple affinity vs topology-aware + IB constraint</h2>
<table id="comparison">
<thead><tr><th>Item</th>
<th class="baseline">Simple affinity<br><small>(engine baseline: GPU-model affinity only)</small></th>
<th class="ours">Topology-aware + IB constraint<br>
<small>(this rollout, {{ ctx.comparison.ours_source }})</small></th></tr></thead>
<tbody>
{% for row in ctx.comparison.rows %}
<tr data-key="{{ row.key }}">
<th scope="row">{{ row.item }}</th>
{% for col in ("baseline", "ours") %}
<td class="{{ col }}"><span class="main">{{ row[col].main }}</span>
<span class="detail">{{ row[col].detail }}</span>
{% if row["article_" ~ col] %}<span class="claim">article: {{ row["article_" ~ col] }}</span>{% endif %}
</td>
{% endfor %}
</tr>
{% endfor %}
</tbody>
</table>
<p class="note">Numbers from the cost model: pair classes by the lowest common switch and the switch
types, latency and bandwidth per class, KV-cache bytes of one request over the class bandwidth.
Italic: the seed article's own table, for reference.</p>
</div>
</div>

{% for extra in ctx.sections %}
<section class="card" id="{{ extra.id }}">
<h2>{{ extra.title }}</h2>
{% for note in extra.notes %}<p>{{ note }}</p>
{% endfor %}
{% for tab in extra.tables %}
{% if tab.caption %}<h3>{{ tab.caption }}</h3>{% endif %}
<table>
<thead><tr>{% for h in tab.headers %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in tab.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}
</tbody>
</table>
{% endfor %}
</section>
{% endfor %}

<section class="card" id="jobs">
<h2>Jobs: predicted vs actual</h2>
<table>
<thead><tr><th>Job</th><th>Kind</th><th>Constraint</th><th>HyperNode predicted</th>
<th>HyperNode actual</th><th>Pods per leaf predicted</th><th>Pods per leaf actual</th>
<th>Pair classes</th><th>KV ms mean / worst</th><th>State</th></tr></thead>
<tbody>
{% for job in ctx.jobs %}
<tr>
<td class="mono">{{ job.namespace }}/{{ job.name }}</td>
<td>{{ job.kind }}
{% if job.feasible is false %}<span class="no">(predicted infeasible)</span>{% endif %}</td>
<td>{% if job.constraint %}{{ job.constraint.mode }}, tier ≤ {{ job.constraint.highest_tier_allowed }}
{% elif job.mode %}{{ job.mode }}{% else %}-{% endif %}</td>
<td>{% if " or " in job.predicted.outcomes %}{{ job.predicted.outcomes }}
{% else %}{{ job.predicted | hypernode }}{% endif %}</td>
<td>{% if ctx.verified %}{{ job.actual | hypernode }}
{% if job.outcome == "predicted" and job.outcome_count > 1 %}
<br><span class="note">{{ job.outcome_words }}</span>
{% elif job.outcome == "other" %}<br><span class="no">not predicted</span>{% endif %}
{% else %}-{% endif %}</td>
<td>{{ job.predicted | predicted_leaves }}</td>
<td>{% if ctx.verified %}{{ job.actual.pods_per_leaf | counts }}{% else %}-{% endif %}</td>
<td>{% for kind, title in pair_titles.items() if job.network[kind].pairs %}
{{ title }}: {{ job.network[kind] | classes }}<br>
{% else %}-{% endfor %}</td>
<td>{{ job.kv | kv }}</td>
<td>{% if job.state and not job.state.ok %}<span class="no">{{ job.state | state }}</span>
{% else %}{{ job.state | state }}{% endif %}</td>
</tr>
{% endfor %}
</tbody>
</table>
</section>

<section class="card" id="network">
<h2>Network between the placed pods</h2>
<table>
<thead><tr><th>Pairs</th><th>Classes predicted</th><th>Classes actual</th><th>Latency</th>
<th>Bandwidth</th><th>KV-cache ms mean / worst</th></tr></thead>
<tbody>
{% for kind, title in pair_titles.items() %}
{% set pred = (ctx.network.predicted or {}).get(kind) %}
{% set act = (ctx.network.actual or {}).get(kind) %}
{% set shown = act if ctx.verified else pred %}
<tr>
<td>{{ title }}</td><td>{{ pred | classes }}</td>
<td>{% if ctx.verified %}{{ act | classes }}{% else %}-{% endif %}</td>
{% if shown and shown.pairs %}
<td>{{ shown.latency_us | latency }}</td><td>{{ shown.bandwidth_gbps | bandwidth }}</td>
<td>{{ (shown | kv) if kind == "prefill-decode" else "-" }}</td>
{% else %}<td>-</td><td>-</td><td>-</td>{% endif %}
</tr>
{% endfor %}
</tbody>
</table>
{% if ctx.network.alternatives %}
<p>Prefill ↔ decode if Volcano's random picks differ from the predicted placement:</p>
<ul class="list">{% for alt in ctx.network.alternatives %}
<li>{{ alt.picks }}: {{ alt["prefill-decode"] | classes }}, KV-cache ms {{ alt["prefill-decode"] | kv }}</li>
{% endfor %}</ul>
{% endif %}
</section>

{% if ctx.failures or ctx.differences %}
<section class="card" id="verification">
<h2>Verification</h2>
{% if ctx.failures %}<h3>Failures</h3><ul class="list failures">
{% for item in ctx.failures %}<li>{{ item }}</li>
{% endfor %}</ul>{% endif %}
{% if ctx.differences %}<h3>Differences (not failures)</h3><ul class="list differences">
{% for item in ctx.differences %}<li>{{ item }}</li>
{% endfor %}</ul>{% endif %}
</section>
{% endif %}

<section class="card" id="warnings">
<h2>Warnings</h2>
{% if ctx.warnings %}<ul class="list warnings">
{% for item in ctx.warnings %}<li>{{ item }}</li>
{% endfor %}</ul>{% else %}<p>None.</p>{% endif %}
</section>

<section class="card" id="pods">
<details>
<summary>Pods ({{ total }}): predicted vs actual node</summary>
<table>
<thead><tr><th>Pod</th><th>Role</th><th>Predicted node</th><th>Actual node</th><th>Leaf</th>
<th>Match</th><th>Status</th></tr></thead>
<tbody>
{% for job in ctx.jobs %}{% for p in job.pods %}
<tr><td class="mono">{{ p.pod }}</td><td>{{ p.role or "-" }}</td><td>{{ p.predicted_node or "-" }}</td>
<td>{{ p.actual_node or "-" }}</td><td>{{ p.actual_leaf or p.predicted_leaf or "-" }}</td>
<td>{% if p.match is none %}-{% elif p.match %}<span class="yes">yes</span>
{% else %}<span class="no">no</span>{% endif %}</td>
<td>{{ p | pod_status }}</td></tr>
{% endfor %}{% endfor %}
</tbody>
</table>
</details>
</section>
<p class="note">Generated by hypertopo. Self-contained page: no scripts, no external resources.</p>
</body>
</html>
"""
)


def render_html(ctx: Mapping[str, Any], model: Mapping[str, Any]) -> str:
    """The page for a report context (see :func:`hypertopo.report.context.build_context`)."""
    which = "actual" if ctx["verified"] else "predicted"
    svg = render_svg(
        model,
        ctx["marks"],
        chosen=ctx["chosen"],
        predicted_elsewhere=ctx["ghosts"],
        title=f"Switch tree of {ctx['source']} with the {which} placement of {ctx['pod_count']} pods",
    )
    baseline_svg = ""
    if ctx["baseline_marks"]:
        baseline_svg = render_svg(
            model,
            ctx["baseline_marks"],
            chosen=ctx["baseline_chosen"],
            title=f"Switch tree of {ctx['source']} with the simple-affinity baseline placement",
            svg_id="baseline",
            mark_class="baseline-mark",
        )
    pods = [p for j in ctx["jobs"] for p in j["pods"]]
    return _TEMPLATE.render(
        ctx=ctx,
        svg=Markup(svg),
        baseline_svg=Markup(baseline_svg),
        expected=(ctx["comparison"]["columns"]["baseline"] or {}).get("expected"),
        pair_titles=PAIR_TITLES,
        total=len(pods),
        bound=sum(1 for p in pods if p["actual_node"]),
    )
