"""cnnplan plugin: full, same and valid convolution and cross-correlation, step by step.

Only the hook implementations live here; the work is imported when it is used, so loading the
plugin at start-up costs one small module.
"""

from __future__ import annotations

from cnnplan import Solver, hookimpl


@hookimpl
def register_solvers(register):
    register(Solver("conv", "Full, same and valid convolution or cross-correlation, step by step",
                    "cnnplan_convmodes.solver:conv"))


@hookimpl
def register_commands(cli):
    from .command import conv as conv_command

    cli.add_command(conv_command)
