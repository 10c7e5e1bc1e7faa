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
                                           "cnnplan-hello/cnnplan_hello/layers.py",
                                           "cnnplan-hello/tests/test_hello.py"]


def shown(after: str) -> str:
    """The ```text block that follows `after` in the tutorial."""
    return re.search(re.escape(after) + r"\n\n```text\n(.*?)```", DOC, re.S).group(1)


def test_tutorial_commands(installed, cnnplan_cmd):
    work, env = installed
    plugins = cnnplan_cmd("plugins", env=env)
    assert re.search(r"hello\s+0\.1\.0\s+register_commands, register_layer_kinds, "
                     r"register_reporters, register_solvers\s+ok", plugins.stdout), \
        plugins.stdout + plugins.stderr
    proc = cnnplan_cmd("rf", "3", "-k", "3", "-s", "2", env=env)
    assert proc.returncode == 0 and proc.stdout == shown("`cnnplan rf 3 -k 3 -s 2` prints:")
    proc = cnnplan_cmd("rf", "3", "-k", "3", "-s", "2", "--format", "bars", env=env)
    assert proc.stdout == shown("and with `--format bars`:") == \
        "  1  3 ###\n  2  7 #######\n  3 15 ###############\n"
    assert cnnplan_cmd("rf", "3", "--format", "tsv", env=env).stdout == \
        "layer\trf\tjump\n1\t3\t1\n2\t5\t1\n3\t7\t1\n"
    solve = cnnplan_cmd("solve", "--in", "3x32x32", "--out", "8x16x16", "--fix", "k=3,d=1",
                        "--mode", "floor", "--format", "tsv", env=env)
    assert solve.stdout.splitlines()[:2] == [
        "k\ts\tp\td\tunused\toutput\tweights\tparams\tmacs",
        "3\t2\t1\t1\t1\t8x16x16\t216\t224\t55296"]
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


def test_tutorial_layer_kind_against_torch(installed, cnnplan_cmd, torch):
    """lppool in shapes, against PyTorch's own LPPool2d: shapes, receptive field (autograd),
    and the exported module's check()."""
    work, env = installed
    args = ("shapes", "--in", "3x32x32", "lppool(2)", "conv(8, k=3)")
    proc = cnnplan_cmd(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == shown('and `cnnplan shapes --in 3x32x32 "lppool(2)" "conv(8, k=3)"` '
                                'prints:')
    doc = json.loads(cnnplan_cmd(*args, "--format", "json", env=env).stdout)
    net = torch.nn.Sequential(torch.nn.LPPool2d(2, kernel_size=2, stride=2),
                              torch.nn.Conv2d(3, 8, 3))
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    outputs = [list(net[0](x).shape[1:]), list(net(x).shape[1:])]
    assert [layer["output"] for layer in doc["layers"]] == outputs
    net(x)[0, 0, 5, 5].backward()
    rows = torch.nonzero(x.grad[0].abs().sum(0).sum(1))
    assert doc["layers"][-1]["rf"] == int(rows.max() - rows.min() + 1)
    code = cnnplan_cmd(*args, "--format", "torch", env=env).stdout
    assert "nn.LPPool2d(2, kernel_size=2, stride=2)" in code
    namespace = {}
    exec(compile(code, "export", "exec"), namespace)
    assert namespace["check"]() == (8, 14, 14)


def test_tutorial_window_kind_in_solve_and_plan(installed, cnnplan_cmd, torch):
    """lppool as a window kind: solve lists exactly the (k, s) for which PyTorch's LPPool2d
    gives the asked shape (floor and ceil_mode, brute force over every k, s), and plan solves
    for its free k; both as the tutorial shows."""
    work, env = installed
    proc = cnnplan_cmd("solve", "--layer", "lppool", "--in", "3x32x32", "--out", "3x10x10",
                       env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == shown("every k and s that give 3x10x10 (p and d stay 0 and 1: lppool "
                                "has neither):")
    plan = cnnplan_cmd("plan", "--in", "3x32x32", "lppool(s=3)", "conv(8, k=3, p=1) -> 8x10x10",
                       "--top", "1", env=env)
    assert plan.returncode == 0 and plan.stdout == shown("solves\nfor the free kernel size:")
    x = torch.zeros(1, 3, 23, 17)
    for ceil in (False, True):
        for out in ((3, 8, 6), (3, 5, 4), (3, 23, 17), (3, 1, 1)):
            expected = []
            for k in range(1, 24):
                for s in range(1, 24):
                    try:
                        y = torch.nn.LPPool2d(2, k, s, ceil_mode=ceil)(x)
                    except RuntimeError:
                        continue
                    if tuple(y.shape[1:]) == out:
                        expected.append((k, s))
            args = ["solve", "--layer", "lppool", "--in", "3x23x17", "--out",
                    "x".join(map(str, out)), "--format", "json"] + (["--ceil"] if ceil else [])
            doc = json.loads(cnnplan_cmd(*args, env=env).stdout)
            got = sorted((row["k"], row["s"]) for row in doc["solutions"])
            assert got == sorted(expected), (ceil, out)
            assert all((row["p"], row["d"]) == (0, 1) for row in doc["solutions"])


@pytest.mark.parametrize("argv", [["--help"], ["solve", "--in", "3x8", "--out", "4x4"]])
def test_tutorial_plugin_adds_nothing_to_start_up(installed, argv):
    """Its hooks register references: other commands import only its __init__ module."""
    work, env = installed
    code = ("import sys\nfrom cnnplan.cli import main\ntry:\n"
            f"    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('cnnplan_hello')), "
            "file=sys.stderr)")
    py = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                        env=dict(os.environ, **env))
    assert py.stderr.strip().splitlines()[-1] == "['cnnplan_hello']", py.stderr


def test_tutorial_own_tests_pass(installed):
    work, env = installed
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(work / "cnnplan-hello" / "tests")],
                          capture_output=True, text=True, cwd=work, env=dict(os.environ, **env))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "7 passed" in proc.stdout
