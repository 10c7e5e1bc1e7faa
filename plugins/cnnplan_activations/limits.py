"""Defaults and bounds shared by the commands and the solvers (no numpy here)."""

from __future__ import annotations

from cnnplan import BadInput

DEFAULT_SAMPLES = 1000
MAX_SAMPLES = 100_000       # random samples per identity / inputs per conversion check
MAX_SEED = 2**32 - 1
ACTIVATIONS = ("sigmoid", "tanh")


def check_samples(samples) -> int:
    """`samples` as an int in 1..MAX_SAMPLES, or BadInput."""
    if isinstance(samples, bool) or not isinstance(samples, int):
        raise BadInput(f"--samples must be a whole number, not {samples!r}")
    if not 1 <= samples <= MAX_SAMPLES:
        raise BadInput(f"--samples must be between 1 and {MAX_SAMPLES} (got {samples})")
    return samples


def check_seed(seed) -> int:
    """`seed` as an int in 0..MAX_SEED, or BadInput."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise BadInput(f"--seed must be a whole number, not {seed!r}")
    if not 0 <= seed <= MAX_SEED:
        raise BadInput(f"--seed must be between 0 and {MAX_SEED} (got {seed})")
    return seed
