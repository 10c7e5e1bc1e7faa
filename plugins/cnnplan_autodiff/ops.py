"""The elementary operations: value, domain, local partial derivatives, and how each is written.

`value(*args)` raises `DomainError(reason)` outside the domain; `partials(*args, y)` gives
∂y/∂arg for every argument (it may raise ZeroDivisionError or OverflowError where the
derivative does not exist; the caller turns that into an error naming the trace step).
`show(n, *syms)` writes the definition and `forms(n, *syms)` each partial as a `Partial`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable

from .notation import Notation, Sym, number_text

HEAVISIDE_AT_ZERO = 0.5   # relu'(0) = H(0) = 1/2
SIGN_AT_ZERO = 0.0        # abs'(0) = sgn(0) = 0, as in PyTorch


class DomainError(Exception):
    """An argument outside the operation's domain (the message says which rule)."""


@dataclass(frozen=True)
class Partial:
    """∂v_i/∂v_j as written: sign × factor / divisor; `first` puts the factor before v̇_j."""

    sign: int = 1
    factor: str | None = None
    divisor: str | None = None
    first: bool = False

    def tangent(self, dot: str, n: Notation) -> tuple[int, str]:
        """The term v̇_j ∂v_i/∂v_j of a tangent rule, as (sign, text)."""
        parts = [self.factor, dot] if self.first else [dot, self.factor]
        body = n.times.join(p for p in parts if p)
        return self.sign, body + (f" / {self.divisor}" if self.divisor else "")

    def adjoint(self, bar: str, n: Notation) -> tuple[int, str]:
        """The term v̄_i ∂v_i/∂v_j of an adjoint rule, as (sign, text): v̄4 × 1, v̄5 × (-1)."""
        if not self.factor and not self.divisor:
            return 1, f"{bar}{n.times}{'1' if self.sign > 0 else '(-1)'}"
        body = bar + (f"{n.times}{self.factor}" if self.factor else "")
        return self.sign, body + (f" / {self.divisor}" if self.divisor else "")


def signed_sum(terms: list[tuple[int, str]]) -> str:
    """[(1, 'a'), (-1, 'b')] -> 'a - b'; [(-1, 'a')] -> '-a'."""
    text = ""
    for k, (sign, body) in enumerate(terms):
        if k == 0:
            text = body if sign > 0 else f"-{body}"
        else:
            text += f" + {body}" if sign > 0 else f" - {body}"
    return text


@dataclass(frozen=True)
class Op:
    """One elementary operation of the trace."""

    name: str
    arity: int
    value: Callable[..., float]
    partials: Callable[..., tuple]
    show: Callable[..., str]
    forms: Callable[..., tuple]


def _div(a, b):
    if b == 0:
        raise DomainError("division by zero")
    return a / b


def _is_integer(c: float) -> bool:
    return c == int(c)


def _power(a, c):
    if a < 0 and not _is_integer(c):
        raise DomainError("a negative number to a non-integer power is not real")
    if a == 0 and c < 0:
        raise DomainError("division by zero (0 to a negative power)")
    return math.pow(a, c)


def _power_partial(a, c, y):
    return (0.0 if c == 0 else c * math.pow(a, c - 1), 0.0)


def _power_forms(n: Notation, a: Sym, c: Sym, value: float):
    if c.node:
        lower = n.power(a, f"{c.text} - 1", False)
        return (Partial(factor=f"{c.text}{n.times}{lower}", first=True), Partial())
    if value in (0, 1):
        return (Partial(factor=number_text(value), first=True), Partial())
    coefficient = "" if abs(value) == 1 else number_text(abs(value))
    lower = value - 1
    base = a.text if lower == 1 else n.power(a, number_text(lower), lower >= 0)
    factor = n.times.join(p for p in (coefficient, base) if p)
    return (Partial(sign=-1 if value < 0 else 1, factor=factor, first=True), Partial())


def _exponential(c, b):
    if c <= 0:
        raise DomainError("c ** x with a variable exponent needs a positive base c")
    return math.pow(c, b)


def _general_power(a, b):
    if a <= 0:
        raise DomainError("x ** y with a variable exponent needs a positive base")
    return math.pow(a, b)


def _ln(a):
    if a <= 0:
        raise DomainError("ln needs a positive argument")
    return math.log(a)


def _sqrt(a):
    if a < 0:
        raise DomainError("sqrt needs a non-negative argument")
    return math.sqrt(a)


def _sigmoid(a):
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    z = math.exp(a)
    return z / (1.0 + z)


def _heaviside(a):
    return 1.0 if a > 0 else 0.0 if a < 0 else HEAVISIDE_AT_ZERO


def _sign(a):
    return 1.0 if a > 0 else -1.0 if a < 0 else SIGN_AT_ZERO


def _unary(name, value, partial, show, form) -> Op:
    """An operation of one argument: partial(a, y) -> ∂y/∂a, form(n, a) -> Partial."""
    return Op(name, 1, value, lambda a, y: (partial(a, y),), show, lambda n, a: (form(n, a),))


