"""The plugin platform: entry points, isolation of broken plugins, listing, the example plugin.

Plugins are installed as conda's tests do: a fake `.dist-info` with entry points on PYTHONPATH,
so the real scanning and loading code runs in the installed `cnnplan` command.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
import textwrap

import click
import pytest
from click.testing import CliRunner

import cnnplan
from cnnplan import BadInput
from cnnplan import Reporter, Result, Solver, hookimpl
from cnnplan.platform import hookspecs
from cnnplan.cli import build_cli
from cnnplan.platform.host import PluginHost, get_host

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "cnnplan-plugin-example")


def fake_dist(site, dist, version, entry_points: dict[str, str], modules: dict[str, str] = {}):
    """Write `dist-version.dist-info` with the given entry points, and plugin modules, in site."""
    info = site / f"{dist}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[cnnplan]\n{lines}")
    for name, source in modules.items():
        (site / f"{name}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site"
    path.mkdir()
    return path


def env_for(site, **extra):
    paths = [str(site), EXAMPLE, os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in paths if p), **extra}


@pytest.fixture
def example_installed(site):
    fake_dist(site, "cnnplan_plugin_example", "0.1.0", {"separable": "cnnplan_separable"})
    return site


def test_example_plugin_is_listed_and_works(cnnplan_cmd, example_installed):
    env = env_for(example_installed)
    listed = json.loads(cnnplan_cmd("plugins", "--format", "json", env=env).stdout)
    mine = [p for p in listed if p["name"] == "separable"]
    assert mine == [{"name": "separable", "version": "0.1.0", "hooks": [
        "register_commands", "register_reporters", "register_solvers"], "loaded": True,
        "errors": [], "shadowed": []}]
    proc = cnnplan_cmd("separable", "--in", "32x56x56", "--out-channels", "64", "--format",
                       "json", env=env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    standard, separable = doc["designs"]
    assert standard["weights"] == 3 * 3 * 32 * 64
    assert separable["weights"] == 3 * 3 * 32 + 32 * 64
    assert separable["macs"] == 56 * 56 * 32 * 9 + 56 * 56 * 64 * 32
    formats = json.loads(cnnplan_cmd("formats", "--format", "json", env=env).stdout)
    assert {"name": "html-fragment", "description": "A standalone HTML fragment",
            "provider": "separable", "renders": "all"} in formats
    solvers = json.loads(cnnplan_cmd("solvers", "--format", "json", env=env).stdout)
    assert "separable" in [s["name"] for s in solvers]
    html = cnnplan_cmd("solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8,d=1",
                       "--format", "html-fragment", env=env)
    assert html.returncode == 0 and "<td>12352</td>" in html.stdout


def core_results():
    """One of each result the core makes, for reporters to render."""
    host = get_host()
    return [
        cnnplan.solve("3x64x64", "64x32x32", fix={"k": 8}),
        cnnplan.solve("3x64x64", "64x33x33", fix={"k": 8, "d": 1, "s": 2}, max={"p": 3}),
        cnnplan.solve("3x8", "5x4", layer="conv", limit=0),
        Result(title="empty"),
        Result(title="<&>", facts=(("a|b", "x & y"),), notes=("50% \\ done_",)),
    ] + [Result(title=r.name, facts=(("provider", r.provider),)) for r in host.solvers.records()]


def test_example_html_renders_every_core_result(monkeypatch):
    results = core_results()
    monkeypatch.syspath_prepend(EXAMPLE)
    from cnnplan_separable.html import render_html

    for result in results:
        html = render_html(result)
        assert html.startswith("<h2>") and "<&>" not in html
        for table in result.tables:
            assert html.count("<tr>") >= len(table.rows)


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown", "latex"])
def test_core_formats_render_every_core_result(fmt):
    for result in core_results():
        text = cnnplan.render(result, fmt)
        assert isinstance(text, str)
        if fmt == "json":
            json.loads(text)


BROKEN = {
    "import_fails": "import missing_module_xyz\n",
    "hook_raises": """
        from cnnplan import hookimpl, Reporter
        @hookimpl
        def register_reporters(register):
            register(Reporter("half", "registered before the failure", str))
            raise RuntimeError("boom in reporters")
        @hookimpl
        def register_commands(cli):
            raise ValueError("boom in commands")
    """,
    "dup_json": """
        from cnnplan import hookimpl, Reporter
        @hookimpl
        def register_reporters(register):
            register(Reporter("json", "a second json", str))
            register(Reporter("shout", "upper case", lambda r: r.title.upper()))
    """,
    "steals_solve": """
        import click
        from cnnplan import hookimpl
        @hookimpl
        def register_commands(cli):
            @cli.command("solve")
            def solve():
                click.echo("stolen")
    """,
}


@pytest.fixture
def broken_site(site):
    for name, source in BROKEN.items():
        fake_dist(site, f"{name}_dist", "1.0", {name: name}, {name: source})
    return site


def test_broken_plugins_never_take_the_cli_down(cnnplan_cmd, broken_site):
    proc = cnnplan_cmd("solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8,d=1",
                       "--format", "shout", env=env_for(broken_site))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "CONVOLUTION 3X64X64 -> 64X32X32: 1 SOLUTION"
    err = proc.stderr
    assert "plugin import_fails (import_fails_dist 1.0) failed to load: ModuleNotFoundError" in err
    assert "plugin hook_raises (hook_raises_dist 1.0) register_commands failed: ValueError" in err
    assert "register_reporters failed: RuntimeError: boom in reporters" in err
    assert "format name 'json' is registered by both cnnplan.default_plugin and dup_json" in err
    assert "command name 'solve' is registered by both cnnplan and steals_solve" in err
    assert "Traceback" not in err
    for line in err.strip().splitlines():  # each failure reported once
        assert err.count(line) == 1
    assert len(err.strip().splitlines()) == 5


def test_a_failed_hook_registers_nothing(cnnplan_cmd, broken_site):
    proc = cnnplan_cmd("formats", "--format", "json", env=env_for(broken_site))
    names = [f["name"] for f in json.loads(proc.stdout)]
    assert "half" not in names and "shout" in names and names.count("json") == 1


def test_broken_plugin_command_in_help_and_explains(cnnplan_cmd, broken_site):
    env = env_for(broken_site)
    help_text = cnnplan_cmd("--help", env=env).stdout
    assert re.search(r"import_fails\s+\[broken plugin\]", help_text)
    proc = cnnplan_cmd("import_fails", "anything", "--at", "all", env=env)
    assert proc.returncode == 1
    assert "plugin 'import_fails' is broken: failed to load: ModuleNotFoundError" in proc.stderr
    assert cnnplan_cmd("solve", "--help", env=env).stdout.count("stolen") == 0


def test_strict_mode_fails(cnnplan_cmd, broken_site):
    proc = cnnplan_cmd("plugins", env=env_for(broken_site, CNNPLAN_STRICT_PLUGINS="1"))
    assert proc.returncode == 1
    assert "CNNPLAN_STRICT_PLUGINS" in proc.stderr and "Traceback" not in proc.stderr


def test_load_plugins_filter(cnnplan_cmd, broken_site):
    env = env_for(broken_site, CNNPLAN_LOAD_PLUGINS="dup_json")
    proc = cnnplan_cmd("plugins", "--format", "json", env=env)
    assert [p["name"] for p in json.loads(proc.stdout)] == ["dup_json"]
    assert "import_fails" not in proc.stderr
    env = env_for(broken_site, CNNPLAN_LOAD_PLUGINS="steals_solve_dist")  # distribution name
    assert [p["name"] for p in json.loads(cnnplan_cmd("plugins", "--format", "json",
                                                      env=env).stdout)] == ["steals_solve"]
    proc = cnnplan_cmd("plugins", "--format", "json", env=env_for(broken_site,
                                                                  CNNPLAN_LOAD_PLUGINS=""))
    assert json.loads(proc.stdout) == [] and proc.stderr == ""
    proc = cnnplan_cmd("plugins", "--all", "--format", "json",
                       env=env_for(broken_site, CNNPLAN_LOAD_PLUGINS=""))
    assert [p["name"] for p in json.loads(proc.stdout)] == ["cnnplan.default_plugin"]


def test_unknown_format_and_solver_say_choose():
    result = CliRunner().invoke(build_cli(), ["plugins", "--format", "yaml"])
    assert result.exit_code == 2
    assert re.match(r"Error: unknown format 'yaml'; choose one of: csv, .*json, .*table", result.output)
    with pytest.raises(cnnplan.BadInput, match="unknown solver 'nope'; choose one of: .*solve"):
        cnnplan.run_solver("nope")


@pytest.mark.parametrize("name", ["Bad", "a b", "", "x" * 41, "9lives", None])
def test_invalid_names_refused(name):
    host = PluginHost()

    class Plugin:
        @hookimpl
        def register_reporters(register):
            register(Reporter(name, "bad", str))

    host.register(Plugin, "bad-names")
    assert host.reporters.names() == []
    assert "names are lowercase letters" in host.infos["bad-names"].errors[0]


# --- one test per hook (checked by test_every_hook_is_tested_and_documented) ---------------

class ExamplePlugin:
    """A plugin object registered directly, as docs/plugins.md shows for testing plugins."""

    @hookimpl
    def register_solvers(register):
        register(Solver("windows", "How many k-wide windows fit",
                        lambda size, k: Result(title="windows", facts=(("count", size - k + 1),),
                                               data={"count": size - k + 1})))

    @hookimpl
    def register_reporters(register):
        register(Reporter("titles", "Only the title", lambda result: result.title))

    @hookimpl
    def register_commands(cli):
        @cli.command()
        @click.argument("name")
        def hello(name):
            """Say hello."""
            click.echo(f"hello {name}")


@pytest.fixture
def example_plugin():
    host = get_host()
    host.register(ExamplePlugin, name="example-plugin")
    yield host
    host.unregister("example-plugin")


def test_hook_register_solvers(example_plugin):
    assert cnnplan.run_solver("windows", size=10, k=3).data == {"count": 8}
    assert example_plugin.solvers["windows"].provider == "example-plugin"


def test_hook_register_reporters(example_plugin):
    result = cnnplan.solve("3x8", "4x4", fix={"k": 2, "d": 1})
    assert cnnplan.render(result, "titles") == "convolution 3x8 -> 4x4: 1 solution"


def test_hook_register_commands(example_plugin):
    result = CliRunner().invoke(build_cli(), ["hello", "world"])
    assert result.exit_code == 0 and result.output == "hello world\n"


def _docs_layer_kind_example():
    """The register_layer_kinds example of docs/plugins.md, as a module."""
    import re
    import types

    docs = open(os.path.join(ROOT, "docs", "plugins.md"), encoding="utf-8").read()
    section = docs.split("## register_layer_kinds(register)")[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    module = types.ModuleType("spacetodepth_plugin")
    exec(compile(code, "docs/plugins.md", "exec"), module.__dict__)
    return module


def test_hook_register_layer_kinds(torch):
    host = get_host()
    with host.registered(_docs_layer_kind_example(), "spacetodepth-plugin"):
        result = cnnplan.shapes("3x64x64", ["spacetodepth(2)", "conv(8, k=3)"])
        code = cnnplan.render(result, "torch")
        with pytest.raises(BadInput, match="divisible by 2"):
            cnnplan.shapes("3x63x64", ["spacetodepth(2)"])
    x = torch.zeros(1, 3, 64, 64)
    y = torch.nn.PixelUnshuffle(2)(x)
    assert [layer["output"] for layer in result.data["layers"]] == [
        list(y.shape[1:]), [8, 30, 30]]
    # receptive field by autograd: one output unit of the conv depends on a 6 x 6 input block
    x = torch.zeros(1, 3, 64, 64, requires_grad=True)
    net = torch.nn.Sequential(torch.nn.PixelUnshuffle(2), torch.nn.Conv2d(12, 8, 3))
    net(x)[0, 0, 5, 5].backward()
    rows = torch.nonzero(x.grad[0].abs().sum(0).sum(1))
    assert result.data["layers"][-1]["rf"] == int(rows.max() - rows.min() + 1) == 6
    namespace = {}
    exec(compile(code, "export", "exec"), namespace)
    assert namespace["check"]() == (8, 30, 30)
    from cnnplan.kinds import kinds

    assert "spacetodepth" not in kinds()


def test_hook_register_importers(torch):
    """docs/plugins.md's importer claims nn.PixelUnshuffle as the spacetodepth kind."""
    import re
    import types

    docs = open(os.path.join(ROOT, "docs", "plugins.md"), encoding="utf-8").read()
    code = re.search(r"```python\n(.*?)```", docs.split("## register_importers(register)")[1],
                     re.S).group(1)
    importer = types.ModuleType("spacetodepth_importer")
    exec(compile(code, "docs/plugins.md", "exec"), importer.__dict__)
    model = torch.nn.Sequential(torch.nn.PixelUnshuffle(2), torch.nn.Conv2d(12, 8, 3))
    with pytest.raises(BadInput, match="no cnnplan layer kind for torch.nn.modules.pixelshuffle"):
        cnnplan.import_model(model, "3x16x16")
    host = get_host()
    with host.registered(_docs_layer_kind_example(), "spacetodepth-plugin"), \
            host.registered(importer, "spacetodepth-importer"):
        result = cnnplan.import_model(model, "3x16x16")
    assert 'name = "_0"\nspec = "spacetodepth(2)"' in result.data["plan"]
    assert result.data["output"] == list(model(torch.zeros(1, 3, 16, 16)).shape[1:]) == [8, 6, 6]


