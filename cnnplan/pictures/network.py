"""`cnnplan shapes --format svg`: a network as a layered graph, top to bottom.

Each layer (joins included) is a box `<g class="block" data-name="NAME">` with its name, kind
and arguments, output shape and params (the whole text also in its `<title>` tooltip); each
edge of `from` is a `<path class="edge" data-from="A" data-to="B">` with its own ports, so a
join (add, concat, mul) shows every input arriving and a skip connection runs in its own lane
(see layout.py). Layers named with dots (`layer1.0.conv1`, as imported models are) are framed
by their module prefixes; `collapse=DEPTH` draws each group deeper than DEPTH as one box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..platform.errors import BadInput
from .layout import layered, ranks_of
from .svg import document, esc, num, rect, route, text

WIDTH = 210.0  # a box's width
PAD = 8.0  # text inset in a box
NAME_LINE, LINE = 15.0, 14.0
JOINS = {"add": "+", "concat": "‖", "mul": "×"}
GROUPS = {"conv": ("conv", "convT", "linear", "dwconv"), "pool": ("maxpool", "avgpool")}
LABEL, FRAME = 17.0, 8.0  # a frame's label band and its inset per nesting level
ROW_GAP = 30.0
MAX_LANES = 100_000  # rows passed by edges, summed: DenseNet-121 needs 26,794 (about 3 s)
STYLE = (
    ".block>rect{fill:#eef3fa;stroke:#1f5fa8}.n-conv>rect{fill:#cfe0f5}"
    ".n-pool>rect{fill:#f8e3c6;stroke:#b86e00}.n-join>rect{fill:#fff;stroke:#333;"
    "stroke-width:1.5}.n-input>rect{fill:#fff7d6;stroke:#b08800}.n-group>rect{fill:#e9e2f5;"
    "stroke:#5b3d99;stroke-width:1.5}.n-flat>rect{fill:#d8efd2;stroke:#2e7d32}"
    ".edge{fill:none;stroke:#555;stroke-width:1.3}.edge.long{stroke:#c05a00}"
    ".frame>rect{fill:#f6f6f9;fill-opacity:.6;stroke:#8a8aa6;stroke-dasharray:4 3}"
    ".frame>text{font-size:11px;fill:#55557a;font-weight:bold}"
    ".small{font-size:11px;fill:#555}.n-spec{font-size:11px}"
    ".n-name{font-size:12px;font-weight:bold}.n-caption{font-size:14px;font-weight:bold}"
)
CLASSES = {"name": "n-name", "spec": "n-spec", "small": "small"}
ARROW = (
    '<defs><marker id="net-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto"><path d="M0 1L10 5L0 9z" fill="#555"/></marker></defs>'
)


@dataclass
class Node:
    """One box: a layer, the input, or a collapsed group of layers."""

    name: str
    kind: str
    spec: str
    shape: list
    sources: list
    params: int = 0
    label: str = ""
    members: list = field(default_factory=list)  # collapsed groups: their layers' kinds


def nodes_of(data: dict) -> list[Node]:
    """The input and every layer as nodes with their sources (old data: a chain)."""
    nodes = [Node("input", "input", "input", list(data["input"]), [], label="input")]
    previous = "input"
    for n, layer in enumerate(data["layers"], start=1):
        name = str(layer.get("name") or n)
        # output j of a layer with several outputs (NAME[j]) is drawn from that layer
        sources = [str(s).split("[")[0] for s in layer.get("from") or [previous]]
        nodes.append(
            Node(
                name,
                str(layer.get("kind", "")),
                str(layer.get("spec", layer.get("kind", ""))),
                list(layer.get("output", [])),
                sources,
                int(layer.get("params") or 0),
                label=f"#{name}" if name == str(n) else name,
            )
        )
        previous = name
    return nodes


def group_of(name: str, depth: int | None) -> str:
    """The name a layer is drawn under when groups deeper than `depth` are collapsed."""
    if depth is None:
        return name
    parts = name.split(".")
    return ".".join(parts[:depth]) if len(parts) > depth else name


def collapse(nodes: list[Node], depth: int | None) -> list[Node]:
    """The nodes with the layers of every group deeper than `depth` (by `group_of`; a group
    of one layer stays that layer) merged into one node: its layers' kinds, the last one's
    shape, their params summed, and the sources from outside it (each once; a join keeps each
    of its inputs)."""
    if depth is None:
        return nodes
    sizes: dict[str, int] = {}
    for node in nodes:
        sizes[group_of(node.name, depth)] = sizes.get(group_of(node.name, depth), 0) + 1
    out: dict[str, Node] = {}
    for node in nodes:
        name = group_of(node.name, depth)
        if sizes[name] == 1 or node.name == "input":  # a group of one stays that layer
            name = node.name
        group = out.get(name)
        if group is None and name == node.name:
            out[name] = Node(**{**node.__dict__, "sources": list(node.sources)})
            continue
        if group is None:
            group = out[name] = Node(name, "group", "", [], [], label=name)
        elif group.kind != "group":  # a layer named like the group it heads joins it
            group = out[name] = Node(
                name,
                "group",
                "",
                group.shape,
                group.sources,
                group.params,
                label=name,
                members=[group.kind],
            )
        group.members.append(node.kind)
        group.shape, group.params = node.shape, group.params + node.params
        group.sources += [s for s in node.sources if group_of(s, depth) != name]
    for node in out.values():
        sources = [
            group_of(s, depth) if sizes.get(group_of(s, depth), 0) > 1 else s for s in node.sources
        ]
        if node.kind not in JOINS:  # a join shows each input; other boxes each source once
            sources = list(dict.fromkeys(sources))
        node.sources = sources
    return list(out.values())


EM = {
    **dict.fromkeys("il.,:;'|!()[]{} fjtr-·", 0.42),
    **dict.fromkeys("mwMW@%…", 1.0),
    **dict.fromkeys("=+<>~", 0.84),
    **dict.fromkeys("ABCDEFGHIJKLNOPQRSTUVXYZ", 0.78),
}


def text_width(content: str, size: float, bold: bool = False) -> float:
    """A generous estimate of the width of `content` in DejaVu Sans (other fonts are
    narrower): its characters' widths in em (0.64 unless EM says), bold 10 % wider."""
    return sum(EM.get(c, 0.64) for c in content) * size * (1.1 if bold else 1.0)


