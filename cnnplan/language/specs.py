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
from typing import TYPE_CHECKING

from ..kinds.records import WINDOW_VARIABLES
from ..kinds.shape import MAX_SIZE, format_shape, parse_shape
from ..platform.errors import BadInput, nearest_word, unknown_message
from ..platform.frozen import Frozen

if TYPE_CHECKING:
    from typing import NoReturn

MAX_SPEC_LENGTH = 500
MAX_ARGS = 16
MAX_LAYERS = 10_000  # layers in one network or plan
WINDOW_VARS = WINDOW_VARIABLES
WINDOW_WORDS = {"k": "kernel size", "s": "stride", "p": "padding", "d": "dilation"}

ARG_ALIASES = {
    "kernel_size": "k",
    "kernel": "k",
    "stride": "s",
    "padding": "p",
    "dilation": "d",
    "output_padding": "op",
    "ceil_mode": "ceil",
    "out_channels": "channels",
    "out_features": "features",
    "num_groups": "groups",
    "output_size": "out",
    "scale_factor": "scale",
    "upscale_factor": "r",
}
ORDER = ("channels", "features", "k", "s", "p", "d", "op", "groups", "bias", "ceil")
NAME = r"[A-Za-z_][A-Za-z0-9_.]*"
INPUT = "input"


class _KindsView:
    """specs.KINDS: the registered layer kinds (see cnnplan.kinds), read when first used."""

    def __getitem__(self, name):
        from ..kinds.registry import kinds

        return kinds()[name]

    def __contains__(self, name):
        from ..kinds.registry import kinds

        return name in kinds()

    def __iter__(self):
        from ..kinds.registry import kinds

        return iter(kinds())

    def __len__(self):
        from ..kinds.registry import kinds

        return len(kinds())


KINDS = _KindsView()


def kind_of(name: str) -> str | None:
    """The canonical kind for a name as written (case-insensitive, or an alias)."""
    from ..kinds.registry import kinds

    kind = kinds().lookup(name)
    return kind.name if kind else None


@dataclass(init=False, repr=False, eq=False)
class LayerSpec(Frozen):
    """A parsed layer: its kind, the arguments given (canonical names, canonical order) and the
    layers it reads (`refs`: names; None stands for the previous layer; empty: the previous)."""

    kind: str
    values: tuple = ()  # ((name, value), ...) in canonical order
    text: str = field(default="", compare=False)
    refs: tuple = ()

    _fields = ("kind", "values", "text", "refs")
    _compared = ("kind", "values", "refs")

    def __init__(self, kind: str, values: tuple = (), text: str = "", refs: tuple = ()):
        self._set(kind, values, text, refs)

    def get(self, name: str, default=None):
        for key, value in self.values:
            if key == name:
                return value
        return default

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.values)

    @property
    def record(self):
        """The kind's registry record (cnnplan.kinds.LayerKind)."""
        return KINDS[self.kind]

    @property
    def window(self) -> bool:
        return self.record.window

    def with_values(self, **updates) -> LayerSpec:
        """A copy with these arguments set (canonical order kept)."""
        merged = dict(self.values)
        merged.update(updates)
        return LayerSpec(self.kind, _ordered(merged, self.record), "", self.refs)

    def with_window(self, **values) -> LayerSpec:
        """A complete copy with these window values (k, s, p, d, op, ceil, channels) set where
        the kind takes them (avgpool has no d, a pooling kind no channels)."""
        args = self.record.args
        return self.with_values(**{n: v for n, v in values.items() if n in args}).complete()

    def complete(self, where: str = "layer") -> LayerSpec:
        """Fill PyTorch's defaults (pool stride = k); BadInput if a required value is missing."""
        kind = self.record
        merged = dict(kind.defaults)
        merged.update(self.values)
        for name in kind.required:
            if name not in merged:
                example = {
                    "channels": f"{self.kind}(64{', k=3' if kind.window else ''})",
                    "features": f"{self.kind}(10)",
                }.get(name, f"{self.kind}({name}=...)")
                what = "a kernel size k=" if name == "k" else f"its {name}, e.g. {example}"
                raise BadInput(f"{where} {self.describe()}: {self.kind} needs {what}")
        if kind.complete:
            merged = kind.complete(merged)
        return LayerSpec(self.kind, _ordered(merged, kind), self.text, self.refs)

    def describe(self) -> str:
        """The spec as the user wrote it (or its canonical form)."""
        return self.text.strip() or self.canonical()

    def canonical(self) -> str:
        """Canonical text: `conv(64, k=8, s=2, p=0, d=1)`; defaults of groups, bias, ceil and the
        like omitted."""
        kind = self.record
        parts = []
        for name, value in self.values:
            if name == kind.positional and name in ("channels", "features"):
                parts.append(str(value))
            elif (
                (name, value)
                in (
                    ("groups", 1),
                    ("bias", True),
                    ("ceil", False),
                    ("crop", False),
                    ("keepdim", False),
                    ("count_pad", True),
                    ("gain", False),
                    ("fixed", False),
                    ("mode", "constant"),
                )
                and kind.name != "groupnorm"
                and kind.defaults.get(name, value) == value
            ):
                continue
            else:
                parts.append(f"{name}={_value_text(value)}")
        return f"{self.kind}({', '.join(parts)})" if parts else self.kind


