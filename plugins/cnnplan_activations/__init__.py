"""cnnplan plugin: activation-function identities (questions 1-3) and the sigmoid <-> tanh
network converter. Hook implementations only; numpy loads when a command or solver runs."""

from __future__ import annotations

from cnnplan import LazyCommand, Solver, hookimpl


@hookimpl
def register_solvers(register):
    register(Solver("identity-list", "Activation-function identities and their statements",
                    "cnnplan_activations.solvers:identity_list"))
    register(Solver("identity-check", "Check an activation-function identity numerically",
                    "cnnplan_activations.solvers:identity_check"))
    register(Solver("activation-convert", "Convert a 2-layer network between sigmoid and tanh",
                    "cnnplan_activations.solvers:convert"))


@hookimpl
def register_commands(cli):
    cli.add_command(LazyCommand("identity", "State and numerically check activation-function "
                                "identities (questions 1-3).",
                                "cnnplan_activations.commands:identity"))
    cli.add_command(LazyCommand("convert", "Convert y = W2 act(W1 x + b1) + b2 between sigmoid "
                                "and tanh hidden units.", "cnnplan_activations.commands:convert"))