def wrap(
    content: str,
    room: float,
    size: float,
    bold: bool = False,
    lines: int = 2,
    breaks: str = r"(?<=[.,_ ])",
) -> list[str]:
    """`content` in at most `lines` lines that fit `room` pixels, broken only after the
    characters `breaks` allows; what does not fit ends in '…' (the whole text is in the
    box's <title>)."""
    tokens = [t for t in re.split(breaks, content) if t]
    out: list[str] = []
    current = ""
    for token in tokens:
        if current and text_width(current + token.rstrip(), size, bold) > room:
            out.append(current.rstrip())
            current = ""
        current += token
    if current:
        out.append(current.rstrip())
    cut = len(out) > lines
    out = out[:lines]
    for i, line in enumerate(out):
        if text_width(line, size, bold) > room:  # one token wider than the box
            while text_width(line + "…", size, bold) > room:
                line = line[:-1]
            out[i], cut = line + "…", False
    if cut and out:
        last = out[-1]
        while last and text_width(last + " …", size, bold) > room:
            last = last[: last.rstrip().rfind(" ")] if " " in last.rstrip() else last[:-1]
        out[-1] = last.rstrip() + " …"
    return out


def _shape(shape) -> str:
    return "x".join(map(str, shape))


def _kind_class(node: Node) -> str:
    if node.kind in ("input", "group"):
        return f"n-{node.kind}"
    if node.kind in JOINS:
        return "n-join"
    for cls, kinds in GROUPS.items():
        if node.kind in kinds:
            return f"n-{cls}"
    return "n-flat" if len(node.shape) == 1 else "n-other"


def _what(node: Node) -> str:
    """The box's second part: the spec, the join's sign, or a group's content."""
    if node.kind == "group":
        counts: dict[str, int] = {}
        for kind in node.members:
            counts[kind] = counts.get(kind, 0) + 1
        parts = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda i: -i[1]))
        return f"{len(node.members)} layer{'s' if len(node.members) > 1 else ''}: {parts}"
    if node.kind in JOINS:
        return f"{JOINS[node.kind]} {node.spec}"
    return "" if node.kind == "input" else node.spec


def box_lines(node: Node) -> list[tuple]:
    """(kind, text) of each line in a node's box; kind "name+spec" has (name, spec)."""
    room = WIDTH - 2 * PAD
    what = _what(node)
    info = _shape(node.shape) + (f" · {node.params:,} params" if node.params else "")
    if what and text_width(node.label, 12, True) + text_width("  " + what, 11) <= room:
        lines: list[tuple] = [("name+spec", (node.label, what))]
    else:
        lines = [("name", t) for t in wrap(node.label, room, 12, True, 3, r"(?<=[._])")]
        lines += (
            [("spec", t) for t in wrap(what, room, 11, lines=2 if node.kind != "group" else 3)]
            if what
            else []
        )
    lines += [("small", t) for t in wrap(info, room, 11, lines=2, breaks=r"(?<= )")]
    return lines


