"""`cnnplan solve`: every (k, s, p, d) that turns one shape into another, as a Result.

Convolutions and pooling in floor and exact mode, ceil-mode pooling and transposed
convolutions all come from the planner's closed-form enumerations (solver/windows.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ..kinds.arithmetic import MODES, effective_kernel, unused_rows
from ..kinds.registry import kinds
from ..kinds.shape import format_shape, layout_hints, parse_shape
from ..language.options import format_ranges, parse_assignments
from ..platform import arguments
from ..platform.budget import budgeted
from ..platform.errors import BadInput, unknown_message
from ..platform.result import Result, Table
from .bounds import MAX_BOUND, MAX_SOLUTIONS, make_domains, resolve_bounds
from .search import VARIABLES, Geometry, SearchTooLarge, solutions

if TYPE_CHECKING:
    from ..kinds.records import Window

MAX_OUTER = 2_000_000  # (d, p) pairs the search may visit
MAX_ROWS = 20_000  # rows a listing may print without --limit (about a second)
SORTS = ("simple", "weights", "params", "macs")  # simple: d, then p, k, s ascending


@budgeted
def solve(
    input,
    output,
    layer: str = "conv",
    fix=None,
    max=None,
    mode: str = "floor",
    where=(),
    sort: str = "simple",
    limit: int | None = None,
    explain: bool = False,
    per_axis: bool = False,
    ceil: bool = False,
    padding: str = "torch",
) -> Result:
    """Every (k, s, p, d) (and for convT the output padding op) for which a `layer` (conv,
    convT, maxpool or avgpool, pool = maxpool, or a plugin's window kind: any registered kind
    with a cnnplan.kinds.Window) maps `input` onto `output` (see README.md,
    `cnnplan solve`); with `per_axis`, every axis solved on its own (rectangular windows). Each
    row says how many padded rows go unused after the last window (`mode="exact"` keeps only
    rows with none).

    >>> solve("3x64x64", "64x32x32", fix={"k": 8, "d": 1}).data["count"]
    1
    """
    for value, name in ((layer, "layer"), (mode, "mode"), (sort, "sort")):
        arguments.choice(value, name)
    fix, max = arguments.assignments(fix, "fix"), arguments.assignments(max, "max")
    where = arguments.texts(where, "where")
    limit = arguments.whole(limit, "limit")
    shape_in, shape_out = parse_shape(input, "--in"), parse_shape(output, "--out")
    if len(shape_in) != len(shape_out):
        raise BadInput(
            f"--in {format_shape(shape_in)} has {len(shape_in) - 1} spatial axes but "
            f"--out {format_shape(shape_out)} has {len(shape_out) - 1}"
        )
    from ..language.specs import WINDOW_WORDS

    kind = _choice(layer, window_words(), "layer")
    check_alias_dims(layer, kind, shape_in)
    window = cast("Window", kinds()[kind].window)  # a window kind: registration made it a Window
    mode = _choice(mode, {m: m for m in MODES}, "mode")
    sort = _choice(sort, {s: s for s in SORTS}, "sort")
    if limit is not None and limit < 0:
        raise BadInput(f"--limit {limit} is negative")
    if ceil and not window.ceil:
        raise BadInput(f"--ceil is pooling's ceil_mode; --layer {kind} has none")
    if not window.channels and shape_in[0] != shape_out[0]:
        raise BadInput(
            f"{window.what} keeps the channels: --in has {shape_in[0]}, --out has {shape_out[0]}"
        )
    convT = window.rule == "convT"
    fixed = parse_assignments(fix, VARIABLES + (("op",) if convT else ()), "--fix")
    op = fixed.pop("op", None)
    if op is not None and not 0 <= op <= MAX_BOUND:
        raise BadInput(f"--fix op={op} is outside 0 to {MAX_BOUND}")
    maxima = parse_assignments(max, VARIABLES, "--max")
    for name, value in window.fixed:
        if fixed.get(name, value) != value:
            raise BadInput(f"{window.what} has no {WINDOW_WORDS[name]} ({name} is {value})")
        fixed[name] = value
    conditions = _conditions(where)
    for condition in conditions:
        if not condition.names:
            raise BadInput(f"--where {condition.text!r} mentions none of {', '.join(VARIABLES)}")
    sizes = shape_in[1:] + (shape_out[1:] if convT else ())
    bounds = resolve_bounds(sizes, fixed, maxima)
    domains = make_domains(bounds, fixed)
    _check_work(domains)
    question = Question(kind, ceil, mode, shape_in, shape_out, domains, tuple(conditions), op)
    from .padded import PADDINGS

    padding = _choice(padding, {p: p for p in PADDINGS}, "padding")
    if padding != "torch":
        if "p" in fixed or per_axis or sort != "simple":
            raise BadInput(
                f"--padding {padding} sets the padding: leave out "
                + ("--fix p" if "p" in fixed else "--per-axis" if per_axis else "--sort")
            )
        from .padded import solve_padded

        return solve_padded(question, padding, bounds, conditions, limit)
    if per_axis:
        return _per_axis(question, bounds, fixed, limit)
    rows = question.rows(shape_in[1:], shape_out[1:])
    check_rows(len(rows), limit)
    if sort != "simple":
        rows.sort(key=lambda r: (question.costs(r)[sort], simple_key(r)))
    shown = [question.solution(row) for row in (rows if limit is None else rows[:limit])]
    return _result(question, bounds, fixed, sort, len(rows), shown, explain)


def window_words() -> dict:
    """`--layer` words, lower case -> window kind: the registry's window kinds with their
    aliases (the words a spec takes: conv2d, ConvTranspose2d, pool, ...)."""
    return kinds().windows()


def check_alias_dims(word: str, kind: str, shape) -> None:
    """A PyTorch class name says how many spatial axes it takes (Conv1d: 1); BadInput when
    `shape` (C x sizes) has another number."""
    lower = word.lower()
    if lower[-2:] in ("1d", "2d", "3d") and lower != kind.lower():
        n = int(lower[-2])
        if len(shape) - 1 != n:
            raise BadInput(
                f"--layer {word} takes {n}-D inputs (C x {n} size{'s' * (n > 1)}), "
                f"but --in {format_shape(shape)} has {len(shape) - 1} spatial axes; "
                f"--layer {kind} takes any"
            )


def check_rows(n: int, limit: int | None, what: str = "this question") -> None:
    """Refuse to print more than MAX_ROWS rows unless --limit says how many (the count of
    solutions is reported either way)."""
    if limit is None and n > MAX_ROWS:
        raise BadInput(
            f"{what} has {n:,} solutions, more rows than the {MAX_ROWS:,} shown "
            "without --limit; add --limit N (the count is always reported) or "
            "narrow it with --fix, --max or --where"
        )


def _choice(value: str, choices: dict, what: str) -> str:
    """A case-insensitive choice by its canonical name."""
    found = choices.get(str(value).lower()) if isinstance(value, str) else None
    if found is None:
        names = sorted(set(choices.values()), key=list(choices.values()).index)
        raise BadInput(unknown_message(what, value, choices, names))
    return found


def simple_key(row) -> tuple:
    """Simplest first: d, then p, k, s (and op)."""
    k, s, p, d, op = row
    return d, p, k, s, op


class Question:
    """One layer question: what `kind` (with `ceil`) maps shape_in onto shape_out in `mode`,
    within `domains` and `conditions` (`op` fixes convT's output padding)."""

    def __init__(self, kind, ceil, mode, shape_in, shape_out, domains, conditions, op=None):
        self.kind, self.ceil, self.mode = kind, ceil, mode
        self.window = kinds()[kind].window
        self.convT = self.window.rule == "convT"
        self.shape_in, self.shape_out = shape_in, shape_out
        self.domains, self.conditions, self.op = domains, conditions, op
        self._costs: dict = {}

    def with_mode(self, mode: str) -> Question:
        return Question(
            self.kind,
            self.ceil,
            mode,
            self.shape_in,
            self.shape_out,
            self.domains,
            self.conditions,
            self.op,
        )

    def _layers(self):
        """The planner's window layers (windows.py) this question enumerates, one per op."""
        from ..language.specs import LayerSpec
        from .windows import WindowLayer

        if self.convT:
            top = max(self.domains["s"][-1], self.domains["d"][-1])
            ops = [self.op] if self.op is not None else [0] if self.mode == "exact" else range(top)
        else:
            ops = [0]
        c_in, c_out = self.shape_in[0], self.shape_out[0]
        shared: dict = {}  # one search budget for every op
        for op in ops:
            values = {"op": op} if self.convT else {"ceil": True} if self.ceil else {}
            spec = LayerSpec(self.kind).with_values(**values)
            yield (
                op,
                WindowLayer(
                    1,
                    spec,
                    c_in,
                    c_out,
                    len(self.shape_in) - 1,
                    None,
                    self.conditions,
                    self.mode,
                    {},
                    "params",
                    shared,
                ),
            )

    def rows(self, inputs, outputs) -> list[tuple]:
        """Every (k, s, p, d, op) mapping the spatial sizes `inputs` onto `outputs`, simplest
        first; exact mode keeps only rows with no unused rows."""
        found = []
        for op, configurations in self._enumerations(inputs, outputs):
            for k, s, p, d in configurations:
                row = (k, s, p, d, op)
                if self.mode == "exact" and any(self.unused(row, inputs, outputs)):
                    continue
                found.append(row)
                if len(found) > MAX_SOLUTIONS:
                    raise BadInput(
                        f"more than {MAX_SOLUTIONS:,} solutions; narrow the search "
                        "with --fix, --max or --where"
                    )
        found.sort(key=simple_key)
        return found

    def _enumerations(self, inputs, outputs):
        """(op, configurations) pairs: convolution and max pooling in floor or exact mode go
        straight to the closed-form search the planner's window layers use (search.py, light
        to import); the other kinds through those layers (solver/windows.py)."""
        if not self.convT and not self.ceil and not self.input_ge_k:
            # equal axes (a square question) constrain alike: each distinct one is checked once
            axes = tuple(dict.fromkeys(zip(inputs, outputs)))
            geometry = Geometry(
                self.window.rule, self.mode, tuple(i for i, _ in axes), tuple(o for _, o in axes)
            )
            yield 0, solutions(geometry, self.domains, self.conditions)
            return
        for op, layer in self._layers():
            yield op, layer.pinned(inputs, outputs, self.domains)

    def count(self, inputs, outputs) -> int:
        return len(self.rows(inputs, outputs))

    def unused(self, row, inputs=None, outputs=None) -> list[int]:
        """Per axis, the padded rows after the last window (negative: it overhangs, ceil mode);
        for convT its output padding op, the rows the matching convolution leaves unused."""
        k, s, p, d, op = row
        inputs = self.shape_in[1:] if inputs is None else inputs
        outputs = self.shape_out[1:] if outputs is None else outputs
        if self.convT:
            return [op] * len(inputs)
        return [unused_rows(i, o, k, s, p, d) for i, o in zip(inputs, outputs)]

    def costs(self, row) -> dict:
        """Weights (no bias), params (with bias) and MACs of the layer a row describes, from the
        kind's own `apply` (once per kernel size: they depend on k and the shapes only)."""
        k, s, p, d, op = row
        found = self._costs.get(k)
        if found is None:
            from ..language.specs import LayerSpec

            spec = LayerSpec(self.kind).with_window(
                k=k, s=s, p=p, d=d, op=op, ceil=self.ceil, channels=self.shape_out[0]
            )
            applied = spec.record.apply(spec, (self.shape_in,), "--layer")
            found = self._costs[k] = {
                "weights": applied.weights,
                "params": applied.params,
                "macs": applied.macs,
            }
        return found

    def solution(self, row) -> dict:
        k, s, p, d, op = row
        values = {"k": k, "s": s, "p": p, "d": d}
        if self.convT:
            values["op"] = op
        return {
            **values,
            "unused": self.unused(row),
            "output": list(self.shape_out),
            **self.costs(row),
        }

    def nearest(self):
        """The reachable outputs nearest to the asked one (same fixes, bounds, mode), by the
        search `plan` uses too (nearest.py), counted by this question's own enumeration."""
        from .nearest import Candidates, Sweep, deadline

        until = deadline()
        found = Candidates(tuple(self.shape_out))
        ops = [op for op, _ in self._layers()] if self.convT else [0]
        for op in ops:
            sweep = Sweep(self.window.rule, self.mode, self.ceil, op, self.input_ge_k)
            found.add_sweep(sweep, tuple(self.shape_in), self.shape_out[0], self.domains, until)
        found.items = sorted(set(found.items))  # one candidate per output, whatever its op
        return found.nearest(lambda u, v: self.count(u[1:], v[1:]), until)

    @property
    def input_ge_k(self) -> bool:
        """Every unpadded input size must be >= k (PyTorch's avg_pool3d)."""
        return len(self.shape_in) - 1 == self.window.input_ge_k

    def axis(self, i: int, o: int) -> Question:
        """The same question along one spatial axis of sizes i -> o."""
        return Question(
            self.kind,
            self.ceil,
            self.mode,
            (self.shape_in[0], i),
            (self.shape_out[0], o),
            self.domains,
            self.conditions,
            self.op,
        )


def _conditions(where) -> list:
    """Compile --where texts (the parser is imported only when there are some)."""
    texts = [where] if isinstance(where, str) else list(where or ())
    if not texts:
        return []
    from ..language.where import compile_condition

    return [compile_condition(text, VARIABLES) for text in texts]


def _check_work(domains):
    outer = len(domains["d"]) * len(domains["p"])
    if outer > MAX_OUTER:
        raise BadInput(
            f"the search space is too large ({len(domains['d'])} dilations x "
            f"{len(domains['p'])} paddings); lower --max d or --max p, or fix one"
        )


def _explain(question, row) -> str:
    k, s, p, d, op = row
    ke = effective_kernel(k, d)
    parts = []
    for i, o in sorted(set(zip(question.shape_in[1:], question.shape_out[1:]))):
        if question.convT:
            parts.append(f"({i}-1)*{s}-2*{p}+{ke}+{op}={o}")
        elif question.ceil:
            raw = -(-(i + 2 * p - ke) // s) + 1
            parts.append(f"ceil(({i}+2*{p}-{ke})/{s})+1{'-1' if raw != o else ''}={o}")
        else:
            parts.append(f"({i}+2*{p}-{ke}){'/' if question.mode == 'exact' else '//'}{s}+1={o}")
    return "; ".join(parts)


def _check_header(question) -> str:
    if question.convT:
        return "check: o = (i-1)s - 2p + k' + op, k' = d(k-1)+1"
    if question.ceil:
        return "check: o = ceil((i + 2p - k')/s) + 1 (-1 if the last window starts in the padding)"
    return "check: o = (i + 2p - k')/s + 1, k' = d(k-1)+1"


def _unused_cell(unused: list[int]):
    """One number when every axis agrees, else 'a,b'."""
    return unused[0] if len(set(unused)) == 1 else ",".join(map(str, unused))


def _columns(question) -> list[str]:
    return ["k", "s", "p", "d"] + (["op"] if question.convT else []) + ["unused"]


def _title(question, what: str) -> str:
    name = question.window.what + (" (ceil_mode)" if question.ceil else "")
    return f"{name} {format_shape(question.shape_in)} -> {format_shape(question.shape_out)}{what}"


def _result(question, bounds, fixed, sort, n, shown, explain) -> Result:
    facts = [*_question_facts(question, bounds, fixed), ("solutions", n)]
    if len(shown) < n:
        facts.append(("shown", f"{len(shown)} (sorted by {sort})"))
    columns = _columns(question) + ["output", "weights", "params", "macs"]
    table_rows = []
    for row in shown:
        cells = [row[c] for c in _columns(question)[:-1]] + [
            _unused_cell(row["unused"]),
            format_shape(row["output"]),
            row["weights"],
            row["params"],
            row["macs"],
        ]
        if explain:
            cells.append(
                _explain(question, (row["k"], row["s"], row["p"], row["d"], row.get("op", 0)))
            )
        table_rows.append(tuple(cells))
    if explain:
        columns.append(_check_header(question))
    data = {
        "layer": question.kind,
        "rule": question.window.rule,
        "mode": question.mode,
        "input": list(question.shape_in),
        "output": list(question.shape_out),
        "bounds": {name: list(b) for name, b in bounds.items()},
        "count": n,
        "solutions": shown,
    }
    if question.window.ceil:
        data["ceil"] = question.ceil
    notes = []
    if n:
        notes += _answer_notes(question, shown)
    else:
        nearest = question.nearest()
        data["nearest"] = nearest.as_data()
        data["nearest_distance"], data["nearest_complete"] = nearest.distance, nearest.complete
        notes += _no_solution_notes(question, nearest)
        other = _other_mode(question)
        if other:
            data["other_mode"] = {"mode": other[0], "count": other[1]}
            notes.append(
                f"0 solutions in {question.mode} mode, {other[1]:,} in {other[0]} mode"
                f" (PyTorch's rule): add --mode {other[0]}"
            )
        else:
            notes += _same_padding_hint(question, fixed)
    notes += _shape_hints(question, n)
    return Result(
        title=_title(question, f": {n} solution{'s' if n != 1 else ''}"),
        facts=tuple(facts),
        tables=(Table(tuple(columns), tuple(table_rows)),) if n else (),
        notes=tuple(notes),
        data=data,
        exit_code=0 if n else 1,
        kind="solve",
    )


def _answer_notes(question, shown) -> list[str]:
    notes = []
    if question.convT:
        notes.append(
            "op is output_padding (PyTorch: op < max(s, d)), the extra output rows: "
            "unused = op (0: the exact transpose of a convolution, what --mode exact "
            "keeps)"
        )
    elif question.mode == "floor":
        notes.append(
            "unused: padded rows after the last window, which PyTorch's floor drops "
            "(0 = exact; --mode exact keeps only those)"
            + (
                "; negative: the last window overhangs the padded input (ceil_mode)"
                if question.ceil
                else ""
            )
        )
    biases = shown[0]["params"] - shown[0]["weights"] if shown else 0
    if biases:
        notes.append(f"weights exclude biases; params add {biases} biases")
    if question.kind == "avgpool" and any(row["p"] for row in shown):
        notes.append(
            "avgpool with p > 0: PyTorch's default count_include_pad=True divides "
            "every window by k^n, padded zeros included; count_include_pad=False "
            "divides by the real inputs only (same shapes)"
        )
    return notes


def _other_mode(question) -> tuple | None:
    """(mode, count) when exact mode found nothing and PyTorch's floor rule finds some."""
    if question.mode != "exact":
        return None
    try:
        n = question.with_mode("floor").count(question.shape_in[1:], question.shape_out[1:])
    except BadInput:
        n = MAX_SOLUTIONS + 1
    return ("floor", n) if n else None


def _same_padding_hint(question, fixed) -> list[str]:
    """o = ceil(i/s) with an even kernel: PyTorch's padding='same' or an asymmetric F.pad."""
    if question.kind != "conv" or "k" not in fixed:
        return []
    k, d = fixed["k"], fixed.get("d", 1)
    pairs = list(zip(question.shape_in[1:], question.shape_out[1:]))
    strides = [fixed["s"]] if "s" in fixed else question.domains["s"]
    for s in strides:
        if any(-(-i // s) != o for i, o in pairs):
            continue
        totals = [(o - 1) * s + effective_kernel(k, d) - i for i, o in pairs]
        if any(t < 0 for t in totals) or not any(t % 2 for t in totals):
            continue
        sides = [(t // 2, t - t // 2) for t in totals]
        pad = ", ".join(f"{a}, {b}" for a, b in reversed(sides))
        same = (
            "PyTorch's padding='same' does it (it pads "
            + ", ".join(f"{a} before and {b} after" for a, b in sorted(set(sides)))
            + "), or "
            if s == 1
            else ""
        )
        need = ", ".join(map(str, sorted(set(totals))))
        return [
            f"o = ceil(i/s) with k={k}, d={d}, s={s} needs {need} padded rows per axis, "
            "an odd number, so no symmetric p gives it: "
            f"{same}pad asymmetrically, x = F.pad(x, ({pad})), then use p=0"
        ]
    return []


def _shape_hints(question, n: int) -> list[str]:
    """Shapes that look channels-last (64x64x3), batched (1x3x64x64) or 2-D images written
    without channels."""
    return [
        hint
        for option, shape in (("--in", question.shape_in), ("--out", question.shape_out))
        for hint in layout_hints(option, shape, flat=not n)
    ]


def _question_facts(question, bounds, fixed) -> list[tuple]:
    """The facts that restate the question: mode, bounds searched, fixes, conditions."""
    if question.convT:
        mode = (
            "exact (op = 0)"
            if question.mode == "exact"
            else "floor (PyTorch: any output padding op < max(s, d))"
        )
    else:
        mode = (
            "exact (s divides i + 2p - k')"
            if question.mode == "exact"
            else "floor (PyTorch with ceil_mode: o = ceil((i + 2p - k')/s) + 1)"
            if question.ceil
            else "floor (PyTorch: o = floor((i + 2p - k')/s) + 1)"
        )
    facts = [("mode", mode), ("searched", format_ranges(bounds))]
    shown_fixed = dict(fixed, **({"op": question.op} if question.op is not None else {}))
    if shown_fixed:
        facts.append(("fixed", ", ".join(f"{k}={v}" for k, v in shown_fixed.items())))
    if question.conditions:
        facts.append(("where", " and ".join(f"({c.text})" for c in question.conditions)))
    return facts


def _per_axis(question, bounds, fixed, limit) -> Result:
    """Each spatial axis solved on its own: a rectangular window takes one row per axis."""
    axes, tables, notes, total, firsts = [], [], [], 1, []
    columns = _columns(question)
    for n, (i, o) in enumerate(zip(question.shape_in[1:], question.shape_out[1:]), start=1):
        one = question.axis(i, o)
        rows = one.rows((i,), (o,))
        check_rows(len(rows), limit, f"axis {n}")
        shown = rows if limit is None else rows[:limit]
        solutions = []
        for row in shown:
            solution = one.solution(row)
            solutions.append({c: solution[c] if c != "unused" else solution[c][0] for c in columns})
        axes.append(
            {"axis": n, "input": i, "output": o, "count": len(rows), "solutions": solutions}
        )
        if rows:
            firsts.append(rows[0])
            tables.append(
                Table(
                    tuple(columns),
                    tuple(tuple(s.values()) for s in solutions),
                    title=f"axis {n}: {i} -> {o} ({len(rows)} solution"
                    f"{'s' if len(rows) != 1 else ''})",
                )
            )
        total *= len(rows)
        if not rows:
            from .nearest import CUT_SHORT

            near = one.nearest()
            notes.append(
                f"axis {n} ({i} -> {o}) has no solution; nearest reachable sizes: "
                + (", ".join(str(v[1]) for v, _ in near.outputs) or "none")
                + ("" if near.complete else f" ({CUT_SHORT})")
            )
    if total:
        names = [("kernel_size", 0), ("stride", 1), ("padding", 2), ("dilation", 3)]
        if question.convT:
            names.append(("output_padding", 4))
        notes.append(
            "a layer takes one row from each axis; the simplest: "
            + ", ".join(f"{name}=({', '.join(str(r[j]) for r in firsts)})" for name, j in names)
        )
        if not kinds()[question.kind].args["k"].tuples:
            notes.append(
                f"{question.kind} takes one k, s, p, d for every axis: only a row "
                "found on every axis fits it"
            )
        if question.kind in ("conv", "convT"):
            ks = " x ".join(f"k{n}" for n in range(1, len(axes) + 1))
            c_in, c_out = question.shape_in[0], question.shape_out[0]
            notes.append(f"weights = {c_in} x {c_out} x {ks}, params add {c_out} biases")
    facts = (*_question_facts(question, bounds, fixed), ("combinations", total))
    data = {
        "layer": question.kind,
        "rule": question.window.rule,
        "mode": question.mode,
        "input": list(question.shape_in),
        "output": list(question.shape_out),
        "bounds": {name: list(b) for name, b in bounds.items()},
        "count": total,
        "axes": axes,
    }
    return Result(
        title=_title(
            question, f", each axis on its own: {total} combination{'s' if total != 1 else ''}"
        ),
        facts=facts,
        tables=tuple(tables),
        notes=tuple(notes),
        data=data,
        exit_code=0 if total else 1,
        kind="solve-per-axis",
    )


def _no_solution_notes(question, nearest) -> list[str]:
    notes = ["no configuration within these bounds gives this output"]
    notes += nearest.notes(" with the same fixes and bounds", "solution")
    axes = sorted(set(zip(question.shape_in[1:], question.shape_out[1:])))
    if len(axes) > 1:
        try:
            counts = [question.axis(i, o).count((i,), (o,)) for i, o in axes]
        except SearchTooLarge:  # the note would cost more than the question itself
            counts = [0]
        if all(counts):
            notes.append(
                "one (k, s, p, d) must serve every axis; solved separately the axes have "
                + ", ".join(f"{i}->{o}: {c}" for (i, o), c in zip(axes, counts))
                + " solutions (--per-axis lists them: rectangular windows)"
            )
    return notes
