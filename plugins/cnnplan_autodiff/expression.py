"""The expression language: user text parsed with Python's `ast` under a whitelist.

Only numbers, names, + - * / **, unary minus and plus, parentheses and calls of the known
functions pass; everything else (attributes, subscripts, lambdas, comprehensions, strings,
keywords, comparisons...) is rejected with the column where it starts. The text is never
evaluated: the whitelisted `ast` is copied into the small tree below.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

from cnnplan import BadInput

MAX_LENGTH = 1000
MAX_DEPTH = 100
FUNCTIONS = ("abs", "cos", "exp", "ln", "log", "relu", "sigmoid", "sin", "sqrt", "tan", "tanh")
ALIASES = {"log": "ln"}
CONSTANTS = {"pi": math.pi, "e": math.e}
BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
LANGUAGE = ("numbers, variables, + - * / ** (powers), unary minus, parentheses, the constants "
            "pi and e, and the functions " + ", ".join(FUNCTIONS))


@dataclass(frozen=True)
class Number:
    """A literal number (a unary minus on a literal is folded into it)."""

    value: float
    col: int


@dataclass(frozen=True)
class Constant:
    """A named constant: pi or e."""

    name: str
    col: int


@dataclass(frozen=True)
class Variable:
    """A name that must get its value from --at."""

    name: str
    col: int


@dataclass(frozen=True)
class Apply:
    """An operation (add, sub, mul, div, pow, neg) or a function call, on its arguments."""

    op: str
    args: tuple
    col: int


def parse(text: str):
    """Parse `text` into a tree of Number, Constant, Variable and Apply; BadInput if not allowed."""
    if not isinstance(text, str):
        raise BadInput("the expression must be text")
    if len(text) > MAX_LENGTH:
        raise BadInput(f"the expression is too long ({len(text):,} characters; the limit is "
                       f"{MAX_LENGTH:,})")
    if not text.strip():
        raise BadInput("the expression is empty")
    bad = next((i for i, ch in enumerate(text) if ch in "\r\n\t\f\v" or not ch.isprintable()), None)
    if bad is not None:
        raise BadInput(f"the expression must be one line of printable text (column {bad + 1})")
    stripped = text.strip()
    shift = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        raise BadInput(_syntax_message(exc, stripped, shift)) from None
    except (RecursionError, MemoryError):
        raise BadInput(f"the expression is nested too deeply (the limit is {MAX_DEPTH} levels)") \
            from None
    _check_depth(tree.body, shift)
    return _convert(tree.body, shift)


_IMPLICIT_PRODUCT = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?)([A-Za-z_]\w*)")


def _syntax_message(exc: SyntaxError, text: str, shift: int) -> str:
    product = _IMPLICIT_PRODUCT.search(text)
    if product:  # '2x' reads as a malformed number to Python ("invalid decimal literal")
        number, name = product.groups()
        return (f"{number}{name!s} at column {product.start() + 1 + shift} is not a number: "
                f"write {number}*{name} for a product")
    offset = exc.offset if exc.offset and 1 <= exc.offset <= len(text) else len(text) + 1
    where = "at the end" if offset > len(text) else f"at column {offset + shift}"
    return f"syntax error in the expression {where}: {exc.msg}"


def _check_depth(node: ast.AST, shift: int):
    """Reject trees deeper than MAX_DEPTH (iteratively, before any recursive walk)."""
    stack = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadInput(f"the expression is nested too deeply at column "
                           f"{_col(item, shift)} (the limit is {MAX_DEPTH} levels)")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(item)
                     if isinstance(child, ast.expr))


def _col(node: ast.AST, shift: int) -> int:
    return getattr(node, "col_offset", 0) + 1 + shift


def _convert(node: ast.AST, shift: int):
    col = _col(node, shift)
    if isinstance(node, ast.Constant):
        return Number(_number(node.value, col), col)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return Constant(node.id, col)
        if node.id in FUNCTIONS:
            raise BadInput(f"{node.id} at column {col} is a function: call it, e.g. {node.id}(x1)")
        return Variable(node.id, col)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _convert(node.operand, shift)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(operand, Number):
            return Number(-operand.value, col)
        return Apply("neg", (operand,), col)
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        return Apply(BINARY[type(node.op)], (_convert(node.left, shift),
                                             _convert(node.right, shift)), col)
    if isinstance(node, ast.Call):
        return _call(node, shift, col)
    raise BadInput(f"{_describe(node)} at column {col} is not allowed; expressions use {LANGUAGE}")


def _number(value, col: int) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "complex number" if isinstance(value, complex) else type(value).__name__
        raise BadInput(f"a {kind} at column {col} is not allowed; only real numbers are")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise BadInput(f"the number at column {col} is too large for a float")
    return number


def _call(node: ast.Call, shift: int, col: int) -> Apply:
    if not isinstance(node.func, ast.Name):
        raise BadInput(f"{_describe(node.func)} at column {_col(node.func, shift)} cannot be "
                       f"called; only the functions {', '.join(FUNCTIONS)} can")
    name = node.func.id
    if name not in FUNCTIONS:
        raise BadInput(f"unknown function '{name}' at column {col}; known functions: "
                       f"{', '.join(FUNCTIONS)}")
    if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
        raise BadInput(f"{name} at column {col} takes exactly one argument, e.g. {name}(x1)")
    return Apply(ALIASES.get(name, name), (_convert(node.args[0], shift),), col)


_DESCRIPTIONS = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripting", ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a comprehension",
    ast.Compare: "a comparison", ast.BoolOp: "a boolean operator ('and'/'or')",
    ast.IfExp: "a conditional expression", ast.NamedExpr: "an assignment (:=)",
    ast.Tuple: "a tuple (several expressions)", ast.List: "a list", ast.Dict: "a dict",
    ast.Set: "a set", ast.JoinedStr: "an f-string", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.Starred: "unpacking (*)", ast.Slice: "a slice",
}
_OPERATORS = {
    ast.BitXor: "'^' (write ** for powers)", ast.FloorDiv: "'//'", ast.Mod: "'%'",
    ast.MatMult: "'@'", ast.BitAnd: "'&'", ast.BitOr: "'|'", ast.LShift: "'<<'",
    ast.RShift: "'>>'", ast.Invert: "'~'", ast.Not: "'not'",
}


def _describe(node: ast.AST) -> str:
    op = getattr(node, "op", None)
    if op is not None and type(op) in _OPERATORS:
        return f"the operator {_OPERATORS[type(op)]}"
    return _DESCRIPTIONS.get(type(node), type(node).__name__)


def variables(tree) -> list[Variable]:
    """Every Variable in the tree, in order of appearance (repeats included)."""
    found = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Variable):
            found.append(node)
        elif isinstance(node, Apply):
            stack.extend(reversed(node.args))
    return found


def functions_used(tree) -> set[str]:
    """The names of the operations and functions the tree applies."""
    used = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Apply):
            used.add(node.op)
            stack.extend(node.args)
    return used
