"""Layer kinds as records: what a spec may say, what the layer does to shapes, what it costs,
how it moves the receptive field, and the PyTorch code that builds it.

The core registers its own kinds (cnnplan/core_kinds.py) through the `register_layer_kinds`
hook, exactly as a plugin does; `kinds()` is the registry every part of cnnplan reads:
the spec parser, the forward pass, the planner, `inputs` and `--format torch`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

from .tensor_shape import MAX_SIZE

KIND_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


# -- argument types -------------------------------------------------------------------------

@dataclass(frozen=True)
class Arg:
    """One spec argument: whole numbers (with a lower bound), optionally per-axis tuples,
    true/false, or one of some words."""

    low: int | None = 1               # None: not a number
    tuples: bool = False              # (1, 7) allowed: one value per spatial axis
    words: tuple = ()                 # e.g. ("same", "valid") or ("nearest", "bilinear")
    boolean: bool = False
    collapse: bool = True             # (3, 3) -> 3 (False where the length matters: pad's p)

    def check(self, name: str, value):
        """The value, normalised (equal tuple entries collapse to one number); ValueError with
        a message otherwise."""
        if self.boolean:
            if isinstance(value, bool):
                return value
        elif isinstance(value, str):
            if value.lower() in self.words:
                return value.lower()
        elif isinstance(value, tuple) and self.tuples:
            if 1 <= len(value) <= 6 and all(type(v) is int for v in value):
                for v in value:
                    self._number(name, v)
                return value[0] if self.collapse and len(set(value)) == 1 else value
        elif type(value) is int and self.low is not None:
            self._number(name, value)
            return value
        raise ValueError(f"{name} must be {self.describe()}, not {_show(value)}")

    def _number(self, name, value):
        if value < self.low:
            raise ValueError(f"{name}={value} must be at least {self.low}")
        if value > MAX_SIZE:
            raise ValueError(f"{name}={value} is above the limit {MAX_SIZE}")

    def describe(self) -> str:
        if self.boolean:
            return "true or false"
        parts = []
        if self.low is not None:
            parts.append("a whole number" + (f" >= {self.low}" if self.low else " >= 0"))
            if self.tuples:
                parts.append("a tuple such as (1, 7)")
        parts += [repr(w) for w in self.words]
        return " or ".join(parts)


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ")"
    return repr(value) if isinstance(value, str) else str(value)


POSITIVE, NONNEGATIVE, BOOLEAN = Arg(1), Arg(0), Arg(None, boolean=True)
SIZES, PADS = Arg(1, tuples=True), Arg(0, tuples=True)


# -- what a layer does ------------------------------------------------------------------------

@dataclass(frozen=True)
class Applied:
    """One layer applied to its input shape(s)."""

    output: tuple
    weights: int = 0
    params: int = 0
    macs: int = 0
    notes: tuple = ()
    steps: tuple | None = None     # receptive-field step per spatial axis (see RfStep), or
    exact_rf: bool = True          # None: `same` on every axis; False: the rf is a bound
    offsets: tuple = ()            # joins: per input, per axis crop offset (concat(crop=true))


@dataclass(frozen=True)
class RfStep:
    """How one layer maps one spatial axis (Araujo, Norris & Sim, Distill 2019).

    Output position x depends on layer-input positions centred at `shift + x * stride` and
    spanning `span` positions beyond the first (span = k' - 1 for a window). `whole`: the
    output depends on the whole input (global pooling, flatten, linear).
    """

    span: Fraction | int = 0
    stride: Fraction | int = 1
    shift: Fraction | int = 0
    whole: bool = False


WHOLE = RfStep(whole=True)


@dataclass(frozen=True)
class LayerKind:
    """A layer kind: its spec arguments and rules (see the module docstring).

    apply(spec, inputs, name) -> Applied, raising BadInput (naming `name`) where PyTorch would
    refuse; torch(spec, inputs) -> the nn.Module constructor (text), or for joins the forward
    expression over the input variables `{0}`, `{1}`, ... (`{all}`: all of them, comma-separated).
    `complete(values) -> values` fills defaults that depend on other values (pooling s = k).
    `fast` (optional, for `cnnplan inputs`): a shape-only rule built once per layer, giving the
    output shape or None where `apply` would refuse (apply then says why).
    """

    name: str
    help: str
    apply: Callable
    torch: Callable
    args: dict = field(default_factory=dict)
    positional: str | None = None
    defaults: dict = field(default_factory=dict)
    required: tuple = ()
    window: bool = False            # conv-like k, s, p, d (the planner may leave them free)
    join: bool = False              # several inputs (add, mul, concat)
    aliases: tuple = ()
    complete: Callable | None = None
    fast: Callable | None = None    # fast(spec, n_axes) -> rule(inputs) -> output or None
    provider: str = ""


class KindRegistry(Mapping):
    """The registered layer kinds, by name (case-insensitive) and alias; a read-only mapping."""

    def __init__(self):
        self._kinds: dict[str, LayerKind] = {}
        self._names: dict[str, str] = {}

    def add(self, kind: LayerKind, provider: str):
        from dataclasses import replace

        from .registry import NameTaken, RegistrationError

        if not isinstance(kind, LayerKind):
            raise RegistrationError(f"{provider} registered {kind!r}, not a cnnplan.LayerKind")
        for name in (kind.name, *kind.aliases):
            if not isinstance(name, str) or not KIND_NAME.match(name):
                raise RegistrationError(f"{provider} registered layer kind name {name!r}; names "
                                        "are letters, digits and '_', starting with a letter")
            other = self._names.get(name.lower())
            if other is not None:
                raise NameTaken("layer kind", name, self._kinds[other].provider, provider)
        self._kinds[kind.name] = replace(kind, provider=provider)
        for name in (kind.name, *kind.aliases):
            self._names[name.lower()] = kind.name

    def lookup(self, name: str) -> LayerKind | None:
        """The kind called `name` (any case, or an alias), or None."""
        canonical = self._names.get(name.lower()) if isinstance(name, str) else None
        return self._kinds.get(canonical) if canonical else None

    def __getitem__(self, name: str) -> LayerKind:
        kind = self.lookup(name)
        if kind is None:
            raise KeyError(name)
        return kind

    def __contains__(self, name) -> bool:
        return self.lookup(name) is not None

    def __iter__(self):
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def values(self):
        return self._kinds.values()

    def names(self) -> list[str]:
        return list(self._kinds)


def kinds() -> KindRegistry:
    """Every registered layer kind (the core's and the plugins')."""
    from .plugins import get_host

    return get_host().layer_kinds


def describe_kinds() -> str:
    """One line per kind, for help texts and docs."""
    return "\n".join(f"{k.name:16} {k.help}" for k in kinds().values())
