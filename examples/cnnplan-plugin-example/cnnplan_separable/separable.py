"""Costs of a k x k convolution against depthwise (groups = C_in) + pointwise (1 x 1)."""

from __future__ import annotations

from cnnplan import BadInput, Result, Table
from cnnplan.kinds.arithmetic import conv_macs, conv_output, conv_weights
from cnnplan.kinds.shape import format_shape, parse_shape


def compare(input: str, out_channels: int, k: int = 3, s: int = 1, p: int | None = None) -> Result:
    """Weights, parameters and MACs of both designs for the same output shape."""
    shape = parse_shape(input, "--in")
    c_in, sizes, n = shape[0], shape[1:], len(shape) - 1
    p = (k - 1) // 2 if p is None else p
    spatial = [conv_output(i, k, s, p, 1, "floor") for i in sizes]
    if None in spatial:
        raise BadInput(f"a {k}-wide kernel does not fit {format_shape(shape)} with padding {p}")
    mid, out = (c_in, *spatial), (out_channels, *spatial)
    designs = {
        "standard": [(conv_weights(k, n, c_in, out_channels), out_channels,
                      conv_macs(out, c_in, k))],
        "separable": [(conv_weights(k, n, c_in, c_in, groups=c_in), c_in,
                       conv_macs(mid, c_in, k, groups=c_in)),
                      (conv_weights(1, n, c_in, out_channels), out_channels,
                       conv_macs(out, c_in, 1))],
    }
    rows = []
    for name, layers in designs.items():
        weights = sum(w for w, _, _ in layers)
        rows.append((name, weights, weights + sum(b for _, b, _ in layers),
                     sum(m for _, _, m in layers)))
    ratio = rows[0][3] / rows[1][3]
    return Result(
        title=f"{format_shape(shape)} -> {format_shape(out)}, k={k}, s={s}, p={p}",
        facts=(("MAC ratio standard/separable", round(ratio, 3)),),
        tables=(Table(("design", "weights", "params", "macs"), tuple(rows)),),
        data={"input": list(shape), "output": list(out), "k": k, "s": s, "p": p,
              "designs": [dict(zip(("design", "weights", "params", "macs"), r)) for r in rows]},
        kind="separable",
    )
