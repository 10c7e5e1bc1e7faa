"""docs/plugins.md's tutorial, followed literally: its files are written out, the package is
really installed (pip --target), and its commands and its own tests run against cnnplan."""

from __future__ import annotations

import json
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
                                           "cnnplan-hello/cnnplan_hello/rf.py",
                                           "cnnplan-hello/cnnplan_hello/formats.py",
                                           "cnnplan-hello/cnnplan_hello/schemas/rf.json",
                                           "cnnplan-hello/tests/test_hello.py"]


def shown(after: str) -> str:
    """The ```text block that follows `after` in the tutorial."""
    return re.search(re.escape(after) + r"\n\n```text\n(.*?)```", DOC, re.S).group(1)


def test_tutorial_commands(installed, cnnplan_cmd):
    work, env = installed
    plugins = cnnplan_cmd("plugins", env=env)
    assert re.search(r"hello\s+0\.1\.0\s+register_commands, register_reporters, "
                     r"register_solvers\s+ok", plugins.stdout), plugins.stdout + plugins.stderr
    proc = cnnplan_cmd("rf", "3", "-k", "3", "-s", "2", env=env)
    assert proc.returncode == 0 and proc.stdout == shown("`cnnplan rf 3 -k 3 -s 2` prints:")
    proc = cnnplan_cmd("rf", "3", "-k", "3", "-s", "2", "--format", "bars", env=env)
    assert proc.stdout == shown("and with `--format bars`:") == \
        "  1  3 ###\n  2  7 #######\n  3 15 ###############\n"
    assert cnnplan_cmd("rf", "3", "--format", "tsv", env=env).stdout == \
        "layer\trf\tjump\n1\t3\t1\n2\t5\t1\n3\t7\t1\n"
    solve = cnnplan_cmd("solve", "--in", "3x32x32", "--out", "8x16x16", "--fix", "k=3,d=1",
                        "--mode", "floor", "--format", "tsv", env=env)
    assert solve.stdout.splitlines()[:2] == ["k\ts\tp\td\toutput\tweights\tparams\tmacs",
                                            "3\t2\t1\t1\t8x16x16\t216\t224\t55296"]
    refused = cnnplan_cmd("solve", "--in", "3x32x32", "--out", "8x16x16", "--fix", "k=3,d=1",
                          "--mode", "floor", "--format", "bars", env=env)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == shown("exits with code 2 and says:")
    formats = {f["name"]: f for f in json.loads(cnnplan_cmd("formats", "--format", "json",
                                                            env=env).stdout)}
    assert (formats["bars"]["renders"], formats["bars"]["provider"]) == ("rf", "hello")
    assert formats["tsv"]["renders"] == "all"
    py = subprocess.run([sys.executable, "-c", "import cnnplan; print(cnnplan.run_solver('rf', "
                         "layers=2).data)"], capture_output=True, text=True,
                        env=dict(os.environ, **env))
    assert py.stdout.strip() == "{'k': 3, 's': 1, 'rf': [3, 5]}"


def test_tutorial_plugin_adds_nothing_to_start_up(installed):
    """Its hooks register references: loading it imports only its __init__ module."""
    work, env = installed
    code = ("import sys\nfrom cnnplan.cli import build_cli\nfrom cnnplan.plugins import get_host\n"
            "build_cli(); get_host().check()\n"
            "print(sorted(m for m in sys.modules if m.startswith('cnnplan_hello')))")
    py = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                        env=dict(os.environ, **env))
    assert py.stdout.strip() == "['cnnplan_hello']", py.stderr


def test_tutorial_own_tests_pass(installed):
    work, env = installed
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(work / "cnnplan-hello" / "tests")],
                          capture_output=True, text=True, cwd=work, env=dict(os.environ, **env))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 passed" in proc.stdout
