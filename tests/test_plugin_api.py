"""The plugin platform's second round: registries as mappings, can_render, lazy reporters and
commands, CNNPLAN_PREFER, strict mode and `cnnplan plugins` counts, the cnnplan_host fixture."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import cnnplan
from cnnplan import LazyCommand, Reporter, Result, Solver, emit, format_option, hookimpl
from cnnplan.cli import build_cli
from cnnplan.platform.host import PluginFailure, get_host
from test_plugin_platform import env_for, fake_dist, site  # noqa: F401 (a fixture)


# --- 1. registries are read-only mappings ---------------------------------------------------

def test_registries_are_read_only_mappings():
    formats = get_host().reporters
    assert "json" in formats and "nope" not in formats and None not in formats
    assert list(formats) == sorted(formats) == formats.names()
    assert len(formats) == len(list(formats.items())) >= 6
    assert formats["json"].name == "json" and formats.get("nope") is None
    assert [r.name for r in formats.values()] == list(formats)
    with pytest.raises(KeyError):
        formats["nope"]
    with pytest.raises(cnnplan.BadInput, match="unknown format 'nope'; choose one of: csv,"):
        formats["nope"]
    with pytest.raises(TypeError):
        formats["x"] = formats["json"]
    assert "solve" in get_host().solvers and dict(get_host().solvers)["solve"].name == "solve"


# --- 5. can_render ----------------------------------------------------------------------------

def test_format_refused_where_it_cannot_render(cnnplan_cmd):
    proc = cnnplan_cmd("solve", "--in", "3x8", "--out", "4x4", "--format", "torch")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "Error: format 'torch' cannot render 'solve' or 'solve-per-axis' results (it renders "
        "'shapes', 'plan'); choose one of: csv, html, json, latex, markdown, svg, svg-animated, "
        "table"]
    proc = cnnplan_cmd("shapes", "--in", "3x8", "conv(4, k=2)", "--format", "dot")
    assert proc.returncode == 2 and "format 'dot' cannot render 'shapes' results" in proc.stderr
    assert "torch" in proc.stderr.splitlines()[0].split("choose one of:")[1]
    assert cnnplan_cmd("ad", "x*x", "--at", "x=1", "--format", "dot").returncode == 0


def test_help_offers_only_formats_that_can_render():
    def offered(*command):
        text = CliRunner().invoke(build_cli(), [*command, "--help"]).output
        return re.search(r"Output format: ([a-z, -]+)\.", " ".join(text.split())).group(1)

    assert offered("solve") == "csv, html, json, latex, markdown, svg, svg-animated, table"
    assert offered("shapes") == "csv, html, json, latex, markdown, onnx, svg, table, torch"
    assert offered("ad") == "csv, dot, html, json, latex, markdown, svg, table"


def test_formats_say_what_they_render(cnnplan_cmd):
    listed = {f["name"]: f["renders"] for f in json.loads(
        cnnplan_cmd("formats", "--format", "json").stdout)}
    assert listed["torch"] == "shapes, plan" and listed["dot"] == "ad" and listed["csv"] == "all"


class KindPlugin:
    """A format for one kind, and a command that declares no kinds but emits a 'solve'."""

    @hookimpl
    def register_reporters(register):
        register(Reporter("count-only", "The count of a solve", lambda r: str(r.data["count"]),
                          kinds=("solve",)))
        register(Reporter("bad-kinds", "kinds given as a string", str, kinds="solve"))

    @hookimpl
    def register_commands(cli):
        @cli.command("twice")
        @format_option()
        def twice(fmt):
            emit(cnnplan.solve("3x8", "4x4", fix="k=2,d=1"), fmt)
            emit(cnnplan.shapes("3x8", ["conv(4, k=2, s=2)"]), fmt)


def test_can_render_is_checked_when_the_result_is_emitted():
    with get_host().registered(KindPlugin, "kinds-plugin"):
        host = get_host()
        assert host.reporters["count-only"].can_render("solve")
        assert not host.reporters["count-only"].can_render("shapes")
        assert "bad-kinds" not in host.reporters
        assert "give a tuple of kind names" in host.infos["kinds-plugin"].errors[0]
        result = CliRunner().invoke(build_cli(), ["twice", "--format", "count-only"])
    assert result.exit_code == 2
    assert result.stdout == "1\n"
    assert "format 'count-only' cannot render 'shapes' results (it renders 'solve')" in \
        result.stderr


# --- 6 and 7. strict mode names the plugin; plugins counts loaded and failed -------------------

def test_strict_mode_names_the_plugin(cnnplan_cmd, site):
    source = """
        from cnnplan import hookimpl
        @hookimpl
        def register_solvers(register):
            raise RuntimeError("boom")
    """
    fake_dist(site, "raiser_dist", "2.0", {"raiser": "raiser"}, {"raiser": source})
    proc = cnnplan_cmd("solve", "--help", env=env_for(site, CNNPLAN_STRICT_PLUGINS="1"))
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "Error: plugin raiser (raiser_dist 2.0) register_solvers failed: RuntimeError: boom "
        "(CNNPLAN_STRICT_PLUGINS is set; CNNPLAN_DEBUG=1 shows the traceback)"]
    fake_dist(site, "missing_dist", "1.0", {"missing": "missing_module_xyz"})
    proc = cnnplan_cmd("solvers", env=env_for(site, CNNPLAN_STRICT_PLUGINS="1"))
    assert proc.stderr.startswith("Error: plugin missing (missing_dist 1.0) failed to load: "
                                  "ModuleNotFoundError")


def test_plugins_counts_loaded_and_failed(cnnplan_cmd, site):
    fake_dist(site, "gone_dist", "1.0", {"gone": "gone_module_xyz"})
    fake_dist(site, "fine_dist", "1.0", {"fine": "fine"}, {"fine": "x = 1\n"})
    fake_dist(site, "sour_dist", "1.0", {"sour": "sour"}, {"sour": """
        from cnnplan import hookimpl
        @hookimpl
        def register_reporters(register):
            raise ValueError("sour")
    """})
    env = env_for(site, CNNPLAN_LOAD_PLUGINS="gone,fine,sour")
    proc = cnnplan_cmd("plugins", env=env)
    assert proc.stdout.splitlines()[0] == "2 plugins loaded (1 with errors), 1 failed to load"
    assert re.search(r"gone\s+1\.0\s+failed to load: ModuleNotFoundError", proc.stdout)
    listed = {p["name"]: p for p in json.loads(cnnplan_cmd("plugins", "--format", "json",
                                                           env=env).stdout)}
    assert [listed[n]["loaded"] for n in ("fine", "gone", "sour")] == [True, False, True]
    assert listed["sour"]["errors"] == ["register_reporters failed: ValueError: sour"]
    env = env_for(site, CNNPLAN_LOAD_PLUGINS="fine")
    assert cnnplan_cmd("plugins", env=env).stdout.splitlines()[0] == "1 plugin loaded"


# --- 8. lazy reporters and commands -----------------------------------------------------------

PROBE = """
import sys
from cnnplan.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith(("cnnplan", "numpy"))), file=sys.stderr)
"""


def imported_by(*argv) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(argv=list(argv))],
                          capture_output=True, text=True)
    return set(eval(proc.stderr.strip().splitlines()[-1]))  # our own repr of a list of names


def test_plugins_add_nothing_heavy_to_start_up():
    heavy = {"cnnplan_autodiff.command", "cnnplan_autodiff.dot", "cnnplan_convmodes.command",
             "cnnplan_activations.commands", "cnnplan.platform.reporters", "cnnplan.network.export", "numpy"}
    help_modules = imported_by("--help")
    assert {"cnnplan_autodiff", "cnnplan_convmodes", "cnnplan_activations"} <= help_modules
    assert not heavy & help_modules
    solve_modules = imported_by("solve", "--in", "3x8", "--out", "4x4", "--fix", "k=2,d=1")
    assert "cnnplan.platform.reporters" in solve_modules
    assert not (heavy - {"cnnplan.platform.reporters"}) & solve_modules
    assert "cnnplan_autodiff.command" in imported_by("ad", "x", "--at", "x=1")


class LazyPlugin:
    @hookimpl
    def register_reporters(register):
        register(Reporter("lazy-json", "json by reference", "cnnplan.platform.reporters:render_json"))

    @hookimpl
    def register_commands(cli):
        cli.add_command(LazyCommand("shapes-too", "The shapes command, imported late.",
                                    "cnnplan.cli:shapes"))
        cli.add_command(LazyCommand("nowhere", "A reference to nothing.", "no_such_mod_xyz:cmd"))


def test_lazy_reporter_and_commands():
    with get_host().registered(LazyPlugin, "lazy"):
        result = cnnplan.solve("3x8", "4x4", fix="k=2,d=1")
        assert cnnplan.render(result, "lazy-json") == cnnplan.render(result, "json")
        cli = build_cli()
        help_text = CliRunner().invoke(cli, ["--help"]).output
        assert re.search(r"shapes-too\s+The shapes command, imported late\.", help_text)
        ran = CliRunner().invoke(cli, ["shapes-too", "--in", "3x8", "conv(4, k=2, s=2)"])
        assert ran.exit_code == 0 and "network 3x8 -> 4x4: 1 layer" in ran.output
        broken = CliRunner().invoke(cli, ["nowhere"])
    assert broken.exit_code == 1
    assert broken.output == ("Error: command 'nowhere' could not be imported from "
                             "'no_such_mod_xyz:cmd': ModuleNotFoundError: No module named "
                             "'no_such_mod_xyz'\n")


# --- 9. CNNPLAN_PREFER --------------------------------------------------------------------------

CLASH = """
    import click
    from cnnplan import hookimpl, Reporter
    @hookimpl
    def register_reporters(register):
        register(Reporter("same", "from {name}", lambda r: "{name}"))
        register(Reporter("json", "a second json", str))
    @hookimpl
    def register_commands(cli):
        @cli.command("hello")
        def hello():
            click.echo("hello from {name}")
