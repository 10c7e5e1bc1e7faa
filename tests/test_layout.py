"""The house rules of docs/architecture.md, checked on the source: every import in cnnplan runs
from a part to the same part or one below it (function-level imports included), no two modules
import each other through any chain, and the built-in plugins and the examples import only
cnnplan's public modules."""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "cnnplan")

#: The parts, bottom-up: a part may import its own modules and those of the parts before it.
#: solver and network stand side by side: neither imports the other.
PARTS = [("platform",), ("kinds",), ("language",), ("solver", "network"), ("planner",),
         ("importers",), ("pictures",), ("cli",), ("web",), ("top",)]
#: The top: the package's public API (__init__.py), the core's own plugin that wires the parts
#: together, the pytest fixture for plugin authors, and the old module paths.
TOP = {"cnnplan", "cnnplan.__main__", "cnnplan._moved", "cnnplan.default_plugin", "cnnplan.testing"}
RANK = {part: rank for rank, parts in enumerate(PARTS) for part in parts}

#: What plugins and examples may import (docs/architecture.md, "Public modules").
PUBLIC = {"cnnplan", "cnnplan.kinds", "cnnplan.kinds.arithmetic", "cnnplan.kinds.shape",
          "cnnplan.language.options", "cnnplan.platform.errors", "cnnplan.testing"}


def modules() -> dict[str, str]:
    """{dotted module name: file path} for every module of the cnnplan package."""
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                found[dotted.removesuffix(".__init__")] = path
    return found


MODULES = modules()


def imports(module: str, path: str) -> set[str]:
    """The cnnplan modules `module` imports, anywhere in its code (absolute names; `from X
    import name` counts as importing X.name when that is a module, else X)."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                full = f"{origin}.{alias.name}"
                found.add(full if full in MODULES else origin)
    return {name for name in found if name == "cnnplan" or name.startswith("cnnplan.")}


def part(module: str) -> str:
    return "top" if module in TOP else module.split(".")[1]


GRAPH = {module: imports(module, path) for module, path in MODULES.items()}


def test_every_module_belongs_to_a_part():
    assert {part(m) for m in MODULES} <= set(RANK), {part(m) for m in MODULES} - set(RANK)


def test_no_import_runs_up_or_sideways():
    wrong = []
    for module, targets in GRAPH.items():
        for target in targets - {"cnnplan"}:
            here, there = part(module), part(target)
            if here != there and RANK[there] >= RANK[here]:
                wrong.append(f"{module} ({here}) imports {target} ({there})")
    assert not wrong, "\n".join(wrong)


def test_only_the_top_imports_the_package_itself():
    """`from cnnplan import X` inside the package would reach the public API at the top."""
    wrong = [m for m, targets in GRAPH.items() if "cnnplan" in targets and part(m) != "top"]
    assert not wrong


def test_no_import_cycles():
    """No module reaches itself through imports (Tarjan's strongly connected components)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(v):   # recursive: the depth is at most the number of modules (about 60)
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in MODULES:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in MODULES:
        if module not in index:
            visit(module)
    assert not cycles, cycles


@pytest.mark.parametrize("folder", ["plugins", "examples"])
def test_plugins_and_examples_use_only_public_modules(folder):
    wrong = []
    for base, _, files in os.walk(os.path.join(ROOT, folder)):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(base, name)
                tree = ast.parse(open(path, encoding="utf-8").read(), path)
                for node in ast.walk(tree):
                    names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                             [node.module] if isinstance(node, ast.ImportFrom) and not node.level
                             else [])
                    wrong += [f"{os.path.relpath(path, ROOT)}: {n}" for n in names
                              if n and (n == "cnnplan" or n.startswith("cnnplan."))
                              and n not in PUBLIC]
    assert not wrong, "\n".join(wrong)


def test_the_rule_catches_an_upward_import(tmp_path):
    """The checker itself: a kinds module importing the planner is reported."""
    path = tmp_path / "bad.py"
    path.write_text("def f():\n    from ..planner.chain import run\n")
    found = imports("cnnplan.kinds.bad", str(path))
    assert found == {"cnnplan.planner.chain"}
    assert RANK[part("cnnplan.planner.chain")] > RANK[part("cnnplan.kinds.bad")]


def test_old_module_paths_still_import_with_a_warning():
    import importlib
    import sys

    sys.modules.pop("cnnplan.arithmetic", None)
    with pytest.warns(DeprecationWarning, match="cnnplan.kinds.arithmetic"):
        old = importlib.import_module("cnnplan.arithmetic")
    from cnnplan.kinds.arithmetic import conv_output

    assert old.conv_output is conv_output


def _run_tool(name: str, *args: str):
    """`name args` run in the checkout (skipped if the tool is not installed)."""
    import shutil
    import subprocess
    import sys

    tool = shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(tool):
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return subprocess.run([tool, *args], cwd=ROOT, capture_output=True, text=True)


def test_the_core_passes_its_lint():
    """ruff, with the rules in pyproject.toml, finds nothing in cnnplan/ (CI installs it with
    the test extra)."""
    done = _run_tool("ruff", "check", "cnnplan")
    assert done.returncode == 0, done.stdout[-3000:]


def test_the_core_is_formatted():
    """`ruff format` (line length 100, pyproject.toml) would change nothing in cnnplan/: run
    `ruff format cnnplan` before committing."""
    done = _run_tool("ruff", "format", "--check", "cnnplan")
    assert done.returncode == 0, done.stdout[-3000:]


def test_the_core_type_checks():
    """mypy, with the settings in pyproject.toml ([tool.mypy]: files = cnnplan), reports no
    error (CI installs it with the test extra)."""
    done = _run_tool("mypy")
    assert done.returncode == 0, done.stdout[-3000:]


def test_the_public_api_survives_every_module_imported():
    """The public functions keep working after every module is imported: no part is named
    like a function of the API (a subpackage `cnnplan.solve` would replace the function)."""
    import importlib

    import cnnplan

    for module in sorted(MODULES):
        importlib.import_module(module)
    from cnnplan.network.forward import shapes
    from cnnplan.network.inputs import inputs
    from cnnplan.planner.dispatch import plan
    from cnnplan.solver.layer import solve

    assert (cnnplan.solve, cnnplan.plan) == (solve, plan)
    assert cnnplan.solve("3x64x64", "64x32x32", fix="k=8").kind == "solve"
    assert cnnplan.shapes("3x32x32", ["conv(8, k=3)"]).data == shapes("3x32x32", ["conv(8, k=3)"]).data
    assert cnnplan.inputs("3x9x9", ["conv(8, k=3)"], range="1..9").data == \
        inputs("3x9x9", ["conv(8, k=3)"], range="1..9").data
    assert cnnplan.render(cnnplan.shapes("3x8x8", ["relu"]), "json").startswith("{")
    assert cnnplan.schema("solve")["type"] == "object"
    from cnnplan.kinds import POSITIVE, kinds
    from cnnplan.platform import hookspecs

    assert "conv" in kinds() and POSITIVE in {arg for kind in kinds().values() for arg in kind.args.values()}
    assert hasattr(hookspecs, "register_layer_kinds")