def _value_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_value_text, value)) + ")"
    return str(value)


def _ordered(values: dict, kind=None) -> tuple:
    names = list(ORDER) + [n for n in (kind.args if kind else ()) if n not in ORDER]
    names += [n for n in values if n not in names]
    return tuple((name, values[name]) for name in names if name in values)


# -- tokenizer and parser -------------------------------------------------------------------

# patterns as text, compiled by `re` on first use (and cached there): `cnnplan solve` never
# parses a spec, and compiling them would cost its start-up
_TOKEN = (
    r"\s*(?:(?P<arrow>->)|(?P<name>" + NAME + r")|"
    r"(?P<int>[+-]?\d+)|(?P<punct>[(),=:\[\]]))"
)


def _tokens(text: str, what: str, offset: int = 0, stop_at_arrow: bool = True):
    """(kind, value, column) triples; column is 1-based (plus `offset`). Stops at `->`."""
    pos = 0
    out = []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            out.append(("end", "", pos + 1 + offset))
            return out, None
        m = re.compile(_TOKEN).match(text, pos)
        if not m:
            raise BadInput(
                f"{what} {text.strip()!r}: unexpected {text[pos]!r} at column {pos + 1 + offset}"
            )
        assert m.lastgroup is not None  # every alternative of _TOKEN is a named group
        col = m.start(m.lastgroup) + 1 + offset
        if m.lastgroup == "arrow":
            out.append(("end", "", col))
            return out, (m.end(), col)
        out.append((m.lastgroup, m.group(m.lastgroup), col))
        pos = m.end()


def _check_length(text, what):
    if not isinstance(text, str):
        raise BadInput(f"{what} {text!r} is not text")
    if len(text) > MAX_SPEC_LENGTH * 40:
        raise BadInput(
            f"{what} is {len(text)} characters long; the limit is {MAX_SPEC_LENGTH * 40}"
        )


def parse_spec(text: str, what: str = "layer", allow_target: bool = False, offset: int = 0):
    """Parse one layer spec; with allow_target also `SPEC -> SHAPE`, returning (spec, target).

    >>> parse_spec("conv(64, k=8, s=2)").canonical()
    'conv(64, k=8, s=2)'
    """
    _check_length(text, what)
    if len(text) > MAX_SPEC_LENGTH:
        raise BadInput(f"{what} is {len(text)} characters long; the limit is {MAX_SPEC_LENGTH}")
    tokens, rest = _tokens(text, what, offset)
    spec = _Parser(text, tokens, what).spec()
    target = None
    if rest is not None:
        if not allow_target:
            raise BadInput(
                f"{what} {text!r}: a target '-> SHAPE' (column {rest[1]}) belongs in "
                "`cnnplan plan`, not here"
            )
        shape_text = text[rest[0] :].strip()
        if not shape_text:
            raise BadInput(f"{what} {text!r}: '->' at column {rest[1]} needs a shape after it")
        target = parse_target(shape_text, f"{what} {text.strip()!r}: target")
    return (spec, target) if allow_target else spec


_NAMED = r"^(\s*)(" + NAME + r")\s*:(?!=)"


def parse_layers(text: str, what: str = "layer"):
    """One argument holding layers separated by ';', each `[NAME:] SPEC [-> SHAPE]`:
    [(name or None, spec, target or None, description)].

    >>> [(n, s.kind) for n, s, _, _ in parse_layers("c1: conv(8, k=3); relu; add(input)")]
    [('c1', 'conv'), (None, 'relu'), (None, 'add')]
    """
    _check_length(text, what)
    out: list = []
    offset = 0
    pieces = text.split(";")
    if len(pieces) > 1 and not pieces[-1].strip():
        pieces.pop()  # a trailing ';' is harmless
    for piece in pieces:
        if len(out) >= MAX_LAYERS:
            raise BadInput(f"{what}: more than {MAX_LAYERS} layers")
        body, name, shift = piece, None, 0
        m = re.match(_NAMED, piece)
        if m:
            name = m.group(2)
            shift = m.end()
            body = piece[shift:]
            check_name(name, f"{what} {text.strip()!r}: name at column {offset + m.start(2) + 1}")
        if not body.strip():
            raise BadInput(
                f"{what} {text.strip()!r}: an empty layer at column {offset + 1}"
                + (" (a ';' too many?)" if ";" in text else "")
            )
        spec, target = parse_spec(body, what, allow_target=True, offset=offset + shift)
        out.append((name, spec, target, body.strip()))
        offset += len(piece) + 1
    return out


