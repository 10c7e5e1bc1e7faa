"""`cnnplan solve --format svg`: one diagram per shown solution, as in Dumoulin & Visin's guide.

Each diagram has the padded input grid (padding ring dashed), the dilated kernel's taps at the
first window, the stride step to the next window (outlined), the input rows no window reads
(floor's dropped rows, and rows skipped between windows) hatched, and the output grid with the
first window's output cell. Transposed convolutions are drawn as in the guide: the input
zero-stretched (s-1 zeros between cells) and padded by k'-1-p, swept with stride 1.
Inputs of more than FULL cells per axis are cropped to their top-left corner (said in the caption).
Only the drawn window is ever computed: an axis keeps its cells, taps and windows as ranges and
answers "is this cell read?" by arithmetic, so a picture of a 10^9-cell layer costs what a
picture of a small one does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from ..kinds.arithmetic import effective_kernel
from .svg import document, line, num, rect, text

if TYPE_CHECKING:
    from ..kinds.records import Window

FULL = 64  # axes up to this many padded cells are drawn whole
CROP = 24  # else this many cells (or two windows' worth) of the top-left corner
MAX_VIEW = 128  # never more cells per axis than this (a huge padding or kernel is cropped)
MAX_DIAGRAMS = 12  # diagrams in one SVG (use --limit to choose fewer)
MAX_FRAMES = 400  # window positions in one animation
WIDTH = 480  # pixels for the larger grid's side
STYLE = (
    ".pad{fill:#eee;stroke:#999;stroke-dasharray:3 2}.input{fill:#cfe0f5}"
    ".zero{fill:#fff}.unused{fill:url(#hatch);stroke:#c33;stroke-width:.5}"
    ".grid{stroke:#fff;stroke-width:1;fill:none}.tap{fill:#1f5fa8}"
    ".tap2{fill:none;stroke:#e07b00}.window{fill:none;stroke:#1f5fa8;"
    "stroke-width:2}.output{fill:#d8efd2}.out-first{fill:#2e8b2e}"
    ".caption{font-size:13px}.small{font-size:11px;fill:#555}.stride{stroke:#e07b00;"
    "stroke-width:2}.crop{fill:none;stroke:#c33;stroke-width:1}"
)
DEFS = (
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fbe3e3"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#c33" stroke-width="2"/></pattern></defs>'
)


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a drawn layer, in cells of the (padded, stretched) input.

    size: padded cells; real: positions of real input cells; step: window stride in cells;
    taps: offsets of the kernel taps within a window; windows: output size; view: cells drawn.
    `real` and `taps` are ranges (never materialised: an axis may have 10^9 cells).
    """

    size: int
    real: range
    step: int
    taps: range
    windows: int
    view: int
    out_view: int

    @property
    def span(self) -> int:
        return self.taps[-1] + 1

    def seen(self, cells: range) -> range:
        """The part of `cells` (a range) inside the drawn window."""
        if cells.start >= self.view:
            return range(0)
        return cells[: (self.view - cells.start + cells.step - 1) // cells.step]

    def reads(self, x: int) -> bool:
        """Whether some window reads position x (arithmetic over the taps up to x)."""
        return any(
            (x - t) % self.step == 0 and (x - t) // self.step < self.windows
            for t in self.taps[: x // self.taps.step + 1]
            if t <= x
        )

    def next_read(self, x: int) -> int:
        """The first position after x that some window reads (or `size`)."""
        best = self.size
        first_after = self.taps[: x // self.taps.step + 2]
        for t in first_after:
            w = max(0, -(-(x + 1 - t) // self.step))
            if w < self.windows:
                best = min(best, w * self.step + t)
        return best

    def unused(self) -> list[tuple[int, int]]:
        """Runs [start, stop) of positions no window reads that begin inside the view (a run
        keeps its true stop, which may lie far outside)."""
        runs, x = [], 0
        while x < min(self.size, self.view):
            if self.reads(x):
                x += 1
                continue
            stop = min(self.next_read(x), self.size)
            runs.append((x, stop))
            x = stop
        return runs


def axis(
    i: int, o: int, k: int, s: int, p: int, d: int, transposed: bool = False, op: int = 0
) -> Axis:
    """The drawing of one axis of size i onto o (None-free: callers pass a valid solution)."""
    ke = effective_kernel(k, d)
    taps = range(0, k * d, d)
    if transposed:
        edge = ke - 1 - p
        size = (i - 1) * s + 1 + 2 * edge + op
        real, step = range(edge, edge + i * s, s), 1
    else:
        size, real, step = i + 2 * p, range(p, p + i), s
    whole = real[-1] - real[0] + 1 <= FULL  # the input itself (not its padding) fits
    view = size if whole else min(size, max(CROP, ke + step + 2))
    return Axis(
        size, real, step, taps, o, min(view, MAX_VIEW), min(o if whole else min(o, CROP), MAX_VIEW)
    )


def _flat() -> Axis:
    """The row axis of a 1-D layer: one row, one tap."""
    return Axis(1, range(1), 1, range(1), 1, 1, 1)


def solution_axes(data: dict, row: dict, axis_sizes=None) -> list[Axis]:
    """(rows, columns) axes of a solution row of `solve` data (1-D: a single row)."""
    sizes = axis_sizes or list(zip(data["input"][1:], row.get("output", data["output"])[1:]))
    transposed = data.get("rule") == "convT"
    axes = [
        axis(i, o, row["k"], row["s"], row["p"], row["d"], transposed, row.get("op", 0))
        for i, o in sizes[:2]
    ]
    return [_flat(), *axes] if len(axes) == 1 else axes


def formula(data: dict, row: dict, i: int, o: int) -> str:
    """The output-size arithmetic of one axis, e.g. 'o = floor((5 + 2*1 - 3)/2) + 1 = 3'."""
    k, s, p, d = row["k"], row["s"], row["p"], row["d"]
    ke = effective_kernel(k, d)
    if data.get("rule") == "convT":
        op = row.get("op", 0)
        return f"o = ({i}-1)*{s} - 2*{p} + {d}*({k}-1) + {op} + 1 = {o}"
    rule = "floor" if data.get("mode", "floor") != "exact" else ""
    inner = f"({i} + 2*{p} - {ke})/{s}"
    return f"o = {rule + '(' + inner + ')' if rule else inner} + 1 = {o}"


def panel(
    data: dict, row: dict, top: float, animate: bool, axis_sizes=None, label: str = ""
) -> tuple[list[str], float, float]:
    """The SVG elements of one solution's diagram starting at y=top: (elements, width, height)."""
    rows, cols = solution_axes(data, row, axis_sizes)
    sizes = axis_sizes or list(zip(data["input"][1:], row.get("output", data["output"])[1:]))
    cell = max(2.0, min(28.0, WIDTH / max(rows.view, cols.view)))
    k, s, p, d = row["k"], row["s"], row["p"], row["d"]
    ke = effective_kernel(k, d)
    captions = [
        f"{label}k={k}, s={s}, p={p}, d={d} (k' = d(k-1)+1 = {ke})"
        + (f", op={row['op']}" if row.get("op") else "")
    ]
    for i, o in sorted(set(sizes)):
        captions.append(formula(data, row, i, o))
    if len(sizes) > 2:
        captions.append(f"{len(sizes)}-D: the first two spatial axes are drawn")
    if rows.view < rows.size or cols.view < cols.size:
        captions.append(
            f"cropped: the top-left {rows.view} x {cols.view} of "
            f"{rows.size} x {cols.size} padded cells (outline: to scale)"
        )
    if data.get("rule") == "convT":
        captions.append(
            f"transposed: input stretched with {s - 1} zeros between cells, "
            f"padded by k'-1-p = {ke - 1 - p}, swept with stride 1"
        )
    out = [
        text(8, top + 16 + 16 * n, c, class_="caption" if not n else "small")
        for n, c in enumerate(captions)
    ]
    y0 = top + 16 * len(captions) + 24
    x0 = 8.0
    out.append(
        f'<g class="layer-input" data-cell="{num(cell)}" '
        f'transform="translate({num(x0)},{num(y0)})">'
    )
    out += _input_cells(rows, cols, cell, transposed=data.get("rule") == "convT")
    out.append(_grid(rows.view, cols.view, cell))
    out += _window(rows, cols, cell, animate)
    out.append("</g>")
    width_in = cols.view * cell
    height = rows.view * cell
    xo = x0 + width_in + 40
    out.append(
        line(
            xo - 34,
            y0 + height / 2,
            xo - 6,
            y0 + height / 2,
            class_="stride",
            marker_end="url(#arrow)",
        )
    )
    out.append(f'<g class="layer-output" transform="translate({num(xo)},{num(y0)})">')
    out.append(
        rect(
            0,
            0,
            cols.out_view * cell,
            rows.out_view * cell,
            class_="output",
            data_rows=rows.windows,
            data_cols=cols.windows,
        )
    )
    out.append(_grid(rows.out_view, cols.out_view, cell))
    first = rect(0, 0, cell, cell, class_="out-first")
    if animate:
        first = first[:-2] + ">" + _motion(rows, cols, cell, out_cells=True) + "</rect>"
    out.append(first)
    out.append("</g>")
    extra = 0.0
    if rows.view < rows.size or cols.view < cols.size:
        extra = _scale_outline(out, rows, cols, xo + cols.out_view * cell + 20, y0)
    shape = "x".join(map(str, [c.windows for c in (rows, cols)][2 - len(sizes[:2]) :]))
    crop = (
        f" (top-left {rows.out_view} x {cols.out_view} drawn)"
        if (rows.out_view, cols.out_view) != (rows.windows, cols.windows)
        else ""
    )
    out.append(text(xo, y0 + rows.out_view * cell + 14, f"output {shape}{crop}", class_="small"))
    width = xo + cols.out_view * cell + 20 + extra
    return (
        out,
        max(width, 8 + 7 * max(map(len, captions))),
        (y0 - top) + max(height, rows.out_view * cell + 18) + 16,
    )


def _input_cells(rows: Axis, cols: Axis, cell: float, transposed: bool) -> list[str]:
    """Padding, real input (or zero-stretched input) and the unread strips, cropped to view."""
    out = [rect(0, 0, cols.view * cell, rows.view * cell, class_="pad")]
    r0, r1 = rows.real[0], min(rows.real[-1] + 1, rows.view)
    c0, c1 = cols.real[0], min(cols.real[-1] + 1, cols.view)
    if transposed:
        out.append(rect(c0 * cell, r0 * cell, (c1 - c0) * cell, (r1 - r0) * cell, class_="zero"))
        for r in rows.seen(rows.real):
            for c in cols.seen(cols.real):
                out.append(rect(c * cell, r * cell, cell, cell, class_="input"))
    else:
        out.append(rect(c0 * cell, r0 * cell, (c1 - c0) * cell, (r1 - r0) * cell, class_="input"))
    for n, ax in ((0, rows), (1, cols)):
        for start, stop in ax.unused():
            if start >= ax.view:
                continue
            stop_v = min(stop, ax.view)
            extent = (rows if n else cols).view * cell
            box = (
                (0, start * cell, extent, (stop_v - start) * cell)
                if n == 0
                else (start * cell, 0, (stop_v - start) * cell, extent)
            )
            out.append(rect(*box, class_="unused", data_axis=n, data_start=start, data_stop=stop))
    return out


def _grid(nrows: int, ncols: int, cell: float) -> str:
    """Cell borders as one path."""
    if cell < 4:
        return ""
    w, h = ncols * cell, nrows * cell
    parts = [f"M{num(c * cell)} 0V{num(h)}" for c in range(1, ncols)]
    parts += [f"M0 {num(r * cell)}H{num(w)}" for r in range(1, nrows)]
    return f'<path class="grid" d="{"".join(parts)}"/>' if parts else ""


def _window(rows: Axis, cols: Axis, cell: float, animate: bool) -> list[str]:
    """The first window's taps and outline; the next window along the columns outlined, with
    the stride step marked (or, animated, the window moving over every position)."""
    inset = max(0.5, cell * 0.12)
    taps = [
        rect(
            c * cell + inset,
            r * cell + inset,
            cell - 2 * inset,
            cell - 2 * inset,
            class_="tap",
            data_row=r,
            data_col=c,
        )
        for r in rows.seen(rows.taps)
        for c in cols.seen(cols.taps)
    ]
    outline = rect(
        0, 0, min(cols.span, cols.view) * cell, min(rows.span, rows.view) * cell, class_="window"
    )
    group = ['<g class="first-window">', outline, *taps]
    if animate:
        group.append(_motion(rows, cols, cell, out_cells=False))
    group.append("</g>")
    if animate or cols.windows < 2:
        return group
    shift = cols.step
    thin = max(0.6, min(2.0, cell / 8))  # an attribute: the page's CSP refuses style=""
    second = [
        rect(
            (c + shift) * cell + inset,
            r * cell + inset,
            cell - 2 * inset,
            cell - 2 * inset,
            class_="tap2",
            data_row=r,
            data_col=c + shift,
            stroke_width=thin,
        )
        for r in rows.seen(rows.taps)
        for c in cols.seen(cols.taps)
        if c + shift < cols.view
    ]
    y = -4
    arrow = (
        [
            line(0, y, shift * cell, y, class_="stride", marker_end="url(#arrow)"),
            text(shift * cell + 4, y + 3, f"s={shift}", class_="small"),
        ]
        if shift
        else []
    )
    return group + ['<g class="next-window">', *second, "</g>", *arrow]


def frames(rows: Axis, cols: Axis) -> list[tuple[int, int]]:
    """Window positions (row, column index) the animation visits: row-major, within view."""

    def fits(ax):
        last = (ax.view - ax.span) // ax.step if ax.view >= ax.span else -1
        return list(range(min(ax.windows, last + 1, MAX_FRAMES))) or [0]

    return [(r, c) for r in fits(rows) for c in fits(cols)][:MAX_FRAMES]


def _motion(rows: Axis, cols: Axis, cell: float, out_cells: bool) -> str:
    """SMIL: step through the window positions, one per 0.4 s (no JavaScript)."""
    steps = frames(rows, cols)
    if out_cells:
        values = ";".join(f"{num(c * cell)} {num(r * cell)}" for r, c in steps)
    else:
        values = ";".join(
            f"{num(c * cols.step * cell)} {num(r * rows.step * cell)}" for r, c in steps
        )
    return (
        f'<animateTransform attributeName="transform" type="translate" values="{values}" '
        f'dur="{num(0.4 * len(steps))}s" calcMode="discrete" repeatCount="indefinite"/>'
    )


def _scale_outline(out: list, rows: Axis, cols: Axis, x: float, y: float) -> float:
    """A small to-scale outline of the whole padded input with the drawn corner marked."""
    side = 80.0
    scale = side / max(rows.size, cols.size)
    out.append(rect(x, y, cols.size * scale, rows.size * scale, class_="pad"))
    out.append(rect(x, y, cols.view * scale, rows.view * scale, class_="crop"))
    out.append(text(x, y + rows.size * scale + 14, "whole input", class_="small"))
    return side + 10


def render_solve(data: dict, animate: bool = False) -> str:
    """The SVG document of a `solve` result's data."""
    title = _title(data)
    body, top, width = [], 0.0, 300.0
    if "axes" in data:  # --per-axis: one 1-D diagram per axis and shown row
        items: list[tuple] = [
            (row, [(ax["input"], ax["output"])], f"axis {ax['axis']}: ")
            for ax in data["axes"]
            for row in ax["solutions"]
        ]
    else:
        items = [(row, None, "") for row in data.get("solutions", [])]
    count = data.get("count", len(items))
    head = [title]
    if len(items) > MAX_DIAGRAMS:
        head.append(
            f"the first {MAX_DIAGRAMS} of {len(items)} shown solutions are drawn "
            "(--limit N chooses how many)"
        )
    elif len(items) < count and "axes" not in data:
        head.append(f"{len(items)} of {count} solutions drawn (--limit)")
    if not items:
        near = ", ".join("x".join(map(str, n["output"])) for n in data.get("nearest", []))
        head.append("no solution" + (f"; nearest reachable outputs: {near}" if near else ""))
    body += [
        text(8, 18 + 16 * n, h, class_="caption" if not n else "small") for n, h in enumerate(head)
    ]
    top = 16 * len(head) + 10
    if items:
        legend, width = _legend(top)
        body += legend
        top += 22
    for row, sizes, label in items[:MAX_DIAGRAMS]:
        elements, w, h = panel(data, row, top, animate, sizes, label)
        body.append('<g class="solution">')
        body += elements
        body.append("</g>")
        width = max(width, w)
        top += h + 12
    arrow = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0 0L10 5L0 10z" fill="#e07b00"/>'
        "</marker></defs>"
    )
    return document(width, top + 8, [DEFS, arrow, *body], title, STYLE)


LEGEND = (
    ("pad", "padding"),
    ("input", "input"),
    ("tap", "kernel taps"),
    ("tap2", "next window"),
    ("unused", "not read"),
    ("out-first", "its output"),
)


def _legend(y: float) -> tuple[list[str], float]:
    """One row of swatches naming the colours, and its width."""
    out, x = ['<g class="legend">'], 8.0
    for cls, name in LEGEND:
        out.append(rect(x, y + 2, 12, 12, class_=cls, stroke_width=2 if cls == "tap2" else None))
        out.append(text(x + 16, y + 12, name, class_="small"))
        x += 24 + 6.5 * len(name)
    out.append("</g>")
    return out, x


def _title(data: dict) -> str:
    from ..kinds.registry import kinds

    layer = data.get("layer", "layer")
    kind = kinds().lookup(layer)
    shape = "x".join
    return (
        f"{cast('Window', kind.window).what if kind and kind.window else layer} "
        f"{shape(map(str, data['input']))} -> {shape(map(str, data['output']))}: "
        f"{data.get('count', 0)} solution{'s' if data.get('count', 0) != 1 else ''}"
    )
