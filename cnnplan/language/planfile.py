"""Plan files: a network or a chain with unknowns written in TOML (read with stdlib tomllib).

    title = "Question 7 (a)"          # optional, free text
    input = "3x64x64"                 # required (or --in)
    output = "128x4x4"                # optional: target of the last layer (or --out)
    mode = "exact"                    # optional: exact | floor (plan)
    rank = "params"                   # optional: params | macs | rf (plan)
    top = 10                          # optional: chains to list (plan)
    where = ["k % 2 == 1"]            # optional: constraints for every window layer (plan)

    [max]                             # optional: bounds for free k, s, p, d (plan)
    p = 5

    [[layers]]
    spec = "conv(64, k=8)"            # a layer spec as on the command line ...
    out = "64x32x32"                  # optional target shape of this layer
    where = "d == 1"                  # optional constraints for this layer (text or list)

    [[layers]]
    kind = "maxpool"                  # ... or the kind and its arguments as keys
    p = 0
    out = "64x8x8"

Errors name the file and the line (TOML syntax errors come with line and column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..kinds.shape import format_shape, parse_shape
from ..platform import arguments
from ..platform.errors import BadInput, number_error
from ..platform.files import read_bounded, show_path
from ..platform.usertext import check_strings
from .specs import (
    MAX_LAYERS,
    NAME,
    LayerSpec,
    check_name,
    parse_layers,
    parse_spec,
    parse_target,
    spec_from_mapping,
)

MAX_FILE_BYTES = 5_000_000
TOP_KEYS = (
    "title",
    "description",
    "input",
    "output",
    "mode",
    "rank",
    "top",
    "where",
    "max",
    "fixed_input",
    "state",
    "layers",
)
LAYER_KEYS = ("spec", "kind", "out", "where", "name", "from", "comment")


@dataclass(frozen=True)
class PlanLayer:
    """One layer of a plan: its spec, optional target shape and constraints, and origin."""

    spec: LayerSpec
    target: tuple | None = None
    where: tuple = ()
    origin: str = ""
    name: str | None = None
    sources: tuple | None = None  # `from` of a plan file (None: the spec's own references)


@dataclass(frozen=True)
class PlanFile:
    path: str
    input: tuple | None
    output: tuple | None
    layers: tuple
    options: dict = field(default_factory=dict)
    title: str = ""


def _line_of(lines: list[str], pattern: str) -> int | None:
    rx = re.compile(pattern)
    for n, line in enumerate(lines, start=1):
        if rx.match(line):
            return n
    return None


def _texts(value, what: str) -> tuple:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise BadInput(f"{what} must be text or a list of texts, not {value!r}")


def load_plan(path: str) -> PlanFile:
    """Read and check a plan file (BadInput with the file and line on any problem)."""
    raw = read_bounded(path, MAX_FILE_BYTES, "plan file")
    path = show_path(path)[1:-1]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"plan file {path} is not UTF-8 text (byte {exc.start})") from None
    return parse_plan_text(text, path)


def parse_plan_text(text: str, path: str = "<text>") -> PlanFile:
    """A plan file's TOML text, read and checked (errors name `path` and the line)."""
    import tomllib

    if len(text) > MAX_FILE_BYTES:
        raise BadInput(f"plan {path} is larger than {MAX_FILE_BYTES:,} bytes")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: TOML syntax error: {exc}") from None
    except RecursionError:
        raise BadInput(f"{path}: TOML is nested too deeply") from None
    except ValueError as exc:  # an integer past Python's digit limit (sys.int_info)
        raise BadInput(f"{path}: {number_error(exc)}") from None
    return parse_plan_document(doc, path, text.splitlines())


