"""The core's own plugin: its reporters and solvers, registered through the public hooks."""

from __future__ import annotations

from . import reporters
from .hookspecs import hookimpl
from .registry import Reporter, Solver


@hookimpl
def register_reporters(register):
    register(Reporter("table", "Aligned plain-text columns for a terminal", reporters.render_table))
    register(Reporter("json", "The stable machine-readable document", reporters.render_json))
    register(Reporter("csv", "Comma-separated rows of each table", reporters.render_csv))
    register(Reporter("markdown", "GitHub-flavoured markdown tables", reporters.render_markdown))
    register(Reporter("latex", "booktabs LaTeX tables", reporters.render_latex))
    register(Reporter("torch", "A torch.nn.Sequential snippet (networks and plan chains only)",
                      _render_torch))
    register(Reporter("svg", "An SVG picture: solve windows, network blocks, autodiff graphs",
                      _render_svg))
    register(Reporter("svg-animated", "An SVG of solve results with the window stepping over "
                                      "the input (SMIL)", _render_svg_animated))
    register(Reporter("html", "A self-contained HTML page: tables and the SVG picture",
                      _render_html))


def _render_torch(result):
    from .export import render_torch

    return render_torch(result)


def _render_svg(result):
    from .pictures import render_svg

    return render_svg(result).rstrip("\n")


def _render_svg_animated(result):
    from .pictures import render_svg_animated

    return render_svg_animated(result).rstrip("\n")


def _render_html(result):
    from .pictures import render_html

    return render_html(result)


@hookimpl
def register_solvers(register):
    register(Solver("solve", "Every (k, s, p, d) turning one shape into another",
                    "cnnplan.layer:solve"))
    register(Solver("shapes", "Shapes, params, MACs and receptive fields of a network",
                    "cnnplan.network:shapes"))
    register(Solver("inputs", "Which square input sizes a network accepts, with a rule",
                    "cnnplan.inputs:inputs"))
    register(Solver("plan", "Every chain of configurations meeting a plan's targets, counted "
                            "and ranked", "cnnplan.planner:plan"))


@hookimpl
def register_layer_kinds(register):
    from .core_kinds import CORE_KINDS

    for kind in CORE_KINDS:
        register(kind)


@hookimpl
def register_commands(cli):
    from .web.command import serve

    cli.add_command(serve)
