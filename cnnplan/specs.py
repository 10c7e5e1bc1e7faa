"""The layer-spec language shared by `cnnplan shapes` and `cnnplan plan`.

    conv(64, k=8, s=2)        conv(128, k=3, p=1, d=2, groups=4, bias=false)
    convT(64, k=4, s=2, p=1, op=0)     maxpool(k=3, s=2, ceil=true)     avgpool(k=2)
    flatten   linear(10)   relu   tanh   sigmoid   bn

A spec is a kind, optionally followed by parenthesised arguments: at most one positional whole
number (the output channels of conv/convT, the output features of linear) and NAME=VALUE pairs
with whole numbers or true/false. In a plan, `SPEC -> SHAPE` also names the layer's target.
The text is tokenized and parsed by hand (never eval'ed) and bounded in length; every error
names the column where it was found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import BadInput
from .tensor_shape import MAX_SIZE, format_shape, parse_shape

MAX_SPEC_LENGTH = 500
MAX_ARGS = 16
MAX_LAYERS = 10_000      # layers in one network or plan
WINDOW_VARS = ("k", "s", "p", "d")

POSITIVE, NONNEGATIVE, BOOLEAN = "positive", "nonnegative", "boolean"


@dataclass(frozen=True)
class Kind:
    """One layer kind: its arguments (name -> type), positional argument and defaults."""

    name: str
    args: dict
    positional: str | None = None
    defaults: dict = field(default_factory=dict)
    window: bool = False          # has k, s, p, d (convolutions and pooling)
    help: str = ""


KINDS = {
    "conv": Kind("conv", {"channels": POSITIVE, "k": POSITIVE, "s": POSITIVE, "p": NONNEGATIVE,
                          "d": POSITIVE, "groups": POSITIVE, "bias": BOOLEAN},
                 "channels", {"s": 1, "p": 0, "d": 1, "groups": 1, "bias": True}, True,
                 "convolution: conv(C_out, k=, s=1, p=0, d=1, groups=1, bias=true)"),
    "convT": Kind("convT", {"channels": POSITIVE, "k": POSITIVE, "s": POSITIVE,
                            "p": NONNEGATIVE, "d": POSITIVE, "op": NONNEGATIVE,
                            "groups": POSITIVE, "bias": BOOLEAN},
                  "channels", {"s": 1, "p": 0, "d": 1, "op": 0, "groups": 1, "bias": True}, True,
                  "transposed convolution: convT(C_out, k=, s=1, p=0, d=1, op=0, groups=1, "
                  "bias=true)"),
    "maxpool": Kind("maxpool", {"k": POSITIVE, "s": POSITIVE, "p": NONNEGATIVE, "d": POSITIVE,
                                "ceil": BOOLEAN},
                    "k", {"p": 0, "d": 1, "ceil": False}, True,
                    "max pooling: maxpool(k=, s=k, p=0, d=1, ceil=false)"),
    "avgpool": Kind("avgpool", {"k": POSITIVE, "s": POSITIVE, "p": NONNEGATIVE, "ceil": BOOLEAN},
                    "k", {"p": 0, "ceil": False}, True,
                    "average pooling: avgpool(k=, s=k, p=0, ceil=false)"),
    "flatten": Kind("flatten", {}, help="flatten C x sizes into one feature axis"),
    "linear": Kind("linear", {"features": POSITIVE, "bias": BOOLEAN}, "features",
                   {"bias": True}, help="fully connected: linear(features, bias=true)"),
    "relu": Kind("relu", {}, help="ReLU (shape-preserving)"),
    "tanh": Kind("tanh", {}, help="tanh (shape-preserving)"),
    "sigmoid": Kind("sigmoid", {}, help="logistic sigmoid (shape-preserving)"),
    "bn": Kind("bn", {}, help="batch norm (shape-preserving; 2C parameters)"),
}

KIND_ALIASES = {
    "convt": "convT", "conv_transpose": "convT", "convtranspose": "convT", "deconv": "convT",
    "batchnorm": "bn", "max_pool": "maxpool", "avg_pool": "avgpool",
}
ARG_ALIASES = {
    "kernel_size": "k", "kernel": "k", "stride": "s", "padding": "p", "dilation": "d",
    "output_padding": "op", "ceil_mode": "ceil", "out_channels": "channels",
    "out_features": "features",
}
ORDER = ("channels", "features", "k", "s", "p", "d", "op", "groups", "bias", "ceil")


def kind_of(name: str) -> str | None:
    """The canonical kind for a name as written (case-insensitive, with a few aliases)."""
    if name in KINDS:
        return name
    low = name.lower()
    if low == "convt":
        return "convT"
    if low in KINDS:
        return low
    return KIND_ALIASES.get(low)


@dataclass(frozen=True)
class LayerSpec:
    """A parsed layer: its kind and the arguments given (canonical names, canonical order)."""

    kind: str
    values: tuple = ()                       # ((name, value), ...) in ORDER
    text: str = field(default="", compare=False)

    def get(self, name: str, default=None):
        for key, value in self.values:
            if key == name:
                return value
        return default

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.values)

    @property
    def window(self) -> bool:
        return KINDS[self.kind].window

    def with_values(self, **updates) -> LayerSpec:
        """A copy with these arguments set (canonical order kept)."""
        merged = dict(self.values)
        merged.update(updates)
        return LayerSpec(self.kind, _ordered(merged), "")

    def complete(self, where: str = "layer") -> LayerSpec:
        """Fill PyTorch's defaults (pool stride = k); BadInput if a required value is missing."""
        kind = KINDS[self.kind]
        merged = dict(kind.defaults)
        merged.update(self.values)
        if kind.positional in ("channels", "features") and kind.positional not in merged:
            raise BadInput(f"{where} {self.describe()}: {self.kind} needs its {kind.positional}, "
                           f"e.g. {self.kind}(64{', k=3' if kind.window else ''})")
        if kind.window and "k" not in merged:
            raise BadInput(f"{where} {self.describe()}: {self.kind} needs a kernel size k=")
        if self.kind in ("maxpool", "avgpool") and "s" not in merged:
            merged["s"] = merged["k"]
        return LayerSpec(self.kind, _ordered(merged), self.text)

    def describe(self) -> str:
        """The spec as the user wrote it (or its canonical form)."""
        return self.text.strip() or self.canonical()

    def canonical(self) -> str:
        """Canonical text: `conv(64, k=8, s=2, p=0, d=1)`; defaults of groups/bias/ceil omitted."""
        kind = KINDS[self.kind]
        parts = []
        for name, value in self.values:
            if name == kind.positional and name in ("channels", "features"):
                parts.append(str(value))
            elif (name, value) in (("groups", 1), ("bias", True), ("ceil", False)):
                continue
            elif isinstance(value, bool):
                parts.append(f"{name}={'true' if value else 'false'}")
            else:
                parts.append(f"{name}={value}")
        return f"{self.kind}({', '.join(parts)})" if parts else self.kind


