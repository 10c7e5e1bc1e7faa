"""`cnnplan solve`: every (k, s, p, d) that turns one shape into another, as a Result."""

from __future__ import annotations

from .arithmetic import MODES, conv_macs, conv_weights, effective_kernel
from .bounds import MAX_SOLUTIONS, make_domains, resolve_bounds
from .errors import BadInput
from .nearest import CUT_SHORT, nearest_outputs
from .options import format_ranges, parse_assignments
from .result import Result, Table
from .search import VARIABLES, Geometry, count, solutions
from .tensor_shape import format_shape, parse_shape

LAYERS = ("conv", "pool")
MAX_OUTER = 2_000_000       # (d, p) pairs the search may visit
SORTS = ("simple", "weights", "params", "macs")  # simple: d, then p, k, s ascending


def solve(input, output, layer: str = "conv", fix=None, max=None, mode: str = "exact",
          where=(), sort: str = "simple", limit: int | None = None, explain: bool = False,
          per_axis: bool = False) -> Result:
    """Every (k, s, p, d) for which a `layer` maps `input` onto `output` (see DESIGN.md);
    with `per_axis`, every axis solved on its own (rectangular windows).

    >>> solve("3x64x64", "64x32x32", fix={"k": 8, "d": 1}).data["count"]
    1
    """
    shape_in, shape_out = parse_shape(input, "--in"), parse_shape(output, "--out")
    if len(shape_in) != len(shape_out):
        raise BadInput(
            f"--in {format_shape(shape_in)} has {len(shape_in) - 1} spatial axes but "
            f"--out {format_shape(shape_out)} has {len(shape_out) - 1}"
        )
    if layer not in LAYERS:
        raise BadInput(f"unknown layer {layer!r}; choose one of: {', '.join(LAYERS)}")
    if mode not in MODES:
        raise BadInput(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
    if sort not in SORTS:
        raise BadInput(f"unknown sort {sort!r}; choose one of: {', '.join(SORTS)}")
    if limit is not None and limit < 0:
        raise BadInput(f"--limit {limit} is negative")
    if layer == "pool" and shape_in[0] != shape_out[0]:
        raise BadInput(
            f"pooling keeps the channels: --in has {shape_in[0]}, --out has {shape_out[0]}"
        )
    fixed = parse_assignments(fix, VARIABLES, "--fix")
    maxima = parse_assignments(max, VARIABLES, "--max")
    conditions = _conditions(where)
    for condition in conditions:
        if not condition.names:
            raise BadInput(f"--where {condition.text!r} mentions none of {', '.join(VARIABLES)}")
    bounds = resolve_bounds(shape_in[1:], fixed, maxima)
    domains = make_domains(bounds, fixed)
    _check_work(domains)

    if per_axis:
        return _per_axis(layer, mode, shape_in, shape_out, bounds, fixed, conditions, domains,
                         limit)
    geometry = Geometry(layer, mode, shape_in[1:], shape_out[1:])
    configs = _configurations(geometry, domains, conditions)

    def costs(k):
        return layer_costs(layer, shape_in, shape_out, k)

    def simple(c):
        return c[3], c[2], c[0], c[1]

    configs.sort(key=simple if sort == "simple" else lambda c: (costs(c[0])[sort], *simple(c)))
    shown = [{"k": k, "s": s_, "p": p, "d": d, "output": list(shape_out), **costs(k)}
             for k, s_, p, d in (configs if limit is None else configs[:limit])]
    nearest = None if configs else nearest_outputs(geometry, shape_in, shape_out, domains,
                                                   conditions)
    return _result(layer, mode, shape_in, shape_out, bounds, fixed, conditions, sort,
                   len(configs), shown, nearest, explain)


def _conditions(where) -> list:
    """Compile --where texts (the parser is imported only when there are some)."""
    texts = [where] if isinstance(where, str) else list(where or ())
    if not texts:
        return []
    from .where import compile_condition

    return [compile_condition(text, VARIABLES) for text in texts]


def _check_work(domains):
    outer = len(domains["d"]) * len(domains["p"])
    if outer > MAX_OUTER:
        raise BadInput(
            f"the search space is too large ({len(domains['d'])} dilations x "
            f"{len(domains['p'])} paddings); lower --max d or --max p, or fix one"
        )


def _configurations(geometry, domains, conditions) -> list[tuple]:
    """All solutions as (k, s, p, d), refusing more than MAX_SOLUTIONS."""
    configs = []
    for config in solutions(geometry, domains, conditions):
        if len(configs) >= MAX_SOLUTIONS:
            raise BadInput(f"more than {MAX_SOLUTIONS:,} solutions; narrow the search with "
                           "--fix, --max or --where")
        configs.append(config)
    return configs


def layer_costs(layer, shape_in, shape_out, k) -> dict:
    """Weights (no bias), params (with bias) and MACs of one layer with kernel k."""
    if layer != "conv":
        return {"weights": 0, "params": 0, "macs": 0}
    weights = conv_weights(k, len(shape_in) - 1, shape_in[0], shape_out[0])
    return {"weights": weights, "params": weights + shape_out[0],
            "macs": conv_macs(shape_out, shape_in[0], k)}


def _explain(geometry, row) -> str:
    k, s, p, d = row["k"], row["s"], row["p"], row["d"]
    ke = effective_kernel(k, d)
    parts = []
    for i, o in sorted(set(zip(geometry.inputs, geometry.outputs))):
        op = "/" if geometry.mode == "exact" else "//"
        parts.append(f"({i}+2*{p}-{ke}){op}{s}+1={o}")
    return "; ".join(parts)


def _result(layer, mode, shape_in, shape_out, bounds, fixed, conditions, sort, n, shown,
            nearest, explain) -> Result:
    geometry = Geometry(layer, mode, shape_in[1:], shape_out[1:])
    what = "convolution" if layer == "conv" else "max pooling"
    title = (f"{what} {format_shape(shape_in)} -> {format_shape(shape_out)}: "
             f"{n} solution{'s' if n != 1 else ''}")
    facts = [*_question_facts(mode, bounds, fixed, conditions), ("solutions", n)]
    if len(shown) < n:
        facts.append(("shown", f"{len(shown)} (sorted by {sort})"))
    columns = ["k", "s", "p", "d", "output", "weights", "params", "macs"]
    table_rows = []
    for row in shown:
        cells = [row["k"], row["s"], row["p"], row["d"], format_shape(row["output"]),
                 row["weights"], row["params"], row["macs"]]
        if explain:
            cells.append(_explain(geometry, row))
        table_rows.append(tuple(cells))
    if explain:
        columns.append("check: o = (i + 2p - k')/s + 1, k' = d(k-1)+1")
    notes = []
    if layer == "conv" and n:
        notes.append(f"weights exclude biases; params add {shape_out[0]} biases")
    if not n:
        notes += _no_solution_notes(geometry, shape_out, nearest, bounds, fixed, conditions)
    data = {
        "layer": layer, "mode": mode, "input": list(shape_in), "output": list(shape_out),
        "bounds": {name: list(b) for name, b in bounds.items()}, "count": n,
        "solutions": shown,
    }
    if not n:
        data["nearest"] = nearest.as_data()
        data["nearest_distance"], data["nearest_complete"] = nearest.distance, nearest.complete
    return Result(title=title, facts=tuple(facts),
                  tables=(Table(tuple(columns), tuple(table_rows)),) if n else (),
                  notes=tuple(notes), data=data, exit_code=0 if n else 1)


def _question_facts(mode, bounds, fixed, conditions) -> list[tuple]:
    """The facts that restate the question: mode, bounds searched, fixes, conditions."""
    facts = [("mode", "exact (s divides i + 2p - k')" if mode == "exact"
              else "floor (PyTorch: o = floor((i + 2p - k')/s) + 1)"),
             ("searched", format_ranges(bounds))]
    if fixed:
        facts.append(("fixed", ", ".join(f"{k}={v}" for k, v in fixed.items())))
    if conditions:
        facts.append(("where", " and ".join(f"({c.text})" for c in conditions)))
    return facts


def _per_axis(layer, mode, shape_in, shape_out, bounds, fixed, conditions, domains,
              limit) -> Result:
    """Each spatial axis solved on its own: a rectangular window takes one row per axis."""
    axes, tables, notes, total = [], [], [], 1
    for n, (i, o) in enumerate(zip(shape_in[1:], shape_out[1:]), start=1):
        geometry = Geometry(layer, mode, (i,), (o,))
        configs = sorted(_configurations(geometry, domains, conditions),
                         key=lambda c: (c[3], c[2], c[0], c[1]))
        shown = configs if limit is None else configs[:limit]
        axes.append({"axis": n, "input": i, "output": o, "count": len(configs),
                     "solutions": [dict(zip("kspd", c)) for c in shown]})
        if configs:
            tables.append(Table(("k", "s", "p", "d"), tuple(shown),
                                title=f"axis {n}: {i} -> {o} ({len(configs)} solutions)"))
        total *= len(configs)
        if not configs:
            near = nearest_outputs(geometry, (shape_in[0], i), (shape_out[0], o), domains,
                                   conditions)
            notes.append(f"axis {n} ({i} -> {o}) has no solution; nearest reachable sizes: "
                         + (", ".join(str(v[1]) for v, _ in near.outputs) or "none")
                         + ("" if near.complete else f" ({CUT_SHORT})"))
    if total and layer == "conv":
        ks = " x ".join(f"k{n}" for n in range(1, len(axes) + 1))
        notes.append(f"a layer takes one row from each axis: kernel_size=(k1, k2, ...), "
                     f"stride=(s1, s2, ...) and so on; weights = {shape_in[0]} x "
                     f"{shape_out[0]} x {ks}, params add {shape_out[0]} biases")
    what = "convolution" if layer == "conv" else "max pooling"
    facts = (*_question_facts(mode, bounds, fixed, conditions), ("combinations", total))
    data = {"layer": layer, "mode": mode, "input": list(shape_in), "output": list(shape_out),
            "bounds": {name: list(b) for name, b in bounds.items()}, "count": total,
            "axes": axes}
    return Result(
        title=f"{what} {format_shape(shape_in)} -> {format_shape(shape_out)}, each axis on its "
              f"own: {total} combination{'s' if total != 1 else ''}",
        facts=facts, tables=tuple(tables), notes=tuple(notes), data=data,
        exit_code=0 if total else 1)


def _no_solution_notes(geometry, shape_out, nearest, bounds, fixed, conditions) -> list[str]:
    notes = ["no configuration within these bounds gives this output"]
    notes += nearest.notes(" with the same fixes and bounds", "solution")
    axes = sorted(set(zip(geometry.inputs, geometry.outputs)))
    if len(axes) > 1:
        domains = make_domains(bounds, fixed)
        counts = [count(Geometry(geometry.layer, geometry.mode, (i,), (o,)), domains, conditions)
                  for i, o in axes]
        if all(counts):
            notes.append(
                "one (k, s, p, d) must serve every axis; solved separately the axes have "
                + ", ".join(f"{i}->{o}: {c}" for (i, o), c in zip(axes, counts))
                + " solutions (--per-axis lists them: rectangular windows)"
            )
    return notes
