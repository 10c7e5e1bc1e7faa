"""Numeric checks of the identities in `identities.py`: random samples in, Evidence out.

Each check takes a numpy Generator and a sample count and returns the largest error it saw,
the tolerance it holds that error to, tables of supporting numbers and notes stating what
the numbers show. Pure: no I/O, no click.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from cnnplan import Table

from .functions import heaviside, relu, sigmoid, softmax, softmax_textbook, tanh
from .network import TOLERANCE as NETWORK_TOLERANCE
from .network import Network, compare, sigmoid_to_tanh, tanh_to_sigmoid
from .limits import Residual

ROUNDING = 1e-12            # tolerance for identities that hold up to float64 rounding


@dataclass(frozen=True)
class Evidence:
    """What a check measured: max |lhs - rhs| (or the relative error), against a tolerance."""

    method: str
    max_error: float
    tolerance: float
    passed: bool
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    data: dict = field(default_factory=dict)
    measure: str = "max abs error"      # what max_error is


def max_abs(a, b) -> float:
    """max |a - b| over all entries (0 for empty arrays)."""
    diff = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    return float(np.max(diff)) if diff.size else 0.0


def random_vectors(rng, samples: int, scale: float = 10.0, integers: bool = False):
    """`samples` random vectors of random length K in 2..10, as one (n x K) array per K.

    Entries are uniform in [-scale, scale], or integers 0..4 (so ties are common).
    """
    lengths = rng.integers(2, 11, size=samples)
    groups = []
    for k in np.unique(lengths):
        n = int(np.sum(lengths == k))
        groups.append(rng.integers(0, 5, size=(n, k)).astype(float) if integers
                      else rng.uniform(-scale, scale, size=(n, k)))
    return groups


def _verdict(passed_parts) -> bool:
    return bool(all(passed_parts))


# Question 1 -------------------------------------------------------------------------------

EPSILON = 1e-6              # step of the difference quotients away from 0
STEPS_AT_ZERO = tuple(10.0 ** -n for n in range(1, 9))


def check_relu_derivative(rng, samples: int) -> Evidence:
    """One-sided difference quotients of max(0, x) against H(x), and both of them at x = 0."""
    x = rng.uniform(1e-3, 10.0, samples) * rng.choice((-1.0, 1.0), samples)
    forward_q = (relu(x + EPSILON) - relu(x)) / EPSILON
    backward_q = (relu(x) - relu(x - EPSILON)) / EPSILON
    error = max(max_abs(forward_q, heaviside(x)), max_abs(backward_q, heaviside(x)))
    steps = np.array(STEPS_AT_ZERO)
    left = (relu(0.0) - relu(-steps)) / steps
    right = (relu(steps) - relu(0.0)) / steps
    tol = 1e-6
    passed = _verdict([error <= tol, max_abs(left, 0.0) <= tol, max_abs(right, 1.0) <= tol])
    rows = tuple((float(e), float(lq), float(rq)) for e, lq, rq in zip(steps, left, right))
    return Evidence(
        method=f"{samples} random x with 0.001 <= |x| <= 10: forward and backward difference "
               f"quotients with eps = {EPSILON:g}, against H(x)",
        max_error=error, tolerance=tol, passed=passed,
        tables=(Table(("eps", "(g(0) - g(-eps))/eps", "(g(eps) - g(0))/eps"), rows,
                      "one-sided difference quotients of g = max(0, x) at x = 0"),),
        notes=(f"At x = 0 the left quotient is {left[-1]:g} and the right one {right[-1]:g} "
               "for every eps: the one-sided derivatives differ, so g'(0) does not exist. "
               "H(0) = 1/2 is their mean.",),
        data={"at_zero": [{"eps": e, "left": lq, "right": rq} for e, lq, rq in rows]},
    )


def check_relu_x_step(rng, samples: int) -> Evidence:
    """max(0, x) against x H(x) on random x, x = 0 included."""
    x = rng.uniform(-10.0, 10.0, samples)
    x[0] = 0.0
    error = max_abs(relu(x), x * heaviside(x))
    examples = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    rows = tuple((float(v), float(relu(v)), float(v * heaviside(v)) + 0.0) for v in examples)
    return Evidence(
        method=f"{samples} random x in [-10, 10], x = 0 included",
        max_error=error, tolerance=0.0, passed=error == 0.0,
        tables=(Table(("x", "max(0, x)", "x H(x)"), rows, "examples"),),
        notes=("Exact in floating point: x*1 = x and x*0 = 0, so the tolerance is 0.",),
    )


QUADRATURE_NODES = 8
LOWER_LIMIT = -10.0         # H vanishes below 0, so -inf may be replaced by any negative number


def integral_of_step(a, b):
    """Integral of H over [a, b] (a <= b, arrays), by Gauss-Legendre on each side of the jump."""
    nodes, weights = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)

    def gauss(lo, hi):
        half, mid = (hi - lo) / 2, (hi + lo) / 2
        return half * (heaviside(mid[..., None] + half[..., None] * nodes) @ weights)

    zero = np.zeros_like(a)
    return gauss(a, np.minimum(b, zero)) * (a < 0) + gauss(np.maximum(a, zero), np.maximum(b, zero))


def check_relu_step_integral(rng, samples: int) -> Evidence:
    """max(0, x) against the integral of H from -inf (really LOWER_LIMIT) to x."""
    x = rng.uniform(-10.0, 10.0, samples)
    x[0] = 0.0
    error = max_abs(relu(x), integral_of_step(np.full_like(x, LOWER_LIMIT), x))
    limits = np.array([1.0, 10.0, 100.0, 1000.0])
    diverging = integral_of_step(-limits, limits)
    rows = tuple((float(L), float(v)) for L, v in zip(limits, diverging))
    return Evidence(
        method=f"{samples} random x in [-10, 10], x = 0 included; Gauss-Legendre quadrature "
               f"({QUADRATURE_NODES} nodes) on [{LOWER_LIMIT:g}, min(x, 0)] and [0, max(x, 0)], "
               "split at the jump of H (H = 0 below 0, so the lower limit only needs to be < 0)",
        max_error=error, tolerance=ROUNDING, passed=error <= ROUNDING,
        tables=(Table(("L", "integral of H over [-L, L]"), rows,
                      "the sheet's upper limit +inf: the integral grows without bound"),),
        notes=("With +inf as the upper limit the integral is L -> inf for every x, so it "
               "cannot equal max(0, x): the upper limit must be x.",),
        data={"sheet_upper_limit_inf": [{"L": L, "integral": v} for L, v in rows]},
    )


STEEPNESS = (1.0, 10.0, 100.0, 1000.0, 10000.0)
AWAY = 0.1                  # the error table covers |x| >= AWAY


def check_sigmoid_step_limit(rng, samples: int) -> Evidence:
    """|sigmoid(kx) - H(x)| against k: away from 0, at x = 1/k and at x = 0."""
    x = rng.uniform(-5.0, 5.0, samples)
    away = np.concatenate([x[np.abs(x) >= AWAY], [AWAY, -AWAY]])
    tol = ROUNDING
    at_one_over_k = 1.0 - float(sigmoid(1.0))
    rows, errors, near, at_zero = [], [], [], []
    for k in STEEPNESS:
        err = max_abs(sigmoid(k * away), heaviside(away))
        err_near = abs(float(sigmoid(k * (1 / k))) - 1.0)
        err_zero = abs(float(sigmoid(k * 0.0)) - 0.5)
        band = math.log((1 - tol) / tol) / k
        rows.append((k, err, math.exp(-k * AWAY), err_near, err_zero, band))
        errors.append(err)
        near.append(err_near)
        at_zero.append(err_zero)
    monotone = all(b <= a for a, b in zip(errors, errors[1:]))
    passed = _verdict([errors[-1] <= tol, monotone, max(at_zero) == 0.0,
                       max_abs(near, at_one_over_k) <= tol])
    columns = ("k", f"max error, |x| >= {AWAY:g}", f"bound exp(-{AWAY:g} k)", "error at x = 1/k",
               "error at x = 0", f"error <= {tol:g} for |x| >=")
    return Evidence(
        method=f"{samples} random x in [-5, 5] (plus x = +-{AWAY:g}); max |sigmoid(kx) - H(x)| "
               f"over |x| >= {AWAY:g} at the largest k = {STEEPNESS[-1]:g}",
        max_error=errors[-1], tolerance=tol, passed=passed,
        tables=(Table(columns, tuple(rows), "error of sigmoid(kx) against H(x)"),),
        notes=(f"Pointwise convergence: for fixed x != 0 the error falls like exp(-k|x|); at "
               f"x = 0 sigmoid(0) = 1/2 = H(0) for every k.",
               f"Not uniform near 0: for every k the error at x = 1/k is 1 - sigmoid(1) = "
               f"{at_one_over_k:.4f}, and the sup over x != 0 is 1/2; the error is below "
               f"{tol:g} only for |x| >= {math.log((1 - tol) / tol):.2f}/k."),
        data={"by_k": [dict(zip(("k", "max_error_away", "bound", "error_at_1_over_k",
                                 "error_at_0", "below_tolerance_for_abs_x_at_least"), r))
                       for r in rows], "away": AWAY},
    )


# Question 2 -------------------------------------------------------------------------------

SHIFTS = 1000.0             # c is drawn uniformly from [-SHIFTS, SHIFTS]


def check_softmax_shift(rng, samples: int) -> Evidence:
    """S(x + c) against S(x) for random x and c, and softmax([1000, 1001]) both ways."""
    error = 0.0
    for x in random_vectors(rng, samples):
        c = rng.uniform(-SHIFTS, SHIFTS, (len(x), 1))
        error = max(error, max_abs(softmax(x + c), softmax(x)))
    demo = np.array([1000.0, 1001.0])
    textbook, stable = softmax_textbook(demo), softmax(demo)
    exact = np.array([float(sigmoid(-1.0)), float(sigmoid(1.0))])
    demo_error = max_abs(stable, exact)
    tol = 1e-11
    rows = (
        ("textbook exp(x_i) / sum_j exp(x_j)", *map(float, textbook)),
        ("shifted: S(x - max x) = S([-1, 0])", *map(float, stable)),
        ("exact [sigmoid(-1), sigmoid(1)]", *map(float, exact)),
    )
    return Evidence(
        method=f"{samples} random x (K = 2..10, entries in [-10, 10]), c uniform in "
               f"[-{SHIFTS:g}, {SHIFTS:g}]",
        max_error=error, tolerance=tol,
        passed=_verdict([error <= tol, demo_error <= ROUNDING, np.all(np.isfinite(stable))]),
        tables=(Table(("softmax([1000, 1001])", "S_1", "S_2"), rows, "softmax([1000, 1001])"),),
        notes=("exp(1000) overflows float64 (largest ~ e^709.78), so the textbook formula gives "
               "inf/inf = nan. Shift invariance allows computing S(x - max x) instead: its "
               "exponents are <= 0 and one of them is 0, so nothing overflows and the sum is "
               ">= 1.",
               f"The tolerance {tol:g} allows for rounding x + c when |c| is up to {SHIFTS:g}."),
        data={"softmax_1000_1001": {"textbook": [float(v) for v in textbook],
                                    "stable": [float(v) for v in stable],
                                    "exact": [float(v) for v in exact]}},
    )


SCALES = (1.0, 10.0, 100.0, 1000.0)
TIE_EXAMPLE = (1.0, 3.0, 3.0, 2.0)


def argmax_share(x) -> np.ndarray:
    """The c -> inf limit of S(cx): 1/m on each of the m maximal entries, 0 elsewhere."""
    top = x == np.max(x, axis=-1, keepdims=True)
    return top / np.sum(top, axis=-1, keepdims=True)


def check_softmax_scale(rng, samples: int) -> Evidence:
    """S(2x) != S(x); S(0x) uniform; S(cx) -> shared argmax as c grows (integer x, with ties)."""
    smallest_change, uniform_error = math.inf, 0.0
    for x in random_vectors(rng, samples):
        change = np.max(np.abs(softmax(2 * x) / softmax(x) - 1), axis=-1)
        smallest_change = min(smallest_change, float(np.min(change)))
        uniform_error = max(uniform_error, max_abs(softmax(0 * x), 1.0 / x.shape[1]))
    groups = random_vectors(rng, samples, integers=True)
    tied = sum(int(np.sum(np.sum(x == x.max(axis=1, keepdims=True), axis=1) > 1)) for x in groups)
    limit_errors = [max(max_abs(softmax(c * x), argmax_share(x)) for x in groups) for c in SCALES]
    tol = ROUNDING
    monotone = all(b <= a for a, b in zip(limit_errors, limit_errors[1:]))
    passed = _verdict([smallest_change > tol, uniform_error <= tol, limit_errors[-1] <= tol,
                       monotone])
    limit_rows = tuple((c, e, 9 * math.exp(-c)) for c, e in zip(SCALES, limit_errors))
    example = np.array(TIE_EXAMPLE)
    example_rows = tuple((c, *map(float, softmax(c * example)))
                         for c in (0.0, 0.5, 1.0, 2.0, 10.0, 100.0, 1000.0))
    return Evidence(
        method=f"{samples} random real x for S(2x) and S(0x); {samples} random integer x "
               f"(entries 0..4, {tied} with tied maxima) for c -> inf, error at c = "
               f"{SCALES[-1]:g}",
        max_error=max(uniform_error, limit_errors[-1]), tolerance=tol, passed=passed,
        tables=(
            Table(("c", *(f"S(cx)_{i + 1}" for i in range(len(example)))), example_rows,
                  f"S(cx) for x = [{', '.join(f'{v:g}' for v in example)}]"),
            Table(("c", "max |S(cx) - argmax share|", "bound 9 exp(-c)"), limit_rows,
                  "c -> inf on integer x (gap between the max and the rest >= 1)"),
        ),
        notes=(f"Not scale-invariant: S(2x) differs from S(x) for every sampled x; the largest "
               f"relative change max_i |S(2x)_i / S(x)_i - 1| is at least {smallest_change:.3g} "
               "(only constant x are unchanged).",
               f"c = 0 gives the uniform distribution: max |S(0x) - 1/K| = {uniform_error:g}.",
               "c -> inf gives the argmax, shared equally among ties (x = [1, 3, 3, 2] -> "
               "[0, 1/2, 1/2, 0]); the error falls like (K-1) exp(-c gap), so it is not "
               "uniform in x when the gap to the runner-up is small."),
        data={"min_relative_change_S2x_vs_Sx": smallest_change,
              "max_error_c0_uniform": uniform_error,
              "tied_samples": tied,
              "by_c": [{"c": c, "max_error": e, "bound": b} for c, e, b in limit_rows]},
    )


def check_softmax_two_class(rng, samples: int) -> Evidence:
    """S([x1, x2]) against [sigmoid(x1 - x2), 1 - sigmoid(x1 - x2)]."""
    x = rng.uniform(-50.0, 50.0, (samples, 2))
    z = x[:, 0] - x[:, 1]
    error = max_abs(softmax(x), np.stack([sigmoid(z), 1 - sigmoid(z)], axis=1))
    return Evidence(
        method=f"{samples} random x in [-50, 50]^2",
        max_error=error, tolerance=ROUNDING, passed=error <= ROUNDING,
    )


def check_softmax_k_minus_1(rng, samples: int) -> Evidence:
    """S(x) against S([0, x_2 - x_1, ..., x_K - x_1])."""
    error = 0.0
    for x in random_vectors(rng, samples, scale=100.0):
        reduced = np.concatenate([np.zeros((len(x), 1)), x[:, 1:] - x[:, :1]], axis=1)
        error = max(error, max_abs(softmax(x), softmax(reduced)))
    return Evidence(
        method=f"{samples} random x (K = 2..10, entries in [-100, 100])",
        max_error=error, tolerance=ROUNDING, passed=error <= ROUNDING,
        notes=("x carries one redundant number (a common shift, by softmax-shift), so the "
               "K - 1 differences y_i = x_(i+1) - x_1 determine S(x).",),
    )


# Question 3 -------------------------------------------------------------------------------

def check_sigmoid_tanh(rng, samples: int) -> Evidence:
    """sigmoid(a) against (tanh(a/2) + 1)/2 and tanh(a) against 2 sigmoid(2a) - 1."""
    a = rng.uniform(-40.0, 40.0, samples)
    error = max(max_abs(sigmoid(a), (tanh(a / 2) + 1) / 2),
                max_abs(tanh(a), 2 * sigmoid(2 * a) - 1))
    return Evidence(
        method=f"{samples} random a in [-40, 40], both directions",
        max_error=error, tolerance=ROUNDING, passed=error <= ROUNDING,
    )


MAX_NETWORKS = 10


def random_network(rng, max_size: int = 16) -> Network:
    """A network of random sizes D, M, K in 1..max_size, normal weights of random scale."""
    d, m, k = (int(v) for v in rng.integers(1, max_size + 1, size=3))
    scale = 10.0 ** rng.uniform(-1, 1)
    return Network(*(scale * rng.standard_normal(shape) for shape in ((m, d), (m,), (k, m), (k,))))


def check_network_sigmoid_tanh(rng, samples: int) -> Evidence:
    """Random networks converted both ways and back, outputs compared on random inputs."""
    count = min(MAX_NETWORKS, samples)
    per = -(-samples // count)
    rows, worst = [], 0.0
    for n in range(count):
        net = random_network(rng)
        x = rng.standard_normal((per, net.sizes[0]))
        as_tanh = sigmoid_to_tanh(net)
        forward_err = compare(net, "sigmoid", as_tanh, "tanh", x).relative_error
        backward_err = compare(net, "tanh", tanh_to_sigmoid(net), "sigmoid", x).relative_error
        back = tanh_to_sigmoid(as_tanh)
        round_trip = max(max_abs(p, q) / max(float(np.max(np.abs(p))), 1e-300)
                         for p, q in zip(net, back))
        sheet = compare(net, "sigmoid", as_tanh._replace(b2=net.b2), "tanh", x).relative_error
        worst = max(worst, forward_err, backward_err, round_trip)
        rows.append((n + 1, *net.sizes, *map(Residual, (forward_err, backward_err, round_trip)),
                     sheet))
    tol = NETWORK_TOLERANCE
    columns = ("network", "D", "M", "K", "sigmoid->tanh", "tanh->sigmoid", "round trip",
               "sheet: b2' = b2")
    return Evidence(
        method=f"{count} random networks (D, M, K in 1..16, weights normal with scale in "
               f"[0.1, 10]), {per} random inputs each; max |y - y'| / max |y|",
        max_error=worst, tolerance=tol, passed=worst <= tol, measure="max relative error",
        tables=(Table(columns, tuple(rows), "relative errors max |y - y'| / max |y| (round trip: "
                      "largest parameter change relative to the parameter's max)"),),
        notes=("The column 'sheet: b2' = b2' keeps the old output bias (a literal reading of "
               "the sheet's last definition, whose left side is omega^(2)_k0 instead of the new "
               f"bias): its outputs are off by 1/2 sum_j W2[:, j], relative errors "
               f"{min(r[-1] for r in rows):.3g} to {max(r[-1] for r in rows):.3g}.",),
        data={"networks": [dict(zip(("network", "D", "M", "K", "sigmoid_to_tanh",
                                     "tanh_to_sigmoid", "round_trip", "b2_unchanged"), r))
                           for r in rows]},
    )


CHECKS = {
    "relu-derivative": check_relu_derivative,
    "relu-x-step": check_relu_x_step,
    "relu-step-integral": check_relu_step_integral,
    "sigmoid-step-limit": check_sigmoid_step_limit,
    "softmax-shift": check_softmax_shift,
    "softmax-scale": check_softmax_scale,
    "softmax-two-class": check_softmax_two_class,
    "softmax-k-minus-1": check_softmax_k_minus_1,
    "sigmoid-tanh": check_sigmoid_tanh,
    "network-sigmoid-tanh": check_network_sigmoid_tanh,
}
