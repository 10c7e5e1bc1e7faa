"""An example third-party cnnplan plugin: a solver, its command, and an HTML output format."""

from __future__ import annotations

import click

from cnnplan import Reporter, Solver, emit, format_option, hookimpl

from .html import render_html
from .separable import compare


@hookimpl
def register_solvers(register):
    register(Solver("separable", "Standard vs depthwise-separable convolution costs", compare))


@hookimpl
def register_reporters(register):
    register(Reporter("html-fragment", "A standalone HTML fragment", render_html))


@hookimpl
def register_commands(cli):
    @cli.command()
    @click.option("--in", "input_", required=True, metavar="SHAPE", help="Input shape, e.g. 32x56x56.")
    @click.option("--out-channels", "c_out", required=True, type=click.IntRange(min=1))
    @click.option("-k", "k", default=3, show_default=True, type=click.IntRange(min=1))
    @click.option("-s", "s", default=1, show_default=True, type=click.IntRange(min=1))
    @click.option("-p", "p", default=None, type=click.IntRange(min=0),
                  help="Padding (default: (k-1)//2).")
    @format_option()
    def separable(input_, c_out, k, s, p, fmt):
        """Compare a standard convolution with a depthwise-separable one."""
        emit(compare(input=input_, out_channels=c_out, k=k, s=s, p=p), fmt)
