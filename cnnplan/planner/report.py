"""What a chain plan reports: each best chain's forward pass, rows and notes, as a Result."""

from __future__ import annotations

import math
import sys

from ..kinds.arithmetic import SAME_RULES, effective_kernel, same_pads, unused_rows
from ..kinds.shape import format_shape
from ..language.options import format_ranges
from ..network.forward import apply_layer, forward
from ..network.memory import human
from ..network.memory import memory as network_memory
from ..platform.result import Result, Table
from ..solver.layer import check_rows
from ..solver.search import VARIABLES
from ..solver.windows import WindowLayer
from .chain import Outcome


def chain_network(outcome: Outcome, cfgs):
    specs = [layer.resolve(cfg) for layer, cfg in zip(outcome.layers, cfgs)]
    return forward(outcome.input, specs)


def window_values(spec) -> tuple:
    """(k, s, p, d) of a resolved window spec; a kind without a p or d argument has 0 or 1
    (avgpool's d is 1, as PyTorch's AvgPool has no dilation)."""
    fixed = dict(spec.window.fixed)
    return tuple(spec.get(v, fixed.get(v)) for v in ("k", "s", "p", "d"))


def cfg_row(cfg):
    if cfg is None:
        return {"k": None, "s": None, "p": None, "d": None}
    k, s, p, d = cfg
    return {"k": k, "s": s, "p": p, "d": d}


def _unused(layer, u, v, cfg) -> list[int]:
    """Per axis, the padded rows after the last window (convT: its output padding op)."""
    if layer.window.rule == "convT":
        return [layer.op] * (len(u) - 1)
    k, s, p, d = cfg
    if p in SAME_RULES:  # what the input-dependent padding leaves after the last window
        return [
            i + sum(same_pads(i, k, s, d, p)) - effective_kernel(k, d) - (o - 1) * s
            for i, o in zip(u[1:], v[1:])
        ]
    return [unused_rows(i, o, *cfg) for i, o in zip(u[1:], v[1:])]


def _rank_value(rank, net):
    return {"params": net.params, "macs": net.macs, "rf": net.rf}[rank]


def scientific(n: int) -> str:
    """'1.234e+5678' for any positive int, however large (no float overflow)."""
    shift = max(n.bit_length() - 64, 0)
    log10 = math.log10(n >> shift) + shift * math.log10(2)
    exponent = math.floor(log10)
    mantissa = round(10 ** (log10 - exponent), 3)
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.3f}e+{exponent}"


def allow_digits(n: int):
    """Let Python print an exact count of more than 4300 digits (its default guard against
    parsing huge untrusted numbers; these counts are computed, never parsed)."""
    digits = int(n.bit_length() * 0.30103) + 2
    limit = sys.get_int_max_str_digits()
    if limit and digits > limit:
        sys.set_int_max_str_digits(digits)


def describe_bounds(maxima: dict) -> str:
    """'k 1-11, s 1-4; p, d: up to each layer's largest input size (at most 256)'."""
    given = format_ranges({v: (0 if v == "p" else 1, maxima[v]) for v in VARIABLES if v in maxima})
    rest = [v for v in VARIABLES if v not in maxima]
    if not rest:
        return given
    tail = f"{', '.join(rest)}: up to each layer's largest input size (at most 256)"
    return f"{given}; {tail}" if given else tail