def hookspec_names():
    return sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
                  if hasattr(fn, "cnnplan_spec"))


def test_every_hook_is_tested_and_documented():
    docs = open(os.path.join(ROOT, "docs", "plugins.md"), encoding="utf-8").read()
    assert hookspec_names() == ["register_commands", "register_importers", "register_layer_kinds",
                                "register_reporters", "register_solvers"]
    for name in hookspec_names():
        assert f"test_hook_{name}" in globals(), f"no test for hook {name}"
        signature = f"{name}{inspect.signature(getattr(hookspecs, name))}"
        assert f"## {signature}" in docs, f"docs/plugins.md has no section '## {signature}'"


SOLVER_HOOK_RAISES = """
    from cnnplan import hookimpl
    @hookimpl
    def register_solvers(register):
        raise RuntimeError("boom in solvers")
"""


def test_strict_mode_fails_early_on_any_hook(cnnplan_cmd, site):
    fake_dist(site, "solver_raises", "1.0", {"solver_raises": "solver_raises"},
              {"solver_raises": SOLVER_HOOK_RAISES})
    proc = cnnplan_cmd("--help", env=env_for(site, CNNPLAN_STRICT_PLUGINS="1"))
    assert proc.returncode == 1 and "boom in solvers" in proc.stderr
    assert "Traceback" not in proc.stderr
    listed = cnnplan_cmd("plugins", "--format", "json", env=env_for(site))
    mine = [p for p in json.loads(listed.stdout) if p["name"] == "solver_raises"][0]
    assert mine["errors"] == ["register_solvers failed: RuntimeError: boom in solvers"]


