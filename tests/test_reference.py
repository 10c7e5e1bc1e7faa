"""The generated reference pages are up to date, every public arithmetic function has an
example that runs, and no docstring points to a file a user does not have."""

from __future__ import annotations

import ast
import doctest
import glob
import importlib
import os
import re

import pytest

from reference import EXTRA, MODULES, PAGES, ROOT, public_functions


@pytest.mark.parametrize("name", sorted(PAGES))
def test_generated_page_is_up_to_date(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        assert handle.read() == PAGES[name](), (
            f"{name} is out of date: run `python tests/reference.py`")


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_function_has_an_example_that_runs(module_name):
    for name, fn in public_functions(module_name):
        assert ">>>" in (fn.__doc__ or ""), f"{module_name}.{name} has no example"
    outcome = doctest.testmod(importlib.import_module(module_name))
    assert outcome.failed == 0 and outcome.attempted >= len(public_functions(module_name))


def test_format_value_example_runs():
    for module_name, name in EXTRA:
        module = importlib.import_module(module_name)
        finder = doctest.DocTestFinder()
        tests = finder.find(getattr(module, name), name, globs=vars(module))
        runner = doctest.DocTestRunner()
        for test in tests:
            runner.run(test)
        assert runner.summarize(verbose=False).failed == 0 and tests[0].examples


def docstrings(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            text = ast.get_docstring(node)
            if text:
                yield text


def test_docstrings_point_only_to_shipped_files_and_the_repositorys_docs():
    sources = glob.glob(os.path.join(ROOT, "cnnplan", "**", "*.py"), recursive=True) + \
        glob.glob(os.path.join(ROOT, "plugins", "**", "*.py"), recursive=True)
    missing = []
    for path in sources:
        for text in docstrings(path):
            for target in re.findall(r"[\w./-]+\.md\b|(?:docs|examples)/[\w./-]*\w", text):
                if not any(os.path.exists(os.path.join(ROOT, where, target))
                           for where in ("", "docs")):
                    missing.append(f"{os.path.relpath(path, ROOT)}: {target}")
    assert missing == []
