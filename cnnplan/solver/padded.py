"""`cnnplan solve --padding same_upper|same_lower|explicit`: window layers under TensorFlow's,
ONNX's and JAX's padding rules (docs/frameworks.md), in closed form.

- same_upper / same_lower: o = ceil(i / s) whatever k and d (the padding follows from i, k'
  and s), so the answer is the strides s with ceil(i/s) = o on every axis, each with every
  k and d within the bounds (listed one by one only when --where must look at them).
- explicit: (before, after) padding of any split; only the total t matters for the size,
  o = floor((i + t - k')/s) + 1 with 0 <= t <= 2(k' - 1), so each (k, s, d) answers with an
  interval of totals (exact mode: the one total with no unused row).
"""

from __future__ import annotations

from ..kinds.arithmetic import SAME_RULES, dilation_counts, effective_kernel, same_output
from ..kinds.shape import format_shape
from ..platform.errors import BadInput
from ..platform.result import Result, Table

PADDINGS = ("torch", *SAME_RULES, "explicit")
MAX_ROWS = 20_000  # as solver/layer.py: rows shown without --limit
MAX_SOLUTIONS = 250_000


def same_strides(inputs, outputs, top: int) -> list[int]:
    """Strides 1..top with ceil(i/s) = o on every axis: (o-1)s < i <= o s.

    >>> same_strides((224,), (112,), 256), same_strides((7,), (1,), 9)
    ([2], [7, 8, 9])
    """
    lo, hi = 1, top
    for i, o in zip(inputs, outputs):
        lo = max(lo, -(-i // o))
        if o > 1:
            hi = min(hi, (i - 1) // (o - 1))
    return list(range(lo, hi + 1))


def explicit_totals(i: int, o: int, ke: int, s: int, exact: bool) -> tuple[int, int] | None:
    """Total paddings t in [0, 2(k'-1)] with floor((i + t - k')/s) + 1 = o (exact: s divides
    i + t - k'), as an inclusive range, or None.

    >>> explicit_totals(224, 112, 3, 2, False), explicit_totals(224, 112, 3, 2, True)
    ((1, 2), (1, 1))
    """
    least = (o - 1) * s + ke - i  # the total with no unused row
    if exact:
        return (least, least) if 0 <= least <= 2 * (ke - 1) else None
    lo, hi = max(0, least), min(2 * (ke - 1), o * s + ke - i - 1)
    return (lo, hi) if lo <= hi else None


def _range_text(lo, hi):
    return str(lo) if lo == hi else f"{lo}..{hi}"


def solve_padded(question, padding: str, bounds: dict, conditions, limit) -> Result:
    """The Result of one `solve --padding` question (`question`: solver.layer.Question)."""
    if question.convT:
        raise BadInput(
            "--padding same_upper, same_lower and explicit are for convolutions and "
            "pooling; transposed convolutions take PyTorch's padding"
        )
    if question.ceil:
        raise BadInput(
            f"--ceil with --padding {padding}: "
            + (
                "same padding already gives ceil(i/s)"
                if padding in SAME_RULES
                else "give ceil mode's rule through --padding torch"
            )
        )
    if any("p" in c.names for c in conditions):
        raise BadInput(
            f"--where over p: with --padding {padding} the padding is not a "
            "free number; constrain k, s and d"
        )
    inputs, outputs = question.shape_in[1:], question.shape_out[1:]
    doms = question.domains
    ks, ss, ds = doms["k"], doms["s"], doms["d"]
    rows = []
    if padding in SAME_RULES:
        for s in same_strides(inputs, outputs, ss[-1]):
            if s < ss[0]:
                continue
            if conditions:
                rows += [
                    {"k": k, "s": s, "d": d, "p": padding}
                    for d in ds
                    for k in ks
                    if dilation_counts(k, d)
                    and all(c({"k": k, "s": s, "d": d}) for c in conditions)
                ]
            else:
                rows.append({"k": [ks[0], ks[-1]], "s": s, "d": [ds[0], ds[-1]], "p": padding})
            _check(rows, limit)
    else:
        exact = question.mode == "exact"
        for d in ds:
            for k in ks:
                if not dilation_counts(k, d):
                    continue
                ke = effective_kernel(k, d)
                for s in _explicit_strides(inputs, outputs, ke, ss):
                    if conditions and not all(c({"k": k, "s": s, "d": d}) for c in conditions):
                        continue
                    found = [explicit_totals(i, o, ke, s, exact) for i, o in zip(inputs, outputs)]
                    spans = [span for span in found if span is not None]
                    if len(spans) < len(found):
                        continue
                    lo, hi = max(a for a, _ in spans), min(b for _, b in spans)
                    if lo <= hi:
                        rows.append({"k": k, "s": s, "d": d, "p_total": [lo, hi]})
                        _check(rows, limit)
    shown = rows if limit is None else rows[:limit]
    table = []
    for row in shown:
        k, d = row["k"], row["d"]
        p = row.get("p") or f"total {_range_text(*row['p_total'])}"
        table.append(
            (
                _range_text(*k) if isinstance(k, list) else k,
                row["s"],
                p,
                _range_text(*d) if isinstance(d, list) else d,
            )
        )
    n = len(rows)
    what = question.window.what
    title = (
        f"{what} {format_shape(question.shape_in)} -> {format_shape(question.shape_out)} "
        f"with {padding} padding: {n} solution{'s' if n != 1 else ''}"
    )
    notes = []
    if padding in SAME_RULES:
        notes.append(
            f"{padding}: o = ceil(i/s) whatever k and d; the padding is "
            "t = max((o-1)s + k' - i, 0), floor(t/2) "
            + ("before" if padding == "same_upper" else "after")
            + " and the rest "
            + ("after" if padding == "same_upper" else "before")
            + (
                " (TensorFlow/Keras 'same', ONNX SAME_UPPER, JAX 'SAME')"
                if padding == "same_upper"
                else " (ONNX SAME_LOWER, JAX 'SAME_LOWER')"
            )
        )
        if rows and not conditions:
            notes.append(
                "a row with k and d ranges stands for every k and d in them (k = 1 only with d = 1)"
            )
    else:
        notes.append(
            "explicit: any (before, after) with before + after = total gives this "
            "size (ONNX pads, JAX pairs): o = floor((i + t - k')/s) + 1, "
            "t <= 2(k'-1)"
        )
    if not rows:
        reach = sorted({tuple(same_output(i, s) for i in inputs) for s in ss})
        near = sorted(reach, key=lambda v: sum(abs(a - b) for a, b in zip(v, outputs)))[:3]
        if padding in SAME_RULES:
            notes.append(
                "nearest sizes "
                + padding
                + " reaches: "
                + ", ".join("x".join(map(str, v)) for v in near)
            )
    data = {
        "layer": question.kind,
        "padding": padding,
        "mode": question.mode,
        "input": list(question.shape_in),
        "output": list(question.shape_out),
        "bounds": {name: list(b) for name, b in bounds.items()},
        "count": n,
        "solutions": shown,
    }
    return Result(
        title=title,
        facts=(("padding", padding), ("solutions", n)),
        tables=(Table(("k", "s", "p", "d"), tuple(table)),) if rows else (),
        notes=tuple(notes),
        data=data,
        exit_code=0 if rows else 1,
        kind="solve-padded",
    )


def _explicit_strides(inputs, outputs, ke: int, ss: list) -> range:
    """The strides of `ss` for which some total t in [0, 2(k'-1)] can work on every axis:
    (o-1)s <= i + k' - 2 and o s >= i - k' + 1."""
    lo, hi = ss[0], ss[-1]
    for i, o in zip(inputs, outputs):
        lo = max(lo, -(-(i - ke + 1) // o))
        if o > 1:
            hi = min(hi, (i + ke - 2) // (o - 1))
    return range(lo, hi + 1)


def _check(rows, limit):
    if len(rows) > MAX_SOLUTIONS:
        raise BadInput(
            f"more than {MAX_SOLUTIONS:,} solutions; narrow the search with --fix, --max or --where"
        )
    if limit is None and len(rows) > MAX_ROWS:
        raise BadInput(
            f"more than {MAX_ROWS:,} solutions; add --limit N or narrow the search "
            "with --fix, --max or --where"
        )
