"""The 2-layer network y = W2 act(W1 x + b1) + b2 and its exact sigmoid <-> tanh conversion.

sigmoid(a) = (tanh(a/2) + 1)/2 turns a sigmoid network into a tanh one with the same outputs
(Bishop, PRML exercise 5.1); tanh(a) = 2 sigmoid(2a) - 1 turns it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .functions import ACTIVATIONS

TOLERANCE = 1e-9            # largest accepted max|y - y'| / max|y|
BATCH_VALUES = 2**21        # floats per intermediate array when comparing (16 MiB)
KEYS = ("W1", "b1", "W2", "b2")


class Network(NamedTuple):
    """Parameters of y = W2 act(W1 x + b1) + b2: W1 (M x D), b1 (M), W2 (K x M), b2 (K)."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray

    @property
    def sizes(self) -> tuple[int, int, int]:
        """(D inputs, M hidden units, K outputs)."""
        return self.W1.shape[1], self.W1.shape[0], self.W2.shape[0]


def forward(net: Network, activation: str, x) -> np.ndarray:
    """Outputs for inputs x (N x D), one row per input."""
    hidden = ACTIVATIONS[activation](np.asarray(x, dtype=float) @ net.W1.T + net.b1)
    return hidden @ net.W2.T + net.b2


def sigmoid_to_tanh(net: Network) -> Network:
    """The tanh network with the same outputs: halve W1, b1, W2; b2 + 1/2 sum_j W2[:, j]."""
    return Network(net.W1 / 2, net.b1 / 2, net.W2 / 2, net.b2 + net.W2.sum(axis=1) / 2)


def tanh_to_sigmoid(net: Network) -> Network:
    """The inverse: double W1, b1, W2; b2 - sum_j W2[:, j]."""
    return Network(net.W1 * 2, net.b1 * 2, net.W2 * 2, net.b2 - net.W2.sum(axis=1))


@dataclass(frozen=True)
class Rule:
    """How one parameter of the converted network is computed, in text and LaTeX."""

    parameter: str
    text: str
    latex: str


CONVERSIONS = {
    ("sigmoid", "tanh"): (
        sigmoid_to_tanh,
        "sigmoid(a) = (tanh(a/2) + 1)/2",
        r"\sigma(a) = \frac{\tanh(a/2) + 1}{2}",
        (Rule("W1", "W1' = W1/2", r"W_1' = \tfrac{1}{2} W_1"),
         Rule("b1", "b1' = b1/2", r"b_1' = \tfrac{1}{2} b_1"),
         Rule("W2", "W2' = W2/2", r"W_2' = \tfrac{1}{2} W_2"),
         Rule("b2", "b2' = b2 + 1/2 sum_j W2[:, j]",
              r"b_2' = b_2 + \tfrac{1}{2} \textstyle\sum_j W_2[:, j]")),
    ),
    ("tanh", "sigmoid"): (
        tanh_to_sigmoid,
        "tanh(a) = 2 sigmoid(2a) - 1",
        r"\tanh(a) = 2\sigma(2a) - 1",
        (Rule("W1", "W1' = 2 W1", r"W_1' = 2 W_1"),
         Rule("b1", "b1' = 2 b1", r"b_1' = 2 b_1"),
         Rule("W2", "W2' = 2 W2", r"W_2' = 2 W_2"),
         Rule("b2", "b2' = b2 - sum_j W2[:, j]", r"b_2' = b_2 - \textstyle\sum_j W_2[:, j]")),
    ),
}


def convert(net: Network, source: str, target: str) -> Network:
    """The `target`-activation network equivalent to the `source`-activation `net`."""
    return CONVERSIONS[(source, target)][0](net)


@dataclass(frozen=True)
class Agreement:
    """How closely two networks agree on the same inputs."""

    max_abs_error: float        # max |y - y'|
    max_abs_output: float       # max |y|
    relative_error: float       # max |y - y'| / max |y|  (0 when both are 0)

    @property
    def passed(self) -> bool:
        return self.relative_error <= TOLERANCE


def agreement(error: float, scale: float) -> Agreement:
    """An Agreement from max |y - y'| and max |y| (nan stays nan: a failure)."""
    relative = error / scale if scale > 0 else (0.0 if error == 0 else float("inf"))
    return Agreement(error, scale, relative)


def batch_rows(*nets: Network) -> int:
    """Inputs per batch so that no intermediate array exceeds BATCH_VALUES floats."""
    return max(1, BATCH_VALUES // max(max(net.sizes) for net in nets))


def random_inputs(rng, samples: int, inputs: int, rows: int | None = None):
    """`samples` standard-normal input vectors of length `inputs`, in batches of `rows`.

    The batches concatenate to the single draw rng.standard_normal((samples, inputs)).
    """
    rows = rows or samples
    for start in range(0, samples, rows):
        yield rng.standard_normal((min(rows, samples - start), inputs))


def compare(net: Network, source: str, other: Network, target: str, batches) -> Agreement:
    """Evaluate `net` with `source` and `other` with `target` on each batch of inputs (an
    array, or an iterable of arrays) and compare the outputs.

    Outputs that overflow become inf/nan and make the relative error non-finite (a failure).
    """
    if isinstance(batches, np.ndarray):
        batches = [batches]
    error = scale = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for x in batches:
            if not len(x):
                continue
            y, y2 = forward(net, source, x), forward(other, target, x)
            error = float(np.maximum(error, np.max(np.abs(y - y2))))
            scale = float(np.maximum(scale, np.max(np.abs(y))))
    return agreement(error, scale)
