"""Question 5 of the assignment, the plugin's wiring, and its rendering in every core format.

Q5: the full, valid and same convolution (kernel flipped) of [1, 2, 3, 4] with [1, 0, 2] are
[1, 2, 5, 8, 6, 8], [5, 8] and [2, 5, 8, 6]; the sheet's steps pair the zero-padded signal
with the flipped kernel [2, 0, 1] aligned beneath.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

import cnnplan
from cnnplan.cli import build_cli

Q5 = {"full": [1, 2, 5, 8, 6, 8], "same": [2, 5, 8, 6], "valid": [5, 8]}
KEYS = {"signal", "kernel", "operation", "full", "same", "valid", "same_convention"}

# The sheet's rows: zero-padded signal * flipped kernel aligned beneath = output.
SHEET_FULL = [
    ("[0, 0, 1, 2, 3, 4]", "[2, 0, 1, 0, 0, 0]", 1),
    ("[0, 1, 2, 3, 4]", "[2, 0, 1, 0, 0]", 2),
    ("[1, 2, 3, 4]", "[2, 0, 1, 0]", 5),
    ("[1, 2, 3, 4]", "[0, 2, 0, 1]", 8),
    ("[1, 2, 3, 4, 0]", "[0, 0, 2, 0, 1]", 6),
    ("[1, 2, 3, 4, 0, 0]", "[0, 0, 0, 2, 0, 1]", 8),
]
SHEET_SAME = SHEET_FULL[1:5]
SHEET_VALID = SHEET_FULL[2:4]


def invoke(*args):
    return CliRunner().invoke(build_cli(), ["conv", *args])


def test_question5_through_the_python_api():
    result = cnnplan.run_solver("conv", signal="1,2,3,4", kernel="1,0,2")
    assert set(result.data) == KEYS
    assert {m: result.data[m] for m in Q5} == Q5
    assert result.data["signal"] == [1, 2, 3, 4] and result.data["kernel"] == [1, 0, 2]
    assert result.data["operation"] == "convolution"
    assert result.data["same_convention"] == "numpy"
    assert result.exit_code == 0
    assert cnnplan.run_solver("conv", signal=[1, 2, 3, 4], kernel=(1, 0, 2)).data == result.data


def test_question5_through_the_installed_command(cnnplan_cmd):
    done = cnnplan_cmd("conv", "1,2,3,4", "1,0,2", "--mode", "all", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == KEYS
    assert {m: data[m] for m in Q5} == Q5


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_one_mode_gives_only_its_key(mode):
    run = invoke("[1,2,3,4]", "[1,0,2]", "--mode", mode, "--format", "json")
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    expected = {"signal", "kernel", "operation", mode} | ({"same_convention"} if mode == "same"
                                                          else set())
    assert set(data) == expected
    assert data[mode] == Q5[mode]


@pytest.mark.parametrize("mode, sheet", [("full", SHEET_FULL), ("same", SHEET_SAME),
                                         ("valid", SHEET_VALID)])
def test_steps_reproduce_the_sheets_derivation(mode, sheet):
    result = cnnplan.run_solver("conv", signal="1,2,3,4", kernel="1,0,2", mode=mode, steps=True)
    (steps,) = [t for t in result.tables if t.title.startswith(f"{mode}, step by step")]
    assert [(row[1], row[2], row[4]) for row in steps.rows] == sheet
    assert [row[4] for row in steps.rows] == Q5[mode]
    assert steps.rows[0][3] == {"full": "0×2 + 0×0 + 1×1", "same": "0×2 + 1×0 + 2×1",
                                "valid": "1×2 + 2×0 + 3×1"}[mode]


def test_the_table_states_each_mode_in_the_cores_terms():
    run = invoke("1,2,3,4", "1,0,2")
    assert run.exit_code == 0
    for line in ("cnnplan solve --in 1x4 --out 1x6 --fix k=3,s=1,p=2,d=1",
                 "cnnplan solve --in 1x4 --out 1x4 --fix k=3,s=1,p=1,d=1",
                 "cnnplan solve --in 1x4 --out 1x2 --fix k=3,s=1,p=0,d=1"):
        assert line in run.output
    assert "numpy and torch conventions agree for this input" in run.output


def test_even_kernel_states_both_conventions_and_where_they_differ():
    run = invoke("1,2,3,4", "1,2", "--mode", "same")
    assert "[2, 5, 8, 11]" not in run.output  # that is cross-correlation
    assert "same  [1, 4, 7, 10]" in run.output
    assert "torch convention pads (0, 1) instead of (1, 0) and gives [4, 7, 10, 8]" in run.output
    assert "differing at positions 0, 1, 2, 3" in run.output
    assert "cnnplan solve --in 1x5 --out 1x4 --fix k=2,s=1,p=0,d=1" in run.output
    torch_run = invoke("1,2,3,4", "1,2", "--mode", "same", "--same", "torch", "--format", "json")
    assert json.loads(torch_run.output)["same"] == [4, 7, 10, 8]
    assert json.loads(torch_run.output)["same_convention"] == "torch"


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown", "latex"])
def test_every_core_format_renders_it(fmt):
    result = cnnplan.run_solver("conv", signal="1,2,3,4", kernel="1,0,2", steps=True)
    text = cnnplan.render(result, fmt)
    assert "1, 2, 5, 8, 6, 8" in text
    if fmt == "latex":
        assert r"\begin{tabular}" in text and "cnnplan solve -{}-in 1x4" in text
    if fmt == "markdown":
        assert "| full | [1, 2, 5, 8, 6, 8] | 6 |" in text


def test_2d_renders_matrices_as_tables():
    run = invoke("[[1,2],[3,4]]", "[[1,1],[1,1]]", "--format", "markdown")
    assert run.exit_code == 0, run.output
    assert "**full (3x3)**" in run.output
    assert "| 0 | 1 | 3 | 2 |" in run.output
    data = json.loads(invoke("[[1,2],[3,4]]", "[[1,1],[1,1]]", "--format", "json").output)
    assert data["full"] == [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
    assert data["valid"] == [[10]]


def test_the_solver_and_plugin_are_registered(cnnplan_cmd):
    from cnnplan.platform.host import get_host

    solver = get_host().solvers["conv"]
    assert solver.provider == "convmodes"
    done = cnnplan_cmd("plugins", "--format", "json")
    (info,) = [p for p in json.loads(done.stdout) if p["name"] == "convmodes"]
    assert info["hooks"] == ["register_commands", "register_solvers"]


def test_without_the_plugin_there_is_no_conv_command(cnnplan_cmd):
    done = cnnplan_cmd("conv", "1,2", "1", env={"CNNPLAN_LOAD_PLUGINS": ""})
    assert done.returncode == 2
    assert "No such command 'conv'" in done.stderr


def test_importing_the_plugin_stays_light():
    """Loading the plugin (as `cnnplan` does at start-up) imports no numerical library and not
    the solver's modules; building the CLI adds nothing (the command is a LazyCommand)."""
    code = ("import sys, cnnplan_convmodes; from cnnplan.cli import build_cli; build_cli(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'scipy', 'torch', 'cnnplan_convmodes')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['cnnplan_convmodes']"
