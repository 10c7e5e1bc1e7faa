"""The `conv` solver: full, same and valid convolution (or cross-correlation) as a cnnplan Result."""

from __future__ import annotations

from dataclasses import dataclass

from cnnplan import BadInput, Result, Table

from .arrays import Grid, as_grid, format_array, format_shape
from .compute import slide, work
from .padding import CONVENTIONS, MODES, Axis, describe_padding, plan_mode, solve_command
from .steps import derivation

MODE_CHOICES = ("all", *MODES)
MAX_WORK = 4_000_000     # multiplications per question (every mode asked, both 'same' conventions)
MAX_STEP = 10_000        # largest stride or dilation
SUMMARY_CHARS = 60       # arrays longer than this are abbreviated in titles, facts and notes
CONVENTION_TEXT = {
    "numpy": "numpy (numpy.convolve/correlate, scipy.signal.convolve2d/correlate): "
             "an even kernel's extra zero goes before (left, top)",
    "torch": "torch (PyTorch and TensorFlow padding='same', scipy.signal.correlate2d): "
             "an even kernel's extra zero goes after (right, bottom)",
}


@dataclass(frozen=True)
class Question:
    """A checked question: the arrays, the kernel as slid (flipped or not) and the options."""

    signal: Grid
    kernel: Grid
    correlate: bool
    same: str
    stride: int
    dilation: int

    @property
    def used(self) -> Grid:
        return self.kernel if self.correlate else self.kernel.flipped()

    @property
    def deep(self) -> bool:
        """The deep-learning form: a stride or dilation other than 1."""
        return self.stride != 1 or self.dilation != 1

    def plan(self, mode: str, convention: str | None = None) -> tuple[Axis, ...] | None:
        return plan_mode(mode, self.signal.shape, self.kernel.shape, correlate=self.correlate,
                         convention=convention or self.same, stride=self.stride,
                         dilation=self.dilation)


def conv(signal, kernel, mode: str = "all", correlate: bool = False, same: str = "numpy",
         stride: int = 1, dilation: int = 1, steps: bool = False) -> Result:
    """Full, same and valid convolution (kernel flipped) or cross-correlation of two arrays.

    `signal` and `kernel` are array text ("1,2,3,4", "[[1,2],[3,4]]") or lists; `mode` is
    all, full, same or valid; `same` picks the centring convention (numpy or torch);
    `stride` and `dilation` apply to cross-correlation (the deep-learning form).

    >>> conv("1,2,3,4", "1,0,2").data["same"]
    [2, 5, 8, 6]
    """
    q = _question(signal, kernel, mode, correlate, same, stride, dilation)
    modes = MODES if mode == "all" else (mode,)
    plans = {m: q.plan(m) for m in modes}
    other = next(c for c in CONVENTIONS if c != same)
    other_plan = q.plan("same", other) if "same" in modes else None
    needed = sum(work(q.kernel, p) for p in (*plans.values(), other_plan))
    if needed > MAX_WORK:
        raise BadInput(f"this needs {needed:,} multiplications; the limit is {MAX_WORK:,} "
                       "(use smaller arrays or fewer modes)")
    outputs = {m: slide(q.signal, q.used, plans[m]) for m in modes}

    operation = "cross-correlation" if correlate else "convolution"
    data = {"signal": q.signal.tolist(), "kernel": q.kernel.tolist(), "operation": operation,
            **outputs}
    if "same" in modes:
        data["same_convention"] = same
    if q.deep:
        data.update(stride=stride, dilation=dilation)

    tables = [_modes_table(q.signal, modes, plans, outputs)]
    if q.signal.ndim == 2:
        tables += [_matrix_table(m, outputs[m]) for m in modes if outputs[m]]
    notes = _notes(q, modes, plans)
    if "same" in modes:
        notes += _same_notes(q, plans["same"], outputs["same"], other, other_plan)
    if "valid" in modes:
        notes += _valid_notes(q, plans["valid"])
    if steps:
        for m in modes:
            step_tables, step_notes = derivation(m, q.signal, q.used, plans[m],
                                                 flipped=not correlate)
            tables += step_tables
            notes += step_notes

    empty = all(plans[m] is None for m in modes)
    title = (f"{operation} of {_summary(q.signal, False)} with {_summary(q.kernel, False)}: "
             f"{', '.join(modes)}{' (no output)' if empty else ''}")
    return Result(title=title, facts=_facts(q, modes), tables=tuple(tables), notes=tuple(notes),
                  data=data, exit_code=1 if empty else 0, kind="conv")


