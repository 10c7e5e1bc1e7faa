"""The core's layer kinds (registered through `register_layer_kinds`, as a plugin's would be).

Conventions (docs/networks.md): weights exclude biases; params add biases and the affine
scale and shift of normalisation layers; MACs: conv = output elements x C_in/groups x prod(k),
convT on the input positions, linear in x out, normalisation 1 per element, everything else 0.
"""

from __future__ import annotations

import math

from ..platform.errors import BadInput
from .arithmetic import (
    SAME_RULES,
    effective_kernel,
    input_fits_kernel,
    max_padding,
    output_padding_valid,
    pool_output_ceil,
    same_pads,
    transposed_output,
    window_output,
)
from .records import (
    BOOLEAN,
    PADS,
    POSITIVE,
    SAME_PADS,
    SIZES,
    WHOLE,
    Applied,
    Arg,
    LayerKind,
    RfStep,
    Saves,
    Window,
)
from .shape import format_shape, size_of

POOL_PADS = Arg(0, tuples=True, words=("valid", *SAME_RULES), pairs=True)
MODES = Arg(None, words=("nearest", "bilinear"))


def _fraction(n, d=1):
    """Fraction(n, d), imported on first use (start-up stays light for `solve`)."""
    from fractions import Fraction

    return Fraction(n, d)


def half(n: int):
    """n / 2 as an int when it is one (Fractions only where needed: they are slow)."""
    return n // 2 if n % 2 == 0 else _fraction(n, 2)


def _label(spec, where: str) -> str:
    return f"{where} {spec.describe()}"


def per_axis(spec, name: str, n: int, where: str, default=None) -> tuple:
    """A window value on each of n spatial axes (a number, or a tuple of n numbers)."""
    value = spec.get(name, default)
    if isinstance(value, tuple):
        if len(value) != n:
            raise BadInput(
                f"{_label(spec, where)}: {name}={format_shape(value).replace('x', ', ')}"
                f" gives {len(value)} values for {n} spatial axes"
            )
        return value
    return (value,) * n


def _spatial(spec, shape, where: str) -> tuple:
    if len(shape) < 2:
        raise BadInput(
            f"{_label(spec, where)}: {spec.kind} needs a C x sizes input, but its "
            f"input is the flat {format_shape(shape)} (after flatten or linear)"
        )
    return shape[1:]


def _window_values(spec, sizes, where):
    n = len(sizes)
    ks = per_axis(spec, "k", n, where)
    ss = per_axis(spec, "s", n, where)
    ds = per_axis(spec, "d", n, where, 1)
    lefts, rights = pads_of(spec, sizes, ks, ss, ds, where)
    return ks, ss, lefts, rights, ds


