"""The evaluation trace: inputs v_{1-n}..v_0 and intermediates v_1..v_l, as in Baydin et al.

Intermediates are ordered level by level (a variable comes after everything it depends on,
its level being one more than its deepest argument's), left to right within a level (by where
the subexpression first starts in the text). A repeated subexpression is one variable.
Numbers and the constants pi and e stay inline as operands; operations on constants alone are
steps too (so `exp(1000)` has a step to blame) but are passive: they have no tangent or adjoint
to carry, only the steps that depend on an input are active.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .expression import Apply, Constant, Number, Variable, CONSTANTS
from .notation import Notation, Sym
from .ops import OPS, power_op


@dataclass(frozen=True)
class Leaf:
    """An inline constant operand: a number, or pi / e (`name`)."""

    value: float
    name: str = ""


@dataclass(frozen=True)
class Node:
    """One trace variable v_index: an input (op 'input', `name` its variable) or a step."""

    index: int
    op: str
    args: tuple = ()
    active: bool = True
    name: str = ""

    @property
    def is_input(self) -> bool:
        return self.op == "input"


@dataclass(frozen=True)
class Trace:
    """Inputs (x1 = v_{1-n} first), intermediate steps v_1..v_l, and the output's index."""

    inputs: tuple[Node, ...]
    steps: tuple[Node, ...]
    output: int

    def node(self, index: int) -> Node:
        n = len(self.inputs)
        return self.inputs[index + n - 1] if index <= 0 else self.steps[index - 1]

    @property
    def nodes(self) -> tuple[Node, ...]:
        return self.inputs + self.steps

    def active_args(self, node: Node) -> list[tuple[int, int]]:
        """(position, index) of the arguments of `node` that depend on an input."""
        return [(p, a) for p, a in enumerate(node.args)
                if isinstance(a, int) and self.node(a).active]


@dataclass
class _Pending:
    op: str
    args: tuple
    level: int
    order: int
    active: bool


def build(tree, names: list[str]) -> Trace:
    """The trace of a parsed expression over the inputs `names` (in trace order)."""
    n = len(names)
    inputs = tuple(Node(i + 1 - n, "input", name=name) for i, name in enumerate(names))
    position = {name: node.index for name, node in zip(names, inputs)}
    pending: dict[tuple, _Pending] = {}
    counter = itertools.count()

    def visit(item):
        """-> (key, operand) where operand is a Leaf, an input index, or a pending key."""
        if isinstance(item, Number):
            leaf = Leaf(item.value)
            return ("leaf", leaf), leaf
        if isinstance(item, Constant):
            leaf = Leaf(CONSTANTS[item.name], item.name)
            return ("leaf", leaf), leaf
        if isinstance(item, Variable):
            return ("input", item.name), position[item.name]
        assert isinstance(item, Apply)
        order = next(counter)
        children = [visit(arg) for arg in item.args]
        key = (item.op, tuple(k for k, _ in children))
        if key not in pending:
            levels = [pending[k].level if k in pending else 0 for k, _ in children
                      if k[0] != "leaf"]
            active = [k[0] == "input" or (k in pending and pending[k].active)
                      for k, _ in children]
            op = power_op(*active) if item.op == "pow" else item.op
            pending[key] = _Pending(op, tuple(c for _, c in children), 1 + max(levels, default=0),
                                    order, any(active))
        return key, key

    _, root = visit(tree)
    ranked = sorted(pending, key=lambda k: (pending[k].level, pending[k].order))
    index = {key: i + 1 for i, key in enumerate(ranked)}

    def resolve(operand):
        return index[operand] if isinstance(operand, tuple) else operand

    steps = tuple(Node(index[key], pending[key].op, tuple(resolve(a) for a in pending[key].args),
                       pending[key].active) for key in ranked)
    if isinstance(root, Leaf):
        raise ValueError("a constant expression has no trace")
    return Trace(inputs, steps, resolve(root))


def sym(operand, n: Notation) -> Sym:
    """An operand as written: v_k for a trace variable, the number or constant otherwise."""
    if isinstance(operand, Leaf):
        return n.constant(operand.name) if operand.name else n.number(operand.value)
    return Sym(n.v(operand), node=True)


def definition(trace: Trace, node: Node, n: Notation) -> str:
    """The right-hand side of v_i = ...: `x1` for an input, `ln v-1` for a step."""
    if node.is_input:
        return n.x(node.name)
    return OPS[node.op].show(n, *(sym(a, n) for a in node.args))
