"""docs/plugins.md's tutorial, followed literally: its files are written out, the package is
really installed (pip --target), and its commands and its own tests run against cnnplan."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = open(os.path.join(ROOT, "docs", "plugins.md"), encoding="utf-8").read()
FILES = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", DOC, re.S)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("tutorial")
    for name, text in FILES:
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    site = work / "site"
    # the test extras bring a setuptools that builds wheels by itself, so no build isolation
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--no-build-isolation", "--target", str(site),
                           str(work / "cnnplan-hello")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    return work, env


def test_tutorial_files_found():
    assert [name for name, _ in FILES] == ["cnnplan-hello/pyproject.toml",
                                           "cnnplan-hello/cnnplan_hello/__init__.py",
                                           "cnnplan-hello/tests/test_hello.py"]


def test_tutorial_commands(installed, cnnplan_cmd):
    work, env = installed
    plugins = cnnplan_cmd("plugins", env=env)
    assert re.search(r"hello\s+0\.1\.0\s+register_commands, register_reporters, "
                     r"register_solvers\s+ok", plugins.stdout), plugins.stdout + plugins.stderr
    shown = re.search(r"`cnnplan rf 3 -k 3 -s 2` prints:\n\n```text\n(.*?)```", DOC, re.S).group(1)
    proc = cnnplan_cmd("rf", "3", "-k", "3", "-s", "2", env=env)
    assert proc.returncode == 0 and proc.stdout == shown
    assert cnnplan_cmd("rf", "3", "--format", "tsv", env=env).stdout == \
        "layer\trf\tjump\n1\t3\t1\n2\t5\t1\n3\t7\t1\n"
    solve = cnnplan_cmd("solve", "--in", "3x32x32", "--out", "8x16x16", "--fix", "k=3,d=1",
                        "--mode", "floor", "--format", "tsv", env=env)
    assert solve.stdout.splitlines()[:2] == [
        "k\ts\tp\td\tunused\toutput\tweights\tparams\tmacs",
        "3\t2\t1\t1\t1\t8x16x16\t216\t224\t55296"]
    py = subprocess.run([sys.executable, "-c", "import cnnplan; print(cnnplan.run_solver('rf', "
                         "layers=2).data)"], capture_output=True, text=True,
                        env=dict(os.environ, **env))
    assert py.stdout.strip() == "{'k': 3, 's': 1, 'rf': [3, 5]}"


def test_tutorial_own_tests_pass(installed):
    work, env = installed
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(work / "cnnplan-hello" / "tests")],
                          capture_output=True, text=True, cwd=work, env=dict(os.environ, **env))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
