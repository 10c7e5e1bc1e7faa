"""cnnplan plugin: full, same and valid convolution and cross-correlation, step by step.

Only the hook implementations live here; the work is imported when it is used, so loading the
plugin at start-up costs one small module.
"""

from __future__ import annotations

from cnnplan import Result, Solver, hookimpl


def conv(**kwargs) -> Result:
    """The `conv` solver (see cnnplan_convmodes.solver.conv for its arguments)."""
    from .solver import conv as solve_conv

    return solve_conv(**kwargs)


@hookimpl
def register_solvers(register):
    register(Solver("conv", "Full, same and valid convolution or cross-correlation, step by step",
                    conv))


@hookimpl
def register_commands(cli):
    from .command import conv as conv_command

    cli.add_command(conv_command)
