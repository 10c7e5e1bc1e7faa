"""`cnnplan shapes --format svg`: a network as blocks, left to right.

A block's height follows the spatial size and its depth the channels (both log-scaled); the
label gives the layer, its output shape and parameters. Layers that read other layers than the
previous one (`from`) are drawn in their own rows, joins (add, concat, mul) as circles, and the
receptive field of the last layer is drawn over the input block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .svg import document, edge, esc, num, rect, text

COLUMN = 200       # pixels between layer columns
ROW = 190          # pixels between rows of parallel branches
JOINS = {"add": "+", "concat": "‖", "mul": "×"}
STYLE = (".front{fill:#cfe0f5;stroke:#1f5fa8}.side{fill:#a9c6ea;stroke:#1f5fa8}"
         ".top{fill:#e3edf9;stroke:#1f5fa8}.pool .front{fill:#f5e1c7}.pool .side{fill:#e8c08f}"
         ".pool .top{fill:#faeedd}.flat .front{fill:#d8efd2}.edge{fill:none;stroke:#666;"
         "stroke-width:1.5}.join{fill:#fff;stroke:#333;stroke-width:1.5}.rf{fill:#e07b00;"
         "fill-opacity:.35;stroke:#e07b00}.small{font-size:11px;fill:#555}"
         ".name{font-size:12px;font-weight:bold}")


@dataclass
class Node:
    name: str
    label: str
    kind: str
    shape: list
    sources: list
    details: str = ""
    column: int = 0
    row: int = 0


def nodes_of(data: dict) -> list[Node]:
    """The input and every layer as nodes with their sources (old data: a chain)."""
    nodes = [Node("input", "input", "input", list(data["input"]), [])]
    previous = "input"
    for n, layer in enumerate(data["layers"], start=1):
        name = str(layer.get("name") or f"layer {n}")
        # output j of a layer with several outputs (NAME[j]) is drawn from that layer
        sources = [str(s).split("[")[0] for s in layer.get("from") or [previous]]
        params = layer.get("params") or 0
        details = f"{params:,} params" if params else ""
        nodes.append(Node(name, str(layer.get("spec", layer.get("kind", ""))),
                          str(layer.get("kind", "")), list(layer.get("output", [])), sources,
                          details))
        previous = name
    return nodes


def place(nodes: list[Node]) -> None:
    """Columns by longest path from the input; rows in order within a column."""
    column = {}
    for node in nodes:
        node.column = 1 + max((column.get(s, 0) for s in node.sources), default=-1)
        column[node.name] = node.column
    used: dict[int, int] = {}
    for node in nodes:
        node.row = used.get(node.column, 0)
        used[node.column] = node.row + 1


def _scale(value: int, lo: float, per: float, top: float) -> float:
    return min(top, lo + per * math.log2(max(1, value)))


def _block(node: Node, x: float, y: float) -> tuple[list[str], float, float]:
    """A pseudo-3-D box centred on y: (elements, right edge x, half height)."""
    shape = node.shape or [1]
    if node.kind in JOINS:
        r = 14
        return ([f'<circle class="join" cx="{num(x + r)}" cy="{num(y)}" r="{r}"/>',
                 text(x + r, y + 5, JOINS[node.kind], text_anchor="middle",
                      style="font-size:16px")], x + 2 * r, r)
    flat = len(shape) == 1
    depth = _scale(shape[0], 4, 5, 60)
    height = _scale(max(shape[1:] or [1]), 10, 10, 110) if not flat else _scale(shape[0], 10, 6, 90)
    width = _scale(shape[2], 0, 6, 60) * 0.5 if len(shape) > 2 else (0 if flat else 8)
    if flat:
        depth = 6
    top, cls = y - height / 2, ("pool" if "pool" in node.kind else "flat" if flat else "conv")
    out = [f'<g class="block {cls}" data-name="{esc(node.name)}">',
           rect(x, top, depth, height, class_="front")]
    if width:
        out.append(f'<path class="top" d="M{num(x)} {num(top)}l{num(width)} {num(-width)}'
                   f'h{num(depth)}l{num(-width)} {num(width)}z"/>')
        out.append(f'<path class="side" d="M{num(x + depth)} {num(top)}l{num(width)} '
                   f'{num(-width)}v{num(height)}l{num(-width)} {num(width)}z"/>')
    out.append("</g>")
    return out, x + depth + width, height / 2


def _short(label: str, size: int = 25) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"


def render_network(data: dict, title: str = "") -> str:
    """The SVG document of a `shapes` (or plan chain) result's data."""
    nodes = nodes_of(data)
    place(nodes)
    rows = 1 + max(n.row for n in nodes)
    columns = 1 + max(n.column for n in nodes)
    body = [text(8, 18, title or "network", class_="name")]
    ends: dict[str, tuple[float, float, float]] = {}
    blocks = []
    for node in nodes:
        x, y = 20 + node.column * COLUMN, 110 + node.row * ROW
        elements, right, half = _block(node, x, y)
        ends[node.name] = (x, right, y)
        blocks += elements
        shape = "x".join(map(str, node.shape))
        blocks.append(text(x, y + half + 16, _short(node.label), class_="name",
                           data_layer=node.name))
        blocks.append(text(x, y + half + 30, shape, class_="small"))
        if node.details:
            blocks.append(text(x, y + half + 43, node.details, class_="small"))
    for node in nodes:
        for source in node.sources:
            if source not in ends:
                continue
            _, x1, y1 = ends[source]
            x2, _, y2 = ends[node.name]
            body.append(edge((x1, y1), (x2 - 2, y2), source, node.name))
    body += blocks
    body += _receptive_field(data, nodes[0])
    return document(40 + columns * COLUMN, 60 + rows * ROW, body, title or "network", STYLE)


def _receptive_field(data: dict, node: Node) -> list[str]:
    """The last layer's receptive field as a bar beside the input block, to scale with its height."""
    fields = [layer.get("rf") for layer in data["layers"] if layer.get("rf")]
    sizes = data["input"][1:]
    if not fields or not sizes:
        return []
    rf = fields[-1]
    rf = max(rf) if isinstance(rf, list) else rf     # per axis: the bar shows the widest
    height = _scale(max(sizes), 10, 10, 110)
    side = height * min(1.0, rf / max(sizes))
    x, y = 20, 110 - height / 2
    return [rect(x - 9, y, 6, side, class_="rf", data_rf=rf),
            text(x, 110 + height / 2 + 56, f"rf {rf} of the last layer (bar: share of the "
                 "input's height)", class_="small")]


def render_plan(data: dict, title: str = "") -> str:
    """A `plan` result's best chain as a network (the first of its ranked chains)."""
    chains = data.get("chains") or []
    if not chains:
        from .svg import document

        return document(400, 40, [text(8, 20, f"{title or 'plan'}: no chain to draw")],
                        title or "plan", STYLE)
    best = chains[0]
    layers = [dict(layer) for layer in best["layers"]]
    if layers and best.get("rf"):
        layers[-1]["rf"] = best["rf"]
    caption = (f"{title or 'plan'}: the best chain (1 of {data.get('count', len(chains))}"
               f"{', by ' + str(data['rank']) if data.get('rank') else ''})")
    return render_network({"input": data["input"], "layers": layers}, caption)
