"""Defaults and bounds shared by the commands and the solvers (no numpy here)."""

from __future__ import annotations

import operator

from cnnplan import BadInput

DEFAULT_SAMPLES = 1000
MAX_SAMPLES = 100_000       # random samples per identity / inputs per conversion check
MAX_SEED = 2**32 - 1
MAX_CHECK_WORK = 200_000_000  # samples x parameters of a conversion check (about a second)
ACTIVATIONS = ("sigmoid", "tanh")


def _whole(value, option: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise BadInput(f"{option} must be a whole number, not {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise BadInput(f"{option} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise BadInput(f"{option} must be between {low} and {high} (got {number})")
    return number


def check_samples(samples) -> int:
    """`samples` as an int in 1..MAX_SAMPLES, or BadInput."""
    return _whole(samples, "--samples", 1, MAX_SAMPLES)


def check_seed(seed) -> int:
    """`seed` as an int in 0..MAX_SEED, or BadInput."""
    return _whole(seed, "--seed", 0, MAX_SEED)


NOISE = 1e-12   # a residual below this is rounding noise: shown as "< 1e-12"


class Residual(float):
    """An error that is rounding noise when tiny: text formats show '< 1e-12' for 0 < |x| <
    NOISE (its digits differ between machines), JSON keeps the number."""

    def __format__(self, spec: str) -> str:
        if 0 < abs(self) < NOISE:
            return f"< {NOISE:g}"
        return float.__format__(float(self), spec)