def _ordered(values: dict) -> tuple:
    return tuple((name, values[name]) for name in ORDER if name in values)


# -- tokenizer and parser -------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<arrow>->)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|"
                    r"(?P<int>[+-]?\d+)|(?P<punct>[(),=]))")


def _tokens(text: str, what: str):
    """(kind, value, column) triples; column is 1-based. Stops at `->` (returns the rest)."""
    pos = 0
    out = []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            out.append(("end", "", pos + 1))
            return out, None
        m = _TOKEN.match(text, pos)
        if not m:
            raise BadInput(f"{what} {text!r}: unexpected {text[pos]!r} at column {pos + 1}")
        col = m.start(m.lastgroup) + 1
        if m.lastgroup == "arrow":
            out.append(("end", "", col))
            return out, (m.end(), col)
        out.append((m.lastgroup, m.group(m.lastgroup), col))
        pos = m.end()


def parse_spec(text: str, what: str = "layer", allow_target: bool = False):
    """Parse one layer spec; with allow_target also `SPEC -> SHAPE`, returning (spec, target).

    >>> parse_spec("conv(64, k=8, s=2)").canonical()
    'conv(64, k=8, s=2)'
    """
    if not isinstance(text, str):
        raise BadInput(f"{what} {text!r} is not text")
    if len(text) > MAX_SPEC_LENGTH:
        raise BadInput(f"{what} is {len(text)} characters long; the limit is {MAX_SPEC_LENGTH}")
    tokens, rest = _tokens(text, what)
    spec = _Parser(text, tokens, what).spec()
    target = None
    if rest is not None:
        if not allow_target:
            raise BadInput(f"{what} {text!r}: a target '-> SHAPE' (column {rest[1]}) belongs in "
                           "`cnnplan plan`, not here")
        shape_text = text[rest[0]:].strip()
        if not shape_text:
            raise BadInput(f"{what} {text!r}: '->' at column {rest[1]} needs a shape after it")
        target = parse_target(shape_text, f"{what} {text!r}: target")
    return (spec, target) if allow_target else spec


def parse_target(text: str, what: str = "target") -> tuple[int, ...]:
    """A target shape: `64x32x32`, or a single number of features after flatten/linear."""
    text = str(text).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        value = int(text)
        if not 1 <= value <= MAX_SIZE:
            raise BadInput(f"{what} {text!r}: a size must be between 1 and {MAX_SIZE}")
        return (value,)
    return parse_shape(text, what)


