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

import re
from dataclasses import dataclass
from fractions import Fraction

from ..kinds.arithmetic import effective_kernel
from ..kinds.records import WHOLE as WHOLE_STEP
from ..kinds.records import RfStep
from ..kinds.shape import format_shape, parse_shape, size_of
from ..language.specs import INPUT, MAX_LAYERS, LayerSpec, parse_spec
from ..platform.budget import budgeted, charge
from ..platform.errors import BadInput
from ..platform.result import Result, Table


@dataclass(frozen=True)
class Step:
    """One layer of a network, applied."""

    index: int
    spec: LayerSpec
    input: tuple  # the (first) input shape
    output: tuple
    weights: int
    params: int
    macs: int
    extent: Fraction | int | None
    jump: Fraction | int | None
    notes: tuple = ()
    name: str = ""
    sources: tuple = ()  # names of the layers it reads ("input": the network input)
    inputs: tuple = ()  # their shapes
    field: tuple | None = None  # receptive field per tensor axis (see `step_field`)
    exact_rf: bool = True
    extents: tuple | None = None  # receptive-field extent per input spatial axis
    outputs: tuple = ()  # a layer with several outputs (split, chunk): their shapes

    @property
    def rfs(self) -> tuple | None:
        """rf per input spatial axis."""
        return None if self.extents is None else tuple(int(e // 1) + 1 for e in self.extents)

    @property
    def rf_value(self):
        """rf as reported: a number when every axis agrees, a list otherwise (None: whole)."""
        rfs = self.rfs
        if rfs is None:
            return None
        return rfs[0] if len(set(rfs)) == 1 else list(rfs)

    @property
    def eff_padding(self):
        """Effective padding (see `effective_padding`), None once flattened."""
        return effective_padding(self.field) if self.extent is not None else None

    @property
    def size(self) -> int:
        return sum(size_of(o) for o in self.outputs) if self.outputs else size_of(self.output)

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
        """True unless every layer reads the one before it (and gives one output)."""
        previous = INPUT
        for step in self.steps:
            if step.sources != (previous,) or step.outputs:
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


def store(values: dict, name: str, done, value=None, pieces=None):
    """Record what layer `name` gives (its output shape, or `value`) under its name, and for a
    layer with several outputs each piece under `name[j]` too (`pieces`, or `value` for all)."""
    values[name] = done.output if value is None and pieces is None else value
    for j, shape in enumerate(done.outputs):
        values[f"{name}[{j}]"] = (
            shape if value is None and pieces is None else pieces[j] if pieces else value
        )


def read(values: dict, ref: str, where: str = "layer"):
    """What a reference (`name`, or `name[j]` for output j) names; BadInput if output j is
    not there."""
    if ref in values:
        return values[ref]
    base, _, index = ref.partition("[")
    count = sum(1 for key in values if key.startswith(base + "["))
    raise BadInput(
        f"{where}: reads {ref}, but {base} has {count or 1} output"
        f"{'s' if count != 1 else ''} (0 to {max(count - 1, 0)})"
    )


def label(index: int, spec: LayerSpec) -> str:
    return f"layer {index} {spec.describe()}"


def apply_layer(spec: LayerSpec, shape: tuple, index: int):
    """(output shape, weights, params, macs, notes) of one complete single-input layer on
    `shape`; BadInput, naming the layer, if PyTorch would refuse it."""
    done = spec.record.apply(spec, (tuple(shape),), f"layer {index}")
    return done.output, done.weights, done.params, done.macs, done.notes


# -- receptive fields over graphs (Araujo, Norris & Sim, Distill 2019) ------------------------
# A field has one entry per tensor axis: None for a feature axis (channels, features, heads),
# or (origin, paths) for an axis that holds positions of the network input's spatial axis
# `origin` (1-based), where paths maps (jump J, centre c of output position 0 on the input) to
# the largest extent E over the paths with that J and c; rf = floor(E) + 1 per origin. A
# permutation moves the entries with their axes. The whole field is None once an output
# position depends on every input position of some axis (flatten, linear, global pooling,
# attention over positions), or where positions are mixed in a way it cannot follow.

MAX_FIELD_ENTRIES = 32
LAYER_COST = 40  # work units of applying one layer in a forward pass
START_PATHS = {(1, 0): 0}
BROADCAST_STEP = RfStep(0, 0, 0)  # every output position reads the one input position


def start_field(shape):
    """The field of the network input: the channels, then one spatial axis each."""
    if len(shape) < 2:
        return None
    return (None, *((axis, START_PATHS) for axis in range(1, len(shape))))


def _tidy(value):
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def _move_paths(paths, step):
    moved = {}
    for (jump, centre), extent in paths.items():
        key = (_tidy(jump * step.stride), _tidy(centre + jump * step.shift))
        value = _tidy(extent + jump * step.span)
        if moved.get(key, -1) < value:
            moved[key] = value
    return moved


def step_field(field, steps, axes=None):
    """The field after a single-input layer. `axes` (layout kinds): per output axis the input
    axis it is (an int), a tuple of input axes it merges, or None for a new feature axis.
    `steps`: RfSteps, one per output axis, or one per spatial axis (axes 1..n) for a kind that
    mixes axis 0 (the channels); None: element-wise."""
    if field is None:
        return None
    if axes is not None:
        field = _layout_field(field, axes)
        if field is None:
            return None
    if steps is None:
        return field
    if len(steps) == len(field) - 1:
        steps = (WHOLE_STEP, *steps)
    if len(steps) != len(field):
        return None
    out = []
    for entry, step in zip(field, steps):
        if entry is None:
            out.append(None)
        elif step.whole:
            return None
        else:
            out.append((entry[0], _move_paths(entry[1], step)))
    return tuple(out)


def _layout_field(field, axes):
    """Entries moved by a layout map; None where a spatial axis is merged, split or dropped."""
    out, used = [], set()
    for source in axes:
        if source is None:
            out.append(None)
        elif isinstance(source, int):
            if source in used and field[source] is not None:
                return None  # one spatial axis in two places
            used.add(source)
            out.append(field[source])
        else:
            if any(field[a] is not None for a in source):
                return None  # positions merged with another axis
            used.update(source)
            out.append(None)
    if any(entry is not None and a not in used for a, entry in enumerate(field)):
        return None  # a spatial axis dropped
    return tuple(out)


def join_fields(fields, offsets=(), axes=None, shapes=(), output=(), shape_only=()):
    """The field of a join. By default the inputs' axes line up from the last (broadcasting);
    `axes`: per output axis the (input, axis) pairs it reads position by position, the other
    input axes being read whole (matmul's contraction). Paths of one axis merge (shifted by
    concat's crop offsets); an axis of size 1 broadcast to more positions gives each of them
    the one position's field (jump 0); inputs in `shape_only` (expandas' like) add nothing.
    None where positions cannot be followed."""
    fields = [(None,) * len(shapes[n]) if n in shape_only else f for n, f in enumerate(fields)]
    if any(f is None for f in fields) or not output:
        return None
    charge(sum(len(entry[1]) for field in fields for entry in field if entry), "receptive fields")
    if axes is None:
        rank = len(output)
        axes = tuple(
            tuple(
                (n, a - rank + len(shapes[n]))
                for n in range(len(fields))
                if a - rank + len(shapes[n]) >= 0
            )
            for a in range(rank)
        )
    read = {(n, a % len(shapes[n])) for pairs in axes for n, a in pairs}
    for n, field in enumerate(fields):
        if any(entry is not None and (n, a) not in read for a, entry in enumerate(field)):
            return None  # a spatial axis read whole
    out = []
    for a, pairs in enumerate(axes):
        entries = [
            (n, fields[n][b % len(shapes[n])], shapes[n][b % len(shapes[n])]) for n, b in pairs
        ]
        spatial = [(n, e, size) for n, e, size in entries if e is not None]
        if not spatial:
            out.append(None)
            continue
        if len(spatial) != len(entries) or len({e[0] for _, e, _ in spatial}) != 1:
            return None  # mixes a position with features
        merged = {}
        for n, (_, paths), size in spatial:
            if size == 1 < output[a]:
                paths = _move_paths(paths, BROADCAST_STEP)
            shift = offsets[n][a - 1] if offsets and a >= 1 else 0
            for (jump, centre), extent in paths.items():
                key = (jump, _tidy(centre + jump * shift))
                if merged.get(key, -1) < extent:
                    merged[key] = extent
        out.append((spatial[0][1][0], _trim(merged)))
    return tuple(out)


def _trim(paths: dict) -> dict:
    """At most MAX_FIELD_ENTRIES paths, always keeping, for each jump, the paths whose fields
    start first and end last (a later layer moves every path of one jump alike, so these
    bound the union from here on)."""
    if len(paths) <= MAX_FIELD_ENTRIES:
        return paths
    keep: dict = {}
    for jump in {j for j, _ in paths}:
        group = [(key, e) for key, e in paths.items() if key[0] == jump]
        keep.update(
            [
                min(group, key=lambda kv: kv[0][1] - _half(kv[1])),
                max(group, key=lambda kv: kv[0][1] + _half(kv[1])),
            ]
        )
    for key, e in sorted(paths.items(), key=lambda kv: -kv[1]):
        if len(keep) >= MAX_FIELD_ENTRIES:
            break
        keep.setdefault(key, e)
    return keep


def _half(e):
    return Fraction(e, 2) if isinstance(e, int) else e / 2


def path_bounds(paths: dict, x=0) -> tuple:
    """(first, last) input position output x depends on, over all paths: each path (J, c) -> E
    covers c + xJ -/+ E/2."""
    return (
        min(c + x * j - _half(e) for (j, c), e in paths.items()),
        max(c + x * j + _half(e) for (j, c), e in paths.items()),
    )


def union_extent(paths: dict, size: int = 1):
    """Extent of the union of the paths' fields (a join's rf covers every position any path
    reads): one number when the paths share a jump; with mixed jumps it changes along the
    axis, and the largest over the `size` outputs is returned."""
    spans = []
    for x in {0, max(size - 1, 0)}:
        first, last = path_bounds(paths, x)
        spans.append(last - first)
    return _tidy(max(spans))


def _merged(field, output=()) -> dict:
    """{origin axis: (all its paths, the largest output size holding it)}."""
    found: dict = {}
    for t, entry in enumerate(field or ()):
        if entry is not None:
            paths, size = found.get(entry[0], ({}, 1))
            merged = dict(paths)
            for key, e in entry[1].items():
                if merged.get(key, -1) < e:
                    merged[key] = e
            found[entry[0]] = (merged, max(size, output[t] if t < len(output) else 1))
    return dict(sorted(found.items()))


def effective_padding(field):
    """How far the receptive field of output 0 starts before input position 0, per input
    spatial axis (the effective padding of Araujo, Norris & Sim; over all paths of a graph): a
    number when the axes agree, else a list; None where positions are not followed."""
    found = _merged(field)
    if not found:
        return None
    values = [format_jump(_tidy(-path_bounds(paths)[0])) for paths, _ in found.values()]
    return values[0] if len(set(values)) == 1 else values


def mixed_jumps(field) -> bool:
    return any(len({j for j, _ in paths}) > 1 for paths, _ in _merged(field).values())


def origins(field) -> dict:
    """{origin axis: [paths of each tensor axis holding it]}, in origin order."""
    found: dict = {}
    for entry in field or ():
        if entry is not None:
            found.setdefault(entry[0], []).append(entry[1])
    return dict(sorted(found.items()))


def field_summary(field, output=()):
    """(extents, jump) of a field: per input spatial axis the extent of the union of its paths'
    fields (a tuple; `output`, the layer's output shape, bounds the outputs where paths with
    different jumps drift apart), and the jump if one per axis (an int, or 'a x b' text when
    the axes differ; 'mixed')."""
    if field is None:
        return None, None
    found = origins(field)
    if not found:
        return None, None
    extents = tuple(union_extent(paths, size) for paths, size in _merged(field, output).values())
    jumps = [{j for paths in entries for j, _ in paths} for entries in found.values()]
    if all(len(j) == 1 for j in jumps):
        values = [next(iter(j)) for j in jumps]
        jump = values[0] if len(set(values)) == 1 else "x".join(str(format_jump(v)) for v in values)
    else:
        jump = "mixed"
    return extents, jump


def misaligned(field) -> list:
    """(axis, why) for the input axes (1-based) whose paths have different centres or different
    jumps (then only output 0's windows share a centre)."""
    out = []
    for origin, entries in origins(field).items():
        centres = sorted({c for paths in entries for _, c in paths})
        jumps = sorted({j for paths in entries for j, _ in paths})
        pads = sorted({_tidy(_half(e) - c) for paths in entries for (_, c), e in paths.items()})
        why = (
            "centres of output 0 at "
            + ", ".join(str(format_jump(c)) for c in centres)
            + "; effective padding per path "
            + ", ".join(str(format_jump(p)) for p in pads)
            + "; rf and effective padding span the union"
        )
        if len(jumps) > 1:
            why = "jumps " + ", ".join(str(format_jump(j)) for j in jumps) + "; " + why
        if len(centres) > 1 or len(jumps) > 1:
            out.append((origin, why))
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


def build_nodes(items, what: str = "network", places=None) -> list:
    """Nodes from (name or None, spec, from or None) triples: names unique, every source an
    earlier layer or "input"; joins read two or more inputs, other kinds one. `places` name
    each layer in messages (a plan file's "net.toml, layer 2 (line 7)"); default "layer N
    SPEC"."""
    nodes = []
    seen: dict = {}
    previous = INPUT
    if len(items) > MAX_LAYERS:
        raise BadInput(f"{len(items)} layers; the limit is {MAX_LAYERS}")
    later = {name for name, _, _ in items if name}
    kind_of_node = {INPUT: False}
    for index, (name, spec, sources) in enumerate(items, start=1):
        where = places[index - 1] if places else f"layer {index} {spec.describe()}"
        if name is not None and name in seen:
            raise BadInput(f"{where}: the name {name!r} is already used by layer {seen[name]}")
        refs = tuple(sources) if sources else spec.refs
        resolved = []
        for ref in refs or (None,):
            ref = previous if ref is None else ref
            ref, base = _reference(ref, where)
            if base in kind_of_node and (ref == base) == kind_of_node[base]:
                raise BadInput(
                    f"{where}: reads {ref}, but {base} "
                    + (
                        f"has several outputs; read one, as in {base}[0]"
                        if ref == base
                        else "has one output; read it as " + base
                    )
                )
            if base != INPUT and base not in seen:
                if base in later or base == name:
                    raise BadInput(
                        f"{where}: reads {base!r}, which is not an earlier layer "
                        "(layers read only layers before them)"
                    )
                raise BadInput(
                    f"{where}: reads {base!r}, but no earlier layer is called that "
                    f"(names: {', '.join(list(seen)[-8:]) or 'none yet'}; "
                    "'input' is the network input)"
                )
            resolved.append(ref)
        join = spec.record.join
        if join and len(resolved) < 2:
            raise BadInput(
                f"{where}: {spec.kind} joins two or more inputs; name them, as in "
                f"{spec.kind}(a, b), or one to join with the previous layer"
            )
        if not join and len(resolved) != 1:
            raise BadInput(
                f"{where}: {spec.kind} reads one input, not {len(resolved)} "
                f"({', '.join(resolved)}); joins are add, mul, concat"
            )
        key = name or str(index)
        seen[key] = index
        kind_of_node[key] = bool(spec.record.outputs)
        nodes.append(Node(index, key, spec, tuple(resolved), name is not None))
        previous = key
    return nodes


def plan_nodes(items) -> list:
    """The network's nodes (build_nodes) from a plan file's PlanLayers."""
    return build_nodes(
        [(item.name, item.spec, item.sources) for item in items],
        places=[item.origin for item in items],
    )


_OUTPUT_REF = re.compile(r"(?P<base>[A-Za-z0-9_.]+)\[(?P<index>\d{1,4})\]")


def _reference(ref: str, where: str) -> tuple:
    """(reference, the layer it names): `name`, or `name[j]` for output j of a layer with
    several outputs (split, chunk, unbind)."""
    ref = str(ref)
    if "[" not in ref:
        return ref, ref
    match = _OUTPUT_REF.fullmatch(ref.replace(" ", ""))
    if match is None:
        raise BadInput(
            f"{where}: {ref!r} is not a layer name or NAME[j] (output j of a layer "
            "with several outputs)"
        )
    base, index = match["base"], int(match["index"])
    return f"{base}[{index}]", base


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


def forward(
    input_shape, specs, complete: bool = True, output: str = "", fields: bool = True
) -> Network:
    """Apply a network to `input_shape` (tuple or text). `specs`: as for `prepare`, or its
    result. fields=False skips the receptive fields (shapes and costs only)."""
    shape = (
        input_shape
        if isinstance(input_shape, tuple) and all(type(v) is int and v >= 1 for v in input_shape)
        else parse_shape(input_shape, "--in")
    )
    specs = list(specs)
    prepared = specs if specs and isinstance(specs[0], tuple) else prepare(specs, complete)
    shapes = {INPUT: shape}
    field_of = {INPUT: start_field(shape)}
    exacts = {INPUT: True}
    steps = []
    for node, spec, record, where in prepared:
        charge(LAYER_COST + len(node.sources))
        inputs = tuple(read(shapes, s, where) for s in node.sources)
        done = record.apply(spec, inputs, where)
        store(shapes, node.name, done)
        if not fields:
            steps.append(
                Step(
                    node.index,
                    spec,
                    inputs[0],
                    done.output,
                    done.weights,
                    done.params,
                    done.macs,
                    None,
                    None,
                    done.notes,
                    node.name,
                    node.sources,
                    inputs,
                    outputs=done.outputs,
                )
            )
            continue
        notes = list(done.notes)
        sources = [read(field_of, s, where) for s in node.sources]
        if record.join:
            field = join_fields(
                sources, done.offsets, done.axes, inputs, done.output, done.shape_only
            )
            for axis, why in misaligned(field):
                notes.append(
                    f"{where}: its inputs' receptive fields are not aligned on axis {axis} ({why})"
                )
        else:
            field = step_field(sources[0], done.steps, done.axes)
        if field is not None and len(field) != len(done.output):
            field = None  # the rank changed, and the kind did not say how
        exact = done.exact_rf and all(read(exacts, s, where) for s in node.sources)
        extents, jump = field_summary(field, done.output)
        if mixed_jumps(field):
            exact = False  # the union's extent changes along the axis: the largest given
        store(
            field_of,
            node.name,
            done,
            field,
            tuple(step_field(field, piece) for piece in done.pieces),
        )
        store(exacts, node.name, done, exact)
        steps.append(
            Step(
                node.index,
                spec,
                inputs[0],
                done.output,
                done.weights,
                done.params,
                done.macs,
                _tidy(max(extents)) if extents else None,
                _tidy(jump) if jump is not None else None,
                tuple(notes),
                node.name,
                node.sources,
                inputs,
                field,
                exact,
                extents,
                done.outputs,
            )
        )
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


BRIEF = 6  # names a table lists of a long `from` (JSON lists them all)


def brief_names(names) -> str:
    """Names for a table cell, a long list shortened: 'a, b, c, d, e, ... z (2,000 inputs)'."""
    names = list(names)
    if len(names) <= BRIEF:
        return ", ".join(names)
    return f"{', '.join(names[: BRIEF - 1])}, ... {names[-1]} ({len(names):,} inputs)"


def layer_text(step) -> str:
    """A step's spec as the table shows it: joins with the names they read."""
    text = step.spec.canonical()
    if step.spec.record.join:
        inside = brief_names(step.sources)
        text = text.replace("(", f"({inside}, ", 1) if "(" in text else f"{text}({inside})"
    return text


def network_result(
    net: Network, targets=None, title_prefix: str = "network", mem=None, show_memory: bool = False
) -> Result:
    """The `cnnplan shapes` Result: one row per layer, totals, and target checks; with `mem`
    (network/memory.py) each layer's bytes and the memory totals (in the table too with
    `show_memory`)."""
    from .memory import memory

    mem = memory(net) if mem is None else mem
    graph = net.graph
    first = (0, "input", format_shape(net.input), size_of(net.input), None, None, None, 1, 1, 0)
    rows = [_row(graph, INPUT, "", first)]
    layers = []
    notes = []
    bounds = False
    for step in net.steps:
        rf = step.rf_value
        output = ", ".join(format_shape(o) for o in step.outputs or (step.output,))
        cells = (
            step.index,
            layer_text(step),
            output,
            step.size,
            step.weights,
            step.params,
            step.macs,
            "x".join(map(str, rf)) if isinstance(rf, list) else rf,
            format_jump(step.jump),
            _pad_cell(step.eff_padding),
        )
        rows.append(_row(graph, step.name, brief_names(step.sources), cells))
        entry = {
            "name": step.name,
            "from": list(step.sources),
            "spec": step.spec.canonical(),
            "kind": step.spec.kind,
            "output": list(step.output),
            "size": step.size,
            "weights": step.weights,
            "params": step.params,
            "macs": step.macs,
            "rf": rf,
            "jump": format_jump(step.jump),
            "eff_padding": step.eff_padding,
        }
        if step.outputs:
            entry["outputs"] = [list(o) for o in step.outputs]
        if step.field is not None and not step.exact_rf:
            entry["rf_exact"] = False
            bounds = True
        entry["out_bytes"] = mem.out_bytes[step.index - 1]
        entry["saved_bytes"] = mem.saved_bytes[step.index - 1]
        layers.append(entry)
        notes.extend(step.notes)
    rows.append(
        _row(
            graph,
            "",
            "",
            (
                None,
                "total",
                format_shape(net.output),
                net.size,
                net.weights,
                net.params,
                net.macs,
                None,
                None,
                None,
            ),
        )
    )
    if show_memory:
        rows = _memory_columns(rows, mem, net)
    mismatches = []
    for step in net.steps:
        target = (targets or {}).get(step.index)
        if target is not None and tuple(target) != step.output:
            mismatches.append(
                f"layer {step.index} gives {format_shape(step.output)} but its "
                f"target is {format_shape(target)}"
            )
    n = len(net.steps)
    title = (
        f"{title_prefix} {format_shape(net.input)} -> {format_shape(net.output)}: "
        f"{n} layer{'s' if n != 1 else ''}"
    )
    facts = [
        ("input", format_shape(net.input)),
        ("output", format_shape(net.output)),
        ("size", net.size),
        ("weights", net.weights),
        ("params", net.params),
        ("macs", net.macs),
    ]
    if graph and net.out_step is not None:
        facts.insert(2, ("output layer", net.out_step.name))
    notes = mismatches + notes
    notes.append(
        "weights exclude biases; params add biases and normalisation's scale and shift; "
        "MACs: conv = output elements x C_in/groups x k^n, convT on input positions, "
        "linear in x out, norms 1 per element, pooling, joins and activations 0"
    )
    if any(step.spec.kind in ("matmul", "attention", "mha") for step in net.steps):
        notes.append(
            "MACs of matrix products: rows x inner x columns per leading index; "
            "attention counts its projections, Q K^T and A V (softmax and scaling 0), "
            "as fvcore and torch.utils.flop_counter (FLOPs = 2 MACs)"
        )
    if bounds:
        notes.append(
            "rf after transposed convolutions, upsampling, adaptive pooling with "
            "uneven windows or joins of paths with different jumps is an upper bound "
            "(rf_exact false in JSON)"
        )
    data = {
        "input": list(net.input),
        "layers": layers,
        "output": list(net.output),
        "size": net.size,
        "weights": net.weights,
        "params": net.params,
        "macs": net.macs,
        **memory_data(mem),
    }
    if show_memory:
        facts += memory_facts(mem)
        notes += memory_notes(mem)
    if graph:
        data["output_layer"] = net.out_step.name if net.out_step else INPUT
    if mismatches:
        data["mismatches"] = mismatches
    columns: tuple[str, ...] = (
        "#",
        "layer",
        "output",
        "size",
        "weights",
        "params",
        "macs",
        "rf",
        "jump",
        "eff pad",
    )
    if show_memory:
        columns += ("out bytes", "saved")
    if graph:
        columns = ("#", "name", "from") + columns[1:]
    return Result(
        title=title,
        facts=tuple(facts),
        tables=(Table(columns, tuple(rows)),),
        notes=tuple(notes),
        data=data,
        exit_code=1 if mismatches else 0,
        kind="shapes",
    )


def _memory_columns(rows, mem, net) -> list:
    """The rows with each layer's output bytes and what it adds to the saved set."""
    from .memory import human

    cells = [(human(mem.input_bytes), "")]
    cells += [
        (human(out), human(saved) if saved else "")
        for out, saved in zip(mem.out_bytes, mem.saved_bytes)
    ]
    cells.append(("", human(mem.train_saved_bytes)))
    return [row + extra for row, extra in zip(rows, cells)]


def memory_data(mem) -> dict:
    """The memory totals as JSON keys (docs/memory.md)."""
    data = {
        "batch": mem.batch,
        "dtype": mem.dtype,
        "optimizer": mem.optimizer,
        "device": mem.device,
        "param_bytes": mem.param_bytes,
        "grad_bytes": mem.grad_bytes,
        "optimizer_bytes": mem.optimizer_bytes,
        "inference_peak_bytes": mem.inference_peak_bytes,
        "inference_total_bytes": mem.inference_total_bytes,
        "train_saved_bytes": mem.train_saved_bytes,
        "train_total_bytes": mem.train_total_bytes,
    }
    if mem.unknown:
        data["memory_unknown_kinds"] = list(mem.unknown)
    if mem.strided:
        data["memory_strided_layers"] = list(mem.strided)
    return data


def _bytes(n) -> str:
    from .memory import human

    return "not given" if n is None else f"{human(n)} ({n:,} B)"


def memory_facts(mem) -> list:
    """Facts lines for the table: batch, dtype and the totals."""
    return [
        ("batch", mem.batch),
        ("dtype", mem.dtype),
        ("param bytes", _bytes(mem.param_bytes)),
        ("inference peak", _bytes(mem.inference_peak_bytes)),
        ("train saved", _bytes(mem.train_saved_bytes)),
        (f"train total ({mem.optimizer})", _bytes(mem.train_total_bytes)),
    ]


def memory_notes(mem) -> list:
    """What the memory numbers count and leave out (the table's footer)."""
    from .memory import EXCLUDED, OPTIMIZERS

    notes = [
        f"memory at batch {mem.batch} in {mem.dtype}: inference peak = live tensors "
        "running layers in order, each freed after its last use (input included); train "
        "saved = what autograd keeps for backward, each storage once; train total = "
        f"params + grads + {OPTIMIZERS[mem.optimizer]} x params ({mem.optimizer}) + "
        f"saved; excluded: {EXCLUDED}"
    ]
    if mem.dtype == "int8":
        notes.append("int8 is an inference dtype: training memory is not given")
    if mem.unknown:
        notes.append(
            "training memory is not given: layer kind(s) "
            f"{', '.join(mem.unknown)} do not say what they save (no saves rule); "
            "the inference peak takes them to allocate their output"
        )
    if mem.strided:
        notes.append(
            "training memory is not given: layer(s) "
            f"{', '.join(mem.strided)} read a view that may not be contiguous (after "
            "a permute, select, narrow, split or expand), where torch may copy it; the "
            "inference peak takes them to allocate their output"
        )
    return notes


def _pad_cell(value):
    """Effective padding in a table cell: one number, or 'a,b' per axis."""
    return ",".join(map(str, value)) if isinstance(value, list) else value


def _row(graph: bool, name: str, sources: str, cells: tuple) -> tuple:
    return (cells[0], name, sources) + cells[1:] if graph else cells


@budgeted
def shapes(
    input=None,
    layers=(),
    plan_file=None,
    plan_text=None,
    batch=None,
    dtype=None,
    optimizer=None,
    memory=None,
    inference=False,
    device=None,
) -> Result:
    """Shapes, sizes, weights, params, MACs, receptive field and jump of every layer, and its
    memory at `batch` (default 1) in `dtype` (default float32) with `optimizer` (adam): each
    layer's bytes and the totals of docs/memory.md, in the table too when any of these is
    given. `memory` (bytes or text such as "24GiB"): also the largest batch whose training
    total (`inference`: inference total) fits.

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

    shape, items, options, title = gather(
        input, layers, plan_file, None, what="network", plan_text=plan_text
    )
    from .memory import check_options

    show = any(v is not None for v in (batch, dtype, optimizer, memory, device)) or inference
    options_given = check_options(
        1 if batch is None else batch, dtype or "float32", optimizer or "adam", device or "cuda"
    )
    net = forward(shape, plan_nodes(items), output=options.get("output_layer", ""))
    targets = {i: item.target for i, item in enumerate(items, start=1) if item.target}
    from .memory import memory as network_memory

    mem = network_memory(net, *options_given)
    result = network_result(net, targets, title or "network", mem, show)
    state = options.get("state")
    if state:
        names = {step.name for step in net.steps}
        unknown = sorted(set(state) - names)
        if unknown:
            raise BadInput(f"state names {unknown[0]!r}, which is not a layer of this network")
        from dataclasses import replace

        result = replace(result, data={**result.data, "state": state})
    if memory is not None:
        result = fit_result(result, net, memory, inference, *options_given[1:])
    violations = []
    everywhere, per_layer = parse_where(options.get("where", ()), len(items))
    for index in per_layer:
        if not net.steps[index - 1].spec.window:
            raise BadInput(
                f"where names layer {index} {net.steps[index - 1].spec.describe()}, "
                "which has no k, s, p, d to constrain"
            )
    for step, item in zip(net.steps, items):
        if not step.spec.window:
            continue
        values = [step.spec.get(v, 1 if v == "d" else 0) for v in VARIABLES]
        if any(not isinstance(v, int) for v in values):
            continue
        env = dict(zip(VARIABLES, values))
        texts = (*per_layer.get(step.index, ()), *item.where)
        conditions = everywhere + [
            compile_condition(text, VARIABLES, f"layer {step.index}: where") for text in texts
        ]
        for condition in conditions:
            if not condition(env):
                violations.append(
                    f"layer {step.index} {step.spec.canonical()} breaks where {condition.text!r}"
                )
    if not violations:
        return result
    from dataclasses import replace

    data = dict(result.data)
    data["mismatches"] = data.get("mismatches", []) + violations
    return replace(result, notes=tuple(violations) + result.notes, data=data, exit_code=1)


def fit_result(
    result: Result, net: Network, budget, inference: bool, dtype: str, optimizer: str, device: str
) -> Result:
    """`result` with the largest batch whose training (or inference) total fits `budget`, and
    how that total splits; exit 1 when not even one sample fits."""
    from dataclasses import replace

    from .memory import largest_batch, parse_budget

    limit = parse_budget(budget)
    what = "inference" if inference else "training"
    if dtype == "int8" and not inference:
        raise BadInput("int8 is an inference dtype: add --inference to fit --memory")
    batch, mem = largest_batch(net, limit, inference, dtype, optimizer, device)
    if batch is None:
        why = [f"layer kinds {', '.join(mem.unknown)} have no saves rule"] if mem.unknown else []
        why += (
            [f"layers {', '.join(mem.strided)} read a non-contiguous view"] if mem.strided else []
        )
        raise BadInput(
            f"the training memory of this network is not known ({'; '.join(why)}): use --inference"
        )
    if inference:
        split = {
            "param_bytes": mem.param_bytes,
            "inference_peak_bytes": mem.inference_peak_bytes,
            "total_bytes": mem.inference_total_bytes,
        }
    else:
        split = {
            "param_bytes": mem.param_bytes,
            "grad_bytes": mem.grad_bytes,
            "optimizer_bytes": mem.optimizer_bytes,
            "train_saved_bytes": mem.train_saved_bytes,
            "total_bytes": mem.train_total_bytes,
        }
    data = {
        **result.data,
        "memory_budget": limit,
        "fit": what,
        "max_batch": batch,
        "max_batch_split": {"batch": mem.batch, **split},
    }
    parts = ", ".join(
        f"{key.removesuffix('_bytes').replace('_', ' ')} {_bytes(value)}"
        for key, value in split.items()
        if key != "total_bytes"
    )
    facts = result.facts + ((f"max batch ({what} in {_bytes(limit)})", batch),)
    if batch:
        note = (
            f"at batch {batch} {what} takes {_bytes(split['total_bytes'])} of "
            f"{_bytes(limit)}: {parts}"
        )
        return replace(result, facts=facts, data=data, notes=(note,) + result.notes)
    note = (
        f"no batch fits: one sample's {what} takes {_bytes(split['total_bytes'])}, more "
        f"than {_bytes(limit)} ({parts})"
    )
    return replace(result, facts=facts, data=data, notes=(note,) + result.notes, exit_code=1)
