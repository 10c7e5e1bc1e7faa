"""`cnnplan inputs`: which square input sizes a network accepts, as a list and as a rule.

Every size n in the range is tried as C x n (x n ...): it is accepted when every layer applies
and every join lines up (and, for concat(crop=true), every crop is symmetric). The accepted
sizes are then described by the shortest rule of the form "m n + b for n >= n0" (a union of
such progressions with one modulus m), found by trying each modulus in turn.
"""

from __future__ import annotations

from ..kinds.shape import format_shape
from ..platform import arguments
from ..platform.budget import budgeted, charge
from ..platform.errors import BadInput
from ..platform.result import Result, Table

_range = range  # `range` is also inputs()'s argument
MAX_RANGE = 65_536  # sizes one question may try
MAX_SIZE = 999_999_999  # the largest size a range may name
MAX_RULE_TERMS = 8  # residue classes a readable rule may have


def _short(text) -> str:
    text = str(text)
    return repr(text if len(text) <= 40 else text[:18] + "..." + text[-18:])


def parse_range(text) -> tuple[int, int]:
    """'LO..HI' (inclusive), both whole numbers >= 1."""
    if isinstance(text, (tuple, list)):
        if len(text) != 2:
            raise ValueError(f"range must be (LO, HI), not {len(text)} values")
        lo, hi = (arguments.whole(v, "range", 1, optional=False) for v in text)
    else:
        parts = [p.strip() for p in str(text).strip().split("..")]
        if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
            raise BadInput(f"--range {_short(text)}: write LO..HI with whole numbers, e.g. 1..4096")
        if any(len(p) > 9 for p in parts):
            raise BadInput(
                f"--range {_short(text)}: sizes go up to {MAX_SIZE:,}, and one "
                f"question tries at most {MAX_RANGE:,} of them"
            )
        lo, hi = (int(p) for p in parts)
    if not 1 <= lo <= hi:
        raise BadInput(f"--range {lo}..{hi}: need 1 <= LO <= HI")
    if hi - lo + 1 > MAX_RANGE:
        raise BadInput(
            f"--range {lo}..{hi} holds {hi - lo + 1:,} sizes; the limit is {MAX_RANGE:,}"
        )
    return lo, hi


def accepts(shape, prepared, rules, output="", confirm=True):
    """None if the network accepts `shape`, else the reason (the first layer or join that fails).

    The kinds' shape-only `fast` rules run first; a layer they refuse (or that has none) is
    applied in full, which says why. With `confirm`, a shape the rules accept is checked by a
    full forward pass too (the size-independent checks, such as groups, live there: once one
    size has passed them, they hold for every size)."""
    from ..language.specs import INPUT
    from .forward import forward, read, store

    shapes = {INPUT: shape}
    for (node, spec, record, where), rule in zip(prepared, rules):
        try:
            inputs = tuple(read(shapes, s, where) for s in node.sources)
        except BadInput as exc:
            return str(exc)
        out = rule(inputs) if rule else None
        if out is None:
            try:
                done = record.apply(spec, inputs, where)
            except BadInput as exc:
                return str(exc)
            reason = _asymmetric(done.notes)
            if reason:
                return reason
            store(shapes, node.name, done)
            continue
        shapes[node.name] = out
    if not confirm:
        return None
    try:
        net = forward(shape, prepared, output=output, fields=False)
    except BadInput as exc:
        return str(exc)
    return _asymmetric(note for step in net.steps for note in step.notes)


def _asymmetric(notes):
    for note in notes:
        if "not symmetric" in note:
            return note
    return None


def rule_for(sizes: list[int], lo: int, hi: int) -> str:
    """A readable rule for `sizes` within [lo, hi], e.g. '16n for n >= 1', or '' if none is
    short enough."""
    if not sizes:
        return "none"
    accepted = set(sizes)
    span = hi - lo + 1
    for m in range(1, span + 1):
        starts: dict[int, int] = {}
        for size in sizes:
            starts.setdefault(size % m, size)
        if len(starts) > MAX_RULE_TERMS:
            continue
        if all(size in accepted for r, first in starts.items() for size in range(first, hi + 1, m)):
            return "; ".join(
                _term(m, r, first) for r, first in sorted(starts.items(), key=lambda kv: kv[1])
            )
    return ""


def _term(m: int, r: int, first: int) -> str:
    if m == 1:
        return f"every size >= {first}"
    n0 = (first - r) // m
    base = f"{m}n" + (f" + {r}" if r else "")
    return f"{base} for n >= {n0}"


