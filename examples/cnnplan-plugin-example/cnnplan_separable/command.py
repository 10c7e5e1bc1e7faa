"""`cnnplan separable`: click options in, the `separable` solver's Result out."""

from __future__ import annotations

import click

from cnnplan import emit, format_option

from .separable import compare


@click.command()
@click.option("--in", "input_", required=True, metavar="SHAPE", help="Input shape, e.g. 32x56x56.")
@click.option("--out-channels", "c_out", required=True, type=click.IntRange(min=1))
@click.option("-k", "k", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("-s", "s", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("-p", "p", default=None, type=click.IntRange(min=0),
              help="Padding (default: (k-1)//2).")
@format_option(kinds=("separable",))
def separable(input_, c_out, k, s, p, fmt):
    """Compare a standard convolution with a depthwise-separable one."""
    emit(compare(input=input_, out_channels=c_out, k=k, s=s, p=p), fmt)
