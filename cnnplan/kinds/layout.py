"""Layout and attention layer kinds: what moves, splits and joins tensor axes rather than
sliding windows over them (registered by the core through `register_layer_kinds`, as
cnnplan/kinds/core.py is).

Axes are cnnplan's, without the batch: axis 0 is the first axis after the batch (the channels
of a C x H x W input), negative axes count from the end. Every kind gives torch's exact shapes.
Receptive fields (docs/layouts.md): a permutation moves each axis' field with it; flattening or
splitting a spatial axis, or reading it whole (matmul's contraction, attention over positions,
softmax over it, linear over it), ends the rf (not reported from there on); splitting or
selecting along a feature axis keeps it.

MACs (the convention of fvcore and torch.utils.flop_counter, FLOPs = 2 MACs): matmul
n x k by k x m is n k m per batch entry; attention counts its projections, Q K^T (L S E) and
the weighted sum A V (L S Ev); softmax, scaling and layout changes count 0.
"""

from __future__ import annotations

import math

from ..platform.errors import BadInput
from .core import (
    AXIS,
    DIMS,
    _label,
    _shapes_text,
    axis_of,
    broadcast_sizes,
    reduce_axes,
    reduce_torch,
    same_rank,
    torch_axis,
)
from .records import BOOLEAN, POSITIVE, WHOLE, Applied, Arg, LayerKind, RfStep, Saves
from .shape import MAX_SIZE, format_shape, size_of

AXES = Arg(-6, tuples=True, collapse=False)  # (2, 0, 1)
SIZES_OR_ANY = Arg(-1, tuples=True, collapse=False)  # sizes, one of them -1 (inferred)
COUNTS = Arg(1, tuples=True, collapse=False)  # split: a size, or the sizes of the pieces
BOUND = Arg(-MAX_SIZE)  # slice bounds: negative ones count from the end
MAX_OUTPUTS = 256
KEEP = RfStep()
ONE = RfStep(0, 0, 0)  # a broadcast axis: every position reads the one source position


def _axis_value(spec, where, value, rank) -> int:
    if not -rank <= value < rank:
        raise BadInput(
            f"{_label(spec, where)}: dims names axis {value}, but the input has "
            f"{rank} axes (0 to {rank - 1}, or -1 to -{rank} from the end)"
        )
    return value % rank