def box_height(lines) -> float:
    return 8 + sum(NAME_LINE if cls.startswith("name") else LINE for cls, _ in lines)


def tooltip(node: Node) -> str:
    what = _what(node)
    return "\n".join(
        part
        for part in (
            node.name,
            what,
            f"output {_shape(node.shape)}",
            f"{node.params:,} params" if node.params else "",
        )
        if part
    )


def _box(node: Node, lines, x: float, y: float, h: float) -> list[str]:
    out = [
        f'<g class="block {_kind_class(node)}" data-name="{esc(node.name)}">',
        f"<title>{esc(tooltip(node))}</title>",
        rect(x, y, WIDTH, h, rx=10 if node.kind in JOINS else 3),
    ]
    at = y + 4
    for cls, content in lines:
        at += NAME_LINE if cls.startswith("name") else LINE
        if cls == "name+spec":
            name, what = content
            out.append(
                f'<text x="{num(x + PAD)}" y="{num(at - 3)}"><tspan class="n-name">'
                f'{esc(name)}</tspan><tspan class="n-spec">  {esc(what)}</tspan></text>'
            )
        else:
            out.append(text(x + PAD, at - 3, content, class_=CLASSES[cls]))
    out.append("</g>")
    return out


@dataclass
class Frame:
    """A labelled frame around the boxes of one module prefix."""

    name: str
    members: list
    first: int = 0
    last: int = 0
    top: float = LABEL
    bottom: float = FRAME
    side: float = FRAME


def frames_of(nodes: list[Node], ranks: dict) -> list[Frame]:
    """A frame for each dotted prefix shared by two or more drawn boxes, with its insets
    grown so that frames nest."""
    members: dict[str, list[str]] = {}
    for node in nodes:
        parts = node.name.split(".")
        for k in range(1, len(parts)):
            members.setdefault(".".join(parts[:k]), []).append(node.name)
    frames = [Frame(p, m) for p, m in members.items() if len(m) > 1]
    for frame in frames:
        frame.first = min(ranks[m] for m in frame.members)
        frame.last = max(ranks[m] for m in frame.members)
    for frame in sorted(frames, key=lambda f: -f.name.count(".")):  # innermost first
        inner = [f for f in frames if f.name.startswith(frame.name + ".")]
        frame.side = FRAME + max((f.side for f in inner), default=0)
        frame.top = LABEL + max((f.top for f in inner if f.first == frame.first), default=0)
        frame.bottom = FRAME + max((f.bottom for f in inner if f.last == frame.last), default=0)
    return frames


