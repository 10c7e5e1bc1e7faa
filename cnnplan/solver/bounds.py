"""The search bounds `solve`, `plan` and `shapes` share: lower limits, default and user upper
bounds, and the domains of k, s, p, d the enumerators walk."""

from __future__ import annotations

from ..platform.errors import BadInput
from .search import VARIABLES

LOWER = {"k": 1, "s": 1, "p": 0, "d": 1}
MAX_BOUND = 10_000  # largest --max accepted for any variable
DEFAULT_CAP = 256  # default bounds follow the input size, up to this
MAX_SOLUTIONS = 250_000  # solutions one layer question may enumerate


def default_bounds(inputs: tuple[int, ...]) -> dict[str, int]:
    """Upper bounds used when none is given: the largest input size, capped at DEFAULT_CAP."""
    top = min(max(inputs), DEFAULT_CAP)
    return {"k": top, "s": top, "p": top, "d": top}


def resolve_bounds(
    inputs, fixed: dict[str, int], maxima: dict[str, int]
) -> dict[str, tuple[int, int]]:
    """Inclusive (lo, hi) per variable: defaults, then --max, then room for --fix values."""
    bounds = {}
    defaults = default_bounds(inputs)
    for name in VARIABLES:
        lo, hi = LOWER[name], maxima.get(name, defaults[name])
        if name in maxima:
            check_value("--max", name, hi)
        if name in fixed:
            value = check_value("--fix", name, fixed[name])
            if value > hi and name in maxima:
                raise BadInput(f"--fix {name}={value} is outside --max {name}={hi}")
            hi = max(hi, value)
        bounds[name] = (lo, hi)
    return bounds


def check_value(option: str, name: str, value: int) -> int:
    """A --max or --fix value within [LOWER, MAX_BOUND]."""
    if value < LOWER[name]:
        raise BadInput(
            f"{option} {name}={value} is below {LOWER[name]}; {name} needs >= {LOWER[name]}"
        )
    if value > MAX_BOUND:
        raise BadInput(f"{option} {name}={value} is above the limit {MAX_BOUND}")
    return value


def make_domains(bounds, fixed) -> dict[str, list[int]]:
    """Search domains: a fixed value alone, else every value of its inclusive bounds."""
    return {
        name: [fixed[name]] if name in fixed else list(range(lo, hi + 1))
        for name, (lo, hi) in bounds.items()
    }
