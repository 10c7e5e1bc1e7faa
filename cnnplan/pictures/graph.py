"""`cnnplan ad ... --format svg`: the computational graph of an autodiff trace, drawn without
Graphviz: inputs on the left, each step one column right of its deepest operand; a box per
variable with its definition, value, tangent and adjoint; edges labelled with the local
partial derivatives (the same content as `--format dot`)."""

from __future__ import annotations

from .svg import along, document, edge, rect, text

COLUMN_GAP = 150
ROW_GAP = 26
LINE = 15
STYLE = (
    ".node{fill:#eef3fa;stroke:#1f5fa8}.input{fill:#fff7e6;stroke:#e07b00}"
    ".output{fill:#e8f5e4;stroke:#2e8b2e}.edge{fill:none;stroke:#666;stroke-width:1.2}"
    ".partial{font-size:10px;fill:#a33}"
)


def _number(value, decimals: int) -> str:
    return f"{value:.{decimals}f}" if isinstance(value, (int, float)) else str(value)


def _lines(entry: dict, tangent: dict, adjoint: dict, decimals: int) -> list[str]:
    name = entry["name"]
    lines = [f"{name} = {entry['definition']}", f"= {_number(entry['value'], decimals)}"]
    if name in tangent:
        lines.append(f"{tangent[name]['name']} = {_number(tangent[name]['value'], decimals)}")
    if name in adjoint:
        lines.append(f"{adjoint[name]['name']} = {_number(adjoint[name]['value'], decimals)}")
    return lines


def render_graph(data: dict) -> str:
    """The SVG document of an autodiff result's data."""
    decimals = int(data.get("decimals", 4))
    tangent = {e["of"]: e for e in data.get("tangent", [])}
    adjoint: dict = {}
    for entry in data.get("adjoint", []):  # the first line of a name is its final value
        adjoint.setdefault(entry["of"], entry)
    entries = data["primal"]
    depth: dict[str, int] = {}
    for entry in entries:
        depth[entry["name"]] = 1 + max((depth.get(o, 0) for o in entry["operands"]), default=-1)
    boxes = {e["name"]: _lines(e, tangent, adjoint, decimals) for e in entries}
    widths: dict[int, float] = {}
    for entry in entries:
        column = depth[entry["name"]]
        widths[column] = max(widths.get(column, 0), 7.2 * max(map(len, boxes[entry["name"]])) + 12)
    xs, x = {}, 10.0
    for column in sorted(widths):
        xs[column] = x
        x += widths[column] + COLUMN_GAP
    heights: dict[int, float] = {}
    place = {}
    for entry in entries:
        column = depth[entry["name"]]
        y = heights.get(column, 40.0)
        h = LINE * len(boxes[entry["name"]]) + 8
        place[entry["name"]] = (xs[column], y, widths[column], h)
        heights[column] = y + h + ROW_GAP
    body = [text(10, 20, f"y = {data['expression']}", style="font-weight:bold")]
    for entry in entries:
        x2, y2, _, h2 = place[entry["name"]]
        for operand in entry["operands"]:
            if operand not in place:
                continue
            x1, y1, w1, h1 = place[operand]
            a, b = (x1 + w1, y1 + h1 / 2), (x2, y2 + h2 / 2)
            body.append(edge(a, b, operand, entry["name"]))
            partial = entry.get("partials", {}).get(operand)
            if partial is not None:
                label = f"∂{entry['name']}/∂{operand} = {_number(partial, decimals)}"
                lx, ly = along(a, b, 0.3)
                body.append(
                    text(
                        lx,
                        ly - 4,
                        label,
                        text_anchor="middle",
                        class_="partial",
                        data_to=entry["name"],
                    )
                )
    for entry in entries:
        x, y, w, h = place[entry["name"]]
        kind = entry.get("op") if entry.get("op") in ("input", "output") else "node"
        body.append(rect(x, y, w, h, rx=6, class_=kind, data_name=entry["name"]))
        body += [
            text(x + 6, y + 15 + LINE * n, line) for n, line in enumerate(boxes[entry["name"]])
        ]
    width = max((px + pw for px, _, pw, _ in place.values()), default=300) + 10
    height = max(heights.values(), default=60) + 10
    return document(width, height, body, f"computational graph of y = {data['expression']}", STYLE)
