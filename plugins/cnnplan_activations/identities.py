"""The identities of questions 1-3: what each one claims, in text and LaTeX (data only).

How each is checked numerically lives in `checks.py`, keyed by the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnplan import BadInput


@dataclass(frozen=True)
class Identity:
    """One claim: its name, the assignment question, its statement, and the sheet's error.

    `sheet` is "" where the answer sheet states it correctly, else what the sheet got wrong.
    """

    name: str
    question: str
    statement: str
    latex: str
    sheet: str = ""


IDENTITIES = (
    Identity(
        "relu-derivative", "1.1",
        "d/dx max(0, x) = H(x) for every x != 0; at x = 0 the one-sided derivatives are 0 "
        "and 1, so none exists",
        r"\frac{d}{dx}\max(0, x) = H(x) \text{ for } x \neq 0"
        r"\text{; at } x = 0 \text{ the one-sided derivatives are 0 and 1}",
    ),
    Identity(
        "relu-x-step", "1.2",
        "max(0, x) = x H(x) for every real x",
        r"\max(0, x) = x\,H(x)",
    ),
    Identity(
        "relu-step-integral", "1.2",
        "max(0, x) = integral of H(t) dt from -inf to x",
        r"\max(0, x) = \int_{-\infty}^{x} H(t)\,dt",
        "the sheet integrates from -inf to +inf, which diverges for every x; the upper limit "
        "must be x",
    ),
    Identity(
        "sigmoid-step-limit", "1.3",
        "1/(1 + exp(-kx)) -> H(x) as k -> inf, for every x (pointwise; not uniformly near 0)",
        r"\lim_{k \to \infty} \frac{1}{1 + e^{-kx}} = H(x)",
    ),
    Identity(
        "softmax-shift", "2.1",
        "S(x + c) = S(x) for every scalar c",
        r"S(\mathbf{x} + c) = S(\mathbf{x})",
    ),
    Identity(
        "softmax-scale", "2.2",
        "S(cx) != S(x) in general; S(0x) = (1/K, ..., 1/K); as c -> inf S(cx) tends to the "
        "argmax indicator, shared equally among tied maxima",
        r"S(c\mathbf{x}) \neq S(\mathbf{x})\text{; } S(0\mathbf{x})_i = \tfrac{1}{K}\text{; }"
        r"\lim_{c \to \infty} S(c\mathbf{x})_i = \frac{[x_i = \max_j x_j]}"
        r"{|\{j : x_j = \max_l x_l\}|}",
        "the sheet's c -> inf case says S_i -> 1 if x_i > x_j; that needs x_i > x_j for every "
        "j != i, and m tied maxima get 1/m each",
    ),
    Identity(
        "softmax-two-class", "2.3",
        "S([x1, x2]) = [sigmoid(z), 1 - sigmoid(z)] with z = x1 - x2",
        r"S([x_1, x_2]^\top) = [\sigma(z), 1 - \sigma(z)]^\top,\ z = x_1 - x_2",
    ),
    Identity(
        "softmax-k-minus-1", "2.4",
        "S(x) = S([0, y_1, ..., y_(K-1)]) with y_i = x_(i+1) - x_1: K - 1 numbers suffice",
        r"S(\mathbf{x}) = S([0, y_1, \dots, y_{K-1}]^\top),\ y_i = x_{i+1} - x_1",
    ),
    Identity(
        "sigmoid-tanh", "3",
        "sigmoid(a) = (tanh(a/2) + 1)/2, equivalently tanh(a) = 2 sigmoid(2a) - 1",
        r"\sigma(a) = \frac{\tanh(a/2) + 1}{2},\quad \tanh(a) = 2\sigma(2a) - 1",
    ),
    Identity(
        "network-sigmoid-tanh", "3",
        "W2 sigmoid(W1 x + b1) + b2 = W2' tanh(W1' x + b1') + b2' with W1' = W1/2, "
        "b1' = b1/2, W2' = W2/2, b2' = b2 + 1/2 sum_j W2[:, j]",
        r"W_2\,\sigma(W_1 x + b_1) + b_2 = W_2' \tanh(W_1' x + b_1') + b_2',\ "
        r"W_1' = \tfrac{1}{2} W_1,\ b_1' = \tfrac{1}{2} b_1,\ W_2' = \tfrac{1}{2} W_2,\ "
        r"b_2' = b_2 + \tfrac{1}{2} \textstyle\sum_j W_2[:, j]",
        "the sheet's last definition has omega^(2)_k0 on its left; it must be the new bias: "
        "tilde-omega^(2)_k0 = omega^(2)_k0 + 1/2 sum_j omega^(2)_kj",
    ),
)

BY_NAME = {identity.name: identity for identity in IDENTITIES}


def select(name: str) -> tuple[Identity, ...]:
    """The identity called `name`, or all of them for "all"; BadInput listing the choices."""
    if name == "all":
        return IDENTITIES
    try:
        return (BY_NAME[name],)
    except KeyError:
        shown = name if len(name) <= 60 else name[:60] + "..."
        raise BadInput(
            f"unknown identity {shown!r}; choose one of: all, {', '.join(BY_NAME)}"
        ) from None
