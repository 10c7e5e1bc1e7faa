"""`cnnplan ad`: the click command (imports only click and cnnplan at start-up)."""

from __future__ import annotations

import click

from cnnplan import emit, format_option


@click.command("ad", context_settings={"ignore_unknown_options": True})
@click.argument("expression")
@click.option("--at", "at", multiple=True, metavar="NAME=VALUE,...",
              help="The point: a value for every variable, e.g. --at x1=3,x2=6 (repeatable).")
@click.option("--mode", type=click.Choice(["forward", "reverse", "both"]), default="both",
              show_default=True,
              help="forward: tangent trace for one seed direction; reverse: adjoint trace and "
                   "the whole gradient; both: the two tables.")
@click.option("--seed", multiple=True, metavar="NAME=VALUE,...",
              help="Forward-mode seed ẋ, e.g. --seed x1=1,x2=0 (default: 1 for the first "
                   "input, 0 for the others).")
@click.option("--decimals", type=click.IntRange(0, 12), default=4, show_default=True,
              help="Decimals shown in the tables (JSON keeps full precision).")
@format_option(kinds=("ad",))
def ad(expression, at, mode, seed, decimals, fmt):
    """Forward and reverse automatic-differentiation traces in the three-part notation.

    EXPRESSION uses numbers, variables (x1..xn or any name given in --at), + - * / **,
    unary minus, parentheses, pi, e and sin cos tan exp log ln sqrt tanh sigmoid relu abs.
    The traces are numbered and ordered as in Baydin et al. (JMLR 2018), Tables 2 and 3.

    \b
    cnnplan ad "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --mode reverse
    cnnplan ad "1/(x1+x2) + x2**2 + cos(x1)" --at x1=3,x2=6 --mode forward --seed x1=1
    cnnplan ad "relu(w*x + b)" --at w=0.5,x=2,b=-1 --format latex
    """
    from .solver import autodiff

    result = autodiff(expression, at=at, mode=mode, seed=seed, decimals=decimals,
                      notation="latex" if fmt == "latex" else "text")
    for warning in result.data.get("warnings", ()):
        click.echo(f"cnnplan: warning: {warning}", err=True)
    emit(result, fmt)