def render_network(data: dict, title: str = "", collapse_depth: int | None = None) -> str:
    """The SVG document of a `shapes` (or plan chain) result's data; `collapse_depth` (or
    data["collapse"]) draws the groups of layers deeper than it as single boxes."""
    depth = collapse_depth if collapse_depth is not None else data.get("collapse")
    layers = nodes_of(data)
    nodes = collapse(layers, depth)
    by_name = {n.name: n for n in nodes}
    edges = [(s, n.name) for n in nodes for s in n.sources if s in by_name]
    lines = {n.name: box_lines(n) for n in nodes}
    sizes = {n.name: (WIDTH, box_height(lines[n.name])) for n in nodes}
    ranks = ranks_of(list(by_name), edges)
    lanes = sum(ranks[b] - ranks[a] - 1 for a, b in edges)
    if lanes > MAX_LANES:
        raise BadInput(
            f"the picture would need {lanes:,} edge lanes (at most {MAX_LANES:,}: "
            "each edge has its own in every row it passes); draw it with --collapse "
            "DEPTH, or choose another --format"
        )
    frames = frames_of(nodes, ranks)
    gaps = [ROW_GAP] * max(ranks.values())
    for r in range(len(gaps)):
        below = max((f.bottom for f in frames if f.last == r), default=0)
        above = max((f.top for f in frames if f.first == r + 1), default=0)
        if below or above:
            gaps[r] = max(ROW_GAP, below + above + 18)
    lay = layered(list(by_name), edges, sizes, gaps, margin=0.0)
    dx = 20 + max((f.side for f in frames), default=0)
    dy = 50 + max((f.top for f in frames), default=0)

    caption = title or "network"
    summary = f"{sum(n.params for n in layers):,} params"
    if depth is not None:
        summary += f"; groups of layers deeper than {depth} drawn as one box (collapse {depth})"
    body = [ARROW, text(10, 20, caption, class_="n-caption"), text(10, 38, summary, class_="small")]
    into: dict[str, list] = {}
    for (_, target), points in zip(edges, lay.routes):
        into.setdefault(target, []).append(points)
    rects: dict[str, list[float]] = {}
    for frame in sorted(frames, key=lambda f: -f.name.count(".")):  # innermost first
        boxes = [lay.boxes[m] for m in frame.members]
        y0 = min(p.y for p in boxes if p.rank == frame.first) - frame.top
        y1 = max(p.y + p.h for p in boxes if p.rank == frame.last) + frame.bottom
        xs = [x for p in boxes for x in (p.x - p.w / 2 - frame.side, p.x + p.w / 2 + frame.side)]
        # lanes of edges into the frame widen it too
        xs += [
            px + sign * FRAME
            for m in frame.members
            for points in into.get(m, ())
            for px, py in points
            if y0 < py < y1
            for sign in (-1, 1)
        ]
        xs += [
            x + sign * FRAME
            for name, (a, _, b, _) in rects.items()
            if name.startswith(frame.name + ".")
            for x, sign in ((a, -1), (b, 1))
        ]
        rects[frame.name] = [min(xs), y0, max(xs), y1]
    for name in sorted(rects, key=lambda n: n.count(".")):  # outermost first
        x0, y0, x1, y1 = rects[name]
        body += [
            f'<g class="frame" data-name="{esc(name)}">',
            rect(x0 + dx, y0 + dy, x1 - x0, y1 - y0, rx=6),
            text(x0 + dx + 6, y0 + dy + 12, name),
            "</g>",
        ]
    for (source, target), points in zip(edges, lay.routes):
        long = ranks[target] - ranks[source] > 1
        body.append(
            route(
                [(px + dx, py + dy) for px, py in points],
                source,
                target,
                class_="edge long" if long else "edge",
                marker_end="url(#net-arrow)",
            )
        )
    for name, p in lay.boxes.items():
        body += _box(by_name[name], lines[name], p.x - p.w / 2 + dx, p.y + dy, p.h)
    bottom = lay.height + dy + max((f.bottom for f in frames), default=0)
    field, values = _receptive_field(data)
    if field:
        body.append(text(10, bottom + 12, field, class_="small rf", **values))
    width = max(
        lay.width + 2 * dx,
        20 + text_width(summary, 11),
        20 + text_width(caption, 14, True),
        20 + text_width(field, 11),
    )
    return document(width, bottom + 30, body, caption, STYLE)


def _receptive_field(data: dict) -> tuple[str, dict]:
    """A line saying the last layer's receptive field against the input's size, with its
    jump (effective stride) and effective padding when the data has them ('' for none), and
    its data attributes."""
    fields = [layer for layer in data["layers"] if layer.get("rf")]
    sizes = data["input"][1:]
    if not fields or not sizes:
        return "", {}
    last = fields[-1]
    rf, jump, pad = _per_axis(last["rf"], "x"), last.get("jump"), last.get("eff_padding")
    said = [] if jump is None else [f"jump {jump}"]
    if pad is not None:
        per = " per axis" if isinstance(pad, list) else ""
        pad = _per_axis(pad, ", ")
        said.append(f"effective padding {pad}{per}")
    said.append(f"input {_shape(sizes)}")
    return (
        f"receptive field of the last layer that has one: {rf} ({'; '.join(said)})",
        {"data_rf": rf, "data_jump": jump, "data_eff_padding": pad},
    )


def _per_axis(value, sep: str):
    """A number as it is, a list per axis joined by `sep`."""
    return sep.join(map(str, value)) if isinstance(value, list) else value


def render_plan(data: dict, title: str = "") -> str:
    """A `plan` result's best chain as a network (the first of its ranked chains)."""
    chains = data.get("chains") or []
    if not chains:
        return document(
            400, 40, [text(8, 20, f"{title or 'plan'}: no chain to draw")], title or "plan", STYLE
        )
    best = chains[0]
    layers = [dict(layer) for layer in best["layers"]]
    if layers and best.get("rf"):
        layers[-1]["rf"] = best["rf"]
    caption = (
        f"{title or 'plan'}: the best chain (1 of {data.get('count', len(chains))}"
        f"{', by ' + str(data['rank']) if data.get('rank') else ''})"
    )
    return render_network({"input": data["input"], "layers": layers}, caption)