"""


@pytest.fixture
def clash_site(site):
    for name in ("zeta", "alpha"):
        fake_dist(site, f"{name}_dist", "1.0", {name: name}, {name: CLASH.format(name=name)})
    return site


def run_clash(cnnplan_cmd, clash_site, **env):
    env = env_for(clash_site, CNNPLAN_LOAD_PLUGINS="alpha,zeta", **env)
    fmt = cnnplan_cmd("solve", "--in", "3x8", "--out", "3x4", "--fix", "k=2,d=1", "--format",
                      "same", env=env)
    return fmt.stdout.strip(), cnnplan_cmd("hello", env=env).stdout.strip(), fmt.stderr


def test_clashes_default_to_alphabetical_and_say_how_to_choose(cnnplan_cmd, clash_site):
    fmt, command, err = run_clash(cnnplan_cmd, clash_site)
    assert (fmt, command) == ("alpha", "hello from alpha")
    assert ("plugin zeta (zeta_dist 1.0) format name 'same' is registered by both alpha and "
            "zeta; alpha keeps it (set CNNPLAN_PREFER=zeta to choose zeta); skipped") in err
    assert "command name 'hello' is registered by both alpha and zeta; alpha keeps it" in err


def test_prefer_settles_clashes_silently_but_never_takes_core_names(cnnplan_cmd, clash_site):
    fmt, command, err = run_clash(cnnplan_cmd, clash_site, CNNPLAN_PREFER="zeta_dist")
    assert (fmt, command) == ("zeta", "hello from zeta")
    assert "'same'" not in err and "'hello'" not in err
    assert err.count("format name 'json' is registered by both cnnplan.default_plugin") == 2
    env = env_for(clash_site, CNNPLAN_LOAD_PLUGINS="alpha,zeta", CNNPLAN_PREFER="zeta")
    listed = {p["name"]: p for p in json.loads(cnnplan_cmd("plugins", "--format", "json",
                                                           env=env).stdout)}
    assert sorted(listed["alpha"]["shadowed"]) == [
        "command 'hello' shadowed by zeta (CNNPLAN_PREFER)",
        "format 'same' shadowed by zeta (CNNPLAN_PREFER)"]
    assert listed["zeta"]["shadowed"] == []


# --- 10. the cnnplan_host fixture (pytest11) ----------------------------------------------------

class WindowsPlugin:
    @hookimpl
    def register_solvers(register):
        register(Solver("windows", "How many k-wide windows fit",
                        lambda size, k: Result(title="windows", data={"count": size - k + 1},
                                               kind="windows")))

    @hookimpl
    def register_reporters(register):
        register(Reporter("count", "Only the count", lambda r: str(r.data["count"]),
                          kinds=("windows",)))

    @hookimpl
    def register_commands(cli):
        @cli.command()
        @click.argument("size", type=int)
        @format_option(kinds=("windows",))
        def windows(size, fmt):
            """Count the 3-wide windows in SIZE."""
            emit(cnnplan.run_solver("windows", size=size, k=3), fmt)


def test_fixture_isolates_the_plugin_under_test(cnnplan_host):
    app = cnnplan_host(WindowsPlugin)
    assert "dot" not in app.reporters and "ad" not in app.solvers  # installed plugins left out
    assert set(app.reporters) == {"count", "csv", "html", "json", "latex", "markdown", "onnx",
                                  "svg", "svg-animated", "table", "torch"}
    assert cnnplan.run_solver("windows", size=10, k=3).data == {"count": 8}
    result = app.invoke("windows", "10", "--format", "count")
    assert (result.exit_code, result.output) == (0, "8\n")
    refused = app.invoke("solve", "--in", "3x8", "--out", "4x4", "--format", "count")
    assert refused.exit_code == 2 and "choose one of: csv, html, json" in refused.output
    assert app.invoke("ad", "x", "--at", "x=1").exit_code == 2


def test_fixture_restores_the_host_and_loads_installed_plugins_by_name(cnnplan_host):
    assert "dot" in get_host().reporters and "count" not in get_host().reporters
    app = cnnplan_host(names=["autodiff"])
    assert "dot" in app.reporters and "conv" not in app.solvers
    assert app.invoke("ad", "x*x", "--at", "x=3", "--format", "json").exit_code == 0


def test_fixture_is_strict(cnnplan_host):
    class Raises:
        @hookimpl
        def register_reporters(register):
            raise RuntimeError("boom")

    with pytest.raises(PluginFailure, match="plugin Raises register_reporters failed: "
                                            "RuntimeError: boom"):
        cnnplan_host(Raises)
    with pytest.raises(ValueError, match="implements no cnnplan hook"):
        cnnplan_host(object())


def test_prefer_settles_layer_kinds_too(monkeypatch):
    from cnnplan import Applied, LayerKind
    from cnnplan.platform.host import PluginHost

    def plugin(tag):
        class Plugin:
            @hookimpl
            def register_layer_kinds(register):
                register(LayerKind("twice", tag, lambda spec, inputs, where: Applied(inputs[0]),
                                   lambda spec, inputs: "nn.Identity()"))
        return Plugin

    monkeypatch.setenv("CNNPLAN_PREFER", "zeta")
    host = PluginHost()
    host.register(plugin("from alpha"), "alpha")
    host.register(plugin("from zeta"), "zeta")
    host.load_defaults()
    from cnnplan.kinds import kinds
    from cnnplan.platform.host import use_host

    with use_host(host):
        registry = kinds()
    assert registry["twice"].help == "from zeta" and registry.get("nope") is None
    assert host.infos["alpha"].shadowed == ["layer kind 'twice' shadowed by zeta (CNNPLAN_PREFER)"]
    assert host.infos["alpha"].errors == []


def test_fixture_catches_a_format_kind_nothing_makes(cnnplan_host):
    from cnnplan import Reporter

    class Typo:
        @hookimpl
        def register_reporters(register):
            register(Reporter("brief", "b", str, kinds=("solve", "slove")))

    with pytest.raises(PluginFailure, match="plugin Typo: format 'brief' renders kind 'slove', "
                                            "which no command makes and no schema describes "
                                            r"\(a typo\? known kinds: .*solve-per-axis"):
        cnnplan_host(Typo)
    Typo.register_reporters = hookimpl(lambda register: register(
        Reporter("brief", "b", str, kinds=("solve", "kinds"))))
    assert cnnplan_host(Typo).reporters["brief"].can_render("kinds")
