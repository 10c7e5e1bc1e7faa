"""cnnplan plugin: full, same and valid convolution and cross-correlation, step by step.

Only the hook implementations live here; the command and the work are imported when they are
used, so loading the plugin at start-up costs one small module.
"""

from __future__ import annotations

from cnnplan import LazyCommand, Solver, hookimpl


@hookimpl
def register_solvers(register):
    register(Solver("conv", "Full, same and valid convolution or cross-correlation, step by step",
                    "cnnplan_convmodes.solver:conv"))


@hookimpl
def register_commands(cli):
    cli.add_command(LazyCommand("conv", "Full, same and valid convolution of SIGNAL with KERNEL, "
                                        "step by step.", "cnnplan_convmodes.command:conv"))