def pads_of(spec, sizes, ks, ss, ds, where) -> tuple[tuple, tuple]:
    """(befores, afters): the padding on each spatial axis under the spec's rule: a number or
    per-axis numbers (symmetric), (before, after) pairs, 'valid', PyTorch's 'same' (stride 1)
    or TensorFlow's/ONNX's 'same_upper' / 'same_lower', which depend on the input size."""
    n = len(sizes)
    pad = spec.get("p", 0)
    if pad == "valid":
        return (0,) * n, (0,) * n
    if pad == "same":
        if any(s != 1 for s in ss):
            raise BadInput(
                f"{_label(spec, where)}: padding='same' needs stride 1 (PyTorch); "
                "p=same_upper is TensorFlow's rule for any stride"
            )
        totals = [effective_kernel(k, d) - 1 for k, d in zip(ks, ds)]
        return tuple(t // 2 for t in totals), tuple(t - t // 2 for t in totals)
    if pad in SAME_RULES:
        pairs = [same_pads(i, k, s, d, pad) for i, k, s, d in zip(sizes, ks, ss, ds)]
    elif isinstance(pad, tuple) and isinstance(pad[0], tuple):
        if len(pad) not in (1, n):
            raise BadInput(
                f"{_label(spec, where)}: p gives {len(pad)} (before, after) pairs "
                f"for {n} spatial axes"
            )
        pairs = list(pad) * (n if len(pad) == 1 else 1)
    else:
        sym = per_axis(spec, "p", n, where, 0)
        return sym, sym
    return tuple(a for a, _ in pairs), tuple(b for _, b in pairs)


def _groups(spec, where, c_in, c_out):
    groups = spec.get("groups", 1)
    for what, value in (("input", c_in), ("output", c_out)):
        if value % groups:
            raise BadInput(
                f"{_label(spec, where)}: groups={groups} must divide the {what} channels {value}"
            )
    return groups


def _conv_apply(spec, inputs, where):
    (shape,) = inputs
    sizes = _spatial(spec, shape, where)
    ks, ss, lefts, rights, ds = _window_values(spec, sizes, where)
    c_in, c_out = shape[0], spec.get("channels")
    groups = _groups(spec, where, c_in, c_out)
    outs, notes, steps, dropped = [], [], [], set()
    for i, k, s, pl, pr, d in zip(sizes, ks, ss, lefts, rights, ds):
        ke = effective_kernel(k, d)
        span = i + pl + pr - ke
        if span < 0:
            raise BadInput(
                f"{_label(spec, where)}: {_kernel_text(k, d)} larger than padded input "
                f"{i + pl + pr}{_pad_text(i, pl, pr)}"
            )
        outs.append(span // s + 1)
        if span % s:
            dropped.add((i, span % s))
        if max(pl, pr) > max_padding(k, d, "conv"):
            notes.append(
                f"{where}: padding {max(pl, pr)} exceeds k'-1 = {ke - 1}, so the "
                "outermost outputs see only padding"
            )
        steps.append(RfStep(ke - 1, s, half(ke - 1) - pl))
    notes += _dropped_notes(where, dropped)
    out = (c_out, *outs)
    weights = math.prod(ks) * (c_in // groups) * c_out
    macs = size_of(out) * (c_in // groups) * math.prod(ks)
    weights, params = conv_params(spec, weights, c_out, where)
    return Applied(out, weights, params, macs, tuple(dict.fromkeys(notes)), tuple(steps))


def conv_params(spec, weights: int, c_out: int, where: str) -> tuple:
    """(weights, params) of a conv: the kernel, plus the bias and a learned per-output-channel
    gain on the kernel (gain=true: weight standardisation, weight norm's g); fixed=true: a
    kernel held in a buffer (a blur filter), nothing learned."""
    if spec.get("fixed") and spec.get("gain"):
        raise BadInput(
            f"{_label(spec, where)}: a fixed kernel (a buffer) has no learned gain; "
            "give gain=true or fixed=true, not both"
        )
    if spec.get("fixed"):
        return 0, 0
    return weights, weights + (c_out if spec.get("bias") else 0) + (
        c_out if spec.get("gain") else 0
    )


def _kernel_text(k, d):
    return f"kernel {k}" if d == 1 else f"effective kernel {effective_kernel(k, d)} (k={k}, d={d})"


def _pad_text(i, pl, pr):
    if not (pl or pr):
        return ""
    return f" ({i} + 2*{pl})" if pl == pr else f" ({i} + {pl} + {pr})"


def _dropped_notes(where, dropped):
    return [
        f"{where}: on an axis of size {i}, {rows} padded input row"
        f"{'s' if rows != 1 else ''} after the last window "
        f"{'are' if rows != 1 else 'is'} not used (floor)"
        for i, rows in sorted(dropped)
    ]


def _convT_apply(spec, inputs, where):
    (shape,) = inputs
    sizes = _spatial(spec, shape, where)
    n = len(sizes)
    ks, ss, ds = (
        per_axis(spec, "k", n, where),
        per_axis(spec, "s", n, where),
        per_axis(spec, "d", n, where, 1),
    )
    ps, ops = per_axis(spec, "p", n, where, 0), per_axis(spec, "op", n, where, 0)
    if spec.get("p") in ("same", "valid"):
        raise BadInput(f"{_label(spec, where)}: transposed convolutions take whole-number padding")
    c_in, c_out = shape[0], spec.get("channels")
    groups = _groups(spec, where, c_in, c_out)
    outs, notes, steps = [], [], []
    for i, k, s, p, d, op in zip(sizes, ks, ss, ps, ds, ops):
        if not output_padding_valid(op, s, d):
            raise BadInput(
                f"{_label(spec, where)}: output padding op={op} must be smaller than "
                f"the stride {s} or the dilation {d}"
            )
        o = transposed_output(i, k, s, p, d, op)
        if o is None:
            raw = (i - 1) * s - 2 * p + d * (k - 1) + op + 1
            raise BadInput(
                f"{_label(spec, where)}: output size {raw} on an axis of size {i} "
                "((i-1)s - 2p + d(k-1) + op + 1 must be at least 1)"
            )
        outs.append(o)
        ke = effective_kernel(k, d)
        if p > max_padding(k, d, "convT"):
            notes.append(
                f"{where}: padding {p} exceeds k'-1 = {ke - 1}, so real outputs are cropped"
            )
        steps.append(
            RfStep(
                _fraction(ke - 1, s), _fraction(1, s), _fraction(p, s) - _fraction(ke - 1, 2 * s)
            )
        )
    out = (c_out, *outs)
    weights = math.prod(ks) * c_in * (c_out // groups)
    macs = size_of(shape) * (c_out // groups) * math.prod(ks)
    return Applied(
        out,
        weights,
        weights + (c_out if spec.get("bias") else 0),
        macs,
        tuple(dict.fromkeys(notes)),
        tuple(steps),
        exact_rf=False,
    )


def _pool_apply(spec, inputs, where):
    (shape,) = inputs
    sizes = _spatial(spec, shape, where)
    ks, ss, lefts, rights, ds = _window_values(spec, sizes, where)
    ceil = spec.get("ceil", False)
    rule = spec.get("p", 0)
    if ceil and rule in SAME_RULES:
        raise BadInput(
            f"{_label(spec, where)}: p={rule} already gives ceil(i/s) outputs; drop ceil=true"
        )
    outs, notes, steps, dropped = [], [], [], set()
    if (
        spec.kind == "avgpool"
        and len(sizes) == 3
        and not all(input_fits_kernel((i,), k) for i, k in zip(sizes, ks))
    ):
        raise BadInput(
            f"{_label(spec, where)}: PyTorch's 3-D average pooling needs every input "
            f"size to be at least the kernel, but the input is {format_shape(shape)}"
        )
    explicit = rule in SAME_RULES or isinstance(rule, tuple) and isinstance(rule[0], tuple)
    for i, k, s, pl, pr, d in zip(sizes, ks, ss, lefts, rights, ds):
        ke = effective_kernel(k, d)
        if not explicit and pl > max_padding(k, d, spec.kind):
            raise BadInput(
                f"{_label(spec, where)}: padding {pl} is more than half the kernel {k} "
                f"(PyTorch requires p <= k // 2 = {max_padding(k, d, spec.kind)})"
            )
        if explicit and max(pl, pr) >= ke:
            raise BadInput(
                f"{_label(spec, where)}: padding {max(pl, pr)} is not smaller than "
                f"the window {ke} (ONNX requires pads < kernel)"
            )
        o = window_output(i, k, s, pl, pr, d, ceil)
        if o is None:
            more = f", even with ceil mode's overhang of less than the stride {s}" if ceil else ""
            raise BadInput(
                f"{_label(spec, where)}: {_kernel_text(k, d)} larger than padded input "
                f"{i + pl + pr}{_pad_text(i, pl, pr)}{more}"
            )
        outs.append(o)
        if not ceil and (i + pl + pr - ke) % s:
            dropped.add((i, (i + pl + pr - ke) % s))
        steps.append(RfStep(ke - 1, s, half(ke - 1) - pl))
    notes += _dropped_notes(where, dropped)
    return Applied((shape[0], *outs), notes=tuple(notes), steps=tuple(steps))


def _pool_complete(values: dict) -> dict:
    if "s" not in values and "k" in values:
        values["s"] = values["k"]
    return values


def _same(spec, inputs, where):
    return Applied(inputs[0])


def _norm_channels(spec, inputs, where):
    (shape,) = inputs
    c = shape[0]
    if spec.kind == "groupnorm" and c % spec.get("groups"):
        raise BadInput(
            f"{_label(spec, where)}: {spec.get('groups')} groups must divide the {c} channels"
        )
    if spec.kind == "groupnorm" and size_of(shape) == spec.get("groups"):
        raise BadInput(
            f"{_label(spec, where)}: each group of the input {format_shape(shape)} "
            "holds a single value, which PyTorch refuses to normalise"
        )
    return Applied(shape, c, 2 * c, size_of(shape))


def _layernorm(spec, inputs, where):
    (shape,) = inputs
    dims = spec.get("dims", len(shape))
    if dims > len(shape):
        raise BadInput(
            f"{_label(spec, where)}: dims={dims} but the input "
            f"{format_shape(shape)} has {len(shape)} axes"
        )
    n = math.prod(shape[len(shape) - dims :])
    return Applied(shape, n, 2 * n, size_of(shape))


AXIS = Arg(-6)  # an axis of C x sizes: 0 the channels, negative from the end
DIMS = Arg(-6, tuples=True, collapse=False)  # axes: 1, or (0, 2)


def axis_of(spec, where, name, rank, default=0) -> int:
    """The axis argument `name` as 0 .. rank-1; BadInput where the input has no such axis."""
    value = spec.get(name, default)
    if not -rank <= value < rank:
        raise BadInput(
            f"{_label(spec, where)}: {name}={value} is not an axis of a {rank}-axis "
            f"input (0 to {rank - 1}, or -1 to -{rank} from the end)"
        )
    return value % rank


def torch_axis(value) -> int:
    """A cnnplan axis as torch counts it (the batch is axis 0 there)."""
    return value + 1 if value >= 0 else value


def _flatten(spec, inputs, where):
    """All axes into one (the default), or axes start..end (a merge: the rf ends if one of
    them is spatial)."""
    (shape,) = inputs
    rank = len(shape)
    start, end = axis_of(spec, where, "start", rank), axis_of(spec, where, "end", rank, -1)
    if start > end:
        raise BadInput(f"{_label(spec, where)}: start={start} comes after end={end}")
    merged = tuple(range(start, end + 1))
    out = (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])
    axes = (*range(start), merged if len(merged) > 1 else start, *range(end + 1, rank))
    return Applied(out, axes=axes)


def _flatten_torch(spec, inputs):
    if not (spec.has("start") or spec.has("end")):
        return "nn.Flatten()"
    return f"nn.Flatten({torch_axis(spec.get('start', 0))}, {torch_axis(spec.get('end', -1))})"


def _whole(shape):
    return (WHOLE,) * (len(shape) - 1)


def _linear(spec, inputs, where):
    """On a flat input; with last=true on the last axis of any input, as nn.Linear is (the
    other axes keep their fields, the last is read whole)."""
    (shape,) = inputs
    if len(shape) != 1 and not spec.get("last"):
        raise BadInput(
            f"{_label(spec, where)}: linear needs a flat input but gets "
            f"{format_shape(shape)}; put flatten before it (or linear(N, last=true) "
            "for nn.Linear on the last axis)"
        )
    features = spec.get("features")
    weights = shape[-1] * features
    out = (*shape[:-1], features)
    steps = (RfStep(),) * (len(shape) - 1) + (WHOLE,) if len(shape) > 1 else None
    return Applied(
        out,
        weights,
        weights + (features if spec.get("bias") else 0),
        size_of(out) * shape[-1],
        steps=steps,
    )


def _softmax(spec, inputs, where):
    """Over axis `dim` (default 0, the channels): a spatial axis is read whole."""
    (shape,) = inputs
    dim = axis_of(spec, where, "dim", len(shape))
    steps = tuple(WHOLE if a == dim else RfStep() for a in range(len(shape)))
    return Applied(shape, steps=steps if dim or len(shape) == 1 else None)


def reduce_axes(spec, inputs, where):
    """mean / sum / norm over the axes `dims` (torch's x.sum(dim, keepdim)): they become 1
    (keepdim=true) or go. A spatial axis reduced is read whole (the rf ends there); reducing
    feature axes keeps the others' fields. MACs 0 (as pooling, and as fvcore, which counts
    no reduction)."""
    (shape,) = inputs
    rank = len(shape)
    dims = spec.get("dims")
    dims = dims if isinstance(dims, tuple) else (dims,)
    axes = [axis_value(spec, where, d, rank) for d in dims]
    if len(set(axes)) != len(axes):
        raise BadInput(f"{_label(spec, where)}: dims names axis {max(axes, key=axes.count)} twice")
    if spec.get("keepdim"):
        out = tuple(1 if a in axes else n for a, n in enumerate(shape))
        return Applied(out, steps=tuple(WHOLE if a in axes else RfStep() for a in range(rank)))
    kept = tuple(a for a in range(rank) if a not in axes)
    if not kept:
        raise BadInput(
            f"{_label(spec, where)}: reducing every axis leaves one number per "
            "sample, which has no C x sizes shape (keepdim=true keeps them as 1)"
        )
    return Applied(tuple(shape[a] for a in kept), axes=kept)


def axis_value(spec, where, value, rank) -> int:
    """An axis named in a tuple argument (dims) as 0 .. rank-1."""
    if not -rank <= value < rank:
        raise BadInput(
            f"{_label(spec, where)}: dims names axis {value}, but the input has "
            f"{rank} axes (0 to {rank - 1}, or -1 to -{rank} from the end)"
        )
    return value % rank


def _mean(spec, inputs, where):
    """Over the spatial axes, or with dims= over those axes (reduce_axes)."""
    if spec.has("dims"):
        return reduce_axes(spec, inputs, where)
    shape = inputs[0]
    sizes = _spatial(spec, shape, where)
    out = (shape[0], *([1] * len(sizes))) if spec.get("keepdim") else (shape[0],)
    return Applied(out, steps=_whole(shape))


def _adaptive(spec, inputs, where):
    (shape,) = inputs
    sizes = _spatial(spec, shape, where)
    outs = per_axis(spec, "out", len(sizes), where)
    steps, exact = [], True
    for i, o in zip(sizes, outs):
        if o == 1:
            steps.append(WHOLE)
        elif i % o == 0:
            steps.append(RfStep(i // o - 1, i // o, _fraction(i // o - 1, 2)))
        else:  # PyTorch's windows [floor(j i/o), ceil((j+1) i/o)): irregular; a bound
            exact = False
            span = -(-i // o)
            steps.append(RfStep(span, _fraction(i, o), _fraction(span, 2)))
    return Applied((shape[0], *outs), steps=tuple(steps), exact_rf=exact)


def _upsample(spec, inputs, where):
    (shape,) = inputs
    sizes = _spatial(spec, shape, where)
    mode = spec.get("mode", "nearest")
    if mode == "bilinear" and len(sizes) != 2:
        raise BadInput(
            f"{_label(spec, where)}: bilinear upsampling needs 2 spatial axes, "
            f"not {format_shape(shape)}"
        )
    if spec.has("size") == spec.has("scale"):
        raise BadInput(f"{_label(spec, where)}: give either scale= or size=")
    if spec.has("size"):
        outs = per_axis(spec, "size", len(sizes), where)
    else:
        outs = tuple(i * f for i, f in zip(sizes, per_axis(spec, "scale", len(sizes), where)))
    # Output y reads input floor(y i/o) (nearest; bilinear also the next one). Consecutive
    # outputs step i/o, but floor snaps them to whole inputs: with i/o = p/q in lowest terms,
    # the positions read by K + 1 consecutive outputs span at most floor(K p/q + (q-1)/q) + 1,
    # so the window spans (q - 1)/q (+ 1 for bilinear): rf = floor(E) + 1 is an upper bound
    # (exact when windows follow; upsample(2) after a stride-2 layer reads one input, rf 2).
    extra = 1 if mode == "bilinear" else 0
    steps = tuple(
        RfStep(
            _fraction(o // math.gcd(i, o) - 1, o // math.gcd(i, o)) + extra,
            _fraction(i, o),
            _fraction(i, 2 * o) - _fraction(1, 2),
        )
        for i, o in zip(sizes, outs)
    )
    return Applied((shape[0], *outs), steps=steps, exact_rf=False)


def _pixelshuffle(spec, inputs, where):
    (shape,) = inputs
    sizes = _spatial(spec, shape, where)
    r = spec.get("r")
    if len(sizes) != 2:
        raise BadInput(f"{_label(spec, where)}: pixel shuffle needs 2 spatial axes")
    if shape[0] % (r * r):
        raise BadInput(
            f"{_label(spec, where)}: the {shape[0]} channels are not divisible by r^2 = {r * r}"
        )
    steps = tuple(RfStep(0, _fraction(1, r), _fraction(1, 2 * r) - _fraction(1, 2)) for _ in sizes)
    return Applied((shape[0] // (r * r), *(i * r for i in sizes)), steps=steps)


def pad_amounts(spec, n: int, where: str) -> tuple:
    """(left, right) per spatial axis from pad(p=(...)) in F.pad's order (last axis first);
    a single number pads every side (nn.ConstantPadNd)."""
    p = spec.get("p")
    p = (p, p) * n if isinstance(p, int) else p
    if len(p) % 2 or len(p) > 2 * n:
        raise BadInput(
            f"{_label(spec, where)}: p needs pairs (left, right) for up to {n} axes, "
            "last axis first as in F.pad"
        )
    pairs = [(p[j], p[j + 1]) for j in range(0, len(p), 2)]
    pairs += [(0, 0)] * (n - len(pairs))
    return tuple(reversed(pairs))


PAD_MODES = Arg(None, words=("constant", "reflect", "replicate", "circular"))
PAD_LIMITS = {"reflect": 1, "circular": 0}  # padding <= size - this, per side


def _pad(spec, inputs, where):
    (shape,) = inputs
    sizes = _spatial(spec, shape, where)
    pairs = pad_amounts(spec, len(sizes), where)
    mode = spec.get("mode", "constant")
    for i, pair in zip(sizes, pairs):  # torch's limits: reflect < size, circular <= size
        if mode in PAD_LIMITS and max(pair) > i - PAD_LIMITS[mode]:
            raise BadInput(
                f"{_label(spec, where)}: {mode} padding of {max(pair)} on an axis of "
                f"size {i} (PyTorch needs at most {i - PAD_LIMITS[mode]})"
            )
    steps = tuple(RfStep(0, 1, -left) for left, _ in pairs)
    return Applied((shape[0], *(i + a + b for i, (a, b) in zip(sizes, pairs))), steps=steps)


# -- joins -----------------------------------------------------------------------------------


def _shapes_text(inputs) -> str:
    return ", ".join(format_shape(s) for s in inputs)


def _add(spec, inputs, where):
    if len(set(inputs)) != 1:
        raise BadInput(
            f"{_label(spec, where)}: add needs inputs of one shape, but they are "
            f"{_shapes_text(inputs)}"
        )
    return Applied(inputs[0], steps=None)


def _mul(spec, inputs, where):
    same_rank(spec, inputs, where)
    return Applied(broadcast(spec, inputs, where), steps=None)


def same_rank(spec, inputs, where):
    """Layers joined by broadcasting must have as many axes each: every tensor carries the
    batch in front, so torch would line one input's batch up with another's feature axis
    (right for batch 1 only); BadInput otherwise."""
    if len({len(s) for s in inputs}) > 1:
        raise BadInput(
            f"{_label(spec, where)}: {spec.kind} joins layers with different "
            f"numbers of axes ({_shapes_text(inputs)}); with the batch in front of "
            "each, torch would line a batch up with a feature axis"
        )


def _two(spec, inputs, where):
    """div, sub: a / b, a - b, broadcast as mul."""
    if len(inputs) != 2:
        raise BadInput(
            f"{_label(spec, where)}: {spec.kind} reads two layers (a, b), not {len(inputs)}"
        )
    return _mul(spec, inputs, where)


def broadcast_sizes(shapes) -> tuple | None:
    """The shapes broadcast against each other as torch does (aligned on the right, sizes equal
    or 1), or None where they do not broadcast.

    >>> broadcast_sizes([(4, 1, 3), (5, 1)]), broadcast_sizes([(2,), (3,)])
    ((4, 5, 3), None)
    """
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(rank):
        values = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0}
        values.discard(1)
        if len(values) > 1:
            return None
        out.append(values.pop() if values else 1)
    return tuple(out)


def broadcast(spec, inputs, where) -> tuple:
    """The shape of inputs broadcast against each other (sizes equal or 1, aligned on the
    right, as torch does); BadInput otherwise."""
    out = broadcast_sizes(inputs)
    if out is None:
        raise BadInput(
            f"{_label(spec, where)}: {spec.kind} broadcasts sizes that are "
            f"equal or 1, but the inputs are {_shapes_text(inputs)}"
        )
    return out


def _learned(spec, inputs, where):
    """scale / shift: the input times / plus a constant; with param=SHAPE a learned tensor
    of that shape (broadcast on the right, as torch does), whose size counts as parameters."""
    (shape,) = inputs
    param = spec.get("param")
    if param is None:
        if spec.get("bias"):
            raise BadInput(
                f"{_label(spec, where)}: bias=true needs the learned tensor's shape (param=SHAPE)"
            )
        return Applied(shape)
    param = (param,) if isinstance(param, int) else param
    if broadcast(spec, (shape, param), where) != tuple(shape):
        raise BadInput(
            f"{_label(spec, where)}: the learned {format_shape(param)} would "
            f"broadcast the input {format_shape(shape)} to a larger shape"
        )
    count = math.prod(param)
    if spec.get("bias"):  # x * w + b (timm's GlobalResponseNorm): a bias of w's shape
        return Applied(shape, count, 2 * count)
    return Applied(shape, count if spec.kind == "scale" else 0, count)


def _resize(spec, inputs, where):
    """resize: the first input resized to the spatial sizes of the second (F.interpolate with
    size=other.shape[-2:]); only the second input's shape is read, not its values."""
    if len(inputs) != 2:
        raise BadInput(
            f"{_label(spec, where)}: resize reads two layers, the tensor and the "
            f"one whose size it takes, not {len(inputs)}"
        )
    shape, like = inputs
    sizes = _spatial(spec, shape, where)
    if len(like) != len(shape):
        raise BadInput(
            f"{_label(spec, where)}: resize needs inputs with the same number of "
            f"axes, but they are {_shapes_text(inputs)}"
        )
    mode = spec.get("mode", "nearest")
    if mode == "bilinear" and len(sizes) != 2:
        raise BadInput(f"{_label(spec, where)}: bilinear resizing needs 2 spatial axes")
    return Applied((shape[0], *like[1:]), steps=None, exact_rf=False)


def _concat(spec, inputs, where):
    ranks = {len(s) for s in inputs}
    if len(ranks) != 1:
        raise BadInput(
            f"{_label(spec, where)}: concat needs inputs with the same number of "
            f"axes, but they are {_shapes_text(inputs)}"
        )
    if spec.get("dim", 0) != 0:
        return _concat_along(spec, inputs, where)
    channels = sum(s[0] for s in inputs)
    if spec.get("crop"):
        small = tuple(min(s[a] for s in inputs) for a in range(1, len(inputs[0])))
        offsets = tuple(
            tuple((s[a + 1] - small[a]) // 2 for a in range(len(small))) for s in inputs
        )
        notes = tuple(
            f"{where}: cropping {format_shape(s[1:])} to {format_shape(small)} is "
            "not symmetric (one more row is dropped after than before)"
            for s in inputs
            if any((s[a + 1] - small[a]) % 2 for a in range(len(small)))
        )
        return Applied((channels, *small), notes=notes, steps=None, offsets=offsets)
    if len({s[1:] for s in inputs}) != 1:
        raise BadInput(
            f"{_label(spec, where)}: concat needs the same spatial sizes, but the "
            f"inputs are {_shapes_text(inputs)} (concat(crop=true) centre-crops)"
        )
    return Applied((channels, *inputs[0][1:]), steps=None)


def _concat_along(spec, inputs, where):
    """concat(dim=a) for a > 0 (tokens, ...): the other axes equal; a spatial axis joined
    this way ends the rf (positions of the later inputs shift)."""
    rank = len(inputs[0])
    dim = axis_of(spec, where, "dim", rank)
    if spec.get("crop"):
        raise BadInput(f"{_label(spec, where)}: crop=true joins channels (dim=0) only")
    rest = {s[:dim] + s[dim + 1 :] for s in inputs}
    if len(rest) != 1:
        raise BadInput(
            f"{_label(spec, where)}: concat along axis {dim} needs the other axes "
            f"equal, but the inputs are {_shapes_text(inputs)}"
        )
    out = (*inputs[0][:dim], sum(s[dim] for s in inputs), *inputs[0][dim + 1 :])
    axes = tuple(() if a == dim else tuple((n, a) for n in range(len(inputs))) for a in range(rank))
    return Applied(out, steps=None, axes=axes)


# -- shape-only rules for `cnnplan inputs` (None where apply refuses; apply says why) ---------


def _fast_window(spec, n):
    ks, ss = per_axis(spec, "k", n, ""), per_axis(spec, "s", n, "")
    ds = per_axis(spec, "d", n, "", 1)
    pad = spec.get("p", 0)
    if spec.kind == "convT":
        ps, ops = per_axis(spec, "p", n, ""), per_axis(spec, "op", n, "")
        axes = [((k - 1) * d - 2 * p + op + 1, s) for k, s, p, d, op in zip(ks, ss, ps, ds, ops)]
        c_out = spec.get("channels")

        def convT(inputs):
            outs = tuple((i - 1) * s + base for i, (base, s) in zip(inputs[0][1:], axes))
            return None if min(outs) < 1 else (c_out, *outs)

        return convT
    if pad == "same":
        return lambda inputs: (spec.get("channels"), *inputs[0][1:])
    ceil = spec.get("ceil", False)
    if ceil or (spec.kind == "avgpool" and n == 3):
        return None
    c_out = spec.get("channels")
    if pad in SAME_RULES:
        return lambda inputs: (
            c_out or inputs[0][0],
            *(-(-i // s) for i, s in zip(inputs[0][1:], ss)),
        )
    try:
        lefts, rights = pads_of(spec, (1,) * n, ks, ss, ds, "")
    except BadInput:
        return None
    axes = [
        (pl + pr - effective_kernel(k, d), s) for k, s, pl, pr, d in zip(ks, ss, lefts, rights, ds)
    ]

    def window(inputs):
        shape = inputs[0]
        outs = []
        for i, (add, s) in zip(shape[1:], axes):
            span = i + add
            if span < 0:
                return None
            outs.append(span // s + 1)
        return (c_out or shape[0], *outs)

    return window


def _fast_same(spec, n):
    return lambda inputs: inputs[0]


def _fast_learned(spec, n):
    """scale / shift: with a learned tensor, only the sizes it broadcasts with (a position
    embedding fixes the token count)."""
    param = _param_shape(spec)
    if param is None:
        return _fast_same(spec, n)
    return lambda inputs: (
        inputs[0] if broadcast_sizes((inputs[0], param)) == tuple(inputs[0]) else None
    )


def _fast_add(spec, n):
    return lambda inputs: inputs[0] if len(set(inputs)) == 1 else None


def _fast_concat(spec, n):
    if spec.get("crop") or spec.get("dim", 0):
        return None

    def concat(inputs):
        if len({s[1:] for s in inputs}) != 1:
            return None
        return (sum(s[0] for s in inputs), *inputs[0][1:])

    return concat


def _fast_upsample(spec, n):
    if spec.has("size"):
        return None
    scales = per_axis(spec, "scale", n, "")
    return lambda inputs: (inputs[0][0], *(i * f for i, f in zip(inputs[0][1:], scales)))


# -- what each kind keeps for backward (docs/memory.md; checked against torch's saved tensors) --
# Shapes here carry the batch first (N x C x sizes).

# layout="any": the kind saves and allocates the same whatever its inputs' strides (checked
# against torch on views of every sort, tests/test_memory_oracles.py); "contiguous" too, and
# its output is contiguous whatever the input's (layer norm, softmax); the others (flatten,
# linear, group norm) may copy a non-contiguous input.
NOTHING = Saves(layout="any")
SAVES_INPUT = Saves(inputs=(0,), layout="any")
SAVES_OUTPUT = Saves(output=True, layout="any")
VIEW = Saves(alias=True, layout="any")


def _rule(value):
    return lambda spec, inputs, output, needs: value


def _saves_input_if_inplace_copies(spec, inputs, output, needs):
    """hardtanh (ReLU6) and hardswish save their input; in place, torch saves a copy of it."""
    if spec.get("inplace"):
        return Saves(alias=True, extra=((size_of(inputs[0]), "like"),), layout="any")
    return SAVES_INPUT


def _saves_relu(spec, inputs, output, needs):
    """ReLU saves its result, which in place is its input's storage."""
    return Saves(alias=bool(spec.get("inplace")), output=True, layout="any")


def _saves_silu(spec, inputs, output, needs):
    """SiLU saves its input; in place, torch's silu_ saves a copy of it."""
    return _saves_input_if_inplace_copies(spec, inputs, output, needs)


def _saves_dropout(spec, inputs, output, needs):
    """Dropout saves its mask (in place too: the output is then its input's storage); in
    eval mode it returns its input."""
    if needs is None:
        return VIEW
    return Saves(
        alias=bool(spec.get("inplace")), extra=((size_of(inputs[0]), "mask"),), layout="any"
    )


def _saves_maxpool(spec, inputs, output, needs):
    """Max pooling saves its input and the int64 indices of the maxima (one per output)."""
    return Saves(inputs=(0,), extra=((size_of(output), "int64"),), layout="any")


def _saves_adaptiveavg(spec, inputs, output, needs):
    """Adaptive average pooling to 1 x 1 (x 1) is torch's mean (nothing saved); otherwise its
    input."""
    return NOTHING if all(v == 1 for v in output[2:]) else SAVES_INPUT


def _saves_norm(spec, inputs, output, needs):
    """Normalisation saves its input and its mean and 1/std: per channel for batch norm, per
    sample and group for group norm, per position outside the normalised axes for layer norm."""
    shape = inputs[0]
    if spec.kind == "bn":
        stats = shape[1]
    elif spec.kind == "groupnorm":
        stats = shape[0] * spec.get("groups")
    else:
        stats = math.prod(shape[: len(shape) - spec.get("dims", len(shape) - 1)])
    # group norm saves a contiguous copy of a non-contiguous input: its layout is ""
    layout = {"groupnorm": "", "layernorm": "contiguous"}.get(spec.kind, "any")
    return Saves(inputs=(0,), extra=((stats, "stats"), (stats, "stats")), layout=layout)


def _broadcast(shapes) -> tuple:
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    return tuple(max(sizes) for sizes in zip(*padded))


def _saves_mul(spec, inputs, output, needs):
    """`a * b * c` runs left to right: each product saves a factor when the other factor
    requires grad; the partial products after the first are new tensors."""
    if needs is None:
        return NOTHING
    saved, extra = [], []
    left_needs = needs[0]
    for j in range(1, len(inputs)):
        if needs[j]:  # the left factor is kept: input 0, or the partial product so far
            if j == 1:
                saved.append(0)
            else:
                extra.append((size_of(_broadcast(inputs[:j])), "like"))
        if left_needs:
            saved.append(j)
        left_needs = left_needs or needs[j]
    return Saves(inputs=tuple(dict.fromkeys(saved)), extra=tuple(extra), layout="any")


def _saves_div(spec, inputs, output, needs):
    """a / b saves b (for both gradients) and, when b requires grad, a."""
    if needs is None:
        return NOTHING
    return Saves(inputs=(1, 0) if needs[1] else (1,), layout="any")


def _saves_scale(spec, inputs, output, needs):
    """x * w saves x for w's gradient (w is a parameter, not counted); x * constant and the
    bias's x * w + b save nothing more."""
    return SAVES_INPUT if spec.get("param") is not None else NOTHING


SHAPE_ONLY = Saves(shape_only=(1,), layout="any")  # resize: like's shape is read, no values


# -- torch code --------------------------------------------------------------------------------


def _tuple_text(value) -> str:
    return repr(value) if isinstance(value, tuple) else str(value)


def explicit_pads(spec, inputs) -> tuple | None:
    """F.pad's amounts (last axis first) for a window layer whose padding PyTorch's layers
    cannot say (same_upper, same_lower, asymmetric pairs), else None."""
    pad = spec.get("p", 0)
    if pad not in SAME_RULES and not (isinstance(pad, tuple) and isinstance(pad[0], tuple)):
        return None
    sizes = inputs[0][1:]
    n = len(sizes)
    ks, ss = per_axis(spec, "k", n, "export"), per_axis(spec, "s", n, "export")
    ds = per_axis(spec, "d", n, "export", 1)
    lefts, rights = pads_of(spec, sizes, ks, ss, ds, "export")
    return tuple(v for a in reversed(range(n)) for v in (lefts[a], rights[a]))


def _padded(spec, inputs, code: str, value: str = "0.0", exclude: bool = False) -> str:
    pads = explicit_pads(spec, inputs)
    if pads is None:
        return code
    code = code.replace(f"padding={_pad_text_torch(spec.get('p'))}", "padding=0")
    extra = f", value={value}" if value != "0.0" else ""
    extra += ", exclude=True" if exclude else ""
    return f"Padded({pads!r}, {code}{extra})"


def _pad_text_torch(p) -> str:
    return repr(p) if isinstance(p, str) else _tuple_text(p)


def _check_ceil_export(spec, inputs):
    """F.pad then PyTorch's ceil_mode drops a last window that starts in the right padding
    only when it starts past all of it: refuse where that changes the size."""
    sizes = inputs[0][1:]
    n = len(sizes)
    ks, ss = per_axis(spec, "k", n, "export"), per_axis(spec, "s", n, "export")
    ds = per_axis(spec, "d", n, "export", 1)
    lefts, rights = pads_of(spec, sizes, ks, ss, ds, "export")
    for i, k, s, pl, pr, d in zip(sizes, ks, ss, lefts, rights, ds):
        if window_output(i, k, s, pl, pr, d, True) != pool_output_ceil(i + pl + pr, k, s, 0, d):
            raise BadInput(
                f"{spec.describe()}: ceil mode with padding after the input has no "
                f"PyTorch equivalent on an axis of size {i} (its last window "
                "starts in the padding)"
            )


def _conv_torch(spec, inputs):
    n, g = len(inputs[0]) - 1, spec.get
    code = (
        f"nn.Conv{n}d({inputs[0][0]}, {g('channels')}, kernel_size={_tuple_text(g('k'))}, "
        f"stride={_tuple_text(g('s'))}, padding={_pad_text_torch(g('p', 0))}, "
        f"dilation={_tuple_text(g('d'))}, groups={g('groups')}, bias={g('bias')})"
    )
    if g("fixed"):
        code = f"Fixed({code})"  # helpers in network/export.py
    elif g("gain"):
        code = f"Gained({code})"
    return _padded(spec, inputs, code)


def _convT_torch(spec, inputs):
    n, g = len(inputs[0]) - 1, spec.get
    return (
        f"nn.ConvTranspose{n}d({inputs[0][0]}, {g('channels')}, "
        f"kernel_size={_tuple_text(g('k'))}, stride={_tuple_text(g('s'))}, "
        f"padding={_tuple_text(g('p'))}, output_padding={_tuple_text(g('op'))}, "
        f"groups={g('groups')}, bias={g('bias')}, dilation={_tuple_text(g('d'))})"
    )


def _pool_torch(spec, inputs):
    """MaxPoolNd / AvgPoolNd (average pooling has no dilation); TensorFlow's and ONNX's
    paddings through `Padded` (max pooling pads with -inf, so padding never wins)."""
    n, g = len(inputs[0]) - 1, spec.get
    maxpool = spec.kind == "maxpool"
    name, extra = ("MaxPool", f"dilation={_tuple_text(g('d'))}, ") if maxpool else ("AvgPool", "")
    count = "" if maxpool or g("count_pad", True) else ", count_include_pad=False"
    if explicit_pads(spec, inputs) is not None:
        count = ""
        if g("ceil"):
            _check_ceil_export(spec, inputs)
    code = (
        f"nn.{name}{n}d(kernel_size={_tuple_text(g('k'))}, stride={_tuple_text(g('s'))}, "
        f"padding={_pad_text_torch(g('p', 0))}, {extra}ceil_mode={g('ceil')}{count})"
    )
    return _padded(
        spec,
        inputs,
        code,
        "float('-inf')" if maxpool else "0.0",
        exclude=not maxpool and not g("count_pad", True),
    )


def _fixed(code):
    return lambda spec, inputs: code


def _inplace_code(code):
    """nn.ReLU() or, with inplace=true, nn.ReLU(inplace=True)."""
    return lambda spec, inputs: (
        code.replace("()", "(inplace=True)") if spec.get("inplace") else code
    )


def _dims_torch(template):
    return lambda spec, inputs: template.format(n=max(len(inputs[0]) - 1, 1), c=inputs[0][0])


def _layernorm_torch(spec, inputs):
    shape = inputs[0]
    dims = spec.get("dims", len(shape))
    return f"nn.LayerNorm({list(shape[len(shape) - dims :])!r})"


def _adaptive_torch(spec, inputs):
    n = len(inputs[0]) - 1
    name = "AdaptiveAvgPool" if spec.kind == "adaptiveavgpool" else "AdaptiveMaxPool"
    return f"nn.{name}{n}d({_tuple_text(spec.get('out'))})"


def _upsample_torch(spec, inputs):
    mode = spec.get("mode", "nearest")
    size = (
        f"size={_tuple_text(spec.get('size'))}"
        if spec.has("size")
        else f"scale_factor={_tuple_text(spec.get('scale'))}"
    )
    corners = ", align_corners=False" if mode == "bilinear" else ""
    return f"nn.Upsample({size}, mode={mode!r}{corners})"


def _pad_torch(spec, inputs):
    n = len(inputs[0]) - 1
    p = spec.get("p")
    p = (p, p) * n if isinstance(p, int) else p
    mode = spec.get("mode", "constant")
    if mode != "constant":
        name = {"reflect": "Reflection", "replicate": "Replication", "circular": "Circular"}
        return f"nn.{name[mode]}Pad{n}d({tuple(p)!r})"
    return f"nn.ConstantPad{n}d({tuple(p)!r}, 0.0)"


def _mean_torch(spec, inputs):
    if spec.has("dims"):
        return reduce_torch(spec, inputs)
    n = len(inputs[0]) - 1
    dims = tuple(range(-n, 0))
    return f"Mean({dims!r}, keepdim={bool(spec.get('keepdim'))})"


def reduce_torch(spec, inputs):
    dims = spec.get("dims")
    dims = tuple(torch_axis(d) for d in (dims if isinstance(dims, tuple) else (dims,)))
    return f"Reduce({spec.kind!r}, {dims!r}, keepdim={bool(spec.get('keepdim'))})"


def _param_shape(spec):
    param = spec.get("param")
    return None if param is None else (param,) if isinstance(param, int) else tuple(param)


def _join_code(expression):
    return lambda spec, inputs: expression


def _concat_code(spec, inputs):
    if spec.get("crop"):
        return "torch.cat(center_crop([{all}]), dim=1)"
    return f"torch.cat([{{all}}], dim={torch_axis(spec.get('dim', 0))})"


_SHAPE_KEEPING = (  # name, help, torch code, what it saves, whether it may run in place
    ("relu", "ReLU (shape-preserving; inplace=true as nn.ReLU's)", "nn.ReLU()", _saves_relu, True),
    (
        "relu6",
        "ReLU6 (shape-preserving; inplace=true)",
        "nn.ReLU6()",
        _saves_input_if_inplace_copies,
        True,
    ),
    ("tanh", "tanh (shape-preserving)", "nn.Tanh()", _rule(SAVES_OUTPUT), False),
    ("sigmoid", "logistic sigmoid (shape-preserving)", "nn.Sigmoid()", _rule(SAVES_OUTPUT), False),
    (
        "hardswish",
        "hard swish (shape-preserving; inplace=true)",
        "nn.Hardswish()",
        _saves_input_if_inplace_copies,
        True,
    ),
    ("silu", "SiLU / swish (shape-preserving; inplace=true)", "nn.SiLU()", _saves_silu, True),
    ("gelu", "GELU (shape-preserving)", "nn.GELU()", _rule(SAVES_INPUT), False),
    (
        "hardsigmoid",
        "hard sigmoid (shape-preserving)",
        "nn.Hardsigmoid()",
        _rule(SAVES_INPUT),
        False,
    ),
    (
        "leakyrelu",
        "leaky ReLU (shape-preserving; the slope is not kept)",
        "nn.LeakyReLU()",
        _rule(SAVES_INPUT),
        False,
    ),
    ("elu", "ELU (shape-preserving)", "nn.ELU()", _rule(SAVES_INPUT), False),
    ("mish", "Mish (shape-preserving)", "nn.Mish()", _rule(SAVES_INPUT), False),
    (
        "hardtanh",
        "hard tanh (shape-preserving; the bounds are not kept)",
        "nn.Hardtanh()",
        _rule(SAVES_INPUT),
        False,
    ),
    ("softplus", "softplus (shape-preserving)", "nn.Softplus()", _rule(SAVES_INPUT), False),
    (
        "dropout",
        "dropout (shape-preserving; no parameters; inplace=true)",
        "nn.Dropout()",
        _saves_dropout,
        True,
    ),
    (
        "identity",
        "identity (shape-preserving; also an imported placeholder)",
        "nn.Identity()",
        _rule(VIEW),
        False,
    ),
)
INPLACE = {"inplace": BOOLEAN}

_CONV_ARGS = {
    "channels": POSITIVE,
    "k": SIZES,
    "s": SIZES,
    "p": SAME_PADS,
    "d": SIZES,
    "groups": POSITIVE,
    "bias": BOOLEAN,
}
_CONV_EXTRA = {"gain": BOOLEAN, "fixed": BOOLEAN}  # conv only (conv_params)


def _dims_aliases(*stems) -> tuple:
    """PyTorch's class names in lower case (any case matches): conv -> conv1d, conv2d, conv3d."""
    return tuple(f"{stem}{n}d" for stem in stems for n in (1, 2, 3))


CORE_KINDS = (
    LayerKind(
        "conv",
        "convolution: conv(C_out, k=, s=1, p=0|same|valid|same_upper|same_lower|"
        "((b, a), ...), d=1, groups=1, bias=true, gain=false, fixed=false); k, s, p, d may "
        "be per-axis tuples; gain=true: a learned per-output-channel gain on the kernel "
        "(+C_out params); fixed=true: a kernel in a buffer (0 params)",
        _conv_apply,
        _conv_torch,
        {**_CONV_ARGS, **_CONV_EXTRA},
        "channels",
        {"s": 1, "p": 0, "d": 1, "groups": 1, "bias": True, "gain": False, "fixed": False},
        ("channels", "k"),
        window=Window("conv"),
        aliases=_dims_aliases("conv"),
        fast=_fast_window,
        saves=_rule(SAVES_INPUT),
    ),
    LayerKind(
        "convT",
        "transposed convolution: convT(C_out, k=, s=1, p=0, d=1, op=0, groups=1, bias=true)",
        _convT_apply,
        _convT_torch,
        {**_CONV_ARGS, "p": PADS, "op": PADS},
        "channels",
        {"s": 1, "p": 0, "d": 1, "op": 0, "groups": 1, "bias": True},
        ("channels", "k"),
        window=Window("convT"),
        aliases=(
            "conv_transpose",
            "convtranspose",
            "deconv",
            *_dims_aliases("convtranspose", "conv_transpose"),
        ),
        fast=_fast_window,
        saves=_rule(SAVES_INPUT),
    ),
    LayerKind(
        "maxpool",
        "max pooling: maxpool(k=, s=k, p=0|same_upper|same_lower|((b, a), ...), d=1, ceil=false)",
        _pool_apply,
        _pool_torch,
        {"k": SIZES, "s": SIZES, "p": POOL_PADS, "d": SIZES, "ceil": BOOLEAN},
        "k",
        {"p": 0, "d": 1, "ceil": False},
        ("k",),
        window=Window("pool"),
        aliases=("max_pool", "pool", *_dims_aliases("maxpool", "max_pool")),
        complete=_pool_complete,
        fast=_fast_window,
        saves=_saves_maxpool,
    ),
    LayerKind(
        "avgpool",
        "average pooling: avgpool(k=, s=k, p=0|same_upper|same_lower|"
        "((b, a), ...), ceil=false, count_pad=true); count_pad=false leaves the padding "
        "out of each average (TensorFlow, ONNX's default)",
        _pool_apply,
        _pool_torch,
        {"k": SIZES, "s": SIZES, "p": POOL_PADS, "ceil": BOOLEAN, "count_pad": BOOLEAN},
        "k",
        {"p": 0, "ceil": False, "count_pad": True},
        ("k",),
        window=Window("pool", input_ge_k=3),
        aliases=("avg_pool", *_dims_aliases("avgpool", "avg_pool")),
        complete=_pool_complete,
        fast=_fast_window,
        saves=_rule(SAVES_INPUT),
    ),
    LayerKind(
        "flatten",
        "flatten C x sizes into one feature axis (start=, end=: only those axes, 0 the channels)",
        _flatten,
        _flatten_torch,
        {"start": AXIS, "end": AXIS},
        saves=_rule(Saves(alias=True)),
    ),
    LayerKind(
        "linear",
        "fully connected: linear(features, bias=true) on a flat input "
        "(last=true: on the last axis of any input)",
        _linear,
        lambda spec, inputs: (
            f"nn.Linear({inputs[0][-1]}, {spec.get('features')}, bias={spec.get('bias')})"
        ),
        {"features": POSITIVE, "bias": BOOLEAN, "last": BOOLEAN},
        "features",
        {"bias": True},
        ("features",),
        saves=_rule(Saves(inputs=(0,))),
    ),
    *(
        LayerKind(
            name,
            text,
            _same,
            _inplace_code(code) if inplace else _fixed(code),
            INPLACE if inplace else {},
            fast=_fast_same,
            saves=saves,
            aliases=("contiguous",) if name == "identity" else (),
        )
        for name, text, code, saves, inplace in _SHAPE_KEEPING
    ),
    LayerKind(
        "softmax",
        "softmax over the channels (dim=: another axis, 0 the channels; shape-preserving)",
        _softmax,
        lambda spec, inputs: f"nn.Softmax(dim={torch_axis(spec.get('dim', 0))})",
        {"dim": AXIS},
        fast=_fast_same,
        saves=_rule(Saves(output=True, layout="contiguous")),
    ),
    LayerKind(
        "bn",
        "batch norm (shape-preserving; 2C parameters)",
        _norm_channels,
        _dims_torch("nn.BatchNorm{n}d({c})"),
        aliases=("batchnorm",),
        fast=_fast_same,
        saves=_saves_norm,
    ),
    LayerKind(
        "groupnorm",
        "group norm: groupnorm(groups) (2C parameters)",
        _norm_channels,
        lambda spec, inputs: f"nn.GroupNorm({spec.get('groups')}, {inputs[0][0]})",
        {"groups": POSITIVE},
        "groups",
        required=("groups",),
        saves=_saves_norm,
    ),
    LayerKind(
        "layernorm",
        "layer norm over the last `dims` axes (default all; 2 x their size parameters)",
        _layernorm,
        _layernorm_torch,
        {"dims": POSITIVE},
        "dims",
        saves=_saves_norm,
    ),
    LayerKind(
        "adaptiveavgpool",
        "adaptive average pooling to out (a size or a tuple)",
        _adaptive,
        _adaptive_torch,
        {"out": SIZES},
        "out",
        required=("out",),
        saves=_saves_adaptiveavg,
    ),
    LayerKind(
        "adaptivemaxpool",
        "adaptive max pooling to out (a size or a tuple)",
        _adaptive,
        _adaptive_torch,
        {"out": SIZES},
        "out",
        required=("out",),
        saves=_saves_maxpool,
    ),
    LayerKind(
        "mean",
        "mean over the spatial axes: C (keepdim=true: C x 1 x 1); dims=: over "
        "those axes (0 the channels)",
        _mean,
        _mean_torch,
        {"dims": DIMS, "keepdim": BOOLEAN},
        defaults={"keepdim": False},
        saves=_rule(NOTHING),
    ),
    LayerKind(
        "upsample",
        "upsample(scale=2 | size=(H, W), mode=nearest|bilinear)",
        _upsample,
        _upsample_torch,
        {"scale": SIZES, "size": SIZES, "mode": MODES},
        "scale",
        {"mode": "nearest"},
        fast=_fast_upsample,
        saves=_rule(NOTHING),
    ),
    LayerKind(
        "pixelshuffle",
        "pixel shuffle: pixelshuffle(r): C x H x W -> C/r^2 x rH x rW",
        _pixelshuffle,
        lambda spec, inputs: f"nn.PixelShuffle({spec.get('r')})",
        {"r": POSITIVE},
        "r",
        required=("r",),
        saves=_rule(NOTHING),
    ),
    LayerKind(
        "pad",
        "padding pad(p=(left, right, top, bottom), mode=constant) in F.pad's "
        "order; mode=reflect|replicate|circular as F.pad's (reflect needs p < size, "
        "circular p <= size)",
        _pad,
        _pad_torch,
        {"p": Arg(0, tuples=True, collapse=False), "mode": PAD_MODES},
        "p",
        {"mode": "constant"},
        required=("p",),
        saves=_rule(NOTHING),
    ),
    LayerKind(
        "add",
        "add(a, b, ...): the sum of inputs of one shape (one name: the previous layer and it)",
        _add,
        _join_code("{sum}"),
        join=True,
        fast=_fast_add,
        saves=_rule(NOTHING),
    ),
    LayerKind(
        "mul",
        "mul(a, b): broadcast product (e.g. C x 1 x 1 gate times C x H x W)",
        _mul,
        _join_code("{product}"),
        join=True,
        saves=_saves_mul,
    ),
    LayerKind(
        "div",
        "div(a, b): broadcast quotient a / b (e.g. a response normalised by its mean)",
        _two,
        _join_code("{0} / {1}"),
        join=True,
        saves=_saves_div,
    ),
    LayerKind(
        "sub",
        "sub(a, b): broadcast difference a - b",
        _two,
        _join_code("{0} - {1}"),
        join=True,
        saves=_rule(NOTHING),
    ),
    LayerKind(
        "scale",
        "scale(param=SHAPE, bias=false): the input times a constant, or with "
        "param= a learned tensor (layer scale x * gamma; its size counts as parameters; "
        "bias=true adds a learned bias of that shape: x * w + b)",
        _learned,
        lambda spec, inputs: (
            f"Learned({_param_shape(spec)!r}, 'scale'"
            + (", bias=True)" if spec.get("bias") else ")")
        ),
        {"param": Arg(1, tuples=True, collapse=False), "bias": BOOLEAN},
        "param",
        defaults={"bias": False},
        fast=_fast_learned,
        saves=_saves_scale,
    ),
    LayerKind(
        "shift",
        "shift(param=SHAPE): the input plus a constant, or with param= a "
        "learned tensor (a learned bias or embedding; its size counts as parameters)",
        _learned,
        lambda spec, inputs: f"Learned({_param_shape(spec)!r}, 'shift')",
        {"param": Arg(1, tuples=True, collapse=False)},
        "param",
        fast=_fast_learned,
        saves=_rule(NOTHING),
    ),
    LayerKind(
        "resize",
        "resize(a, like, mode=nearest|bilinear): a resized to the spatial "
        "size of like (F.interpolate(a, size=like.shape[2:]))",
        _resize,
        lambda spec, inputs: (
            f"nn.functional.interpolate({{0}}, size={{1}}.shape[2:], mode={spec.get('mode')!r})"
        ),
        {"mode": MODES},
        defaults={"mode": "nearest"},
        join=True,
        saves=_rule(SHAPE_ONLY),
    ),
    LayerKind(
        "concat",
        "concat(a, b, ...): channels joined (crop=true centre-crops to the "
        "smallest size; dim=: along another axis)",
        _concat,
        _concat_code,
        {"crop": BOOLEAN, "dim": AXIS},
        defaults={"crop": False},
        join=True,
        aliases=("cat",),
        fast=_fast_concat,
        saves=_rule(NOTHING),
    ),
)