def check_name(name, what: str) -> str:
    """A layer name: letters, digits, '_' and '.', starting with a letter or '_'; not 'input'."""
    if not isinstance(name, str) or not re.fullmatch(NAME, name) or len(name) > 200:
        raise BadInput(
            f"{what}: layer name {name!r} must be letters, digits, '_' or '.', "
            "starting with a letter or '_'"
        )
    if name == INPUT:
        raise BadInput(f"{what}: 'input' names the network input; choose another layer name")
    return name


def parse_target(text: str, what: str = "target") -> tuple[int, ...]:
    """A target shape: `64x32x32`, or a single number of features after flatten/linear."""
    text = str(text).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        if len(text) > 12:
            raise BadInput(f"{what} {text[:20]!r}...: a size must be between 1 and {MAX_SIZE}")
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

    def fail(self, message, col) -> NoReturn:
        head, sep, hint = message.partition("; did you mean ")  # the suggestion goes last
        raise BadInput(f"{self.what} {self.text.strip()!r}: {head} at column {col}{sep}{hint}")

    def expect(self, kind, value=None, wanted=""):
        token = self.take()
        if token[0] != kind or (value is not None and token[1] != value):
            self.fail(f"expected {wanted or value or kind}, found {_show(token)}", token[2])
        return token

    def spec(self) -> LayerSpec:
        from ..kinds.registry import kinds

        token = self.take()
        registry = kinds()
        if token[0] != "name":
            self.fail(
                f"expected a layer kind ({', '.join(registry)}), found {_show(token)}", token[2]
            )
        kind = registry.lookup(token[1])
        if kind is None:
            self.fail(unknown_message("layer kind", token[1], registry.words(), registry), token[2])
        values: dict = {}
        refs: list = []
        if self.peek()[1] == "(":
            self.take()
            if self.peek()[1] == ")":
                self.take()
            else:
                while True:
                    self.argument(kind, values, refs)
                    token = self.take()
                    if token[1] == ")":
                        break
                    if token[1] != ",":
                        self.fail(f"expected ',' or ')', found {_show(token)}", token[2])
        end = self.take()
        if end[0] != "end":
            self.fail(f"unexpected {_show(end)} after the layer", end[2])
        if "from" in values:
            refs = list(values.pop("from"))
        elif kind.join and len(refs) == 1:
            refs = [None, refs[0]]
        return LayerSpec(
            kind.name, _ordered(values, kind), self.text.split("->")[0].strip(), tuple(refs)
        )

    def argument(self, kind, values: dict, refs: list):
        if len(values) + len(refs) >= MAX_ARGS:
            self.fail("too many arguments", self.peek()[2])
        token = self.take()
        if kind.join and token[0] in ("name", "int") and self.peek()[1] != "=":
            refs.append(self.output_index(token[1]))
            return
        if token[0] == "int" or token[1] == "(":
            name, col = kind.positional, token[2]
            if name is None:
                self.fail(
                    f"{kind.name} takes no positional value; write NAME=VALUE "
                    f"({', '.join(kind.args) or 'no arguments'})",
                    col,
                )
            if name in values:
                self.fail(f"{kind.name} takes one positional value ({name})", col)
            values[name] = self.value(kind, name, token)
            return
        if token[0] != "name":
            self.fail(f"expected an argument, found {_show(token)}", token[2])
        raw, col = token[1], token[2]
        low = raw.lower()
        name = ARG_ALIASES.get(low, low if low in kind.args or low == "from" else raw)
        if name not in kind.args and name != "from":
            absent = dict(kind.window.fixed) if kind.window else {}
            hint = f"; {kind.name} has no {WINDOW_WORDS[name]}" if name in absent else ""
            self.fail(f"{unknown_argument(raw, kind)}{hint}", col)
        self.expect("punct", "=", "'='")
        value_token = self.take()
        if name in values:
            self.fail(f"{name} is given twice", col)
        if name == "from":
            values[name] = self.names(value_token)
            return
        values[name] = self.value(kind, name, value_token)

    def output_index(self, name: str) -> str:
        """`name`, or `name[j]` when an output index follows."""
        if self.peek()[1] != "[":
            return name
        self.take()
        index = self.expect("int", wanted="an output number")
        if not index[1].isdigit() or len(index[1]) > 4:
            self.fail(f"an output number is 0 to 9999, not {index[1]!r}", index[2])
        self.expect("punct", "]", "']'")
        return f"{name}[{int(index[1])}]"

    def names(self, token) -> tuple:
        if token[0] in ("name", "int"):
            return (self.output_index(token[1]),)
        if token[1] != "(":
            self.fail(f"from must be a layer name or (a, b, ...), found {_show(token)}", token[2])
        out = []
        while True:
            token = self.take()
            if token[0] not in ("name", "int"):
                self.fail(f"expected a layer name, found {_show(token)}", token[2])
            out.append(self.output_index(token[1]))
            token = self.take()
            if token[1] == ")":
                return tuple(out)
            if token[1] != ",":
                self.fail(f"expected ',' or ')', found {_show(token)}", token[2])

    def value(self, kind, name: str, token):
        arg = kind.args[name]
        if token[1] == "(" and arg.tuples:
            raw = self.numbers(name, arg.pairs)
        elif arg.boolean:
            if token[0] == "name" and token[1].lower() in ("true", "false"):
                return token[1].lower() == "true"
            self.fail(f"{name} must be true or false, found {_show(token)}", token[2])
        elif token[0] == "name" and arg.words:
            raw = token[1]
        elif token[0] != "int":
            self.fail(
                f"{name} must be {'a whole number' if not arg.words else arg.describe()}, "
                f"found {_show(token)}",
                token[2],
            )
        else:
            raw = self._int(token, name)
        try:
            return arg.check(name, raw)
        except ValueError as exc:
            self.fail(str(exc), token[2])

    def numbers(self, name: str, pairs: bool = False) -> tuple:
        """A tuple of whole numbers after its '(' (with `pairs`, its items may be tuples too:
        explicit (before, after) padding per axis)."""
        items: list = []
        while True:
            item = self.take()
            if pairs and item[1] == "(":
                items.append(self.numbers(name))
            elif item[0] != "int":
                self.fail(f"{name} must be a tuple of whole numbers, found {_show(item)}", item[2])
            else:
                items.append(self._int(item, name))
            sep = self.take()
            if sep[1] == ")":
                return tuple(items)
            if sep[1] != ",":
                self.fail(f"expected ',' or ')', found {_show(sep)}", sep[2])

    def _int(self, token, name):
        if len(token[1].lstrip("+-")) > 12:
            self.fail(f"{name}={token[1][:12]}... is above the limit {MAX_SIZE}", token[2])
        return int(token[1])