def _question(signal, kernel, mode, correlate, same, stride, dilation) -> Question:
    """Parse the arrays and check every option; BadInput names the first problem."""
    x, w = as_grid(signal, "signal"), as_grid(kernel, "kernel")
    if mode not in MODE_CHOICES:
        raise BadInput(f"unknown mode {mode!r}; choose one of: {', '.join(MODE_CHOICES)}")
    if same not in CONVENTIONS:
        raise BadInput(f"unknown 'same' convention {same!r}; choose one of: "
                       f"{', '.join(CONVENTIONS)}")
    for name, value in (("stride", stride), ("dilation", dilation)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEP:
            raise BadInput(f"--{name} must be a whole number from 1 to {MAX_STEP:,}, not {value!r}")
    if (stride != 1 or dilation != 1) and not correlate:
        raise BadInput("--stride and --dilation apply to cross-correlation, the deep-learning "
                       "form: add --correlate")
    if x.ndim != w.ndim:
        raise BadInput(f"the signal is {_kind(x)} but the kernel is {_kind(w)}; give both as "
                       "1-D lists or both as 2-D matrices")
    return Question(x, w, bool(correlate), same, stride, dilation)


def _kind(g: Grid) -> str:
    return f"1-D ({g.shape[0]} values)" if g.ndim == 1 else f"2-D ({format_shape(g.shape)})"


def _summary(g: Grid, with_shape: bool = True) -> str:
    text = format_array(g)
    shape = f"length {g.shape[0]}" if g.ndim == 1 else format_shape(g.shape)
    if len(text) > SUMMARY_CHARS:
        return f"a {shape} {'list' if g.ndim == 1 else 'matrix'}"
    return f"{text} ({shape})" if with_shape else text


def _brief(values) -> str:
    text = format_array(values)
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 5] + " ...]"


def _facts(q: Question, modes) -> tuple:
    facts = [("signal", _summary(q.signal)), ("kernel", _summary(q.kernel)),
             ("operation", "cross-correlation: the kernel slides unflipped" if q.correlate else
              f"convolution: the kernel is flipped to {_summary(q.used, False)}")]
    if q.deep:
        facts += [("stride", q.stride), ("dilation", q.dilation)]
    if "same" in modes:
        facts.append(("same convention", CONVENTION_TEXT[q.same]))
    return tuple(facts)


def _size(axes: tuple[Axis, ...] | None, ndim: int):
    if axes is None:
        return 0 if ndim == 1 else "0"
    return axes[0].output if ndim == 1 else format_shape(tuple(a.output for a in axes))


def _modes_table(x: Grid, modes, plans, outputs) -> Table:
    def layer(m):
        return (_size(plans[m], x.ndim), describe_padding(plans[m]) if plans[m] else "",
                solve_command(plans[m]) if plans[m] else "")

    if x.ndim == 1:
        columns = ("mode", "output", "size", "zeros (before, after)", "as a cnnplan layer")
        rows = tuple((m, format_array(outputs[m]), *layer(m)) for m in modes)
    else:
        columns = ("mode", "size", "zeros (before, after): rows x cols", "as a cnnplan layer")
        rows = tuple((m, *layer(m)) for m in modes)
    return Table(columns, rows, title="modes")


def _matrix_table(mode: str, matrix) -> Table:
    columns = ("row", *(str(c) for c in range(len(matrix[0]))))
    return Table(columns, tuple((r, *row) for r, row in enumerate(matrix)),
                 title=f"{mode} ({len(matrix)}x{len(matrix[0])})")