@budgeted
def inputs(
    input=None,
    layers=(),
    plan_file=None,
    range=(1, 4096),
    plan_text=None,
    memory=None,
    batch=None,
    dtype=None,
    optimizer=None,
    inference=False,
    device=None,
) -> Result:
    """Every square input size in `range` that the network accepts, with a rule and, for each
    refused size, the first layer or join that fails. With a `memory` budget ("24GiB"), also
    the largest accepted size whose training total (`inference`: inference total) at `batch`
    in `dtype` fits (docs/memory.md).

    >>> inputs("3x32x32", ["conv(8, k=3, s=2)", "conv(8, k=3, s=2)"], range="1..20").data["rule"]
    'every size >= 7'
    """
    from ..language.planfile import gather

    lo, hi = parse_range(range)
    shape, items, options, title = gather(
        input, layers, plan_file, None, what="network", plan_text=plan_text
    )
    from .forward import plan_nodes, prepare

    if "fixed_input" in options:
        from ..language.planfile import fixed_input_message

        raise BadInput(fixed_input_message(options, shape))
    nodes = prepare(plan_nodes(items))
    axes = len(shape) - 1
    rules = [record.fast(spec, axes) if record.fast else None for _, spec, record, _ in nodes]
    output = options.get("output_layer", "")
    channels, dims = shape[0], len(shape) - 1
    if dims < 1:
        raise BadInput("inputs asks about spatial sizes; give an input C x sizes, e.g. 3x64x64")
    charge(
        (hi - lo + 1) * sum(1 + len(node.sources) for node, _, _, _ in nodes),
        f"trying {hi - lo + 1:,} sizes through {len(nodes):,} layers",
    )
    sizes: list[int] = []
    refused = []
    for n in _range(lo, hi + 1):
        reason = accepts((channels, *([n] * dims)), nodes, rules, output, confirm=not sizes)
        if reason is None:
            sizes.append(n)
        else:
            refused.append((n, reason))
    rule = rule_for(sizes, lo, hi)
    example = format_shape((channels, *(["n"] * dims)))
    facts = [
        ("input", example),
        ("range", f"{lo}..{hi}"),
        ("accepted", len(sizes)),
        ("rule", rule or "no short rule (see the list)"),
    ]
    groups = _group_refusals(refused)
    rows = tuple((_ranges_text(ns, 4), reason) for reason, ns in groups)
    notes = []
    if sizes:
        notes.append("accepted: " + _ranges_text(sizes))
    notes.append(
        "sizes are tried on every spatial axis at once (square inputs); channels come "
        "from the network's input"
    )
    data = {
        "count": len(sizes),
        "sizes": sizes,
        "rule": rule,
        "range": [lo, hi],
        "channels": channels,
        "spatial_axes": dims,
        "refused": [{"sizes": ns, "reason": reason} for reason, ns in groups],
    }
    what = title or "network"
    exit_code = 0 if sizes else 1
    if memory is not None:
        from .memory import human

        fit = largest_fitting(
            sizes, channels, dims, nodes, output, memory, batch, dtype, optimizer, inference, device
        )
        notes.insert(0, fit.pop("note"))
        data.update(fit)
        facts.append(
            (
                f"largest {fit['fit']} size in {human(fit['memory_budget'])} at batch "
                f"{fit['batch']}",
                fit["largest_fitting"] or "none",
            )
        )
        exit_code = exit_code or (0 if fit["largest_fitting"] else 1)
    return Result(
        title=f"{what}: {len(sizes)} of {hi - lo + 1} input sizes accepted",
        facts=tuple(facts),
        tables=(
            Table(
                ("refused sizes", "first failure (at the first size listed)"),
                rows,
                "refused sizes, by reason",
            ),
        )
        if rows
        else (),
        notes=tuple(notes),
        data=data,
        exit_code=exit_code,
        kind="inputs",
    )


def largest_fitting(
    sizes, channels, dims, nodes, output, budget, batch, dtype, optimizer, inference, device
) -> dict:
    """The largest accepted size whose memory total fits `budget`, by bisection: every core
    kind's output grows (or stays) with its input, so the totals do too."""
    from .forward import forward
    from .memory import check_options, human, memory, parse_budget, total

    limit = parse_budget(budget)
    batch, dtype, optimizer, device = check_options(
        batch or 1, dtype or "float32", optimizer or "adam", device or "cuda"
    )
    what = "inference" if inference else "training"
    if dtype == "int8" and not inference:
        raise BadInput("int8 is an inference dtype: add --inference to fit --memory")

    def need(n):
        net = forward((channels, *([n] * dims)), nodes, output=output, fields=False)
        value = total(memory(net, batch, dtype, optimizer, device), inference)
        if value is None:
            raise BadInput(
                "the training memory of this network is not known (a layer kind "
                "has no saves rule): use --inference"
            )
        return value

    lo, hi, best = 0, len(sizes) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if need(sizes[mid]) <= limit:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    found = sizes[best] if best is not None else None
    if found is not None:
        note = (
            f"largest input that fits {human(limit)} for {what} at batch {batch} in "
            f"{dtype}: {found} (needs {human(need(found))})"
        )
    elif sizes:
        note = (
            f"no accepted size fits {human(limit)} for {what} at batch {batch}: the "
            f"smallest, {sizes[0]}, needs {human(need(sizes[0]))}"
        )
    else:
        note = "no size is accepted, so none fits"
    return {
        "memory_budget": limit,
        "fit": what,
        "batch": batch,
        "dtype": dtype,
        "optimizer": optimizer,
        "largest_fitting": found,
        "largest_fitting_bytes": need(found) if found is not None else None,
        "note": note,
    }


def _group_refusals(refused):
    """[(reason at the first size, [sizes])]: sizes refused by the same layer for the same
    reason (numbers abstracted), in order of first appearance."""
    import re

    groups: dict[str, list[int]] = {}
    first: dict[str, str] = {}
    for n, reason in refused:
        key = re.sub(r"\binput (is )?\d+(x\d+)+", "input", reason)
        key = re.sub(r"\d+(x\d+)+", "SHAPE", key)
        key = re.sub(r"(size|input) \d+", r"\1 N", key)
        key = re.sub(r"\d+ \+ 2\*\d+", "N + 2p", key)
        key = re.sub(r"padded input \d+", "padded input N", key)
        groups.setdefault(key, []).append(n)
        first.setdefault(key, reason)
    return [(first[key], sizes) for key, sizes in groups.items()]


def _ranges_text(numbers: list[int], limit: int = 12) -> str:
    """'1..6, 8, 10..12' (runs joined), shortened after `limit` runs."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    parts = [f"{a}" if a == b else f"{a}..{b}" for a, b in runs]
    if len(parts) > limit:
        parts = parts[:limit] + [f"... ({len(numbers)} sizes)"]
    return ", ".join(parts)