def _show(token) -> str:
    return "the end" if token[0] == "end" else repr(token[1])


def unknown_argument(raw: str, kind, what: str = "argument") -> str:
    """'unknown argument 'kk' for conv; did you mean k?' (from the kind's arguments and their
    PyTorch names), else the list of its arguments."""
    words = [*kind.args, *(alias for alias, name in ARG_ALIASES.items() if name in kind.args)]
    near = nearest_word(raw, words)
    if near is not None:
        return f"unknown {what} {raw!r} for {kind.name}; did you mean {near}?"
    choices = ", ".join(kind.args) or "no arguments"
    return f"unknown {what} {raw!r} for {kind.name} (choose from {choices})"


def spec_from_mapping(kind_text, values: dict, what: str) -> LayerSpec:
    """Build a spec from a TOML table's keys (same names and checks as the text form)."""
    from ..kinds.registry import kinds

    if not isinstance(kind_text, str):
        raise BadInput(f'{what}: kind must be text such as "conv", not {kind_text!r}')
    kind = kinds().lookup(kind_text.strip())
    if kind is None:
        raise BadInput(
            f"{what}: " + unknown_message("layer kind", kind_text, kinds().words(), kinds())
        )
    checked: dict = {}
    for raw, value in values.items():
        low = raw.lower()
        name = ARG_ALIASES.get(low, low if low in kind.args else raw)
        if name not in kind.args:
            raise BadInput(f"{what}: {unknown_argument(raw, kind, 'key')}")
        if name in checked:
            raise BadInput(f"{what}: {name} is given twice")
        if isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        arg = kind.args[name]
        if arg.boolean and not isinstance(value, bool):
            raise BadInput(f"{what}: {raw} must be true or false, not {value!r}")
        if not arg.boolean and (
            isinstance(value, bool)
            or not isinstance(value, (int, str, tuple))
            or (isinstance(value, str) and not arg.words)
        ):
            raise BadInput(f"{what}: {raw} must be a whole number, not {value!r}")
        try:
            checked[name] = arg.check(name, value)
        except ValueError as exc:
            raise BadInput(f"{what}: {str(exc).replace(name, raw, 1)}") from None
    spec = LayerSpec(kind.name, _ordered(checked, kind))
    return LayerSpec(kind.name, spec.values, spec.canonical())


def format_target(shape) -> str:
    return format_shape(shape)


def describe_kinds() -> str:
    """One line per kind, for help texts and docs."""
    from ..kinds.registry import describe_kinds as describe

    return describe()
