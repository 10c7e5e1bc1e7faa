"""The forward pass of a whole network: shapes, sizes, weights, parameters, MACs and receptive
fields, layer by layer, with PyTorch's exact rules (`cnnplan shapes`).

Conventions (see docs/networks.md):
- weights exclude biases; params add biases (conv, convT, linear) and batch norm's 2C.
- MACs: conv = output elements x C_in/groups x k^n; convT is counted on the input positions
  (input elements x C_out/groups x k^n); linear = in x out; bn = 1 per element (scale and
  shift); pooling, activations and flatten 0.
- receptive field and jump on the input, per spatial axis (windows are square): a window
  layer adds (k'-1) x jump to the extent E and multiplies the jump by s; a transposed
  convolution adds (k'-1)/s x jump and divides the jump by s. rf = floor(E) + 1: the widest
  span of input positions one output position depends on. Flatten and linear see the whole
  input: rf and jump are not reported from there on.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .arithmetic import (conv_macs, conv_output, conv_weights, effective_kernel,
                         input_fits_kernel, max_padding, output_padding_valid, pool_output_ceil,
                         transposed_macs, transposed_output)
from .errors import BadInput
from .result import Result, Table
from .tensor_shape import format_shape, parse_shape, size_of
from .specs import MAX_LAYERS, LayerSpec, parse_spec


@dataclass(frozen=True)
class Step:
    """One layer of a network, applied."""

    index: int
    spec: LayerSpec
    input: tuple
    output: tuple
    weights: int
    params: int
    macs: int
    extent: Fraction | int | None
    jump: Fraction | int | None
    notes: tuple = ()

    @property
    def size(self) -> int:
        return size_of(self.output)

    @property
    def rf(self) -> int | None:
        return None if self.extent is None else int(self.extent // 1) + 1


@dataclass(frozen=True)
class Network:
    input: tuple
    steps: tuple

    @property
    def output(self) -> tuple:
        return self.steps[-1].output if self.steps else self.input

    @property
    def size(self) -> int:
        return size_of(self.output)

    @property
    def weights(self) -> int:
        return sum(s.weights for s in self.steps)

    @property
    def params(self) -> int:
        return sum(s.params for s in self.steps)

    @property
    def macs(self) -> int:
        return sum(s.macs for s in self.steps)

    @property
    def extent(self):
        """Receptive-field extent of the last layer that still has one (0 for no layers)."""
        last = 0
        for step in self.steps:
            if step.extent is None:
                break
            last = step.extent
        return last

    @property
    def rf(self) -> int:
        return int(self.extent // 1) + 1


def label(index: int, spec: LayerSpec) -> str:
    return f"layer {index} {spec.describe()}"


def apply_layer(spec: LayerSpec, shape: tuple, index: int):
    """(output shape, weights, params, macs, notes) of one complete layer on `shape`.

    BadInput, naming the layer, if PyTorch would refuse it.
    """
    kind = spec.kind
    name = label(index, spec)
    notes = []
    if kind in ("relu", "tanh", "sigmoid"):
        return shape, 0, 0, 0, ()
    if kind == "bn":
        return shape, shape[0], 2 * shape[0], size_of(shape), ()
    if kind == "flatten":
        return (size_of(shape),), 0, 0, 0, ()
    if kind == "linear":
        if len(shape) != 1:
            raise BadInput(f"{name}: linear needs a flat input but gets {format_shape(shape)}; "
                           "put flatten before it")
        features, bias = spec.get("features"), spec.get("bias")
        weights = shape[0] * features
        return (features,), weights, weights + (features if bias else 0), weights, ()
    # window layers
    if len(shape) < 2:
        raise BadInput(f"{name}: {kind} needs a C x sizes input, but its input is the flat "
                       f"{format_shape(shape)} (after flatten or linear)")
    c_in, sizes = shape[0], shape[1:]
    k, s, p = spec.get("k"), spec.get("s"), spec.get("p")
    d = spec.get("d", 1)
    ke = effective_kernel(k, d)
    kernel_text = f"kernel {k}" if d == 1 else f"effective kernel {ke} (k={k}, d={d})"
    if kind in ("conv", "convT"):
        c_out, groups = spec.get("channels"), spec.get("groups")
        for what, value in (("input", c_in), ("output", c_out)):
            if value % groups:
                raise BadInput(f"{name}: groups={groups} must divide the {what} channels {value}")
    if kind == "convT":
        op = spec.get("op")
        if not output_padding_valid(op, s, d):
            raise BadInput(f"{name}: output padding op={op} must be smaller than the stride "
                           f"{s} or the dilation {d}")
        outs = []
        for i in sizes:
            o = transposed_output(i, k, s, p, d, op)
            if o is None:
                raw = (i - 1) * s - 2 * p + d * (k - 1) + op + 1
                raise BadInput(f"{name}: output size {raw} on an axis of size {i} "
                               "((i-1)s - 2p + d(k-1) + op + 1 must be at least 1)")
            outs.append(o)
        if p > max_padding(k, d, kind):
            notes.append(f"layer {index}: padding {p} exceeds k'-1 = {ke - 1}, so real outputs "
                         "are cropped")
        out = (c_out, *outs)
        weights = conv_weights(k, len(sizes), c_in, c_out, groups)  # (C_in, C_out/g, k^n)
        macs = transposed_macs(shape, c_out, k, groups)
        return out, weights, weights + (c_out if spec.get("bias") else 0), macs, tuple(notes)
    pooling = kind in ("maxpool", "avgpool")
    if pooling and p > max_padding(k, d, kind):
        raise BadInput(f"{name}: padding {p} is more than half the kernel {k} "
                       f"(PyTorch requires p <= k // 2 = {max_padding(k, d, kind)})")
    ceil = pooling and spec.get("ceil")
    if kind == "avgpool" and len(sizes) == 3 and not input_fits_kernel(sizes, k):
        raise BadInput(f"{name}: PyTorch's 3-D average pooling needs every input size to be at "
                       f"least the kernel {k}, but the input is {format_shape(shape)}")
    outs, dropped = [], set()
    for i in sizes:
        o = pool_output_ceil(i, k, s, p, d) if ceil else conv_output(i, k, s, p, d, "floor")
        if o is None:
            pad = f" ({i} + 2*{p})" if p else ""
            more = (f", even with ceil mode's overhang of less than the stride {s}"
                    if ceil else "")
            raise BadInput(f"{name}: {kernel_text} larger than padded input "
                           f"{i + 2 * p}{pad}{more}")
        outs.append(o)
        if not ceil and (i + 2 * p - ke) % s:
            dropped.add((i, (i + 2 * p - ke) % s))
    for i, rows in sorted(dropped):
        notes.append(f"layer {index}: on an axis of size {i}, {rows} padded input row"
                     f"{'s' if rows != 1 else ''} after the last window "
                     f"{'are' if rows != 1 else 'is'} not used (floor)")
    if kind == "conv":
        if p > max_padding(k, d, kind):
            notes.append(f"layer {index}: padding {p} exceeds k'-1 = {ke - 1}, so the outermost "
                         "outputs see only padding")
        out = (c_out, *outs)
        weights = conv_weights(k, len(sizes), c_in, c_out, groups)
        macs = conv_macs(out, c_in, k, groups)
        return out, weights, weights + (c_out if spec.get("bias") else 0), macs, tuple(notes)
    return (c_in, *outs), 0, 0, 0, tuple(notes)


def next_extent(spec: LayerSpec, extent, jump):
    """Receptive-field extent and jump after `spec` (None, None once the input is flattened)."""
    if extent is None or spec.kind in ("flatten", "linear"):
        return None, None
    if not spec.window:
        return extent, jump
    k, s, d = spec.get("k"), spec.get("s"), spec.get("d", 1)
    ke = effective_kernel(k, d)
    if spec.kind == "convT":
        step = Fraction(jump, s)
        return extent + (ke - 1) * step, _tidy(step)
    return extent + (ke - 1) * jump, jump * s


def _tidy(value):
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def forward(input_shape, specs, complete: bool = True) -> Network:
    """Apply `specs` (LayerSpec or text) to `input_shape` (tuple or text)."""
    shape = parse_shape(input_shape, "--in")
    start = shape
    specs = list(specs)
    if len(specs) > MAX_LAYERS:
        raise BadInput(f"{len(specs)} layers; the limit is {MAX_LAYERS}")
    steps = []
    extent, jump = 0, 1
    for index, spec in enumerate(specs, start=1):
        if isinstance(spec, str):
            spec = parse_spec(spec, f"layer {index}")
        if complete:
            spec = spec.complete(f"layer {index}")
        out, weights, params, macs, notes = apply_layer(spec, shape, index)
        extent, jump = next_extent(spec, extent, jump)
        steps.append(Step(index, spec, shape, out, weights, params, macs, _tidy(extent), jump,
                          notes))
        shape = out
    return Network(start, tuple(steps))


def format_jump(jump) -> int | str | None:
    """An int, or 'a/b' for the fractional jumps after transposed convolutions."""
    if jump is None:
        return None
    jump = _tidy(jump)
    return jump if isinstance(jump, int) else f"{jump.numerator}/{jump.denominator}"


def network_result(net: Network, targets=None, title_prefix: str = "network") -> Result:
    """The `cnnplan shapes` Result: one row per layer, totals, and target checks."""
    rows = [(0, "input", format_shape(net.input), size_of(net.input), None, None, None, 1, 1)]
    layers = []
    notes = []
    for step in net.steps:
        rows.append((step.index, step.spec.canonical(), format_shape(step.output), step.size,
                     step.weights, step.params, step.macs, step.rf, format_jump(step.jump)))
        layers.append({"spec": step.spec.canonical(), "kind": step.spec.kind,
                       "output": list(step.output), "size": step.size, "weights": step.weights,
                       "params": step.params, "macs": step.macs, "rf": step.rf,
                       "jump": format_jump(step.jump)})
        notes.extend(step.notes)
    rows.append((None, "total", format_shape(net.output), net.size, net.weights, net.params,
                 net.macs, None, None))
    mismatches = []
    for step in net.steps:
        target = (targets or {}).get(step.index)
        if target is not None and tuple(target) != step.output:
            mismatches.append(f"layer {step.index} gives {format_shape(step.output)} but its "
                              f"target is {format_shape(target)}")
    n = len(net.steps)
    title = (f"{title_prefix} {format_shape(net.input)} -> {format_shape(net.output)}: "
             f"{n} layer{'s' if n != 1 else ''}")
    facts = (("input", format_shape(net.input)), ("output", format_shape(net.output)),
             ("size", net.size), ("weights", net.weights), ("params", net.params),
             ("macs", net.macs))
    notes = mismatches + notes
    notes.append("weights exclude biases; params add biases and batch norm's 2C; MACs: conv = "
                 "output elements x C_in/groups x k^n, convT on input positions, linear in x out, "
                 "bn 1 per element, pooling 0")
    data = {"input": list(net.input), "layers": layers, "output": list(net.output),
            "size": net.size, "weights": net.weights, "params": net.params, "macs": net.macs}
    if mismatches:
        data["mismatches"] = mismatches
    return Result(title=title, facts=facts,
                  tables=(Table(("#", "layer", "output", "size", "weights", "params", "macs",
                                 "rf", "jump"), tuple(rows)),),
                  notes=tuple(notes), data=data, exit_code=1 if mismatches else 0)


def shapes(input=None, layers=(), plan_file=None) -> Result:
    """Shapes, sizes, weights, params, MACs, receptive field and jump of every layer.

    `layers` are specs such as "conv(64, k=8, s=2)" (optionally "SPEC -> SHAPE" to check a
    target); or `plan_file` is a TOML plan whose `out` targets and `where` constraints are
    checked. Omitted values take PyTorch's defaults (s=1, p=0, d=1; pooling s=k).

    >>> shapes("3x256x256", ["conv(64, k=8, s=2)", "maxpool(k=5)", "conv(128, k=4, p=1)"]
    ...        ).data["size"]
    73728
    """
    from .planfile import gather
    from .planner import parse_where
    from .search import VARIABLES
    from .where import compile_condition

    shape, items, options, title = gather(input, layers, plan_file, None, what="network")
    net = forward(shape, [item.spec for item in items])
    targets = {i: item.target for i, item in enumerate(items, start=1) if item.target}
    result = network_result(net, targets, title or "network")
    violations = []
    everywhere, per_layer = parse_where(options.get("where", ()), len(items))
    for index in per_layer:
        if not net.steps[index - 1].spec.window:
            raise BadInput(f"where names layer {index} {net.steps[index - 1].spec.describe()}, "
                           "which has no k, s, p, d to constrain")
    for step, item in zip(net.steps, items):
        if not step.spec.window:
            continue
        env = {"k": step.spec.get("k"), "s": step.spec.get("s"), "p": step.spec.get("p"),
               "d": step.spec.get("d", 1)}
        texts = (*per_layer.get(step.index, ()), *item.where)
        conditions = everywhere + [compile_condition(text, VARIABLES,
                                                     f"layer {step.index}: where")
                                   for text in texts]
        for condition in conditions:
            if not condition(env):
                violations.append(f"layer {step.index} {step.spec.canonical()} breaks where "
                                  f"{condition.text!r}")
    if not violations:
        return result
    from dataclasses import replace

    data = dict(result.data)
    data["mismatches"] = data.get("mismatches", []) + violations
    return replace(result, notes=tuple(violations) + result.notes, data=data, exit_code=1)
