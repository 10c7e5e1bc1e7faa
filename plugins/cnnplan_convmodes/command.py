"""The `cnnplan conv` command: click options in, the `conv` solver's Result out."""

from __future__ import annotations

import click

from cnnplan import emit, format_option

from .padding import CONVENTIONS, MODES


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("signal")
@click.argument("kernel")
@click.option("--mode", type=click.Choice(("all", *MODES)), default="all", show_default=True,
              help="Which output(s): full, same, valid or all three.")
@click.option("--correlate", is_flag=True,
              help="Cross-correlation (kernel not flipped), as deep-learning layers compute.")
@click.option("--same", "same", type=click.Choice(CONVENTIONS), default="numpy",
              show_default=True,
              help="Centring of 'same' for even kernels: numpy/scipy (extra zero before) or "
                   "torch/TensorFlow (extra zero after).")
@click.option("--steps", is_flag=True,
              help="Show each output position: padded signal, kernel beneath, products, sum.")
@click.option("--stride", type=click.IntRange(1, 10_000), default=1, show_default=True,
              help="Stride (with --correlate).")
@click.option("--dilation", type=click.IntRange(1, 10_000), default=1, show_default=True,
              help="Dilation (with --correlate).")
@format_option(kinds=("conv",))
def conv(signal, kernel, mode, correlate, same, steps, stride, dilation, fmt):
    """Full, same and valid convolution of SIGNAL with KERNEL, step by step.

    SIGNAL and KERNEL are 1-D lists (1,2,3,4 or [1,2,3,4]), 2-D matrices ("[[1,2],[3,4]]" or
    "1,2;3,4") or @file.csv (one line per row; one line, or one value per line, is a 1-D
    list). Integers stay integers; floats are allowed.

    \b
    cnnplan conv 1,2,3,4 1,0,2 --mode all --steps
    cnnplan conv "[[1,2,3],[4,5,6]]" "[[1,0],[0,-1]]" --correlate --same torch
    """
    from .arrays import load_argument
    from .solver import conv as solve_conv

    emit(solve_conv(load_argument(signal, "signal"), load_argument(kernel, "kernel"),
                    mode=mode, correlate=correlate, same=same, stride=stride,
                    dilation=dilation, steps=steps), fmt)
