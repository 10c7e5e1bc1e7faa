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


@hookimpl
def register_solvers(register):
    register(Solver("solve", "Every (k, s, p, d) turning one shape into another",
                    "cnnplan.layer:solve"))
