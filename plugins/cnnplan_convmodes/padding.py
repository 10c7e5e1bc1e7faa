"""Each mode as zeros padded around the signal, axis by axis, and the same layer in cnnplan's terms.

full pads k'-1 zeros on both sides; valid pads none; same pads k'-1 in total, split by a
convention (k' = d(k-1)+1 is the dilated kernel's span):

- numpy (numpy.convolve / correlate, scipy.signal.convolve2d / correlate): k'//2 before and
  (k'-1)//2 after, so an even kernel's extra zero goes before (left, top);
- torch (torch.nn.functional.conv1d/conv2d padding='same', TensorFlow): (k'-1)//2 before,
  k'//2 after, so the extra zero goes after (right, bottom). scipy.signal.correlate2d's 'same'
  centres this way too.

Special cases, where the libraries define them (stride 1, dilation 1, the "plain" form):

- a 1-D kernel longer than the signal: numpy swaps the arrays. 'same' then has the kernel's
  length (centred on the shorter array: start (n-1)//2 in the full result for convolve,
  n//2 for correlate), and 'valid' slides the signal inside the kernel (k-n zeros each side);
- in 2-D (scipy), 'valid' swaps when the kernel is at least as large on every axis; when it is
  larger on one axis only, there is no valid output.

With a stride (the deep-learning form) a kernel longer than the signal has no valid output, as in
PyTorch; 'same' keeps the stride-1 padding for numpy and uses TensorFlow's rule for torch
(PyTorch refuses padding='same' with a stride): ceil(i/s) outputs either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnplan.kinds.arithmetic import conv_output, effective_kernel

MODES = ("full", "same", "valid")
CONVENTIONS = ("numpy", "torch")


@dataclass(frozen=True)
class Axis:
    """One axis of a mode: signal length, kernel length, stride, dilation, zeros before/after."""

    size: int
    kernel: int
    stride: int
    dilation: int
    before: int
    after: int

    @property
    def span(self) -> int:
        """The dilated kernel's span k' = d(k-1)+1."""
        return effective_kernel(self.kernel, self.dilation)

    @property
    def padding(self) -> int:
        """The symmetric part of the padding: the core's p."""
        return min(self.before, self.after)

    @property
    def extra(self) -> int:
        """Zeros beyond the symmetric part, on the side with more (0 when symmetric)."""
        return abs(self.before - self.after)

    @property
    def output(self) -> int:
        """Output length from the core: conv_output(i + extra, k, s, p, d) (0 if none)."""
        return conv_output(self.size + self.extra, self.kernel, self.stride, self.padding,
                           self.dilation, "floor") or 0


def plan_mode(mode: str, signal_shape: tuple[int, ...], kernel_shape: tuple[int, ...], *,
              correlate: bool = False, convention: str = "numpy", stride: int = 1,
              dilation: int = 1) -> tuple[Axis, ...] | None:
    """The per-axis padding of `mode`, or None when the mode has no output (see module doc)."""
    spans = [effective_kernel(k, dilation) for k in kernel_shape]
    plain = stride == 1 and dilation == 1
    if mode == "full":
        pads = [(k - 1, k - 1) for k in spans]
    elif mode == "valid":
        pads = _valid(signal_shape, kernel_shape, spans, plain)
        if pads is None:
            return None
    elif mode == "same":
        pads = [_same(i, k, stride, convention, correlate,
                      numpy_swap=plain and len(signal_shape) == 1 and k > i)
                for i, k in zip(signal_shape, spans)]
    else:
        raise ValueError(f"unknown mode {mode!r}")
    return tuple(Axis(i, k, stride, dilation, before, after)
                 for i, k, (before, after) in zip(signal_shape, kernel_shape, pads))


def _valid(signal_shape, kernel_shape, spans, plain):
    if all(k <= i for i, k in zip(signal_shape, spans)):
        return [(0, 0)] * len(spans)
    if plain and all(k >= i for i, k in zip(signal_shape, kernel_shape)):
        return [(k - i, k - i) for i, k in zip(signal_shape, kernel_shape)]  # numpy/scipy swap
    return None


def _same(i: int, k: int, stride: int, convention: str, correlate: bool, numpy_swap: bool):
    """(before, after) for 'same' along one axis of length i with kernel span k."""
    if convention == "torch":
        if stride == 1:
            return (k - 1) // 2, k // 2
        out = -(-i // stride)
        total = max((out - 1) * stride + k - i, 0)  # TensorFlow's rule for strided 'same'
        return total // 2, total - total // 2
    if numpy_swap:
        start = i // 2 if correlate else (i - 1) // 2  # where numpy's window starts in 'full'
        return k - 1 - start, k - i + start
    return k // 2, (k - 1) // 2


def describe_padding(axes: tuple[Axis, ...]) -> str:
    """'(2, 2)' for one axis, '(1, 1) x (1, 0)' for rows x columns: zeros (before, after)."""
    return " x ".join(f"({a.before}, {a.after})" for a in axes)


def solve_arguments(axes: tuple[Axis, ...]) -> list[tuple[str, dict]]:
    """Keyword arguments of `cnnplan.solve` for the same layer (one channel), per command.

    The core pads symmetrically, so an asymmetric padding is stated as p = min(before, after)
    on a signal lengthened by |before - after|. Axes that differ in k, s, p or d (the core's
    windows are square) get one 1-D command each, labelled 'rows' and 'cols'. Empty when the
    mode has no output.
    """
    if any(a.output == 0 for a in axes):
        return []
    fixes = [_fix(a) for a in axes]
    if len(set(fixes)) == 1:
        return [("", _arguments(axes, fixes[0]))]
    return [(name, _arguments((a,), fix)) for name, a, fix in zip(("rows", "cols"), axes, fixes)]


def solve_command(axes: tuple[Axis, ...]) -> str:
    """The `cnnplan solve` command line(s) for `solve_arguments(axes)`, joined by ' ; '."""
    return " ; ".join(
        f"{label + ': ' if label else ''}cnnplan solve --in {a['input']} --out {a['output']} "
        f"--fix {a['fix']}{' --mode floor' if a['mode'] == 'floor' else ''}"
        for label, a in solve_arguments(axes))


def _fix(a: Axis) -> tuple[int, int, int, int]:
    # with k = 1 dilation has no effect and the core lists only d = 1
    return a.kernel, a.stride, a.padding, 1 if a.kernel == 1 else a.dilation


def _arguments(axes, fix) -> dict:
    k, s, p, d = fix
    exact = all((a.size + a.extra + 2 * p - effective_kernel(k, d)) % s == 0 for a in axes)
    return {"input": "1x" + "x".join(str(a.size + a.extra) for a in axes),
            "output": "1x" + "x".join(str(a.output) for a in axes),
            "fix": f"k={k},s={s},p={p},d={d}", "mode": "exact" if exact else "floor"}
