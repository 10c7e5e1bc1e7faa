"""The click commands: `cnnplan identity list|check` and `cnnplan convert` (no numpy here)."""

from __future__ import annotations

import click
from cnnplan import emit, format_option

from .limits import ACTIVATIONS, DEFAULT_SAMPLES, MAX_CHECK_WORK, MAX_SAMPLES


def _notation(fmt: str) -> str:
    """LaTeX statements for the latex format (format_option has already checked `fmt`)."""
    return "latex" if fmt == "latex" else "text"


def samples_option(what: str):
    return click.option("--samples", type=int, default=DEFAULT_SAMPLES, show_default=True,
                        metavar="N", help=f"{what} (1 to {MAX_SAMPLES}).")


seed_option = click.option(
    "--seed", type=int, default=0, show_default=True, metavar="S",
    help="Seed of the random samples (the same seed gives the same numbers).")


@click.group()
def identity():
    """State and numerically check activation-function identities (questions 1-3).

    \b
    cnnplan identity list
    cnnplan identity check sigmoid-step-limit
    cnnplan identity check all --format markdown
    """


@identity.command("list")
@format_option(kinds=("identity-list",))
def list_identities(fmt):
    """Name, assignment question and statement of each identity."""
    from .solvers import identity_list

    emit(identity_list(notation=_notation(fmt)), fmt)


@identity.command("check")
@click.argument("name")
@samples_option("Random samples per identity")
@seed_option
@format_option(kinds=("identity-check",))
def check_identity(name, samples, seed, fmt):
    """Check identity NAME (or all) on random samples; exit 1 if any fails.

    Prints the statement (LaTeX with --format latex), the largest error seen with the
    tolerance it is held to, supporting tables (limits against k, one-sided quotients at 0,
    softmax([1000, 1001])) and the verdict.
    """
    from .solvers import identity_check

    emit(identity_check(name, samples=samples, seed=seed, notation=_notation(fmt)), fmt)


@click.command()
@click.option("--from", "source", required=True, type=click.Choice(ACTIVATIONS),
              help="Hidden activation of the network in WEIGHTS.")
@click.option("--to", "target", required=True, type=click.Choice(ACTIVATIONS),
              help="Hidden activation of the equivalent network.")
@click.argument("weights", metavar="WEIGHTS")
@click.option("-o", "--output", metavar="OUT",
              help="Write the converted W1, b1, W2, b2 here (.npz or .json, by its suffix).")
@click.option("--samples", type=int, default=None, metavar="N",
              help=f"Random inputs on which both networks are compared (1 to {MAX_SAMPLES}; "
                   f"default {DEFAULT_SAMPLES}, fewer for networks over "
                   f"{MAX_CHECK_WORK // DEFAULT_SAMPLES:,} parameters).")
@seed_option
@format_option(kinds=("activation-convert",))
def convert(source, target, weights, output, samples, seed, fmt):
    """Convert y = W2 act(W1 x + b1) + b2 between sigmoid and tanh hidden units.

    WEIGHTS is .npz or .json with W1 (M x D), b1 (M), W2 (K x M), b2 (K). Prints the
    transformation, checks both networks on random inputs (exit 1 if max |y - y'| exceeds
    1e-9 relative to max |y|) and, with -o, writes the converted parameters.

    \b
    cnnplan convert --from sigmoid --to tanh net.npz -o net_tanh.npz
    cnnplan convert --from tanh --to sigmoid net_tanh.json -o net.json
    """
    from .solvers import prepare_conversion

    result, write = prepare_conversion(weights, source, target, output=output, samples=samples,
                                       seed=seed, notation=_notation(fmt))
    emit(result, fmt, commit=write)  # written only once the result has rendered
