"""Constraint expressions such as `k % 2 == 1` or `p == (k - 1) // 2`, parsed, never eval'ed.

Only integer arithmetic (+ - * // % / **, unary minus), comparisons (chains allowed) and
and/or/not over known names are accepted. The text is bounded in length and nesting, and every
value it computes in size (MAX_BITS: a constraint that needs a larger number is refused, not
left to run for minutes); the result is a closure over a small tree, so nothing the user types
is ever executed as Python.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import NamedTuple

from ..kinds.records import WINDOW_VARIABLES
from ..platform.budget import charge
from ..platform.errors import BadInput, nearest_word

MAX_LENGTH = 500
COMPILE_COST = 200  # work units of parsing one condition, plus one per character
MAX_DEPTH = 40
MAX_EXPONENT = 64
MAX_BITS = 4096  # largest value (numerator and denominator for '/') a constraint may compute

_BINARY = {  # every operation is bounded: see _bounded, _multiply, _power and _divide
    ast.Add: lambda a, b: _bounded(a + b),
    ast.Sub: lambda a, b: _bounded(a - b),
    ast.Mult: lambda a, b: _multiply(a, b),
    ast.FloorDiv: lambda a, b: _divide(operator.floordiv, a, b),
    ast.Mod: lambda a, b: _divide(operator.mod, a, b),
    ast.Div: lambda a, b: _bounded(_divide(operator.truediv, _fraction(a), _fraction(b))),
    ast.Pow: lambda a, b: _power(a, b),
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _fraction(value):
    from fractions import (
        Fraction,  # exact division; imported only when a constraint uses '/'
    )

    return Fraction(value)


class _Undefined(ArithmeticError):
    """Division by zero or an oversized power inside a constraint: the constraint is false."""


class _TooLarge(ArithmeticError):
    """A value past MAX_BITS: the constraint is refused (BadInput)."""


def _bits(value) -> int:
    """Size of an int or Fraction in bits (numerator plus denominator)."""
    if isinstance(value, int):
        return value.bit_length()
    return value.numerator.bit_length() + value.denominator.bit_length()


def _bounded(value):
    if _bits(value) > MAX_BITS:
        raise _TooLarge
    return value


def _multiply(a, b):
    if _bits(a) + _bits(b) > MAX_BITS + 2:
        raise _TooLarge
    return _bounded(a * b)


def _power(a, b):
    if not isinstance(b, int) or b < 0 or b > MAX_EXPONENT:
        raise _Undefined
    if b > 1 and _bits(a) > 1 and (_bits(a) - 1) * b > MAX_BITS:
        raise _TooLarge
    return _bounded(a**b)


def _divide(op, a, b):
    if b == 0:
        raise _Undefined
    return op(a, b)


class Condition(NamedTuple):
    """A compiled constraint: call it with a mapping of names to integers."""

    text: str
    names: frozenset[str]
    test: Callable[[dict], bool]
    what: str = "--where"
    size: int = 1  # nodes in its tree: what one evaluation costs, for work estimates

    def __call__(self, env: dict) -> bool:
        try:
            return bool(self.test(env))
        except _Undefined:
            return False
        except _TooLarge:
            at = ", ".join(f"{name}={env[name]}" for name in sorted(self.names))
            raise BadInput(
                f"{self.what} {_quote(self.text)} computes a number larger than "
                f"2**{MAX_BITS} (at {at}); rewrite it with smaller numbers"
            ) from None


_SINGLE_EQUALS = re.compile(r"(?<![=<>!:])=(?!=)")  # k = 3, meant as k == 3


def compile_condition(text: str, allowed: tuple[str, ...], what: str = "--where") -> Condition:
    """`text` parsed into a Condition over the names `allowed` (BadInput otherwise); each
    compile is charged to the command's work budget."""
    charge(COMPILE_COST + len(text) if isinstance(text, str) else COMPILE_COST)
    return _compile_condition(text, allowed, what)