def parse_plan_document(doc: dict, path: str = "plan", lines: list[str] | None = None) -> PlanFile:
    lines = lines or []
    check_strings(doc, path, multiline=("description", "comment"))

    def at(key: str) -> str:
        n = _line_of(lines, rf"\s*(\[\s*)?{re.escape(key)}\s*(=|\])")
        return f"{path}, line {n}" if n else path

    for key in doc:
        if key not in TOP_KEYS:
            raise BadInput(f"{at(key)}: unknown key {key!r}; plan files know {', '.join(TOP_KEYS)}")
    input_shape = None
    if "input" in doc:
        if not isinstance(doc["input"], str):
            raise BadInput(f'{at("input")}: input must be a shape in quotes, e.g. "3x64x64"')
        input_shape = parse_shape(doc["input"], f"{at('input')}: input")
    output = output_layer = None
    if "output" in doc:
        value = doc["output"]
        if isinstance(value, str) and re.fullmatch(NAME, value.strip()):
            output_layer = value.strip()
        else:
            output = parse_target(str(value), f"{at('output')}: output")
    options: dict = {}
    for key in ("mode", "rank", "fixed_input"):
        if key in doc:
            if not isinstance(doc[key], str):
                raise BadInput(f"{at(key)}: {key} must be text, not {doc[key]!r}")
            options[key] = doc[key]
    if "top" in doc:
        if type(doc["top"]) is not int or doc["top"] < 0:
            raise BadInput(f"{at('top')}: top must be a whole number >= 0, not {doc['top']!r}")
        options["top"] = doc["top"]
    if "where" in doc:
        options["where"] = _texts(doc["where"], f"{at('where')}: where")
    if "max" in doc:
        if not isinstance(doc["max"], dict):
            raise BadInput(f"{at('max')}: max must be a table such as [max] with k = 11")
        for name, value in doc["max"].items():
            if name not in ("k", "s", "p", "d"):
                raise BadInput(f"{at('max')}: max.{name} is not one of k, s, p, d")
            if type(value) is not int:
                raise BadInput(f"{at('max')}: max.{name} must be a whole number, not {value!r}")
        options["max"] = dict(doc["max"])
    if "state" in doc:
        options["state"] = _state(doc["state"], at("state"))
    layers_raw = doc.get("layers")
    if not isinstance(layers_raw, list) or not layers_raw:
        raise BadInput(f"{path}: a plan file needs layers: one [[layers]] table per layer")
    if len(layers_raw) > MAX_LAYERS:
        raise BadInput(f"{path}: {len(layers_raw)} layers; the limit is {MAX_LAYERS}")
    headers = [
        n for n, line in enumerate(lines, start=1) if re.match(r"\s*\[\[\s*layers\s*\]\]", line)
    ]
    layers = []
    for index, table in enumerate(layers_raw, start=1):
        line = headers[index - 1] if len(headers) == len(layers_raw) else None
        where = f"{path}, layer {index}" + (f" (line {line})" if line else "")
        if not isinstance(table, dict):
            raise BadInput(f"{where}: each layer must be a table ([[layers]])")
        layers.append(_layer(table, where))
    names = {layer.name for layer in layers if layer.name}
    if output_layer is not None:
        if output_layer not in names:
            raise BadInput(
                f"{at('output')}: output {output_layer!r} names no layer "
                '(give a layer\'s name, or a target shape such as "10")'
            )
        options["output_layer"] = output_layer
    title = doc.get("title", "")
    return PlanFile(
        path, input_shape, output, tuple(layers), options, title if isinstance(title, str) else ""
    )


def _state(table, where: str) -> dict:
    """[state]: layer name -> where the original model keeps that layer's tensors (a module's
    path, or a parameter's; a top-level nn.Sequential's children are 0, 1, ...);
    `--format torch` then loads the original's state_dict."""
    if not isinstance(table, dict) or len(table) > MAX_LAYERS:
        raise BadInput(
            f"{where}: state must be a table of at most {MAX_LAYERS:,} entries such as "
            '"features.0.1.layer_norm" = "features.0.1"'
        )
    for key, value in table.items():
        if not re.fullmatch(NAME, key) or len(key) > 200:
            raise BadInput(f"{where}: {key!r} is not a layer name")
        if not isinstance(value, str) or len(value) > 200 or not re.fullmatch(_PATH, value):
            raise BadInput(
                f"{where}: {value!r} is not a module or parameter path (names joined by dots)"
            )
    return dict(table)


_PATH = r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*"