OPS: dict[str, Op] = {op.name: op for op in (
    Op("add", 2, lambda a, b: a + b, lambda a, b, y: (1.0, 1.0),
       lambda n, a, b: f"{a.text} + {b.text}", lambda n, a, b: (Partial(), Partial())),
    Op("sub", 2, lambda a, b: a - b, lambda a, b, y: (1.0, -1.0),
       lambda n, a, b: f"{a.text} - {b.text}", lambda n, a, b: (Partial(), Partial(sign=-1))),
    Op("mul", 2, lambda a, b: a * b, lambda a, b, y: (b, a),
       lambda n, a, b: f"{a.text}{n.times}{b.text}",
       lambda n, a, b: (Partial(factor=b.text), Partial(factor=a.text, first=True))),
    Op("div", 2, _div, lambda a, b, y: (1.0 / b, -(y / b)),
       lambda n, a, b: f"{a.text} / {b.text}",
       lambda n, a, b: (Partial(divisor=b.text),
                        Partial(sign=-1, factor=None if a.text == "1" else a.text,
                                divisor=n.power(b, "2")))),
    # x ** c (constant exponent), c ** x (constant base), x ** y (both variable)
    Op("power", 2, _power, _power_partial,
       lambda n, a, c: n.power(a, c.text.strip("()"), c.node or not c.text.startswith("(")),
       None),
    Op("exponential", 2, _exponential, lambda c, b, y: (0.0, y * math.log(c)),
       lambda n, c, b: n.power(c, b.text),
       lambda n, c, b: (Partial(), Partial(factor=n.power(c, b.text) + (
           "" if c.text == "e" else n.times + n.fn("ln", Sym(c.text.strip("()"), True)))))),
    Op("pow", 2, _general_power,
       lambda a, b, y: (b * math.pow(a, b - 1), y * math.log(a)),
       lambda n, a, b: n.power(a, b.text),
       lambda n, a, b: (Partial(factor=b.text + n.times + n.power(a, f"{b.text} - 1", False),
                                first=True),
                        Partial(factor=n.power(a, b.text) + n.times + n.fn("ln", a)))),
    _unary("neg", lambda a: -a, lambda a, y: -1.0, lambda n, a: f"-{a.text}",
           lambda n, a: Partial(sign=-1)),
    _unary("sin", math.sin, lambda a, y: math.cos(a), lambda n, a: n.fn("sin", a),
           lambda n, a: Partial(factor=n.fn("cos", a))),
    _unary("cos", math.cos, lambda a, y: -math.sin(a), lambda n, a: n.fn("cos", a),
           lambda n, a: Partial(sign=-1, factor=n.fn("sin", a))),
    _unary("tan", math.tan, lambda a, y: 1.0 / math.cos(a) ** 2, lambda n, a: n.fn("tan", a),
           lambda n, a: Partial(divisor=n.fn("cos", a, power=2))),
    _unary("exp", math.exp, lambda a, y: y, lambda n, a: n.fn("exp", a),
           lambda n, a: Partial(factor=n.fn("exp", a))),
    _unary("ln", _ln, lambda a, y: 1.0 / a, lambda n, a: n.fn("ln", a),
           lambda n, a: Partial(divisor=a.text)),
    _unary("sqrt", _sqrt, lambda a, y: 1.0 / (2.0 * y), lambda n, a: n.sqrt(a),
           lambda n, a: Partial(divisor=f"(2{n.times}{n.sqrt(a)})")),
    _unary("tanh", math.tanh, lambda a, y: 1.0 - y * y, lambda n, a: n.fn("tanh", a),
           lambda n, a: Partial(factor=f"(1 - {n.fn('tanh', a, power=2)})")),
    _unary("sigmoid", _sigmoid, lambda a, y: y * (1.0 - y), lambda n, a: n.call("sigmoid", a),
           lambda n, a: Partial(factor=f"{n.call('sigmoid', a)}{n.times}"
                                       f"(1 - {n.call('sigmoid', a)})")),
    _unary("relu", lambda a: max(a, 0.0), lambda a, y: _heaviside(a),
           lambda n, a: n.fn("relu", a), lambda n, a: Partial(factor=n.call("H", a))),
    _unary("abs", abs, lambda a, y: _sign(a), lambda n, a: n.abs(a),
           lambda n, a: Partial(factor=n.fn("sgn", a))),
)}


def power_op(base_active: bool, exponent_active: bool) -> str:
    """Which of the three power operations `a ** b` is, by which side depends on a variable."""
    if exponent_active:
        return "pow" if base_active else "exponential"
    return "power"


def forms(op: Op, n: Notation, args: tuple[Sym, ...], values: tuple[float, ...]) -> tuple:
    """The written partials of `op` on `args` (the power needs its exponent's value)."""
    if op.name == "power":
        return _power_forms(n, args[0], args[1], values[1])
    return op.forms(n, *args)
