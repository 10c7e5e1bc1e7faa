"""The derivation of each output position, as the assignment writes it.

1-D: the zero-padded signal and the (flipped or not) kernel aligned beneath it, padded with
zeros to the same length, e.g. `[0, 0, 1, 2, 3, 4] * [2, 0, 1, 0, 0, 0]`, then the products
and their sum. 2-D: the window of the padded signal under the kernel, the kernel, the products
and the sum (and the padded signal itself when it is small). Long rows are cut to the window
and big outputs to their first positions; a note says so.
"""

from __future__ import annotations

from cnnplan import Table
from cnnplan import format_value

from .arrays import Grid, format_array
from .compute import as_two_axes, is_exact, taps, total
from .padding import Axis

MAX_STEPS = 24      # output positions derived per mode
MAX_WIDTH = 16      # values shown in one aligned row
MAX_TERMS = 12      # products written out in one sum
MAX_PADDED = 16     # largest padded 2-D signal shown as a table (per side)


def derivation(mode: str, signal: Grid, kernel: Grid, axes: tuple[Axis, ...] | None,
               flipped: bool) -> tuple[tuple[Table, ...], tuple[str, ...]]:
    """Tables deriving `mode` position by position (kernel as used), and notes on what was cut."""
    if axes is None:
        return (), ()
    what = "flipped kernel" if flipped else "kernel"
    if signal.ndim == 1:
        return _steps_1d(mode, signal, kernel, axes, what)
    return _steps_2d(mode, signal, kernel, axes, what)


def _steps_1d(mode, signal, kernel, axes, what):
    (axis,) = axes
    x, w = signal.rows[0], kernel.rows[0]
    exact = is_exact(signal, kernel)
    shown = min(axis.output, MAX_STEPS)
    rows, cut = [], False
    for j in range(shown):
        start = j * axis.stride - axis.before
        end = start + axis.span - 1
        full_lo, full_hi = min(0, start), max(len(x) - 1, end)  # signal and window together
        lo, hi = full_lo, full_hi
        if hi - lo + 1 > MAX_WIDTH:
            lo, hi, cut = start, min(end, start + MAX_WIDTH - 1), True
        seg = [x[t] if 0 <= t < len(x) else 0 for t in range(lo, hi + 1)]
        under = [w[(t - start) // axis.dilation]
                 if start <= t <= end and (t - start) % axis.dilation == 0 else 0
                 for t in range(lo, hi + 1)]
        pairs = [(v, wt) for _, v, wt in taps(signal, kernel, axes, 0, j)]
        rows.append((j, _cut_list(seg, lo > full_lo, hi < full_hi),
                     _cut_list(under, lo > full_lo, hi < full_hi),
                     _products(pairs), total([v * wt for v, wt in pairs], exact)))
    table = Table(("position", "padded signal", f"{what} beneath", "products", "sum"),
                  tuple(rows), title=f"{mode}, step by step: signal with {_zeros(axis)}, "
                                      f"{what} aligned beneath")
    notes = []
    if shown < axis.output:
        notes.append(f"{mode}: steps shown for the first {shown} of {axis.output} positions; "
                     "the rest follow the same pattern.")
    if cut:
        notes.append(f"{mode}: rows longer than {MAX_WIDTH} values are cut to the window (...).")
    return (table,), tuple(notes)


def _steps_2d(mode, signal, kernel, axes, what):
    ra, ca = as_two_axes(axes)
    exact = is_exact(signal, kernel)
    per_row = ca.output
    positions = ([(0, c) for c in range(MAX_STEPS)] if per_row > MAX_STEPS else
                 [(r, c) for r in range(min(ra.output, max(1, MAX_STEPS // per_row)))
                  for c in range(per_row)])
    kernel_text = format_array(kernel.tolist())
    rows = []
    for r, c in positions:
        pairs = [(v, wt) for _, v, wt in taps(signal, kernel, axes, r, c)]
        window = [[v for v, _ in pairs[n:n + len(kernel.rows[0])]]
                  for n in range(0, len(pairs), len(kernel.rows[0]))]
        rows.append((f"({r}, {c})", format_array(window), kernel_text, _products(pairs),
                     total([v * wt for v, wt in pairs], exact)))
    tables = []
    padded = _padded_table(mode, signal, ra, ca)
    if padded:
        tables.append(padded)
    tables.append(Table(("position", "window", what, "products", "sum"), tuple(rows),
                        title=f"{mode}, step by step: window of the padded signal under the "
                              f"{what}"))
    notes = []
    total_positions = ra.output * ca.output
    if len(positions) < total_positions:
        shown_rows = len({r for r, _ in positions})
        notes.append(f"{mode}: steps shown for the first {len(positions)} of {total_positions} "
                     f"positions (output row{'s' if shown_rows > 1 else ''} 0"
                     f"{f'-{shown_rows - 1}' if shown_rows > 1 else ''} of {ra.output}); "
                     "the rest follow the same pattern.")
    if not padded:
        notes.append(f"{mode}: the padded signal is larger than {MAX_PADDED}x{MAX_PADDED}; "
                     "it is not shown.")
    return tuple(tables), tuple(notes)


def _padded_table(mode, signal, ra: Axis, ca: Axis) -> Table | None:
    height, width = len(signal.rows), len(signal.rows[0])
    ys = range(-ra.before, height + ra.after)
    xs = range(-ca.before, width + ca.after)
    if len(ys) > MAX_PADDED or len(xs) > MAX_PADDED:
        return None
    rows = tuple((y, *(signal.rows[y][x] if 0 <= y < height and 0 <= x < width else 0
                       for x in xs)) for y in ys)
    return Table(("row", *(str(x) for x in xs)), rows,
                 title=f"{mode}: zero-padded signal (rows {_zeros(ra, 'top', 'bottom')}; "
                       f"columns {_zeros(ca)}; indices of the original signal)")


def _zeros(axis: Axis, before: str = "left", after: str = "right") -> str:
    if axis.before == axis.after == 0:
        return "no zeros"
    if axis.before == axis.after:
        return f"{axis.before} zero{'s' if axis.before != 1 else ''} each side"
    return f"{axis.before} zero{'s' if axis.before != 1 else ''} {before}, {axis.after} {after}"


def _factor(value) -> str:
    text = format_value(value)
    return f"({text})" if text.startswith("-") else text


def _products(pairs) -> str:
    terms = [f"{_factor(v)}×{_factor(w)}" for v, w in pairs]
    if len(terms) > MAX_TERMS:
        terms = terms[:MAX_TERMS - 2] + ["..."] + terms[-1:]
    return " + ".join(terms)


def _cut_list(values, cut_before: bool, cut_after: bool) -> str:
    parts = [format_value(v) for v in values]
    return "[" + ", ".join((["..."] if cut_before else []) + parts +
                           (["..."] if cut_after else [])) + "]"

