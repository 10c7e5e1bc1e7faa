"""The hooks a cnnplan plugin may implement (markers and specs only)."""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("cnnplan")
hookimpl = pluggy.HookimplMarker("cnnplan")


@hookspec
def register_solvers(register):
    """Register solvers: functions that take keyword arguments and return a `cnnplan.Result`.

    Call `register(Solver(name, description, function))` once per solver::

        from cnnplan import Result, Solver, hookimpl

        def count_windows(size: int, k: int) -> Result:
            return Result(title="windows", facts=(("count", size - k + 1),))

        @hookimpl
        def register_solvers(register):
            register(Solver("windows", "How many k-wide windows fit", count_windows))

    `cnnplan.run_solver("windows", size=10, k=3)` then calls it.
    """


@hookspec
def register_reporters(register):
    """Register output formats: functions that turn any `cnnplan.Result` into text.

    Call `register(Reporter(name, description, render, kinds=()))`; `--format NAME` then uses
    it. `render` may be a 'module:function' reference (imported on first use); `kinds` names the
    Result kinds it can render (empty: all; see `Reporter.can_render`)::

        from cnnplan import Reporter, hookimpl

        @hookimpl
        def register_reporters(register):
            register(Reporter("titles", "Only the title", lambda result: result.title))
    """


@hookspec
def register_commands(cli):
    """Add click commands to the `cnnplan` command group (`cli.add_command(LazyCommand(name,
    help, "module:attribute"))` adds one that is imported only when it runs)::

        import click
        from cnnplan import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command()
            @click.argument("name")
            def hello(name):
                "Say hello."
                click.echo(f"hello {name}")
    """


@hookspec
def register_layer_kinds(register):
    """Register layer kinds: `register(LayerKind(...))` once per kind. A kind is one record:
    its spec arguments, its shape rule (`apply`), and its PyTorch code (`torch`); it is then
    usable in `cnnplan shapes`, plan files, `cnnplan inputs` and `--format torch`::

        from cnnplan import Applied, LayerKind, hookimpl
        from cnnplan.kinds import POSITIVE

        def apply(spec, inputs, where):
            c, h, w = inputs[0]
            r = spec.get("r")
            return Applied((c * r * r, h // r, w // r))

        @hookimpl
        def register_layer_kinds(register):
            register(LayerKind("spacetodepth", "C x H x W -> r^2 C x H/r x W/r", apply,
                               lambda spec, inputs: f"nn.PixelUnshuffle({spec.get('r')})",
                               args={"r": POSITIVE}, positional="r", required=("r",)))

    docs/plugins.md has this example worked through (receptive-field steps included).
    """


@hookspec
def register_importers(register):
    """Claim `torch.nn.Module` types for `cnnplan import`: such a module is not traced inside
    but becomes one layer, whose spec text your function returns. Call
    `register(Importer(name, module_type, function))`; `function(module, inputs)` gets the
    module and its input shapes (C x sizes tuples, without the batch)::

        from cnnplan import Importer, hookimpl

        def space_to_depth(module, inputs):     # the kind registered in the example above
            return f"spacetodepth({module.downscale_factor})"

        @hookimpl
        def register_importers(register):
            register(Importer("spacetodepth", "torch.nn:PixelUnshuffle", space_to_depth))

    The module type may be a 'package.module:Class' reference, imported only by
    `cnnplan import`; the imported plan is still checked against torch's shapes.
    """
