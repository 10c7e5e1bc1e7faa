"""cnnplan plugin: automatic-differentiation traces in the three-part notation.

`cnnplan ad EXPR --at ...` prints the evaluation trace beside the tangent (forward mode) or
adjoint (reverse mode) trace as in Baydin et al., "Automatic Differentiation in Machine
Learning: a Survey" (JMLR 2018), Tables 2 and 3. Only hook implementations live here; the
work is imported when it is needed, so loading the plugin costs almost nothing at start-up.
"""

from __future__ import annotations

from cnnplan import LazyCommand, Reporter, Solver, hookimpl


@hookimpl
def register_solvers(register):
    register(Solver("ad", "Forward and reverse automatic-differentiation traces of an "
                          "expression (three-part notation)", "cnnplan_autodiff.solver:autodiff"))


@hookimpl
def register_reporters(register):
    register(Reporter("dot", "Graphviz DOT computational graph of an autodiff trace",
                      "cnnplan_autodiff.dot:render_dot", kinds=("ad",)))


@hookimpl
def register_commands(cli):
    cli.add_command(LazyCommand("ad", "Forward and reverse automatic-differentiation traces in "
                                      "the three-part notation.", "cnnplan_autodiff.command:ad"))
