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

from .plugins import PluginHost, isolated_host, use_host


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
        return self.host.layer_kinds

    def cli(self):
        """A fresh `cnnplan` command group with the core's and these plugins' commands."""
        from .cli import build_cli

        return build_cli()

    def invoke(self, *args: str, input: str | None = None):
        """Run `cnnplan ARGS...` in-process with click's CliRunner; returns click's Result
        (`exit_code`, `output`, `stdout`, `stderr`)."""
        from click.testing import CliRunner

        return CliRunner().invoke(self.cli(), list(args), input=input)


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
                raise ValueError(f"{info.name} implements no cnnplan hook (did you pass the "
                                 "module that holds the @hookimpl functions?)")
        stack.enter_context(use_host(host))
        if strict:
            host.check()
        return Harness(host)

    with stack:
        yield make
