"""pytest support for plugin authors: the `cnnplan_host` fixture.

pytest loads this module by itself (cnnplan declares it as a `pytest11` entry point, as
pytester is), so a plugin's tests need no conftest.py::

    import cnnplan_hello

    def test_rf(cnnplan_host):
        app = cnnplan_host(cnnplan_hello)          # only the core and this plugin
        assert app.invoke("rf", "2", "--format", "tsv").output == "layer\\trf\\tjump\\n..."

`-p no:cnnplan` turns it off.
"""

from __future__ import annotations

import contextlib

import pytest

from .platform.host import PluginFailure, PluginHost, isolated_host, use_host


class Harness:
    """A plugin host with only the core and the plugins under test, current for one test:
    `cnnplan.run_solver`, `cnnplan.render`, `emit` and the CLI all use it."""

    def __init__(self, host: PluginHost):
        self.host = host

    @property
    def solvers(self):
        """The registered solvers (a read-only mapping by name)."""
        return self.host.solvers

    @property
    def reporters(self):
        """The registered formats (a read-only mapping by name)."""
        return self.host.reporters

    @property
    def layer_kinds(self):
        """The registered layer kinds (the core's and these plugins')."""
        from .kinds import kinds

        with use_host(self.host):
            return kinds()

    def check_window(self, name: str, sizes=range(1, 10)) -> None:
        """Assert that the window kind `name` gives exactly the shapes its Window rule says
        (what `solve` and `plan` enumerate): its `apply` against `Window.sizes` for every k <= 5,
        s <= 4, p <= 2, d <= 3, ceil and op it has, on 1-, 2- and 3-D inputs of `sizes`."""
        found = window_mismatches(self.layer_kinds[name], sizes)
        if found:
            raise AssertionError(
                f"{len(found)} shapes differ from the Window rule, e.g.:\n" + "\n".join(found[:5])
            )

    def made_kinds(self) -> set:
        """The Result kinds something here makes: a command's `format_option(kinds=...)`, or
        a shipped JSON Schema."""
        import click

        from .cli import LazyCommand

        kinds, commands = set(self.host.schemas()), list(self.cli().commands.values())
        while commands:
            command = commands.pop()
            if isinstance(command, LazyCommand):
                try:
                    command = command.resolve()
                except Exception:  # its own failure shows when it runs
                    continue
            if isinstance(command, click.Group):
                commands += command.commands.values()
            for param in command.params:
                kinds.update(getattr(param, "kinds", None) or ())
        return kinds

    def unknown_kinds(self) -> list[str]:
        """One line per plugin format that names a Result kind nothing here makes (a typo in
        `kinds=`; the core's formats also name the built-in plugins' kinds)."""
        made = self.made_kinds()
        return [
            f"plugin {record.provider}: format {record.name!r} renders kind {kind!r}, which "
            f"no command makes and no schema describes (a typo? known kinds: "
            f"{', '.join(sorted(made))})"
            for record in self.reporters.records()
            for kind in record.kinds
            if kind not in made and not self.host.infos[record.provider].default
        ]

    def cli(self):
        """A fresh `cnnplan` command group with the core's and these plugins' commands."""
        from .cli import build_cli

        return build_cli()

    def invoke(self, *args: str, input: str | None = None):
        """Run `cnnplan ARGS...` in-process with click's CliRunner; returns click's Result
        (`exit_code`, `output`, `stdout`, `stderr`)."""
        from click.testing import CliRunner

        return CliRunner().invoke(self.cli(), list(args), input=input)


def window_mismatches(kind, sizes=range(1, 10)) -> list[str]:
    """Where `kind.apply` and its Window rule disagree on an output shape (see
    Harness.check_window), one line each."""
    from itertools import product

    from .kinds.shape import format_shape
    from .language.specs import LayerSpec
    from .platform.errors import BadInput

    window = kind.window
    if window is None:
        return [f"{kind.name} is not a window kind (it has no Window)"]
    fixed = dict(window.fixed)
    found = []
    pads = (fixed["p"],) if "p" in fixed else range(3)
    dilations = (fixed["d"],) if "d" in fixed else range(1, 4)
    for k, s, p, d, ceil in product(
        range(1, 6), range(1, 5), pads, dilations, (False, True) if window.ceil else (False,)
    ):
        for op in range(max(s, d) + 1) if window.rule == "convT" else (0,):
            values = {"k": k, "s": s, **{n: v for n, v in (("p", p), ("d", d)) if n not in fixed}}
            values.update(
                {"ceil": ceil} if window.ceil else {},
                **({"op": op} if window.rule == "convT" else {}),
                **({"channels": 3} if window.channels else {}),
            )
            spec = LayerSpec(kind.name).with_values(**values).complete()
            for inputs in _window_inputs(sizes):
                expected = window.sizes(inputs, k, s, p, d, op, ceil)
                try:
                    got = kind.apply(spec, ((2,) + inputs,), "layer 1").output
                except BadInput:
                    got = None
                if expected is not None:
                    expected = (3 if window.channels else 2,) + expected
                if got != expected:
                    found.append(
                        (
                            got is None or expected is None,
                            f"{spec.canonical()} on {format_shape((2,) + inputs)}: apply "
                            f"gives {_shape_or_refusal(got)}, Window({window.rule!r}) "
                            f"gives {_shape_or_refusal(expected)}",
                        )
                    )
    # two shapes that differ first: they name the rule's mistake better than a refusal does
    return [line for _, line in sorted(found, key=lambda item: item[0])]


def _window_inputs(sizes):
    for i in sizes:
        yield from ((i,), (i, i), (i, i + 2), (i, i, i))


def _shape_or_refusal(shape) -> str:
    if shape is None:
        return "a refusal"
    return "x".join(map(str, shape)) if isinstance(shape, (tuple, list)) else repr(shape)


@pytest.fixture
def cnnplan_host(monkeypatch):
    """Factory: `cnnplan_host(plugin, ..., names=(), strict=True)` -> a Harness.

    `plugin`: a module or class with hook implementations; `names`: installed plugins to load
    by entry-point or distribution name (their real entry points). No other installed plugin
    is loaded. With `strict` (the default) a hook that raises or a refused name fails the
    test instead of being reported on stderr and skipped.
    """
    stack = contextlib.ExitStack()

    def make(*plugins, names=(), strict: bool = True) -> Harness:
        monkeypatch.setenv("CNNPLAN_STRICT_PLUGINS", "1" if strict else "0")
        host = isolated_host(*plugins, names=names)
        for info in host.infos.values():
            if not info.default and not info.hooks:
                raise ValueError(
                    f"{info.name} implements no cnnplan hook (did you pass the "
                    "module that holds the @hookimpl functions?)"
                )
        stack.enter_context(use_host(host))
        harness = Harness(host)
        if strict:
            host.check()
            harness.layer_kinds  # noqa: B018 (runs the layer-kind hooks)
            unknown = harness.unknown_kinds()
            if unknown:
                raise PluginFailure(unknown[0])
        return harness

    with stack:
        yield make
