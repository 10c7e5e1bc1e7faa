"""The `ad` solver: expression and point in, the three-part traces out as a cnnplan Result.

Pure: no I/O. Warnings (unused variables, an ignored seed) are returned in
`data["warnings"]`; the command prints them on stderr.
"""

from __future__ import annotations

from cnnplan import BadInput, Result, Table

from . import expression as ex
from .assignments import input_order, parse_assignments
from .notation import LATEX, TEXT, Notation, number_text
from .primal import Primal, evaluate
from .rounding import fixed
from .rules import adjoint_expanded, adjoint_rule, tangent_rule
from .sweeps import forward, reverse
from .trace import Trace, build, definition

MODES = ("forward", "reverse", "both")
NOTATIONS = {"text": TEXT, "latex": LATEX}
MAX_DECIMALS = 12
FORWARD_COLUMNS = ("primal", "definition", "value", "tangent", "rule", "value")
REVERSE_COLUMNS = ("primal", "definition", "value", "adjoint", "rule", "expanded", "value")


def autodiff(expression: str, at=None, mode: str = "both", seed=None, decimals: int = 4,
             notation: str = "text") -> Result:
    """Forward and/or reverse automatic differentiation of `expression` at the point `at`.

    `at` and `seed` are "x1=3,x2=6" strings, lists of them, or mappings; the seed (forward
    mode) defaults to 1 for the first input and 0 for the others. `notation` is "text"
    (Unicode, for terminals, markdown and JSON) or "latex" (math cells for --format latex).
    """
    if mode not in MODES:
        raise BadInput(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
    if notation not in NOTATIONS:
        raise BadInput(f"unknown notation {notation!r}; choose one of: {', '.join(NOTATIONS)}")
    if isinstance(decimals, bool) or not isinstance(decimals, int) \
            or not 0 <= decimals <= MAX_DECIMALS:
        raise BadInput(f"decimals must be a whole number from 0 to {MAX_DECIMALS}")
    tree = ex.parse(expression)
    if isinstance(tree, (ex.Number, ex.Constant)):
        raise BadInput("the expression is a single constant: there is nothing to differentiate")
    point = parse_assignments(at, "--at")
    names, warnings = _inputs(tree, point)
    trace = build(tree, names)
    primal = evaluate(trace, point)
    seeds = _seed(seed, names, point, mode, warnings)
    tangents = forward(trace, primal, seeds) if mode != "reverse" else None
    adjoints, lines = reverse(trace, primal) if mode != "forward" else (None, None)
    sweep = _Sweep(trace, primal, seeds, tangents, adjoints, lines)
    notes = _notes(tree, mode, decimals)
    data = _data(expression.strip(), mode, decimals, sweep, notes, warnings)
    n = NOTATIONS[notation]
    modes = "forward and reverse" if mode == "both" else mode
    return Result(
        title=f"Automatic differentiation ({modes} mode) of y = {expression.strip()} "
              f"at {_pairs(point, names, TEXT.x)}",
        facts=_facts(expression.strip(), sweep, n, decimals),
        tables=_tables(sweep, n, decimals),
        notes=tuple(notes),
        data=data,
        kind="ad",
    )


class _Sweep:
    """Everything computed for one request (tangents/adjoints None where not asked for)."""

    def __init__(self, trace: Trace, primal: Primal, seed, tangents, adjoints, lines):
        self.trace, self.primal, self.seed = trace, primal, seed
        self.tangents, self.adjoints, self.lines = tangents, adjoints, lines

    @property
    def names(self) -> list[str]:
        return [node.name for node in self.trace.inputs]

    @property
    def value(self) -> float:
        return self.primal.values[self.trace.output]

    @property
    def gradient(self) -> dict[str, float]:
        return {node.name: self.adjoints.get(node.index, 0.0) for node in self.trace.inputs}


def _inputs(tree, point: dict[str, float]) -> tuple[list[str], list[str]]:
    """The input names in trace order, or BadInput for a name --at does not give."""
    used = ex.variables(tree)
    for var in used:
        if var.name not in point:
            known = list(point) + list(ex.CONSTANTS)
            raise BadInput(f"unknown name '{var.name}' at column {var.col}: give it a value "
                           f"with --at {var.name}=NUMBER (known names: {', '.join(known)}; "
                           f"functions: {', '.join(ex.FUNCTIONS)})")
    names = {var.name for var in used}
    warnings = [f"{name} is given in --at but not used by the expression; it is ignored"
                for name in point if name not in names]
    return input_order(names, list(point)), warnings


def _seed(seed, names: list[str], point: dict[str, float], mode: str,
          warnings: list[str]) -> dict[str, float]:
    """ẋ for every input: as given (names from --at; unused ones are already warned about),
    else 1 for the first input and 0 for the others."""
    given = parse_assignments(seed, "--seed")
    for name in given:
        if name not in point:
            raise BadInput(f"--seed names {name}, which --at does not give "
                           f"(inputs: {', '.join(names) or 'none'})")
    if given and mode == "reverse":
        warnings.append("--seed is ignored in reverse mode (the reverse sweep starts from ȳ = 1)")
    if not given and names:
        given = {names[0]: 1.0}
    return {name: given.get(name, 0.0) for name in names}


def _notes(tree, mode: str, decimals: int) -> list[str]:
    used = ex.functions_used(tree)
    notes = [f"Numbers are rounded to {decimals} decimals; --format json gives full precision."]
    if mode != "forward":
        notes.append("The adjoint trace is executed from its last row upwards; a variable used "
                     "more than once accumulates its adjoint.")
    if "relu" in used:
        notes.append("relu'(x) = H(x), the Heaviside step, with the convention H(0) = 1/2.")
    if "abs" in used:
        notes.append("abs'(x) = sgn(x), with the convention sgn(0) = 0 (as in PyTorch).")
    return notes


def _pairs(values: dict[str, float], names: list[str], symbol, decimals: int | None = None) -> str:
    """x1 = 2, x2 = 5: each name written by `symbol`, numbers as given (or rounded)."""
    def number(value):
        return number_text(value) if decimals is None else str(fixed(value, decimals))

    return ", ".join(f"{symbol(name)} = {number(values[name])}" for name in names) \
        or "no variables"


# ----- structured rows, in one notation ---------------------------------------------------

def primal_entries(s: _Sweep, n: Notation) -> list[dict]:
    """v_k = definition = value for inputs and steps, then y = v_l."""
    trace, entries = s.trace, []
    for node in trace.nodes:
        operands = [a for a in dict.fromkeys(node.args) if isinstance(a, int)]
        local = s.primal.partials.get(node.index, ())
        partials = {}
        for p, a in enumerate(node.args):
            if isinstance(a, int) and p < len(local) and local[p] is not None:
                partials[n.v(a)] = partials.get(n.v(a), 0.0) + local[p]
        entries.append({"name": n.v(node.index), "definition": definition(trace, node, n),
                        "value": s.primal.values[node.index], "op": node.op,
                        "operands": [n.v(a) for a in operands], "partials": partials})
    entries.append({"name": n.y, "definition": n.v(trace.output), "value": s.value,
                    "op": "output", "operands": [n.v(trace.output)], "partials": {}})
    return entries


def tangent_entries(s: _Sweep, n: Notation) -> list[dict]:
    """v̇_k = rule = value beside each primal line, then ẏ = v̇_l."""
    entries = [{"name": n.vdot(node.index), "of": n.v(node.index),
                "rule": tangent_rule(s.trace, node, s.primal, n),
                "value": s.tangents[node.index]} for node in s.trace.nodes]
    entries.append({"name": n.ydot, "of": n.y, "rule": n.vdot(s.trace.output),
                    "value": s.tangents[s.trace.output]})
    return entries


def adjoint_entries(s: _Sweep, n: Notation) -> list[dict]:
    """As Table 3 prints them: x̄ first, then the sweep's lines last to first, v̄_l = ȳ last.
    `step` numbers the lines in execution order (0 is v̄_l = ȳ)."""
    entries = [{"name": n.xbar(node.name), "of": n.v(node.index), "rule": n.vbar(node.index),
                "expanded": None, "value": s.adjoints[node.index],
                "step": len(s.lines) + len(s.trace.inputs) - k}
               for k, node in enumerate(s.trace.inputs)]
    for step, line in reversed(list(enumerate(s.lines, start=1))):
        entries.append({"name": n.vbar(line.target), "of": n.v(line.target),
                        "rule": adjoint_rule(line, n),
                        "expanded": adjoint_expanded(s.trace, line, s.primal, n),
                        "value": line.value, "step": step})
    entries.append({"name": n.vbar(s.trace.output), "of": n.v(s.trace.output), "rule": n.ybar,
                    "expanded": None, "value": 1.0, "step": 0})
    return entries


# ----- Result parts -------------------------------------------------------------------------

def _data(expression: str, mode: str, decimals: int, s: _Sweep, notes, warnings) -> dict:
    return {
        "expression": expression,
        "point": {name: s.primal.values[node.index]
                  for name, node in zip(s.names, s.trace.inputs)},
        "mode": mode,
        "value": s.value,
        "derivative": s.tangents[s.trace.output] if s.tangents is not None else None,
        "seed": dict(s.seed) if s.tangents is not None else None,
        "gradient": s.gradient if s.adjoints is not None else None,
        "primal": primal_entries(s, TEXT),
        "tangent": tangent_entries(s, TEXT) if s.tangents is not None else [],
        "adjoint": adjoint_entries(s, TEXT) if s.adjoints is not None else [],
        "decimals": decimals,
        "notes": list(notes),
        "warnings": list(warnings),
    }


def _facts(expression: str, s: _Sweep, n: Notation, d: int) -> tuple:
    point = {name: s.primal.values[node.index] for name, node in zip(s.names, s.trace.inputs)}
    facts = [("expression", expression),
             ("point", n.math(_pairs(point, s.names, n.x))),
             ("y", fixed(s.value, d))]
    if s.tangents is not None:
        facts.append(("seed", n.math(_pairs(s.seed, s.names, n.xdot))))
        facts.append(("derivative",
                      n.math(f"{n.ydot} = {fixed(s.tangents[s.trace.output], d)}")))
    if s.adjoints is not None:
        partial = (lambda name: rf"\partial y/\partial {n.x(name)}") if n.latex \
            else (lambda name: f"∂y/∂{name}")
        facts.append(("gradient", n.math(_pairs(s.gradient, s.names, partial, d))))
    return tuple(facts)


def _cells(entry: dict, keys: tuple[str, ...], n: Notation, d: int) -> tuple:
    return tuple(fixed(entry[k], d) if k == "value" else
                 None if entry[k] is None else n.math(entry[k]) for k in keys)


def _tables(s: _Sweep, n: Notation, d: int) -> tuple[Table, ...]:
    primal = [_cells(e, ("name", "definition", "value"), n, d) for e in primal_entries(s, n)]
    tables = []
    if s.tangents is not None:
        tangent = [_cells(e, ("name", "rule", "value"), n, d) for e in tangent_entries(s, n)]
        seed = _pairs(s.seed, s.names, str)
        tables.append(Table(FORWARD_COLUMNS, tuple(p + t for p, t in zip(primal, tangent)),
                            f"Forward mode: evaluation trace and tangent trace (seed {seed})"))
    if s.adjoints is not None:
        adjoint = [_cells(e, ("name", "rule", "expanded", "value"), n, d)
                   for e in adjoint_entries(s, n)]
        rows = max(len(primal), len(adjoint))
        padded = [(primal[k] if k < len(primal) else (None,) * 3)
                  + (adjoint[k] if k < len(adjoint) else (None,) * 4) for k in range(rows)]
        tables.append(Table(REVERSE_COLUMNS, tuple(padded),
                            "Reverse mode: evaluation trace and adjoint trace (gradient on top)"))
    return tuple(tables)