def _compile_condition(text, allowed, what) -> Condition:
    """Parse `text` into a Condition over the names in `allowed` (BadInput if it is not one)."""
    if len(text) > MAX_LENGTH:
        raise BadInput(
            f"{what} expression is {len(text)} characters long; the limit is {MAX_LENGTH}"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadInput(
            f"{what} {_quote(text)} holds a character that is not text (position "
            f"{exc.start + 1}: bytes that are not UTF-8?)"
        ) from None
    if "\0" in text:
        raise BadInput(f"{what} {_quote(text)} holds a NUL character")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        single = _SINGLE_EQUALS.search(text)
        if single:
            fixed = _SINGLE_EQUALS.sub("==", text)
            raise BadInput(
                f"{what} {_quote(text)}: '=' at column {single.start() + 1} assigns; "
                f"use == to compare, e.g. {_quote(fixed)}"
            ) from None
        col = f" at column {exc.offset}" if exc.offset else ""
        raise BadInput(f"{what} {_quote(text)} is not an expression{col}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise BadInput(f"{what} {_quote(text)} is nested too deeply") from None
    except ValueError as exc:
        raise BadInput(f"{what} {_quote(text)} is not an expression ({exc})") from None
    names: set[str] = set()
    body = tree.body
    if not isinstance(body, (ast.Compare, ast.BoolOp)) and not (
        isinstance(body, ast.UnaryOp) and isinstance(body.op, ast.Not)
    ):
        raise BadInput(
            f"{what} {_quote(text)} is not a constraint; compare something, e.g. 'k % 2 == 1' or 's == k'"
        )
    test = _build(body, allowed, names, text, what, 0)
    return Condition(
        text=text, names=frozenset(names), test=test, what=what, size=sum(1 for _ in ast.walk(body))
    )


def _build(node, allowed, names, text, what, depth):
    if depth > MAX_DEPTH:
        raise BadInput(f"{what} {_quote(text)} is nested too deeply (limit {MAX_DEPTH})")

    def sub(child):
        return _build(child, allowed, names, text, what, depth + 1)

    if isinstance(node, ast.Constant) and type(node.value) is int:
        value = node.value
        if _bits(value) > MAX_BITS:
            raise BadInput(f"{what} {_quote(text)} has a number larger than 2**{MAX_BITS}")
        return lambda env: value
    if isinstance(node, ast.Name):
        if node.id not in allowed:
            near = nearest_word(node.id, allowed)
            hint = f"did you mean {near}?" if near else f"choose from {', '.join(allowed)}"
            raise BadInput(f"{what} {_quote(text)} uses unknown name {node.id!r}; {hint}")
        name = node.id
        names.add(name)
        return lambda env: env[name]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = sub(node.left), sub(node.right)
        op = _BINARY[type(node.op)]
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        operand = sub(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda env: -operand(env)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return lambda env: not operand(env)
    if isinstance(node, ast.BoolOp):
        parts = [sub(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        terms = [sub(node.left)] + [sub(c) for c in node.comparators]
        ops = [_COMPARE[type(op)] for op in node.ops]

        def compare(env):
            values = [t(env) for t in terms]
            return all(op(a, b) for op, a, b in zip(ops, values, values[1:]))

        return compare
    raise BadInput(
        f"{what} {_quote(text)}: {_describe(node)} is not allowed; use whole numbers, the names "
        f"{', '.join(allowed)}, + - * / // % **, comparisons == != < <= > >=, and/or/not "
        "(e.g. 'k % 2 == 1' for odd k)"
    )


def quote(text: str) -> str:
    """The user's text for a message, shortened when long."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


_quote = quote
_WORDS = {
    ast.Is: "'is'",
    ast.IsNot: "'is not'",
    ast.In: "'in'",
    ast.NotIn: "'not in'",
    ast.BitAnd: "'&'",
    ast.BitOr: "'|'",
    ast.BitXor: "'^'",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.MatMult: "'@'",
    ast.Invert: "'~'",
}


def _describe(node) -> str:
    """What the user wrote, in their terms (never a parser's node name)."""
    if isinstance(node, ast.Compare):
        bad = next(op for op in node.ops if type(op) not in _COMPARE)
        return f"the operator {_WORDS.get(type(bad), type(bad).__name__)}"
    if isinstance(node, (ast.BinOp, ast.UnaryOp)) and type(node.op) in _WORDS:
        return f"the operator {_WORDS[type(node.op)]}"
    if isinstance(node, ast.Name):
        return f"the name {node.id!r}"
    if isinstance(node, ast.Attribute):
        return f"attribute access '.{node.attr}'"
    if isinstance(node, ast.Call):
        return "a function call"
    if isinstance(node, ast.Constant):
        return f"the constant {node.value!r}"
    return "this kind of expression"


_LAYER_WHERE = re.compile(r"^\s*(\d+)\s*:(.*)$", re.S)


def parse_where(items, n_layers: int):
    """--where texts: 'EXPR' for every window layer, 'N: EXPR' for layer N only."""
    everywhere: list[str] = []
    per_layer: dict[int, list[str]] = {}
    for text in items or ():
        m = _LAYER_WHERE.match(text)
        if m:
            n = int(m.group(1)) if len(m.group(1)) <= 9 else n_layers + 1
            if not 1 <= n <= n_layers:
                number = m.group(1) if len(m.group(1)) <= 12 else quote(m.group(1))
                raise BadInput(
                    f"--where {quote(text)} names layer {number}; the plan has "
                    f"layers 1 to {n_layers}"
                )
            per_layer.setdefault(n, []).append(m.group(2).strip())
        else:
            everywhere.append(text)
    conditions = [compile_condition(text, WINDOW_VARIABLES) for text in everywhere]
    for c in conditions:
        if not c.names:
            raise BadInput(f"--where {c.text!r} mentions none of {', '.join(WINDOW_VARIABLES)}")
    return conditions, per_layer
