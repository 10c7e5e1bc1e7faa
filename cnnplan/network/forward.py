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

from ..kinds.arithmetic import effective_kernel
from ..kinds.shape import format_shape, parse_shape, size_of
from ..language.specs import INPUT, MAX_LAYERS, LayerSpec, parse_spec
from ..platform.errors import BadInput
from ..platform.result import Result, Table


@dataclass(frozen=True)
class Step:
    """One layer of a network, applied."""

    index: int
    spec: LayerSpec
    input: tuple                 # the (first) input shape
    output: tuple
    weights: int
    params: int
    macs: int
    extent: Fraction | int | None
    jump: Fraction | int | None
    notes: tuple = ()
    name: str = ""
    sources: tuple = ()          # names of the layers it reads ("input": the network input)
    inputs: tuple = ()           # their shapes
    field: tuple | None = None   # receptive field per spatial axis (see `receptive`)
    exact_rf: bool = True

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
    output_name: str = ""

    @property
    def out_step(self):
        if not self.steps:
            return None
        if self.output_name:
            for step in self.steps:
                if step.name == self.output_name:
                    return step
        return self.steps[-1]

    @property
    def output(self) -> tuple:
        step = self.out_step
        return step.output if step else self.input

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
    def graph(self) -> bool:
        """True unless every layer reads the one before it."""
        previous = INPUT
        for step in self.steps:
            if step.sources != (previous,):
                return True
            previous = step.name
        return bool(self.output_name) and self.output_name != previous

    @property
    def extent(self):
        """Receptive-field extent of the output (of the last layer that still has one in a
        chain; 0 for no layers)."""
        last = 0
        for step in self.steps:
            if step.extent is None:
                break
            last = step.extent
        out = self.out_step
        if self.graph and out is not None:
            return out.extent if out.extent is not None else last
        return last

    @property
    def rf(self) -> int:
        return int(self.extent // 1) + 1


def label(index: int, spec: LayerSpec) -> str:
    return f"layer {index} {spec.describe()}"


def apply_layer(spec: LayerSpec, shape: tuple, index: int):
    """(output shape, weights, params, macs, notes) of one complete single-input layer on
    `shape`; BadInput, naming the layer, if PyTorch would refuse it."""
    done = spec.record.apply(spec, (tuple(shape),), f"layer {index}")
    return done.output, done.weights, done.params, done.macs, done.notes


# -- receptive fields over graphs (Araujo, Norris & Sim, Distill 2019) ------------------------
# Per spatial axis, a field maps (jump J, centre c of output position 0 on the input) to the
# largest extent E over the paths with that J and c; rf = floor(E) + 1. None: the output sees
# the whole input (after flatten, linear or global pooling).

MAX_FIELD_ENTRIES = 32
START_FIELD = {(1, 0): 0}


def _tidy(value):
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def step_field(field, steps):
    """The field after a single-input layer with per-axis RfSteps (None steps: unchanged)."""
    if field is None or steps is None:
        return field
    if any(step.whole for step in steps) or len(steps) != len(field):
        return None
    out = []
    for axis, step in zip(field, steps):
        moved = {}
        for (jump, centre), extent in axis.items():
            key = (_tidy(jump * step.stride), _tidy(centre + jump * step.shift))
            value = _tidy(extent + jump * step.span)
            if moved.get(key, -1) < value:
                moved[key] = value
        out.append(moved)
    return tuple(out)


def join_fields(fields, offsets=()):
    """The field of a join: every input's paths (shifted by its crop offsets), merged."""
    if any(f is None for f in fields) or len({len(f) for f in fields}) != 1:
        return None
    out = [{} for _ in fields[0]]
    for n, field in enumerate(fields):
        for a, axis in enumerate(field):
            shift = offsets[n][a] if offsets else 0
            for (jump, centre), extent in axis.items():
                key = (jump, _tidy(centre + jump * shift))
                if out[a].get(key, -1) < extent:
                    out[a][key] = extent
    trimmed = []
    for axis in out:
        if len(axis) > MAX_FIELD_ENTRIES:
            axis = dict(sorted(axis.items(), key=lambda kv: -kv[1])[:MAX_FIELD_ENTRIES])
        trimmed.append(axis)
    return tuple(trimmed)


def field_summary(field):
    """(extent, jump) of a field: the largest extent, and the jump if one (per axis 'a x b')."""
    if field is None:
        return None, None
    extent = max(max(axis.values()) for axis in field)
    jumps = [{j for j, _ in axis} for axis in field]
    if all(len(j) == 1 for j in jumps):
        values = [next(iter(j)) for j in jumps]
        jump = values[0] if len(set(values)) == 1 else "x".join(
            str(format_jump(v)) for v in values)
    else:
        jump = "mixed"
    return extent, jump


def misaligned(field) -> list:
    """(axis, why) for the axes (1-based) whose paths have different centres or different
    jumps (then only output 0's windows share a centre)."""
    out = []
    for a, axis in enumerate(field or (), start=1):
        centres = sorted({c for _, c in axis})
        jumps = sorted({j for j, _ in axis})
        why = "centres of output 0 at " + ", ".join(str(format_jump(c)) for c in centres)
        if len(jumps) > 1:
            why = "jumps " + ", ".join(str(format_jump(j)) for j in jumps) + "; " + why
        if len(centres) > 1 or len(jumps) > 1:
            out.append((a, why))
    return out


# -- the graph --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    """One layer before it is applied: its name and the names it reads."""

    index: int
    name: str
    spec: LayerSpec
    sources: tuple
    named: bool = False


def build_nodes(items, what: str = "network") -> list:
    """Nodes from (name or None, spec, from or None) triples: names unique, every source an
    earlier layer or "input"; joins read two or more inputs, other kinds one."""
    nodes, seen = [], {}
    previous = INPUT
    if len(items) > MAX_LAYERS:
        raise BadInput(f"{len(items)} layers; the limit is {MAX_LAYERS}")
    later = {name for name, _, _ in items if name}
    for index, (name, spec, sources) in enumerate(items, start=1):
        where = f"layer {index} {spec.describe()}"
        if name is not None and name in seen:
            raise BadInput(f"{where}: the name {name!r} is already used by layer {seen[name]}")
        refs = tuple(sources) if sources else spec.refs
        resolved = []
        for ref in refs or (None,):
            ref = previous if ref is None else ref
            if ref != INPUT and ref not in seen:
                if ref in later or ref == name:
                    raise BadInput(f"{where}: reads {ref!r}, which is not an earlier layer "
                                   "(layers read only layers before them)")
                raise BadInput(f"{where}: reads {ref!r}, but no earlier layer is called that "
                               f"(names: {', '.join(list(seen)[-8:]) or 'none yet'}; "
                               "'input' is the network input)")
            resolved.append(ref)
        join = spec.record.join
        if join and len(resolved) < 2:
            raise BadInput(f"{where}: {spec.kind} joins two or more inputs; name them, as in "
                           f"{spec.kind}(a, b), or one to join with the previous layer")
        if not join and len(resolved) != 1:
            raise BadInput(f"{where}: {spec.kind} reads one input, not {len(resolved)} "
                           f"({', '.join(resolved)}); joins are add, mul, concat")
        key = name or str(index)
        seen[key] = index
        nodes.append(Node(index, key, spec, tuple(resolved), name is not None))
        previous = key
    return nodes


def plan_nodes(items) -> list:
    """The network's nodes (build_nodes) from a plan file's PlanLayers."""
    return build_nodes([(item.name, item.spec, item.sources) for item in items])


def prepare(specs, complete: bool = True) -> list:
    """[(node, complete spec, kind record, where)] for `forward`: LayerSpecs or texts (a chain,
    or a graph through their `from` references), or `Node`s from `build_nodes`."""
    specs = list(specs)
    if len(specs) > MAX_LAYERS:
        raise BadInput(f"{len(specs)} layers; the limit is {MAX_LAYERS}")
    if specs and isinstance(specs[0], Node):
        nodes = specs
    else:
        items = []
        for index, spec in enumerate(specs, start=1):
            if isinstance(spec, str):
                spec = parse_spec(spec, f"layer {index}")
            items.append((None, spec, None))
        nodes = build_nodes(items)
    out = []
    for node in nodes:
        spec = node.spec.complete(f"layer {node.index}") if complete else node.spec
        where = f"layer {node.index}" + (f" ({node.name})" if node.named else "")
        out.append((node, spec, spec.record, where))
    return out


def forward(input_shape, specs, complete: bool = True, output: str = "",
            fields: bool = True) -> Network:
    """Apply a network to `input_shape` (tuple or text). `specs`: as for `prepare`, or its
    result. fields=False skips the receptive fields (shapes and costs only)."""
    shape = input_shape if isinstance(input_shape, tuple) and all(
        type(v) is int and v >= 1 for v in input_shape) else parse_shape(input_shape, "--in")
    specs = list(specs)
    prepared = specs if specs and isinstance(specs[0], tuple) else prepare(specs, complete)
    shapes = {INPUT: shape}
    field_of = {INPUT: (START_FIELD,) * (len(shape) - 1) if len(shape) > 1 else None}
    exacts = {INPUT: True}
    steps = []
    for node, spec, record, where in prepared:
        inputs = tuple(shapes[s] for s in node.sources)
        done = record.apply(spec, inputs, where)
        shapes[node.name] = done.output
        if not fields:
            steps.append(Step(node.index, spec, inputs[0], done.output, done.weights,
                              done.params, done.macs, None, None, done.notes, node.name,
                              node.sources, inputs))
            continue
        notes = list(done.notes)
        if record.join:
            field = join_fields([field_of[s] for s in node.sources], done.offsets)
            for axis, why in misaligned(field):
                notes.append(f"{where}: its inputs' receptive fields are not aligned on axis "
                             f"{axis} ({why})")
        else:
            field = step_field(field_of[node.sources[0]], done.steps)
        if len(done.output) == 1:
            field = None
        exact = done.exact_rf and all(exacts[s] for s in node.sources)
        exacts[node.name] = exact
        extent, jump = field_summary(field)
        field_of[node.name] = field
        steps.append(Step(node.index, spec, inputs[0], done.output, done.weights, done.params,
                          done.macs, _tidy(extent), _tidy(jump) if jump is not None else None,
                          tuple(notes), node.name, node.sources, inputs, field, exact))
    if output and output not in shapes:
        raise BadInput(f"output {output!r} names no layer")
    return Network(shape, tuple(steps), output)


def next_extent(spec: LayerSpec, extent, jump):
    """Receptive-field extent and jump after a single-input layer in a chain (None, None once
    the input is flattened)."""
    if extent is None or spec.kind in ("flatten", "linear"):
        return None, None
    if not spec.window:
        return extent, jump
    k, s, d = spec.get("k"), spec.get("s"), spec.get("d", 1)
    ke = effective_kernel(k, d)
    if spec.record.window.rule == "convT":
        step = Fraction(jump, s)
        return extent + (ke - 1) * step, _tidy(step)
    return extent + (ke - 1) * jump, jump * s


def format_jump(jump) -> int | str | None:
    """An int, or 'a/b' for the fractional jumps after transposed convolutions."""
    if jump is None or isinstance(jump, str):
        return jump
    jump = _tidy(jump)
    return jump if isinstance(jump, int) else f"{jump.numerator}/{jump.denominator}"


def layer_text(step) -> str:
    """A step's spec as the table shows it: joins with the names they read."""
    text = step.spec.canonical()
    if step.spec.record.join:
        inside = ", ".join(step.sources)
        text = text.replace("(", f"({inside}, ", 1) if "(" in text else f"{text}({inside})"
    return text


def network_result(net: Network, targets=None, title_prefix: str = "network") -> Result:
    """The `cnnplan shapes` Result: one row per layer, totals, and target checks."""
    graph = net.graph
    first = (0, "input", format_shape(net.input), size_of(net.input), None, None, None, 1, 1)
    rows = [_row(graph, INPUT, "", first)]
    layers = []
    notes = []
    bounds = False
    for step in net.steps:
        cells = (step.index, layer_text(step), format_shape(step.output), step.size,
                 step.weights, step.params, step.macs, step.rf, format_jump(step.jump))
        rows.append(_row(graph, step.name, ", ".join(step.sources), cells))
        entry = {"name": step.name, "from": list(step.sources), "spec": step.spec.canonical(),
                 "kind": step.spec.kind, "output": list(step.output), "size": step.size,
                 "weights": step.weights, "params": step.params, "macs": step.macs,
                 "rf": step.rf, "jump": format_jump(step.jump)}
        if step.field is not None and not step.exact_rf:
            entry["rf_exact"] = False
            bounds = True
        layers.append(entry)
        notes.extend(step.notes)
    rows.append(_row(graph, "", "", (None, "total", format_shape(net.output), net.size,
                                     net.weights, net.params, net.macs, None, None)))
    mismatches = []
    for step in net.steps:
        target = (targets or {}).get(step.index)
        if target is not None and tuple(target) != step.output:
            mismatches.append(f"layer {step.index} gives {format_shape(step.output)} but its "
                              f"target is {format_shape(target)}")
    n = len(net.steps)
    title = (f"{title_prefix} {format_shape(net.input)} -> {format_shape(net.output)}: "
             f"{n} layer{'s' if n != 1 else ''}")
    facts = [("input", format_shape(net.input)), ("output", format_shape(net.output)),
             ("size", net.size), ("weights", net.weights), ("params", net.params),
             ("macs", net.macs)]
    if graph and net.out_step is not None:
        facts.insert(2, ("output layer", net.out_step.name))
    notes = mismatches + notes
    notes.append("weights exclude biases; params add biases and normalisation's scale and shift; "
                 "MACs: conv = output elements x C_in/groups x k^n, convT on input positions, "
                 "linear in x out, norms 1 per element, pooling, joins and activations 0")
    if bounds:
        notes.append("rf after transposed convolutions, upsampling or adaptive pooling "
                     "with uneven windows is an upper bound (rf_exact false in JSON)")
    data = {"input": list(net.input), "layers": layers, "output": list(net.output),
            "size": net.size, "weights": net.weights, "params": net.params, "macs": net.macs}
    if graph:
        data["output_layer"] = net.out_step.name if net.out_step else INPUT
    if mismatches:
        data["mismatches"] = mismatches
    columns = ("#", "layer", "output", "size", "weights", "params", "macs", "rf", "jump")
    if graph:
        columns = ("#", "name", "from") + columns[1:]
    return Result(title=title, facts=tuple(facts), tables=(Table(columns, tuple(rows)),),
                  notes=tuple(notes), data=data, exit_code=1 if mismatches else 0,
                  kind="shapes")


def _row(graph: bool, name: str, sources: str, cells: tuple) -> tuple:
    return (cells[0], name, sources) + cells[1:] if graph else cells


def shapes(input=None, layers=(), plan_file=None, plan_text=None) -> Result:
    """Shapes, sizes, weights, params, MACs, receptive field and jump of every layer.

    `layers` are specs such as "conv(64, k=8, s=2)" (optionally "SPEC -> SHAPE" to check a
    target; "NAME: SPEC" names a layer; several layers may share an argument, separated by
    ';'); or `plan_file` (a path) / `plan_text` (TOML) is a plan whose `out` targets and `where`
    constraints are checked. Omitted values take PyTorch's defaults (s=1, p=0, d=1; pooling
    s=k).

    >>> shapes("3x256x256", ["conv(64, k=8, s=2)", "maxpool(k=5)", "conv(128, k=4, p=1)"]
    ...        ).data["size"]
    73728
    """
    from ..kinds.records import WINDOW_VARIABLES as VARIABLES
    from ..language.planfile import gather
    from ..language.where import compile_condition, parse_where

    shape, items, options, title = gather(input, layers, plan_file, None, what="network",
                                          plan_text=plan_text)
    net = forward(shape, plan_nodes(items), output=options.get("output_layer", ""))
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
        values = [step.spec.get(v, 1 if v == "d" else 0) for v in VARIABLES]
        if any(not isinstance(v, int) for v in values):
            continue
        env = dict(zip(VARIABLES, values))
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
