"""The derivative sweeps over a primal trace: forward (tangents) and reverse (adjoints).

Forward: v̇_i = Σ_j ∂v_i/∂v_j v̇_j, inputs seeded with ẋ. Reverse: v̄_l = ȳ = 1, then for
i = l..1 and each input-dependent argument v_j of v_i (left to right, once per distinct
argument) v̄_j = v̄_i ∂v_i/∂v_j on its first contribution and v̄_j = v̄_j + v̄_i ∂v_i/∂v_j after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Mapping

from cnnplan import BadInput

from .notation import TEXT
from .primal import Primal, step_text
from .trace import Trace


def forward(trace: Trace, primal: Primal, seed: Mapping[str, float]) -> dict[int, float]:
    """Tangent v̇_k of every trace variable for the seed direction ẋ (passive steps: 0)."""
    tangents = {node.index: float(seed.get(node.name, 0.0)) for node in trace.inputs}
    for node in trace.steps:
        local = primal.partials[node.index]
        value = sum((local[p] * tangents[a] for p, a in trace.active_args(node)), 0.0)
        if not math.isfinite(value):
            raise BadInput(f"overflow in the tangent trace at {TEXT.vdot(node.index)} (the "
                           f"tangent of {step_text(trace, node)}): the value is too large "
                           "for a float")
        tangents[node.index] = value
    return tangents


@dataclass(frozen=True)
class Contribution:
    """One line of the reverse sweep: v̄_target (+)= v̄_source ∂v_source/∂v_target."""

    target: int
    source: int
    positions: tuple[int, ...]   # where v_target appears among v_source's arguments
    partial: float               # ∂v_source/∂v_target (summed over those positions)
    accumulate: bool             # v̄_target already had a contribution
    value: float                 # v̄_target after this line


def reverse(trace: Trace, primal: Primal) -> tuple[dict[int, float], list[Contribution]]:
    """Final adjoints v̄_k of the active variables, and the sweep's lines in execution order."""
    adjoints = {trace.output: 1.0}
    lines: list[Contribution] = []
    for node in reversed(trace.steps):
        if not node.active:
            continue
        local = primal.partials[node.index]
        by_target: dict[int, list[int]] = {}
        for p, a in trace.active_args(node):
            by_target.setdefault(a, []).append(p)
        for target, positions in by_target.items():
            partial = sum(local[p] for p in positions)
            accumulate = target in adjoints
            value = adjoints.get(target, 0.0) + adjoints[node.index] * partial
            if not math.isfinite(value):
                raise BadInput(f"overflow in the adjoint trace at {TEXT.vbar(target)} (from "
                               f"{step_text(trace, node)}): the value is too large for a float")
            adjoints[target] = value
            lines.append(Contribution(target, node.index, tuple(positions), partial,
                                      accumulate, value))
    return adjoints, lines