def _notes(q: Question, modes, plans) -> list[str]:
    notes = [
        "Cross-correlation slides the kernel as given, as deep-learning 'convolution' layers "
        "do; without --correlate the kernel is flipped first." if q.correlate else
        "Convolution flips the kernel and slides it along the zero-padded signal; --correlate "
        "slides it unflipped, as deep-learning layers do.",
        "size = floor((i + before + after - k')/s) + 1 with k' = d(k-1) + 1, from "
        "cnnplan.kinds.arithmetic.conv_output; the last column is the same layer for cnnplan solve "
        "(one channel).",
    ]
    if any(p and any(a.extra for a in p) for p in plans.values()):
        notes.append("The core pads both sides equally, so an uneven padding is given to "
                     "cnnplan solve as p = min(before, after) on a signal lengthened by the "
                     "difference.")
    return notes


def _same_notes(q: Question, axes, result, other: str, other_axes) -> list[str]:
    notes = []
    x, w = q.signal, q.kernel
    if q.same == "numpy" and x.ndim == 1 and not q.deep and w.shape[0] > x.shape[0]:
        notes.append(f"same: the kernel is longer than the signal, so numpy swaps them and "
                     f"'same' has the kernel's length {w.shape[0]} (scipy.signal.convolve and "
                     f"correlate keep the signal's length {x.shape[0]}).")
    if q.stride > 1:
        notes.append(
            "same with a stride: numpy has no stride, so its convention keeps the stride-1 "
            "padding and takes every s-th output: ceil(i/s) outputs." if q.same == "numpy" else
            "same with a stride: PyTorch refuses padding='same' with a stride, so the torch "
            "convention uses TensorFlow's rule (total zeros max((ceil(i/s)-1)s + k' - i, 0), "
            "the odd one after): ceil(i/s) outputs.")
    other_result = slide(x, q.used, other_axes)
    pads, other_pads = describe_padding(axes), describe_padding(other_axes)
    if pads == other_pads:
        notes.append(f"same: the numpy and torch conventions agree for this input (both pad "
                     f"{pads}).")
    elif other_result == result:
        notes.append(f"same: the {other} convention pads {other_pads} instead of {pads} but "
                     "gives the same values for this input.")
    else:
        notes.append(f"same: the {other} convention pads {other_pads} instead of {pads} and "
                     f"gives {_brief(other_result)}{_differences(result, other_result)}.")
    return notes


def _differences(a, b) -> str:
    """', differing at positions 0, 3' (or ' (a different size)')."""
    if len(a) != len(b) or (isinstance(a[0], list) and len(a[0]) != len(b[0])):
        return " (a different size)"
    if isinstance(a[0], list):
        places = [f"({r}, {c})" for r, (ra, rb) in enumerate(zip(a, b))
                  for c, (u, v) in enumerate(zip(ra, rb)) if u != v]
    else:
        places = [str(n) for n, (u, v) in enumerate(zip(a, b)) if u != v]
    shown = ", ".join(places[:8]) + (f", ... ({len(places)} in all)" if len(places) > 8 else "")
    return f", differing at position{'s' if len(places) > 1 else ''} {shown}"


def _valid_notes(q: Question, axes) -> list[str]:
    if axes is None and q.deep:
        return ["valid: no output: the kernel's span d(k-1) + 1 exceeds the signal on some "
                "axis, so no window fits (PyTorch raises an error here; numpy's and scipy's "
                "swap of the arrays applies only with stride 1 and dilation 1)."]
    if axes is None:
        return ["valid: no output: the kernel is larger than the signal on one axis and "
                "smaller on the other, so neither fits inside the other (scipy.signal "
                "raises an error here)."]
    if any(a.before for a in axes):
        return ["valid: the kernel is longer than the signal, so numpy and scipy swap them: the "
                "signal slides inside the kernel (k - i zeros each side; PyTorch raises an "
                "error instead)."]
    return []
