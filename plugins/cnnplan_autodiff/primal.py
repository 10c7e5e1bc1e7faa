"""The primal (forward evaluation) sweep: each step's value and its local partial derivatives.

Any domain error, overflow or non-differentiable point is a BadInput naming the trace step,
never a silent inf or nan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Mapping

from cnnplan import BadInput

from .notation import TEXT, number_text
from .ops import OPS, DomainError
from .trace import Leaf, Node, Trace, definition


@dataclass(frozen=True)
class Primal:
    """Values v_k of every trace variable and, per step, ∂v_i/∂(argument) by position
    (None for arguments that depend on no input)."""

    values: dict[int, float]
    partials: dict[int, tuple]


def step_text(trace: Trace, node: Node) -> str:
    """`v1 = ln v-1`, for messages."""
    return f"{TEXT.v(node.index)} = {definition(trace, node, TEXT)}"


def _where(trace: Trace, node: Node, values: dict[int, float]) -> str:
    """`v2 = ln v1 (v1 = -1)`: the step and the values of its variable arguments."""
    shown = [f"{TEXT.v(a)} = {number_text(values[a])}" for a in dict.fromkeys(node.args)
             if isinstance(a, int)]
    return step_text(trace, node) + (f" ({', '.join(shown)})" if shown else "")


def evaluate(trace: Trace, point: Mapping[str, float]) -> Primal:
    """Run the primal trace at `point` (values for every input name)."""
    values = {node.index: float(point[node.name]) for node in trace.inputs}
    partials: dict[int, tuple] = {}
    for node in trace.steps:
        args = [a.value if isinstance(a, Leaf) else values[a] for a in node.args]
        values[node.index] = _value(trace, node, args, values)
        partials[node.index] = _partials(trace, node, args, values)
    return Primal(values, partials)


def _value(trace: Trace, node: Node, args: list[float], values: dict[int, float]) -> float:
    try:
        value = OPS[node.op].value(*args)
    except DomainError as exc:
        raise BadInput(f"domain error at {_where(trace, node, values)}: {exc}") from None
    except ValueError:
        raise BadInput(f"domain error at {_where(trace, node, values)}: outside the domain "
                       f"of {node.op}") from None
    except (OverflowError, ZeroDivisionError):
        value = math.inf
    if not math.isfinite(value):
        raise BadInput(f"overflow at {_where(trace, node, values)}: the value is too large "
                       "for a float")
    return value


def _partials(trace: Trace, node: Node, args: list[float], values: dict[int, float]) -> tuple:
    """∂v_i/∂argument for the arguments that depend on an input, None for the others."""
    active = {p for p, _ in trace.active_args(node)}
    if not active:
        return (None,) * len(args)
    try:
        local = OPS[node.op].partials(*args, values[node.index])
    except (ZeroDivisionError, ValueError):
        local = (math.nan,) * len(args)
    except OverflowError:
        local = (math.inf,) * len(args)
    local = tuple(d if p in active else None for p, d in enumerate(local))
    if any(d is not None and math.isnan(d) for d in local):
        raise BadInput(f"not differentiable at {_where(trace, node, values)}: the derivative "
                       f"of {node.op} does not exist there")
    if any(d is not None and math.isinf(d) for d in local):
        raise BadInput(f"overflow at {_where(trace, node, values)}: the derivative is too "
                       "large for a float")
    return local