def _layer(table: dict, where: str) -> PlanLayer:
    if ("spec" in table) == ("kind" in table):
        raise BadInput(
            f'{where}: give either spec = "conv(64, k=3)" or kind = "conv" '
            "(with its arguments as keys)"
        )
    if "spec" in table:
        for key in table:
            if key not in LAYER_KEYS:
                raise BadInput(
                    f"{where}: unknown key {key!r} next to spec (put arguments inside "
                    "the spec text)"
                )
        if not isinstance(table["spec"], str):
            raise BadInput(f'{where}: spec must be text, e.g. "conv(64, k=3)"')
        spec = parse_spec(table["spec"], where)
    else:
        arguments = {k: v for k, v in table.items() if k not in LAYER_KEYS}
        spec = spec_from_mapping(table["kind"], arguments, where)
    target = None
    if "out" in table:
        if not isinstance(table["out"], (str, int)) or isinstance(table["out"], bool):
            raise BadInput(f'{where}: out must be a shape in quotes, e.g. "64x32x32"')
        target = parse_target(str(table["out"]), f"{where}: out")
    conditions = _texts(table["where"], f"{where}: where") if "where" in table else ()
    name = check_name(table["name"], where) if "name" in table else None
    sources = None
    if "from" in table:
        raw = table["from"]
        raw = [raw] if isinstance(raw, str) else raw
        if not isinstance(raw, list) or not raw or not all(isinstance(r, str) for r in raw):
            raise BadInput(f"{where}: from must be a layer name or a list of names, not {raw!r}")
        if spec.refs:
            raise BadInput(
                f"{where}: give the inputs either in from = [...] or in the spec, not both"
            )
        sources = tuple(r.strip() for r in raw)
    return PlanLayer(spec, target, conditions, where, name, sources)


def fixed_input_message(options: dict, shape) -> str:
    """Why a plan with `fixed_input` (sizes the model computed from its input's shape, frozen at
    import) answers only for its own input."""
    return (
        f"this plan holds only for input {format_shape(shape)}: {options['fixed_input']}; "
        f"import the model again with --in for another input"
    )


def gather(input=None, layers=(), plan_file=None, out=None, what="plan", plan_text=None):
    """(input shape, [PlanLayer], file options, title) from inline specs and/or a plan file."""
    layers = arguments.texts(layers, "layers")
    plan_file = arguments.path(plan_file, "plan_file")
    if plan_text is not None and not isinstance(plan_text, str):
        raise TypeError(f"plan_text must be text (TOML), not {type(plan_text).__name__}")
    if out is not None:
        arguments.shape(out, "out")
    options: dict = {}
    title = ""
    items: list = []
    shape = None
    if plan_file is not None or plan_text is not None:
        if layers:
            raise BadInput("give either a plan file or layer specs, not both")
        pf = load_plan(plan_file) if plan_text is None else parse_plan_text(plan_text)
        items, shape, options, title = list(pf.layers), pf.input, dict(pf.options), pf.title
        if pf.output is not None:
            options["output"] = pf.output
    else:
        if isinstance(layers, str):
            layers = [layers]
        for text in layers:
            if len(items) >= MAX_LAYERS:
                raise BadInput(f"more than {MAX_LAYERS} layers")
            for name, spec, target, _body in parse_layers(text, f"layer {len(items) + 1}"):
                index = len(items) + 1
                items.append(PlanLayer(spec, target, (), f"layer {index} {spec.describe()}", name))
    if input is not None:
        given = parse_shape(input, "--in")
        if "fixed_input" in options and shape is not None and given != shape:
            raise BadInput(fixed_input_message(options, shape))
        shape = given
    if shape is None:
        raise BadInput(
            f"give the input shape with --in (e.g. --in 3x64x64)"
            f"{' or input = ... in the plan file' if plan_file else ''}"
        )
    if not items:
        raise BadInput(
            f'give the layers of the {what}: specs such as "conv(64, k=3)" or a plan file'
        )
    final = None
    if out is not None:
        final = parse_target(out, "--out")
    elif "output" in options:
        final = options["output"]
    if final is not None:
        last = items[-1]
        if last.target is not None and last.target != final:
            raise BadInput(
                f"the last layer's target {format_shape(last.target)} differs from "
                f"the output {format_shape(final)}"
            )
        items[-1] = PlanLayer(last.spec, final, last.where, last.origin, last.name, last.sources)
    return shape, items, options, title
