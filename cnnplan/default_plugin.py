"""The core's own plugin: its reporters and solvers, registered through the public hooks."""

from __future__ import annotations

from .platform.hookspecs import hookimpl
from .platform.registry import Reporter, Solver


@hookimpl
def register_reporters(register):
    register(
        Reporter(
            "table",
            "Aligned plain-text columns for a terminal",
            "cnnplan.platform.reporters:render_terminal",
        )
    )
    register(
        Reporter(
            "json", "The stable machine-readable document", "cnnplan.platform.reporters:render_json"
        )
    )
    register(
        Reporter(
            "csv", "Comma-separated rows of each table", "cnnplan.platform.reporters:render_csv"
        )
    )
    register(
        Reporter(
            "markdown",
            "GitHub-flavoured markdown tables",
            "cnnplan.platform.reporters:render_markdown",
        )
    )
    register(Reporter("latex", "booktabs LaTeX tables", "cnnplan.platform.reporters:render_latex"))
    register(
        Reporter(
            "torch",
            "A torch.nn.Sequential snippet (networks and plan chains)",
            "cnnplan.network.export:render_torch",
            kinds=("shapes", "plan"),
        )
    )
    register(
        Reporter(
            "onnx",
            "An ONNX model, seeded weights (networks and a plan's first "
            "chain; binary: redirect it to a file; needs onnx)",
            "cnnplan.importers.onnx.export:render_onnx",
            kinds=("shapes", "plan"),
        )
    )
    register(
        Reporter(
            "svg",
            "An SVG picture: solve windows, network blocks, autodiff graphs",
            _render_svg,
            kinds=("solve", "solve-per-axis", "shapes", "plan", "ad"),
        )
    )
    register(
        Reporter(
            "svg-animated",
            "An SVG of solve results with the window stepping over the input (SMIL)",
            _render_svg_animated,
            kinds=("solve", "solve-per-axis"),
        )
    )
    register(
        Reporter("html", "A self-contained HTML page: tables and the SVG picture", _render_html)
    )


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
    register(
        Solver(
            "solve",
            "Every (k, s, p, d) turning one shape into another",
            "cnnplan.solver.layer:solve",
        )
    )
    register(
        Solver(
            "shapes",
            "Shapes, params, MACs and receptive fields of a network",
            "cnnplan.network.forward:shapes",
        )
    )
    register(
        Solver(
            "inputs",
            "Which square input sizes a network accepts, with a rule",
            "cnnplan.network.inputs:inputs",
        )
    )
    register(
        Solver(
            "plan",
            "Every chain of configurations meeting a plan's targets, counted and ranked",
            "cnnplan.planner.dispatch:plan",
        )
    )


@hookimpl
def register_layer_kinds(register):
    from .kinds.core import CORE_KINDS
    from .kinds.layout import LAYOUT_KINDS

    for kind in CORE_KINDS + LAYOUT_KINDS:
        register(kind)


@hookimpl
def register_commands(cli):
    from .cli import LazyCommand

    # imported only when `cnnplan serve` runs (or its --help is asked for)
    cli.add_command(
        LazyCommand(
            "serve",
            "A local web page: solve as you type, see the "
            "diagrams; a network tab for specs and plans.",
            "cnnplan.web.command:serve",
        )
    )