def test_load_plugins_typo_is_reported(cnnplan_cmd, site):
    proc = cnnplan_cmd("plugins", env=env_for(site, CNNPLAN_LOAD_PLUGINS="nosuchplugin"))
    assert proc.returncode == 0
    assert "CNNPLAN_LOAD_PLUGINS names 'nosuchplugin', but no installed plugin" in proc.stderr


def test_clash_order_is_alphabetical_by_entry_point(cnnplan_cmd, site):
    source = """
        from cnnplan import hookimpl, Reporter
        @hookimpl
        def register_reporters(register):
            register(Reporter("same", "from {name}", lambda r: "{name}"))
    """
    for name in ("zeta", "alpha"):
        fake_dist(site, f"{name}_dist", "1.0", {name: name}, {name: source.format(name=name)})
    proc = cnnplan_cmd("solve", "--in", "3x8", "--out", "3x4", "--fix", "k=2,d=1", "--format",
                       "same", env=env_for(site))
    assert proc.stdout.strip() == "alpha"
    assert "format name 'same' is registered by both alpha and zeta" in proc.stderr


def test_run_solver_checks_arguments():
    with pytest.raises(cnnplan.BadInput, match="solver 'solve': no argument 'in'; it takes "
                                               "\\(input, output, layer='conv'"):
        cnnplan.run_solver("solve", **{"in": "3x8", "output": "3x4"})
    with pytest.raises(cnnplan.BadInput, match="missing a required argument: 'output'"):
        cnnplan.run_solver("solve", input="3x8")


