"""An example third-party cnnplan plugin: a solver, its command, and an HTML output format.

Only the hook implementations live here, and they register references ("module:function"),
so loading the plugin at start-up imports nothing else.
"""

from __future__ import annotations

from cnnplan import LazyCommand, Reporter, Solver, hookimpl


@hookimpl
def register_solvers(register):
    register(Solver("separable", "Standard vs depthwise-separable convolution costs",
                    "cnnplan_separable.separable:compare"))


@hookimpl
def register_reporters(register):
    register(Reporter("html-fragment", "A standalone HTML fragment",
                      "cnnplan_separable.html:render_html"))


@hookimpl
def register_commands(cli):
    cli.add_command(LazyCommand("separable", "Compare a standard convolution with a "
                                "depthwise-separable one.", "cnnplan_separable.command:separable"))
