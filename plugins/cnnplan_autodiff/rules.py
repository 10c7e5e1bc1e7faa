"""How tangent and adjoint lines are written (v̇2 = v̇-1 × v0 + v-1 × v̇0, v̄0 = v̄0 + v̄2 × v-1)."""

from __future__ import annotations

from .notation import Notation
from .ops import OPS, forms, signed_sum
from .primal import Primal
from .sweeps import Contribution
from .trace import Leaf, Node, Trace, sym


def _forms(trace: Trace, node: Node, primal: Primal, n: Notation) -> tuple:
    syms = tuple(sym(a, n) for a in node.args)
    values = tuple(a.value if isinstance(a, Leaf) else primal.values[a] for a in node.args)
    return forms(OPS[node.op], n, syms, values)


def tangent_rule(trace: Trace, node: Node, primal: Primal, n: Notation) -> str:
    """The right-hand side of v̇_i = ...: ẋ1 for an input, 0 for a passive step."""
    if node.is_input:
        return n.xdot(node.name)
    if not node.active:
        return "0"
    written = _forms(trace, node, primal, n)
    return signed_sum([written[p].tangent(n.vdot(a), n) for p, a in trace.active_args(node)])


def adjoint_rule(line: Contribution, n: Notation) -> str:
    """v̄_j = v̄_i ∂v_i/∂v_j, or v̄_j + v̄_i ∂v_i/∂v_j when accumulating."""
    term = f"{n.vbar(line.source)} {n.partial(line.source, line.target)}"
    return f"{n.vbar(line.target)} + {term}" if line.accumulate else term


def adjoint_expanded(trace: Trace, line: Contribution, primal: Primal, n: Notation) -> str:
    """The same line with the partial written out: v̄-1 + v̄1 / v-1."""
    written = _forms(trace, trace.node(line.source), primal, n)
    terms = [written[p].adjoint(n.vbar(line.source), n) for p in line.positions]
    if line.accumulate:
        terms.insert(0, (1, n.vbar(line.target)))
    return signed_sum(terms)