class _Parser:
    def __init__(self, text, tokens, what):
        self.text, self.tokens, self.what, self.i = text, tokens, what, 0

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, message, col):
        raise BadInput(f"{self.what} {self.text.strip()!r}: {message} at column {col}")

    def expect(self, kind, value=None, wanted=""):
        token = self.take()
        if token[0] != kind or (value is not None and token[1] != value):
            self.fail(f"expected {wanted or value or kind}, found {_show(token)}", token[2])
        return token

    def spec(self) -> LayerSpec:
        token = self.take()
        if token[0] != "name":
            self.fail(f"expected a layer kind ({', '.join(KINDS)}), found {_show(token)}",
                      token[2])
        kind_name = kind_of(token[1])
        if kind_name is None:
            self.fail(f"unknown layer kind {token[1]!r}; choose one of: {', '.join(KINDS)}",
                      token[2])
        kind = KINDS[kind_name]
        values: dict = {}
        if self.peek()[1] == "(":
            self.take()
            if self.peek()[1] == ")":
                self.take()
            else:
                while True:
                    self.argument(kind, values)
                    token = self.take()
                    if token[1] == ")":
                        break
                    if token[1] != ",":
                        self.fail(f"expected ',' or ')', found {_show(token)}", token[2])
        end = self.take()
        if end[0] != "end":
            self.fail(f"unexpected {_show(end)} after the layer", end[2])
        return LayerSpec(kind_name, _ordered(values), self.text.split("->")[0].strip())

    def argument(self, kind: Kind, values: dict):
        if len(values) >= MAX_ARGS:
            self.fail("too many arguments", self.peek()[2])
        token = self.take()
        if token[0] == "int":
            name, col = kind.positional, token[2]
            if name is None:
                self.fail(f"{kind.name} takes no positional value; write NAME=VALUE "
                          f"({', '.join(kind.args) or 'no arguments'})", col)
            if name in values:
                self.fail(f"{kind.name} takes one positional value ({name})", col)
            values[name] = self.value(kind, name, token)
            return
        if token[0] != "name":
            self.fail(f"expected an argument, found {_show(token)}", token[2])
        raw, col = token[1], token[2]
        name = ARG_ALIASES.get(raw.lower(), raw.lower() if raw.lower() in kind.args else raw)
        if name not in kind.args:
            hint = ("; avgpool has no dilation" if kind.name == "avgpool" and name == "d" else "")
            choices = ", ".join(kind.args) or "no arguments"
            self.fail(f"unknown argument {raw!r} for {kind.name} (choose from {choices}){hint}",
                      col)
        self.expect("punct", "=", "'='")
        value_token = self.take()
        if name in values:
            self.fail(f"{name} is given twice", col)
        values[name] = self.value(kind, name, value_token)

    def value(self, kind: Kind, name: str, token):
        typ = kind.args[name]
        if typ == BOOLEAN:
            if token[0] == "name" and token[1].lower() in ("true", "false"):
                return token[1].lower() == "true"
            self.fail(f"{name} must be true or false, found {_show(token)}", token[2])
        if token[0] != "int":
            self.fail(f"{name} must be a whole number, found {_show(token)}", token[2])
        value = int(token[1])
        low = 1 if typ == POSITIVE else 0
        if value < low:
            self.fail(f"{name}={value} must be at least {low}", token[2])
        if value > MAX_SIZE:
            self.fail(f"{name}={value} is above the limit {MAX_SIZE}", token[2])
        return value


def _show(token) -> str:
    return "the end" if token[0] == "end" else repr(token[1])


def spec_from_mapping(kind_text, values: dict, what: str) -> LayerSpec:
    """Build a spec from a TOML table's keys (same names and checks as the text form)."""
    if not isinstance(kind_text, str):
        raise BadInput(f"{what}: kind must be text such as \"conv\", not {kind_text!r}")
    kind_name = kind_of(kind_text.strip())
    if kind_name is None:
        raise BadInput(f"{what}: unknown layer kind {kind_text!r}; choose one of: "
                       f"{', '.join(KINDS)}")
    kind = KINDS[kind_name]
    checked: dict = {}
    for raw, value in values.items():
        name = ARG_ALIASES.get(raw.lower(), raw.lower() if raw.lower() in kind.args else raw)
        if name not in kind.args:
            raise BadInput(f"{what}: unknown key {raw!r} for {kind_name} "
                           f"(choose from {', '.join(kind.args) or 'no arguments'})")
        if name in checked:
            raise BadInput(f"{what}: {name} is given twice")
        typ = kind.args[name]
        if typ == BOOLEAN:
            if not isinstance(value, bool):
                raise BadInput(f"{what}: {raw} must be true or false, not {value!r}")
        else:
            if type(value) is not int:
                raise BadInput(f"{what}: {raw} must be a whole number, not {value!r}")
            low = 1 if typ == POSITIVE else 0
            if value < low:
                raise BadInput(f"{what}: {raw}={value} must be at least {low}")
            if value > MAX_SIZE:
                raise BadInput(f"{what}: {raw}={value} is above the limit {MAX_SIZE}")
        checked[name] = value
    spec = LayerSpec(kind_name, _ordered(checked))
    return LayerSpec(kind_name, spec.values, spec.canonical())


def format_target(shape) -> str:
    return format_shape(shape)


def describe_kinds() -> str:
    """One line per kind, for help texts and docs."""
    return "\n".join(f"{k.name:8} {k.help}" for k in KINDS.values())