def test_solver_by_reference_is_imported_on_first_use():
    host = PluginHost()

    class Plugin:
        @hookimpl
        def register_solvers(register):
            register(Solver("lazy", "a reference", "cnnplan.solver.layer:solve"))
            register(Solver("broken-ref", "not a reference", "no colon here"))

    host.register(Plugin, "refs")
    lazy = host.solvers.get("lazy")
    assert lazy.arguments.startswith("input, output, layer='conv'")
    assert lazy(input="3x8", output="4x4", fix="k=2,d=1").data["count"] == 1
    assert host.solvers.names() == ["lazy"]
    assert "give a callable or 'module:function'" in host.infos["refs"].errors[0]


def test_registered_context_manager_leaves_installed_plugins_alone():
    host = get_host()
    default = host.pm.get_plugin("cnnplan.default_plugin")
    with host.registered(default, name="again"):
        assert "again" not in host.infos
    with host.registered(ExamplePlugin, name="temporary"):
        assert "windows" in host.solvers.names()
    assert "windows" not in host.solvers.names()


def test_entry_point_cache_follows_installs_and_edits(tmp_path, monkeypatch, site):
    """The cached plugin list equals a fresh scan after every change a user can make: a first
    start writes it, a distribution installed or removed, or its entry points edited in place,
    is seen at the next start, and CNNPLAN_CACHE_DIR= turns the cache off."""
    import shutil

    from cnnplan.platform import entrypoints

    cache = tmp_path / "cache"
    monkeypatch.setenv("CNNPLAN_CACHE_DIR", str(cache))
    monkeypatch.setattr(sys, "path", [str(site)])
    monkeypatch.chdir(tmp_path)

    def names():
        got = entrypoints.entry_points("cnnplan")
        assert got == entrypoints.entry_points("cnnplan", paths=[str(site)])  # a fresh scan
        return [(ep.name, ep.value, ep.distribution, ep.version) for ep in got]

    fake_dist(site, "alpha_dist", "1.0", {"alpha": "alpha_mod"})
    assert names() == [("alpha", "alpha_mod", "alpha_dist", "1.0")]
    assert (cache / "entry-points-cnnplan.txt").exists()
    assert names() == [("alpha", "alpha_mod", "alpha_dist", "1.0")]      # from the cache
    fake_dist(site, "beta_dist", "2.0", {"beta": "beta_mod"})               # installed
    assert [n for n, *_ in names()] == ["alpha", "beta"]
    entry = site / "alpha_dist-1.0.dist-info" / "entry_points.txt"
    entry.write_text("[cnnplan]\nalpha = other_mod\n")                     # edited in place
    os.utime(entry, ns=(1, 1))
    assert names()[0] == ("alpha", "other_mod", "alpha_dist", "1.0")
    shutil.rmtree(site / "beta_dist-2.0.dist-info")                         # removed
    assert [n for n, *_ in names()] == ["alpha"]
    (cache / "entry-points-cnnplan.txt").write_text("garbage\n")            # a damaged cache
    assert names() == [("alpha", "other_mod", "alpha_dist", "1.0")]
    monkeypatch.setenv("CNNPLAN_CACHE_DIR", "")
    shutil.rmtree(cache)
    assert names() == [("alpha", "other_mod", "alpha_dist", "1.0")] and not cache.exists()
