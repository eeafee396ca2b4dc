"""An inline SVG picture of the switch tree with the placed prefill/decode pods.

Tiers run top (core) to bottom (leaves). IB and Ethernet switches and links differ in colour,
line style and a text badge. Each leaf shows its nodes as a grid of cells coloured and lettered
by GPU model; every placed pod is one ``<g class="pod-mark <role>">`` with a ``<title>`` naming
it, drawn on its node (a circle for prefill, a diamond for decode, a square otherwise). Where
a pod did not land where it was predicted, a hollow ring (``pod-predicted``) marks the
predicted node. The switch(es) chosen as a job's HyperNode get a gold outline.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from hypertopo.topology.labels import natural_key

CELL = 18
PITCH = 20
COLS = 8
PAD = 10
ROW_LABEL_W = 22
LEAF_W = 2 * PAD + ROW_LABEL_W + COLS * PITCH - (PITCH - CELL)
LEAF_GAP = 20
LEAF_HEADER = 72
SW_W = 184
SW_H = 58
TIER_GAP = 100
MARGIN = 18
# Beyond this many leaves only the leaves holding pods (and their ancestors) are drawn.
MAX_LEAVES = 24
LEGEND_H = 78

GPU_PALETTE = ("#9fd08c", "#c7b2e0", "#f7d774", "#8fd3cc", "#f4a7a3", "#c9c9c9", "#f2b97f", "#a9c6f0")
ROLE_COLOURS = {"prefill": "#c62828", "decode": "#1a237e", "other": "#555555"}


@dataclass(frozen=True)
class Mark:
    """A pod drawn on a node. ``role``: prefill | decode | anything else."""

    pod: str
    node: str
    role: str
    job: str = ""


@dataclass(frozen=True)
class _Paint:
    """What the node cells need: GPU colours and codes, pods per node, predicted-elsewhere rings."""

    hosts: Mapping[str, Mapping[str, Any]]
    colours: Mapping[str, str]
    codes: Mapping[str, str]
    marks: Mapping[str, Sequence[Mark]]
    ghosts: Mapping[str, Sequence[Mark]]
    mark_class: str


@dataclass
class _Layout:
    x: dict[str, float] = field(default_factory=dict)  # switch -> centre x
    y: dict[str, float] = field(default_factory=dict)  # switch -> top y
    leaf_order: list[str] = field(default_factory=list)
    hidden: int = 0
    width: float = 0
    leaves_top: float = 0
    leaf_h: float = 0
    rows: int = 0


def gpu_codes(models: Sequence[str]) -> dict[str, str]:
    """A short, unique code per GPU model: first letter + first digit (h100 -> H1, rtx4090 -> R4)."""
    codes: dict[str, str] = {}
    for name in sorted(models):
        digits = re.findall(r"\d", name)
        code = (name[:1] + (digits[0] if digits else name[1:2])).upper()
        base, n = code, 2
        while code in codes.values():
            code = f"{base}{n}"
            n += 1
        codes[name] = code
    return codes


def render_svg(
    model: Mapping[str, Any],
    marks: Sequence[Mark],
    *,
    chosen: Mapping[str, Sequence[str]] | None = None,
    predicted_elsewhere: Sequence[Mark] = (),
    title: str = "Switch tree",
    svg_id: str = "topology",
    mark_class: str = "pod-mark",
) -> str:
    """The SVG document fragment (``<svg>...</svg>``) for ``model`` with ``marks``.

    ``chosen`` maps a switch to the jobs whose HyperNode it is; ``predicted_elsewhere`` are the
    predicted nodes of pods that landed elsewhere; ``mark_class`` is the class of the marks
    (a second picture on the same page uses another one so ``.pod-mark`` counts one placement).
    """
    switches = {s["name"]: s for s in model["switches"]}
    hosts = model["hosts"]
    models_present = sorted({h["gpu_model"] for h in hosts.values()})
    colours = {m: GPU_PALETTE[i % len(GPU_PALETTE)] for i, m in enumerate(models_present)}
    codes = gpu_codes(models_present)
    busy = {hosts[m.node]["leaf"] for m in (*marks, *predicted_elsewhere) if m.node in hosts}
    lay = _layout(
        switches, model["root"], busy | {n for n in (chosen or {}) if switches.get(n, {}).get("leaf")}
    )
    height = lay.leaves_top + lay.leaf_h + 24 + LEGEND_H
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{_a(svg_id)}" class="topology" '
        f'width="{lay.width:.0f}" height="{height:.0f}" viewBox="0 0 {lay.width:.0f} {height:.0f}" '
        f'role="img" aria-labelledby="{_a(svg_id)}-title">',
        f'<title id="{_a(svg_id)}-title">{_t(title)}</title>',
        _STYLE,
    ]
    out += _links(switches, lay)
    chosen = chosen or {}
    by_leaf_roles: dict[str, Counter[str]] = {}
    for mark in marks:
        if mark.node in hosts:
            by_leaf_roles.setdefault(hosts[mark.node]["leaf"], Counter())[mark.role] += 1
    for name, sw in switches.items():
        if sw["leaf"] or name not in lay.x:
            continue
        out += _switch_box(sw, lay, chosen.get(name, ()))
    marks_by_node: dict[str, list[Mark]] = {}
    for mark in marks:
        marks_by_node.setdefault(mark.node, []).append(mark)
    ghosts: dict[str, list[Mark]] = {}
    for mark in predicted_elsewhere:
        ghosts.setdefault(mark.node, []).append(mark)
    paint = _Paint(hosts, colours, codes, marks_by_node, ghosts, mark_class)
    for leaf in lay.leaf_order:
        out += _leaf(switches[leaf], lay, paint, chosen.get(leaf, ()), by_leaf_roles.get(leaf, Counter()))
    out += _legend(lay, height - LEGEND_H, colours, codes, hosts)
    out.append("</svg>")
    return "\n".join(out)


_STYLE = """<style>
.topology text { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; fill: #1d232b; }
.topology .switch rect.box { stroke-width: 2; }
.topology .switch.ib rect.box { fill: #e3eeff; stroke: #1f5fbf; }
.topology .switch.ethernet rect.box { fill: #fff1de; stroke: #b0650a; stroke-dasharray: 7 4; }
.topology .badge.ib rect { fill: #1f5fbf; }
.topology .badge.ethernet rect { fill: #b0650a; }
.topology .badge text { fill: #ffffff; font-size: 10px; font-weight: bold; }
.topology .link { fill: none; }
.topology .link.ib { stroke: #1f5fbf; stroke-width: 3.5; }
.topology .link.ethernet { stroke: #b0650a; stroke-width: 2; stroke-dasharray: 7 4; }
.topology .hypernode-chosen { fill: none; stroke: #e0a800; stroke-width: 4; }
.topology .name { font-size: 13px; font-weight: bold; }
.topology .sub { font-size: 10.5px; fill: #4a5361; }
.topology .chosen-label { font-size: 10.5px; font-weight: bold; fill: #8a6500; }
.topology .node rect { stroke: #ffffff; stroke-width: 1; }
.topology .node.busy rect { stroke: #1d232b; stroke-width: 1.5; }
.topology .node text.code { font-size: 7.5px; fill: #2e3440; fill-opacity: 0.75; }
.topology .rowlabel { font-size: 8.5px; fill: #6b7480; }
.topology .shape { stroke: #ffffff; stroke-width: 1.2; }
.topology .pod-predicted { fill: none; stroke: #c62828; stroke-width: 1.5; stroke-dasharray: 2 2; }
.topology .legend text { font-size: 11px; }
</style>"""


def _layout(switches: Mapping[str, Mapping[str, Any]], root: str, busy: set[str]) -> _Layout:
    """Positions: leaves in one row in tree order, parents centred over their drawn children."""
    lay = _Layout()
    order: list[str] = []

    def walk(name: str) -> None:
        if switches[name]["leaf"]:
            order.append(name)
            return
        for kid in _children(switches, name):
            walk(kid)

    walk(root)
    if len(order) > MAX_LEAVES:
        keep = [leaf for leaf in order if leaf in busy] or order[:MAX_LEAVES]
        lay.hidden = len(order) - len(keep)
        order = keep
    lay.leaf_order = order
    drawn = set(order)
    for leaf in order:
        drawn.update(_chain(switches, leaf))

    def children(name: str) -> list[str]:
        return [k for k in _children(switches, name) if k in drawn]

    internal_tiers = sorted(
        {int(s["tier"]) for n, s in switches.items() if not s["leaf"] and n in drawn}, reverse=True
    )
    row_of = {t: i for i, t in enumerate(internal_tiers)}
    most_hosts = max((len(switches[leaf]["hosts"]) for leaf in lay.leaf_order), default=1)
    lay.rows = max(1, -(-most_hosts // COLS))
    lay.leaf_h = LEAF_HEADER + lay.rows * PITCH - (PITCH - CELL) + PAD
    lay.leaves_top = MARGIN + len(internal_tiers) * TIER_GAP
    n = len(lay.leaf_order)
    lay.width = max(2 * MARGIN + n * LEAF_W + (n - 1) * LEAF_GAP, 820)
    left = (lay.width - (n * LEAF_W + (n - 1) * LEAF_GAP)) / 2
    for i, leaf in enumerate(lay.leaf_order):
        lay.x[leaf] = left + i * (LEAF_W + LEAF_GAP) + LEAF_W / 2
        lay.y[leaf] = lay.leaves_top

    def place(name: str) -> float:
        if name in lay.x:
            return lay.x[name]
        xs = [place(k) for k in children(name)]
        lay.x[name] = sum(xs) / len(xs)
        lay.y[name] = MARGIN + row_of[int(switches[name]["tier"])] * TIER_GAP
        return lay.x[name]

    place(root)
    return lay


def _children(switches: Mapping[str, Mapping[str, Any]], name: str) -> list[str]:
    kids = list(switches[name]["children"])
    return sorted(kids, key=lambda k: (switches[k]["type"] != "ib", natural_key(k)))


def _chain(switches: Mapping[str, Mapping[str, Any]], name: str) -> list[str]:
    out: list[str] = []
    cur: str | None = name
    while cur is not None and cur not in out:
        out.append(cur)
        cur = switches[cur]["parent"]
    return out


def _links(switches: Mapping[str, Mapping[str, Any]], lay: _Layout) -> list[str]:
    out = ['<g class="links">']
    for name, sw in switches.items():
        parent = sw["parent"]
        if parent is None or name not in lay.x or parent not in lay.x:
            continue
        kind = "ib" if sw["type"] == "ib" and switches[parent]["type"] == "ib" else "ethernet"
        x1, y1 = lay.x[parent], lay.y[parent] + SW_H
        x2, y2 = lay.x[name], lay.y[name]
        mid = (y1 + y2) / 2
        out.append(
            f'<path class="link {kind}" d="M{x1:.1f},{y1:.1f} V{mid:.1f} H{x2:.1f} V{y2:.1f}">'
            f"<title>{_t(parent)} to {_t(name)}: {_type_text(kind)} link</title></path>"
        )
    out.append("</g>")
    return out


def _badge(kind: str, x: float, y: float) -> str:
    text = "IB" if kind == "ib" else "ETH"
    w = 22 if kind == "ib" else 30
    return (
        f'<g class="badge {kind}"><rect x="{x:.1f}" y="{y:.1f}" width="{w}" height="15" rx="3"/>'
        f'<text x="{x + w / 2:.1f}" y="{y + 11:.1f}" text-anchor="middle">{text}</text></g>'
    )


def _type_text(kind: str) -> str:
    return "InfiniBand" if kind == "ib" else "Ethernet"


def _switch_box(sw: Mapping[str, Any], lay: _Layout, jobs: Sequence[str]) -> list[str]:
    x, y = lay.x[sw["name"]] - SW_W / 2, lay.y[sw["name"]]
    kind = _kind(sw)
    out = [
        f'<g class="switch {kind}" data-switch="{_a(sw["name"])}" data-tier="{int(sw["tier"])}">',
        f"<title>{_t(sw['name'])}: {_type_text(kind)} switch, tier {int(sw['tier'])}</title>",
        f'<rect class="box" x="{x:.1f}" y="{y:.1f}" width="{SW_W}" height="{SW_H}" rx="7"/>',
        _badge(kind, x + 8, y + 8),
        f'<text class="name" x="{x + 40:.1f}" y="{y + 20:.1f}">{_t(sw["name"])}</text>',
        f'<text class="sub" x="{x + 10:.1f}" y="{y + 37:.1f}">'
        f"{_type_text(kind)} · tier {int(sw['tier'])}</text>",
    ]
    out += _chosen(jobs, x, y, SW_W, SW_H, sw["name"])
    out.append("</g>")
    return out


def _chosen(
    jobs: Sequence[str], x: float, y: float, w: float, h: float, name: str, label_dy: float = 51
) -> list[str]:
    if not jobs:
        return []
    label = f"★ HyperNode of {len(jobs)} job{'s' if len(jobs) != 1 else ''}"
    return [
        f'<rect class="hypernode-chosen" x="{x - 4:.1f}" y="{y - 4:.1f}" width="{w + 8}" height="{h + 8}" '
        f'rx="10"><title>{_t(name)}: chosen HyperNode of {_t(", ".join(jobs))}</title></rect>',
        f'<text class="chosen-label" x="{x + 10:.1f}" y="{y + label_dy:.1f}">{_t(label)}</text>',
    ]


def _leaf(
    sw: Mapping[str, Any], lay: _Layout, paint: _Paint, jobs: Sequence[str], roles: Counter[str]
) -> list[str]:
    name = sw["name"]
    kind = _kind(sw)
    x, y = lay.x[name] - LEAF_W / 2, lay.y[name]
    pods_text = ", ".join(f"{n} {r}" for r, n in sorted(roles.items())) or "no pods"
    out = [
        f'<g class="switch leaf {kind}" data-switch="{_a(name)}" data-tier="{int(sw["tier"])}">',
        f"<title>{_t(name)}: {_type_text(kind)} leaf switch, tier {int(sw['tier'])}, "
        f"{len(sw['hosts'])} nodes</title>",
        f'<rect class="box" x="{x:.1f}" y="{y:.1f}" width="{LEAF_W}" height="{lay.leaf_h:.1f}" rx="7"/>',
        _badge(kind, x + 8, y + 8),
        f'<text class="name" x="{x + (40 if kind == "ib" else 46):.1f}" y="{y + 20:.1f}">{_t(name)}</text>',
        f'<text class="sub" x="{x + 10:.1f}" y="{y + 36:.1f}">{_type_text(kind)} leaf · tier '
        f"{int(sw['tier'])} · {len(sw['hosts'])} nodes</text>",
        f'<text class="sub" x="{x + 10:.1f}" y="{y + 50:.1f}">pods: {_t(pods_text)}</text>',
    ]
    out += _chosen(jobs, x, y, LEAF_W, lay.leaf_h, name, label_dy=64)
    gx, gy = x + PAD + ROW_LABEL_W, y + LEAF_HEADER
    for i, host in enumerate(sw["hosts"]):
        row, col = divmod(i, COLS)
        cx, cy = gx + col * PITCH, gy + row * PITCH
        if col == 0:
            out.append(
                f'<text class="rowlabel" x="{gx - 4:.1f}" y="{cy + 12:.1f}" text-anchor="end">'
                f"{_t(_short(host))}</text>"
            )
        out += _node(host, cx, cy, paint)
    out.append("</g>")
    return out


def _node(name: str, x: float, y: float, paint: _Paint) -> list[str]:
    host = paint.hosts[name]
    marks = paint.marks.get(name, ())
    gpu = host["gpu_model"]
    busy = " busy" if marks else ""
    pods = "; ".join(f"{m.pod} ({m.role})" for m in marks)
    tip = f"{name} · {host['gpu_count']} GPUs {gpu} · {host['leaf']}" + (f" · pods: {pods}" if pods else "")
    out = [
        f'<g class="node{busy}" data-node="{_a(name)}" data-gpu="{_a(gpu)}">',
        f"<title>{_t(tip)}</title>",
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{CELL}" height="{CELL}" rx="3" fill="{paint.colours[gpu]}"/>',
    ]
    if not marks:
        out.append(
            f'<text class="code" x="{x + CELL / 2:.1f}" y="{y + 12.5:.1f}" text-anchor="middle">'
            f"{_t(paint.codes[gpu])}</text>"
        )
    out.append("</g>")
    for i, mark in enumerate(marks):
        out.append(_mark(mark, x, y, i, len(marks), paint.mark_class))
    for ghost in paint.ghosts.get(name, ()):
        out.append(
            f'<circle class="pod-predicted" cx="{x + CELL / 2:.1f}" cy="{y + CELL / 2:.1f}" r="7.5">'
            f"<title>{_t(ghost.pod)} was predicted here</title></circle>"
        )
    return out


_SLOTS = {1: [(0.5, 0.5)], 2: [(0.3, 0.5), (0.7, 0.5)]}
_QUAD = [(0.28, 0.28), (0.72, 0.28), (0.28, 0.72), (0.72, 0.72)]


def _mark(mark: Mark, x: float, y: float, index: int, count: int, mark_class: str) -> str:
    slots = _SLOTS.get(count, _QUAD)
    fx, fy = slots[index % len(slots)]
    r = 5.5 if count == 1 else 4.2 if count == 2 else 3.6
    cx, cy = x + fx * CELL + (index // len(slots)) * 1.5, y + fy * CELL
    role = mark.role if mark.role in ("prefill", "decode") else "other"
    paint = f'class="shape" fill="{ROLE_COLOURS[role]}"'
    if role == "prefill":
        shape = f'<circle {paint} cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}"/>'
    elif role == "decode":
        s = r * 1.25
        shape = (
            f'<polygon {paint} points="{cx:.1f},{cy - s:.1f} {cx + s:.1f},{cy:.1f} '
            f'{cx:.1f},{cy + s:.1f} {cx - s:.1f},{cy:.1f}"/>'
        )
    else:
        size = f'width="{2 * r:.1f}" height="{2 * r:.1f}"'
        shape = f'<rect {paint} x="{cx - r:.1f}" y="{cy - r:.1f}" {size}/>'
    job = f" · job {mark.job}" if mark.job else ""
    return (
        f'<g class="{_a(mark_class)} {role}" data-pod="{_a(mark.pod)}" data-node="{_a(mark.node)}">'
        f"<title>{_t(mark.pod)} ({_t(mark.role)}) on {_t(mark.node)}{_t(job)}</title>{shape}</g>"
    )


def _legend(
    lay: _Layout, top: float, colours: Mapping[str, str], codes: Mapping[str, str], hosts: Mapping[str, Any]
) -> list[str]:
    counts = Counter(h["gpu_model"] for h in hosts.values())
    x = MARGIN
    y1, y2 = top + 14, top + 44
    out = ['<g class="legend">']
    out.append(
        f'<rect class="switch-swatch ib" x="{x}" y="{y1 - 9}" width="26" height="14" rx="3" '
        'fill="#e3eeff" stroke="#1f5fbf" stroke-width="2"/>'
    )
    out.append(f'<text x="{x + 32}" y="{y1 + 2}">InfiniBand switch / link</text>')
    x += 190
    out.append(
        f'<rect class="switch-swatch ethernet" x="{x}" y="{y1 - 9}" width="26" height="14" rx="3" '
        'fill="#fff1de" stroke="#b0650a" stroke-width="2" stroke-dasharray="5 3"/>'
    )
    out.append(f'<text x="{x + 32}" y="{y1 + 2}">Ethernet switch / link (dashed)</text>')
    x += 230
    out.append(f'<circle cx="{x + 7}" cy="{y1 - 2}" r="6" fill="{ROLE_COLOURS["prefill"]}"/>')
    out.append(f'<text x="{x + 18}" y="{y1 + 2}">prefill pod</text>')
    x += 100
    out.append(
        f'<polygon points="{x + 7},{y1 - 10} {x + 15},{y1 - 2} {x + 7},{y1 + 6} {x - 1},{y1 - 2}" '
        f'fill="{ROLE_COLOURS["decode"]}"/>'
    )
    out.append(f'<text x="{x + 20}" y="{y1 + 2}">decode pod</text>')
    x += 102
    out.append(
        f'<rect x="{x}" y="{y1 - 9}" width="26" height="14" rx="3" fill="none" stroke="#e0a800" '
        'stroke-width="3"/>'
    )
    out.append(f'<text x="{x + 32}" y="{y1 + 2}">chosen HyperNode</text>')
    x = MARGIN
    out.append(f'<text x="{x}" y="{y2 + 2}" font-weight="bold">GPU models:</text>')
    x += 84
    for gpu, colour in colours.items():
        out.append(f'<rect x="{x}" y="{y2 - 10}" width="16" height="16" rx="3" fill="{colour}"/>')
        out.append(
            f'<text x="{x + 8}" y="{y2 + 1.5}" text-anchor="middle" font-size="8px">{_t(codes[gpu])}</text>'
        )
        out.append(f'<text x="{x + 22}" y="{y2 + 2}">{_t(gpu)} ({counts[gpu]} nodes)</text>')
        x += 40 + 7.2 * len(f"{gpu} ({counts[gpu]} nodes)")
    out.append(
        f'<text x="{MARGIN}" y="{y2 + 26}" class="sub">Each cell is one node (hover for its name); '
        "row labels: the number of the first node in the row. Dashed ring: predicted node of a pod that "
        "landed elsewhere."
        + (f" {lay.hidden} leaves without pods are not drawn." if lay.hidden else "")
        + "</text>"
    )
    out.append("</g>")
    return out


def _kind(sw: Mapping[str, Any]) -> str:
    return "ib" if sw["type"] == "ib" else "ethernet"


def _short(host: str) -> str:
    m = re.search(r"(\d+)$", host)
    return m.group(1) if m else host[:4]


def _t(text: object) -> str:
    """Escape text content."""
    return escape(str(text), quote=False)


def _a(text: object) -> str:
    """Escape an attribute value."""
    return escape(str(text), quote=True)