def _tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _infer(spec, where, sizes, total, what) -> tuple:
    """`sizes` with its one -1 worked out so that their product is `total`."""
    if sizes.count(-1) > 1 or any(s == 0 for s in sizes):
        raise BadInput(f"{_label(spec, where)}: {what} takes sizes >= 1 and at most one -1")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if total % known:
            raise BadInput(
                f"{_label(spec, where)}: {total} elements do not split into "
                f"{format_shape(tuple(s for s in sizes if s != -1))} and a rest"
            )
        sizes = tuple(total // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != total:
        raise BadInput(
            f"{_label(spec, where)}: {what} to {format_shape(sizes)} "
            f"({math.prod(sizes)} elements) from {total} elements"
        )
    if max(sizes) > MAX_SIZE:
        raise BadInput(f"{_label(spec, where)}: a size above the limit {MAX_SIZE}")
    return sizes


def view_groups(before: tuple, after: tuple) -> tuple:
    """Per axis of `after`, where torch's row-major reshape takes it from: the axis of `before`
    it is (an int, when one axis maps to one of equal size), the axes of `before` it is cut
    from or merges (a tuple), or None for a new axis of size 1."""
    out: list[int | tuple[int, ...] | None] = []
    i, j = 0, 0
    while i < len(before) or j < len(after):
        one_in = i < len(before) and before[i] == 1
        one_out = j < len(after) and after[j] == 1
        if one_out and not one_in:
            out.append(None)
            j += 1
            continue
        if one_in and not one_out or j >= len(after):
            i += 1  # a dropped axis of size 1
            continue
        group_in, group_out = [i], [j]
        have, want = before[i], after[j]
        i, j = i + 1, j + 1
        while have != want:
            if have < want:
                group_in.append(i)
                have *= before[i]
                i += 1
            else:
                group_out.append(j)
                want *= after[j]
                j += 1
        if len(group_in) == 1 and len(group_out) == 1:
            out.append(group_in[0])
        else:
            out += [tuple(group_in)] * len(group_out)
    return tuple(out)


# -- single-input layouts ----------------------------------------------------------------------


def _permute(spec, inputs, where):
    (shape,) = inputs
    rank = len(shape)
    dims = tuple(_axis_value(spec, where, d, rank) for d in _tuple(spec.get("dims")))
    if sorted(dims) != list(range(rank)):
        raise BadInput(
            f"{_label(spec, where)}: dims must name each of the {rank} axes of "
            f"{format_shape(shape)} once (0 to {rank - 1})"
        )
    return Applied(tuple(shape[d] for d in dims), axes=dims)


def _unflatten(spec, inputs, where):
    (shape,) = inputs
    dim = axis_of(spec, where, "dim", len(shape))
    sizes = _infer(spec, where, _tuple(spec.get("sizes")), shape[dim], "unflatten")
    out = (*shape[:dim], *sizes, *shape[dim + 1 :])
    return Applied(out, axes=view_groups(shape, out))


def _reshape(spec, inputs, where):
    (shape,) = inputs
    out = _infer(spec, where, _tuple(spec.get("shape")), size_of(shape), "reshape")
    return Applied(out, axes=view_groups(shape, out))


def _expand(spec, inputs, where):
    (shape,) = inputs
    sizes = _tuple(spec.get("shape"))
    new = len(sizes) - len(shape)
    if new < 0:
        raise BadInput(
            f"{_label(spec, where)}: {len(sizes)} sizes for the {len(shape)} axes of "
            f"{format_shape(shape)}"
        )
    if new > 0:  # torch puts new axes in front of the batch, not after it
        raise BadInput(
            f"{_label(spec, where)}: {len(sizes)} sizes for the {len(shape)} axes of "
            f"{format_shape(shape)}: torch would add the new axes in front of the "
            "batch (unsqueeze first, then expand)"
        )
    out, axes = [], []
    for a, size in enumerate(sizes):
        if a < new:
            if size < 1:
                raise BadInput(f"{_label(spec, where)}: a new leading axis needs a size >= 1")
            out.append(size)
            axes.append(None)
            continue
        old = shape[a - new]
        if size in (-1, old):
            out.append(old)
            axes.append(a - new)
        elif old == 1 and size >= 1:
            out.append(size)
            axes.append(a - new)
        else:
            raise BadInput(
                f"{_label(spec, where)}: cannot expand size {old} to {size} (only "
                "axes of size 1 expand; -1 keeps a size)"
            )
    steps = tuple(ONE if a >= new and shape[a - new] == 1 < n else KEEP for a, n in enumerate(out))
    return Applied(tuple(out), axes=tuple(axes), steps=steps)


def _expand_as(spec, inputs, where):
    """a broadcast to the shape of `like` (x.expand_as(like)); like's shape only is read."""
    if len(inputs) != 2:
        raise BadInput(
            f"{_label(spec, where)}: expandas reads two layers, the tensor and the "
            f"one whose shape it takes, not {len(inputs)}"
        )
    same_rank(spec, inputs, where)
    shape, like = inputs
    new = len(like) - len(shape)
    if new < 0 or any(n not in (1, m) for n, m in zip(shape, like[new:])):
        raise BadInput(
            f"{_label(spec, where)}: cannot expand {format_shape(shape)} to "
            f"{format_shape(like)} (only axes of size 1 expand)"
        )
    axes = tuple(() if a < new else ((0, a - new),) for a in range(len(like)))
    return Applied(tuple(like), steps=None, axes=axes, shape_only=(1,))


def _select(spec, inputs, where):
    (shape,) = inputs
    dim = axis_of(spec, where, "dim", len(shape))
    index = spec.get("index", 0)
    if len(shape) < 2:
        raise BadInput(f"{_label(spec, where)}: select needs an input of at least 2 axes")
    if not -shape[dim] <= index < shape[dim]:  # negative: from the end, as in torch
        raise BadInput(f"{_label(spec, where)}: index {index} on an axis of size {shape[dim]}")
    axes = tuple(a for a in range(len(shape)) if a != dim)
    return Applied(tuple(shape[a] for a in axes), axes=axes)


def _narrow(spec, inputs, where):
    (shape,) = inputs
    dim = axis_of(spec, where, "dim", len(shape))
    start, length = spec.get("start", 0), spec.get("length")
    if start + length > shape[dim]:
        raise BadInput(
            f"{_label(spec, where)}: positions {start} to {start + length - 1} on an "
            f"axis of size {shape[dim]}"
        )
    steps = tuple(RfStep(0, 1, start) if a == dim else KEEP for a in range(len(shape)))
    return Applied((*shape[:dim], length, *shape[dim + 1 :]), steps=steps)


def _slice(spec, inputs, where):
    """x[..., start:stop:step] on one axis, with Python's rules (negative bounds count from the
    end, bounds past the ends are clamped), so the bounds follow the input's size."""
    (shape,) = inputs
    dim = axis_of(spec, where, "dim", len(shape))
    start, stop, step = slice(spec.get("start", 0), spec.get("stop"), spec.get("step", 1)).indices(
        shape[dim]
    )
    length = len(range(start, stop, step))
    if length < 1:
        raise BadInput(
            f"{_label(spec, where)}: selects no position of an axis of size {shape[dim]}"
        )
    steps = tuple(RfStep(0, step, start) if a == dim else KEEP for a in range(len(shape)))
    return Applied((*shape[:dim], length, *shape[dim + 1 :]), steps=steps)


def _slice_torch(spec, inputs):
    stop = spec.get("stop")
    return (
        f"Slice({torch_axis(spec.get('dim', 0))}, {spec.get('start', 0)}, "
        f"{'None' if stop is None else stop}, {spec.get('step', 1)})"
    )


def _token(spec, inputs, where):
    """Learned tokens of shape `param` joined to the input along axis `dim`, before it (after
    with end=true): ViT's class token. The tokens read no input position: along `dim` the input's
    positions move by their number, as padding moves them (the rf is the input's, its eff pad
    grows); the tokens' size counts as parameters (as shift's learned embedding)."""
    (shape,) = inputs
    param = _tuple(spec.get("param"))
    dim = axis_of(spec, where, "dim", len(shape))
    if len(param) != len(shape) or any(
        p != s for a, (p, s) in enumerate(zip(param, shape)) if a != dim
    ):
        raise BadInput(
            f"{_label(spec, where)}: learned tokens {format_shape(param)} join "
            f"{format_shape(shape)} along axis {dim} only if every other axis "
            "has the input's size"
        )
    count = param[dim]
    shift = 0 if spec.get("end") else -count
    steps = tuple(RfStep(0, 1, shift) if a == dim else KEEP for a in range(len(shape)))
    return Applied(
        (*shape[:dim], shape[dim] + count, *shape[dim + 1 :]), 0, math.prod(param), steps=steps
    )


# -- several outputs --------------------------------------------------------------------------


def _pieces(spec, where, shape, dim, lengths, drop=False):
    """Applied with one output per piece of `lengths` along axis `dim`."""
    if len(lengths) > MAX_OUTPUTS:
        raise BadInput(f"{_label(spec, where)}: {len(lengths)} outputs; the limit is {MAX_OUTPUTS}")
    outputs, pieces, start = [], [], 0
    for length in lengths:
        if drop:
            outputs.append((*shape[:dim], *shape[dim + 1 :]))
            pieces.append(None)
        else:
            outputs.append((*shape[:dim], length, *shape[dim + 1 :]))
            pieces.append(
                tuple(RfStep(0, 1, start) if a == dim else KEEP for a in range(len(shape)))
            )
        start += length
    axes = tuple(a for a in range(len(shape)) if a != dim) if drop else None
    return Applied(outputs[0], outputs=tuple(outputs), pieces=tuple(pieces), axes=axes)


def _split(spec, inputs, where):
    (shape,) = inputs
    dim = axis_of(spec, where, "dim", len(shape))
    sizes, size = spec.get("sizes"), shape[dim]
    if isinstance(sizes, tuple):
        if sum(sizes) != size:
            raise BadInput(
                f"{_label(spec, where)}: sizes {_tuple_text(sizes)} add up to "
                f"{sum(sizes)}, but axis {dim} has size {size}"
            )
        lengths = sizes
    else:  # torch.split(x, n): pieces of n, the last one smaller
        lengths = (sizes,) * (size // sizes) + ((size % sizes,) if size % sizes else ())
    return _pieces(spec, where, shape, dim, lengths)


def _chunk(spec, inputs, where):
    (shape,) = inputs
    dim = axis_of(spec, where, "dim", len(shape))
    size, n = shape[dim], spec.get("chunks")
    step = -(-size // n)  # torch.chunk: pieces of ceil(size / n) ...
    lengths = tuple(min(step, size - start) for start in range(0, size, step))
    return _pieces(spec, where, shape, dim, lengths)  # ... so maybe fewer than n


def _unbind(spec, inputs, where):
    (shape,) = inputs
    if len(shape) < 2:
        raise BadInput(f"{_label(spec, where)}: unbind needs an input of at least 2 axes")
    dim = axis_of(spec, where, "dim", len(shape))
    return _pieces(spec, where, shape, dim, (1,) * shape[dim], drop=True)


def _tuple_text(value) -> str:
    return "(" + ", ".join(map(str, value)) + ")"


def _stack(spec, inputs, where):
    """torch.stack: inputs of one shape along a new (feature) axis `dim` of the output."""
    if len(set(inputs)) != 1:
        raise BadInput(
            f"{_label(spec, where)}: stack needs inputs of one shape, but they are "
            f"{_shapes_text(inputs)}"
        )
    rank = len(inputs[0]) + 1
    dim = axis_of(spec, where, "dim", rank)
    out = (*inputs[0][:dim], len(inputs), *inputs[0][dim:])
    axes = tuple(
        () if a == dim else tuple((n, a - (a > dim)) for n in range(len(inputs)))
        for a in range(rank)
    )
    return Applied(out, steps=None, axes=axes)


# -- over the last axis, and attention ----------------------------------------------------------


def _batch(spec, where, inputs) -> tuple:
    """The broadcast leading (batch) axes of matrix operands, each with 2 trailing axes."""
    if any(len(s) < 2 for s in inputs):
        raise BadInput(
            f"{_label(spec, where)}: {spec.kind} needs inputs of at least 2 axes "
            f"each (... x rows x columns), not {_shapes_text(inputs)}"
        )
    same_rank(spec, inputs, where)
    out = broadcast_sizes([s[:-2] for s in inputs])
    if out is None:
        raise BadInput(
            f"{_label(spec, where)}: the leading axes of {_shapes_text(inputs)} do not broadcast"
        )
    return out


def _batch_pairs(batch, inputs):
    """Per leading output axis, the (input, axis) pairs that line up with it."""
    rank = len(batch)
    return tuple(
        tuple(
            (n, a - rank + len(s) - 2) for n, s in enumerate(inputs) if a - rank + len(s) - 2 >= 0
        )
        for a in range(rank)
    )


def _matmul(spec, inputs, where):
    if len(inputs) != 2:
        raise BadInput(f"{_label(spec, where)}: matmul multiplies two inputs, not {len(inputs)}")
    a, b = inputs
    batch = _batch(spec, where, inputs)
    if a[-1] != b[-2]:
        raise BadInput(
            f"{_label(spec, where)}: {format_shape(a)} times {format_shape(b)}: "
            f"{a[-1]} columns against {b[-2]} rows"
        )
    out = (*batch, a[-2], b[-1])
    axes = (*_batch_pairs(batch, inputs), ((0, len(a) - 2),), ((1, len(b) - 1),))
    return Applied(out, macs=size_of(out) * a[-1], steps=None, axes=axes)


def _sdpa(spec, inputs, where):
    """F.scaled_dot_product_attention(q, k, v): softmax(q k^T / sqrt(E)) v."""
    if len(inputs) != 3:
        raise BadInput(
            f"{_label(spec, where)}: attention reads query, key and value (3 "
            f"inputs), not {len(inputs)}"
        )
    q, k, v = inputs
    batch = _batch(spec, where, inputs)
    if q[-1] != k[-1] or k[-2] != v[-2]:
        raise BadInput(
            f"{_label(spec, where)}: query {format_shape(q)}, key {format_shape(k)} "
            f"and value {format_shape(v)} need query and key of one width and key "
            "and value of one length"
        )
    out = (*batch, q[-2], v[-1])
    scores = math.prod(batch) * q[-2] * k[-2]
    axes = (*_batch_pairs(batch, inputs), ((0, len(q) - 2),), ((2, len(v) - 1),))
    return Applied(out, macs=scores * q[-1] + scores * v[-1], steps=None, axes=axes)


def _mha(spec, inputs, where):
    """nn.MultiheadAttention(E, heads, batch_first=True) as self-attention on L x E."""
    (shape,) = inputs
    heads, bias = spec.get("heads"), spec.get("bias")
    if len(shape) != 2:
        raise BadInput(
            f"{_label(spec, where)}: attention reads tokens x features (L x E), not "
            f"{format_shape(shape)}"
        )
    length, width = shape
    if width % heads:
        raise BadInput(f"{_label(spec, where)}: {heads} heads must divide the width {width}")
    weights = 4 * width * width
    macs = 4 * length * width * width + 2 * length * length * width
    return Applied(shape, weights, weights + (4 * width if bias else 0), macs, steps=(WHOLE, WHOLE))


# -- what each kind keeps for backward (docs/memory.md; tests/test_memory_oracles.py) -----------
# Shapes here carry the batch first. Views save nothing and share their input's storage;
# those that may leave it non-contiguous say layout="view", and reshape, like flatten, says
# nothing about its layout: on a non-contiguous input torch may copy (then the training memory
# of the network is not given). attention and mha have no rule: what they save depends on the
# kernel torch picks (flash, memory-efficient, cuDNN or math) for the device, dtype and shapes.


def _rule(value):
    return lambda spec, inputs, output, needs: value


STRIDED_VIEW = Saves(alias=True, layout="view")  # gaps or broadcast axes, axes in order
PERMUTED = Saves(alias=True, layout="permute")
SAME_VIEW = Saves(alias=True, layout="any")  # unflatten: splitting an axis is a view
RESHAPE = Saves(alias=True)  # a view of a contiguous input only
NOTHING = Saves(layout="any")


def _saves_norm(spec, inputs, output, needs):
    """The 2-norm saves its input and its result."""
    return Saves(inputs=(0,), output=True, layout="any")


def _saves_matmul(spec, inputs, output, needs):
    """torch.matmul expands both operands to the broadcast leading axes and reshapes them to
    (B, rows, columns) for bmm, which saves each operand when the other requires grad: the
    input's own storage when no leading axis is broadcast (a view), else a new copy of the
    expanded operand."""
    if needs is None:
        return Saves()
    batch = math.prod(output[:-2])
    saved, extra = [], []
    for n, other in ((1, 0), (0, 1)):
        if needs[other]:
            shape = inputs[n]
            if math.prod(shape[:-2]) == batch:
                saved.append(n)
            else:
                extra.append((batch * shape[-2] * shape[-1], "like"))
    return Saves(inputs=tuple(saved), extra=tuple(extra))


# -- torch code --------------------------------------------------------------------------------


def _code(template):
    return lambda spec, inputs: template.format(**{k: _show(v) for k, v in spec.values})


def _show(value):
    return repr(value) if isinstance(value, tuple) else str(value)


def _permute_torch(spec, inputs):
    rank = len(inputs[0])
    return f"Permute({(0, *(d % rank + 1 for d in _tuple(spec.get('dims'))))!r})"


def _axis_torch(template):
    def code(spec, inputs):
        values = dict(spec.values)
        values["dim"] = torch_axis(values.get("dim", 0))
        return template.format(**{k: _show(v) for k, v in values.items()})

    return code


def _token_torch(spec, inputs):
    return f"Token({_tuple(spec.get('param'))!r}, {torch_axis(spec.get('dim', 0))}" + (
        ", end=True)" if spec.get("end") else ")"
    )


def _mha_torch(spec, inputs):
    return f"SelfAttention({inputs[0][-1]}, {spec.get('heads')}, bias={spec.get('bias')})"


_DIM = {"dim": AXIS}

LAYOUT_KINDS = (
    LayerKind(
        "permute",
        "permute(dims=(1, 0)): reorder the axes (0 = the first after the "
        "batch); rf fields move with their axes",
        _permute,
        _permute_torch,
        {"dims": AXES},
        "dims",
        required=("dims",),
        saves=_rule(PERMUTED),
    ),
    LayerKind(
        "unflatten",
        "unflatten(dim=0, sizes=(2, -1)): split one axis into several (one size may be -1)",
        _unflatten,
        _axis_torch("nn.Unflatten({dim}, {sizes})"),
        {"dim": AXIS, "sizes": SIZES_OR_ANY},
        "sizes",
        required=("dim", "sizes"),
        saves=_rule(SAME_VIEW),
    ),
    LayerKind(
        "reshape",
        "reshape(shape=(4, -1)): torch's reshape without the batch (one size may be -1)",
        _reshape,
        _code("Reshape({shape})"),
        {"shape": SIZES_OR_ANY},
        "shape",
        required=("shape",),
        aliases=("view",),
        saves=_rule(RESHAPE),
    ),
    LayerKind(
        "expand",
        "expand(shape=(-1, 8, 8)): broadcast axes of size 1 (-1 keeps a size)",
        _expand,
        _code("Expand({shape})"),
        {"shape": SIZES_OR_ANY},
        "shape",
        required=("shape",),
        saves=_rule(STRIDED_VIEW),
    ),
    LayerKind(
        "select",
        "select(dim=0, index=0): one position of an axis, the axis dropped (x[:, 0])",
        _select,
        _axis_torch("Select({dim}, {index})"),
        {"dim": AXIS, "index": BOUND},
        defaults={"dim": 0, "index": 0},
        saves=_rule(STRIDED_VIEW),
    ),
    LayerKind(
        "narrow",
        "narrow(dim=0, start=0, length=): positions start .. start+length-1 of "
        "an axis (torch.narrow)",
        _narrow,
        _axis_torch("Narrow({dim}, {start}, {length})"),
        {"dim": AXIS, "start": Arg(0), "length": POSITIVE},
        defaults={"dim": 0, "start": 0},
        required=("length",),
        saves=_rule(STRIDED_VIEW),
    ),
    LayerKind(
        "slice",
        "slice(dim=0, start=0, stop=, step=1): x[..., start:stop:step] on one "
        "axis with Python's rules (negative bounds count from the end, clamped to the "
        "axis; no stop: to the end), at every input size",
        _slice,
        _slice_torch,
        {"dim": AXIS, "start": BOUND, "stop": BOUND, "step": POSITIVE},
        defaults={"dim": 0, "start": 0, "step": 1},
        saves=_rule(STRIDED_VIEW),
    ),
    LayerKind(
        "token",
        "token(param=(1, 768), dim=0, end=false): learned tokens of that shape "
        "joined before the input along dim (after it with end=true; ViT's class token); "
        "their size counts as parameters",
        _token,
        _token_torch,
        {"param": Arg(1, tuples=True, collapse=False), "dim": AXIS, "end": BOOLEAN},
        "param",
        {"dim": 0, "end": False},
        ("param",),
        saves=_rule(NOTHING),
    ),
    LayerKind(
        "split",
        "split(sizes=(a, b, ...) | n, dim=0): several outputs, read as NAME[j] (torch.split)",
        _split,
        _axis_torch("Split({sizes}, {dim})"),
        {"sizes": COUNTS, "dim": AXIS},
        "sizes",
        {"dim": 0},
        ("sizes",),
        outputs=True,
        saves=_rule(STRIDED_VIEW),
    ),
    LayerKind(
        "chunk",
        "chunk(n, dim=0): n pieces of ceil(size/n) (the last smaller, maybe "
        "fewer), read as NAME[j]",
        _chunk,
        _axis_torch("Chunk({chunks}, {dim})"),
        {"chunks": POSITIVE, "dim": AXIS},
        "chunks",
        {"dim": 0},
        ("chunks",),
        outputs=True,
        saves=_rule(STRIDED_VIEW),
    ),
    LayerKind(
        "unbind",
        "unbind(dim=0): one output per position of an axis, the axis dropped, read as NAME[j]",
        _unbind,
        _axis_torch("Unbind({dim})"),
        dict(_DIM),
        defaults={"dim": 0},
        outputs=True,
        saves=_rule(STRIDED_VIEW),
    ),
    LayerKind(
        "expandas",
        "expandas(a, like): a broadcast to the shape of like (x.expand_as(y), "
        "x.expand(y.shape)); only like's shape is read",
        _expand_as,
        lambda spec, inputs: "{0}.expand_as({1})",
        join=True,
        aliases=("expand_as",),
        saves=_rule(Saves(alias=True, shape_only=(1,), layout="view")),
    ),
    LayerKind(
        "stack",
        "stack(a, b, ..., dim=0): inputs of one shape along a new axis dim (torch.stack)",
        _stack,
        lambda spec, inputs: f"torch.stack([{{all}}], dim={torch_axis(spec.get('dim', 0))})",
        dict(_DIM),
        defaults={"dim": 0},
        join=True,
        saves=_rule(NOTHING),
    ),
    LayerKind(
        "sum",
        "sum(dims=(1, 2), keepdim=false): the sum over those axes (0 the channels); MACs 0",
        reduce_axes,
        reduce_torch,
        {"dims": DIMS, "keepdim": BOOLEAN},
        "dims",
        {"keepdim": False},
        ("dims",),
        saves=_rule(NOTHING),
    ),
    LayerKind(
        "norm",
        "norm(dims=(1, 2), keepdim=false): the 2-norm over those axes "
        "(torch.linalg.vector_norm); MACs 0",
        reduce_axes,
        reduce_torch,
        {"dims": DIMS, "keepdim": BOOLEAN},
        "dims",
        {"keepdim": False},
        ("dims",),
        saves=_saves_norm,
    ),
    LayerKind(
        "matmul",
        "matmul(a, b): matrix product over the last two axes, leading axes "
        "broadcast (torch.matmul, bmm); MACs rows x k x columns each",
        _matmul,
        lambda spec, inputs: "torch.matmul({0}, {1})",
        join=True,
        aliases=("bmm",),
        saves=_saves_matmul,
    ),
    LayerKind(
        "attention",
        "attention(q, k, v): F.scaled_dot_product_attention; MACs Q K^T plus A V",
        _sdpa,
        lambda spec, inputs: "nn.functional.scaled_dot_product_attention({0}, {1}, {2})",
        join=True,
        aliases=("sdpa",),
    ),
    LayerKind(
        "mha",
        "mha(heads, bias=true): nn.MultiheadAttention self-attention on L x E "
        "(batch_first); 4E^2 (+4E) params, MACs 4LE^2 + 2L^2E",
        _mha,
        _mha_torch,
        {"heads": POSITIVE, "bias": BOOLEAN},
        "heads",
        {"bias": True},
        ("heads",),
    ),
)


HELPERS = {
    "Permute(": """
class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)
""",
    "Reshape(": """
class Reshape(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)
""",
    "Expand(": """
class Expand(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.expand(x.shape[0], *self.shape)
""",
    "Reduce(": '''
class Reduce(nn.Module):
    """x.sum / x.mean over dims, or the 2-norm (torch.linalg.vector_norm)."""

    def __init__(self, op, dims, keepdim=False):
        super().__init__()
        self.op, self.dims, self.keepdim = op, dims, keepdim

    def forward(self, x):
        if self.op == "norm":
            return torch.linalg.vector_norm(x, 2, self.dims, keepdim=self.keepdim)
        return getattr(x, self.op)(self.dims, keepdim=self.keepdim)
''',
    "Select(": """
class Select(nn.Module):
    def __init__(self, dim, index):
        super().__init__()
        self.dim, self.index = dim, index

    def forward(self, x):
        return x.select(self.dim, self.index)
""",
    "Narrow(": """
class Narrow(nn.Module):
    def __init__(self, dim, start, length):
        super().__init__()
        self.dim, self.start, self.length = dim, start, length

    def forward(self, x):
        return x.narrow(self.dim, self.start, self.length)
""",
    "Slice(": """
class Slice(nn.Module):
    def __init__(self, dim, start, stop, step):
        super().__init__()
        self.dim, self.part = dim, slice(start, stop, step)

    def forward(self, x):
        return x[(slice(None),) * (self.dim % x.dim()) + (self.part,)]
""",
    "Token(": '''
class Token(nn.Module):
    """Learned tokens of `shape` (no batch) joined to the input along `dim`, before it or after
    it (end=True): ViT's class token."""

    def __init__(self, shape, dim, end=False):
        super().__init__()
        self.param = nn.Parameter(torch.zeros(1, *shape))
        self.shape, self.dim, self.end = tuple(shape), dim, end

    def forward(self, x):
        tokens = self.param.expand(x.shape[0], *self.shape)   # traceable by torch.fx
        return torch.cat([x, tokens] if self.end else [tokens, x], self.dim)
''',
    "Split(": """
class Split(nn.Module):
    def __init__(self, sizes, dim):
        super().__init__()
        self.sizes, self.dim = sizes, dim

    def forward(self, x):
        return torch.split(x, list(self.sizes) if isinstance(self.sizes, tuple) else self.sizes,
                           self.dim)
""",
    "Chunk(": """
class Chunk(nn.Module):
    def __init__(self, chunks, dim):
        super().__init__()
        self.chunks, self.dim = chunks, dim

    def forward(self, x):
        return torch.chunk(x, self.chunks, self.dim)
""",
    "Unbind(": """
class Unbind(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.unbind(x, self.dim)
""",
    "SelfAttention(": '''
class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention on one input (query = key = value), its output only (its
    parameters are the module's own, as in the model it was imported from)."""

    def __init__(self, width, heads, bias=True):
        super().__init__(width, heads, bias=bias, batch_first=True)

    def forward(self, x):
        return super().forward(x, x, x, need_weights=False)[0]
''',
}