def plan_result(
    outcome: Outcome,
    mode,
    rank,
    maxima,
    everywhere,
    title="",
    limit=None,
    memory=(1, "float32", "adam", "cuda"),
) -> Result:
    layers = outcome.layers
    shape = outcome.input
    n = outcome.count
    last_target = layers[-1].target
    if last_target is not None:
        goal = format_shape(last_target)
    elif outcome.live and len(outcome.live[-1]) == 1:
        goal = format_shape(outcome.live[-1][0])
    elif outcome.live:
        goal = f"{len(outcome.live[-1])} output shapes"
    else:
        goal = "?"
    head = title or "plan"
    facts = [
        ("input", format_shape(shape)),
        ("layers", len(layers)),
        (
            "mode",
            "exact (s divides i + 2p - k')"
            if mode == "exact"
            else "floor (PyTorch: o = floor((i + 2p - k')/s) + 1)",
        ),
        ("bounds", describe_bounds(maxima)),
    ]
    if everywhere:
        facts.append(("where (all window layers)", " and ".join(f"({c.text})" for c in everywhere)))
    per_layer_where = [
        (layer.index, layer.conditions[len(everywhere) :])
        for layer in layers
        if isinstance(layer, WindowLayer) and len(layer.conditions) > len(everywhere)
    ]
    for index, conds in per_layer_where:
        facts.append((f"where (layer {index})", " and ".join(f"({c.text})" for c in conds)))
    facts.append(("chains", n))
    if n >= 10**6:
        facts.append(("chains (approx.)", scientific(n)))
    allow_digits(n)
    data = {
        "input": list(shape),
        "output": list(last_target) if last_target else None,
        "mode": mode,
        "rank": rank,
        "count": n,
    }
    tables, notes = [], []
    if outcome.failure:
        f = outcome.failure
        inputs = [tuple(u) for u in f["inputs"]]
        where_from = (
            format_shape(inputs[0])
            if f["n_inputs"] == 1
            else f"any of its {f['n_inputs']} reachable inputs (e.g. "
            f"{', '.join(format_shape(u) for u in inputs[:3])})"
        )
        if f["target"] is not None:
            notes.append(
                f"no chain: {f['origin']} cannot give its target "
                f"{format_shape(f['target'])} from {where_from}"
            )
            notes += f["near"].notes(" there", "configuration")
        else:
            notes.append(
                f"no chain: {f['origin']} has no valid configuration within the "
                f"bounds for {where_from}"
            )
        other = outcome.other_mode
        if other:
            notes.append(
                f"0 chains in exact mode, {other['count']:,} in floor mode (PyTorch's "
                f"rule), where {f['origin']} has {other['choices']:,} configuration"
                f"{'s' if other['choices'] != 1 else ''}: add --mode floor"
            )
            data["other_mode"] = other
        data["chains"] = []
        data["unreachable"] = {
            "layer": f["layer"],
            "spec": f["spec"],
            "target": f["target"],
            "nearest": f["nearest"],
            "distance": f["near"].distance,
            "complete": f["near"].complete,
        }
        return Result(
            title=f"{head} {format_shape(shape)} -> {goal}: 0 chains",
            facts=tuple(facts),
            notes=tuple(notes),
            data=data,
            exit_code=1,
            kind="plan",
        )

    summary = []
    for j, layer in enumerate(layers):
        target = format_shape(layer.target) if layer.target is not None else ""
        summary.append(
            (
                layer.index,
                layer.spec.describe(),
                target,
                len(outcome.live[j]),
                len(outcome.live[j + 1]),
                outcome.choices[j],
            )
        )
    tables.append(
        Table(
            ("#", "layer", "target", "inputs", "outputs", "choices"),
            tuple(summary),
            "layers (live shapes at each side, configurations on live transitions)",
        )
    )
    sets_data = []
    for j, (u, v, cfgs) in sorted(outcome.sets.items()):
        layer = layers[j]
        rows: list[tuple]  # a table's rows: each layer's solutions, then each chain's steps
        rows, shown = [], []
        check_rows(len(cfgs), limit, f"layer {layer.index} {layer.spec.describe()}")
        for cfg in cfgs if limit is None else cfgs[:limit]:
            spec = layer.resolve(cfg)
            _, weights, params, macs, _ = apply_layer(spec, u, layer.index)
            shown.append(
                {
                    **cfg_row(cfg),
                    "unused": _unused(layer, u, v, cfg),
                    "output": list(v),
                    "weights": weights,
                    "params": params,
                    "macs": macs,
                }
            )
        for s in shown:
            unused = s["unused"]
            rows.append(
                (
                    s["k"],
                    s["s"],
                    s["p"],
                    s["d"],
                    unused[0] if len(set(unused)) == 1 else ",".join(map(str, unused)),
                    format_shape(v),
                    s["weights"],
                    s["params"],
                    s["macs"],
                )
            )
        more = f", first {len(shown)} shown" if len(shown) < len(cfgs) else ""
        tables.append(
            Table(
                ("k", "s", "p", "d", "unused", "output", "weights", "params", "macs"),
                tuple(rows),
                f"layer {layer.index} {layer.spec.describe()}: {format_shape(u)} -> "
                f"{format_shape(v)}, {len(cfgs)} solution"
                f"{'s' if len(cfgs) != 1 else ''}{more}",
            )
        )
        sets_data.append(
            {
                "layer": layer.index,
                "spec": layer.spec.describe(),
                "input": list(u),
                "output": list(v),
                "count": len(cfgs),
                "solutions": shown,
            }
        )
    chains_data = []
    for r, (_cost, cfgs) in enumerate(outcome.chains, start=1):
        net = chain_network(outcome, cfgs)
        rows = []
        entries = []
        for step, cfg in zip(net.steps, cfgs):
            rows.append((step.index, step.spec.canonical(), format_shape(step.output)))
            entries.append(
                {
                    "spec": step.spec.canonical(),
                    "kind": step.spec.kind,
                    **cfg_row(cfg),
                    "output": list(step.output),
                }
            )
        mem = network_memory(net, *memory)
        chains_data.append(
            {
                "layers": entries,
                "params": net.params,
                "macs": net.macs,
                "rf": net.rf,
                "weights": net.weights,
                "inference_peak_bytes": mem.inference_peak_bytes,
                "train_saved_bytes": mem.train_saved_bytes,
                "train_total_bytes": mem.train_total_bytes,
            }
        )
        tables.append(
            Table(
                ("#", "layer", "output"),
                tuple(rows),
                f"chain {r}: params {net.params}, macs {net.macs}, rf {net.rf}, "
                f"peak {human(mem.inference_peak_bytes)}, train "
                f"{human(mem.train_total_bytes)}",
            )
        )
    if outcome.chains:
        notes.append(
            f"chains ranked by {rank}, ties simplest first (earlier layers first, "
            "each by d, p, k, s)"
        )
        notes.append(
            f"peak and train at batch {memory[0]} in {memory[1]} with {memory[2]} "
            "(docs/memory.md: inference peak of live tensors; training total of "
            "params, grads, optimizer state and saved activations)"
        )
    data.update(batch=memory[0], dtype=memory[1], optimizer=memory[2])
    data["chains"] = chains_data
    data["solution_sets"] = sets_data
    data["layers"] = [
        {
            "layer": layer.index,
            "spec": layer.spec.describe(),
            "target": list(layer.target) if layer.target is not None else None,
            "inputs": len(outcome.live[j]),
            "outputs": len(outcome.live[j + 1]),
            "choices": outcome.choices[j],
        }
        for j, layer in enumerate(layers)
    ]
    return Result(
        title=f"{head} {format_shape(shape)} -> {goal}: {n} chain{'s' if n != 1 else ''}",
        facts=tuple(facts),
        tables=tuple(tables),
        notes=tuple(notes),
        data=data,
        kind="plan",
    )
