"""`cnnplan solve` through the installed command and through click's CliRunner."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from cnnplan.cli import build_cli
from test_solve_oracle import brute_force

MAIN_JOB = ["solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8", "--mode", "exact"]


def run(*args):
    return CliRunner().invoke(build_cli(), list(args))


def test_main_job_installed_command(cnnplan_cmd):
    proc = cnnplan_cmd(*MAIN_JOB, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    expected = brute_force("conv", "exact", [64, 64], [32, 32],
                           {"k": (8, 8), "s": (1, 64), "p": (0, 64), "d": (1, 64)})
    assert {(r["k"], r["s"], r["p"], r["d"]) for r in doc["solutions"]} == expected
    assert doc["count"] == len(expected) == 24
    assert set(doc) >= {"layer", "mode", "input", "output", "bounds", "count", "solutions"}
    assert doc["bounds"] == {"k": [1, 64], "s": [1, 64], "p": [0, 64], "d": [1, 64]}
    first = doc["solutions"][0]
    assert first == {"k": 8, "s": 2, "p": 3, "d": 1, "unused": [0, 0], "output": [64, 32, 32],
                     "weights": 8 * 8 * 3 * 64, "params": 8 * 8 * 3 * 64 + 64,
                     "macs": 32 * 32 * 64 * 3 * 8 * 8}


def test_python_m_cnnplan_runs_the_command_with_the_collector_on():
    """`python -m cnnplan` is the console script (cnnplan/__main__.py): the same answer as the
    library, and the garbage collector, paused while the command line is built, is on again
    (with start-up's objects frozen) while the command runs and at exit."""
    import subprocess
    import sys

    code = ("import atexit, gc\n"
            "atexit.register(lambda: print('collector', gc.isenabled(), gc.get_freeze_count() > 0))\n"
            "from cnnplan.__main__ import main\n"
            "main(sys.argv[1:])")
    done = subprocess.run([sys.executable, "-c", "import sys\n" + code, *MAIN_JOB, "--format",
                           "json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    document, _, tail = done.stdout.rpartition("}")
    assert json.loads(document + "}") == json.loads(run(*MAIN_JOB, "--format", "json").output)
    assert tail.split() == ["collector", "True", "True"]
    module = subprocess.run([sys.executable, "-m", "cnnplan", *MAIN_JOB, "--format", "json"],
                            capture_output=True, text=True, timeout=120)
    assert json.loads(module.stdout) == json.loads(document + "}")


def test_table_states_bounds_and_count(cnnplan_cmd):
    proc = cnnplan_cmd(*MAIN_JOB)
    assert proc.returncode == 0
    assert "searched:  k 1-64, s 1-64, p 0-64, d 1-64" in proc.stdout
    assert "solutions: 24" in proc.stdout
    assert proc.stderr == ""


def test_limit_keeps_total_count():
    result = run(*MAIN_JOB, "--limit", "3", "--format", "json")
    doc = json.loads(result.output)
    assert doc["count"] == 24 and len(doc["solutions"]) == 3


@pytest.mark.parametrize("key", ["weights", "params", "macs"])
def test_sort_orders(key):
    doc = json.loads(run("solve", "--in", "3x32x32", "--out", "8x16x16", "--sort", key,
                         "--format", "json").output)
    values = [r[key] for r in doc["solutions"]]
    assert values == sorted(values) and doc["count"] > 10


def test_default_sort_is_simplest_first():
    doc = json.loads(run("solve", "--in", "3x32x32", "--out", "8x16x16", "--format", "json").output)
    keys = [(r["d"], r["p"], r["k"], r["s"]) for r in doc["solutions"]]
    assert keys == sorted(keys)


def test_csv_markdown_latex_render_the_same_rows():
    doc = json.loads(run(*MAIN_JOB, "--format", "json").output)
    rows = list(csv.reader(io.StringIO(run(*MAIN_JOB, "--format", "csv").output)))
    assert rows[0] == ["k", "s", "p", "d", "unused", "output", "weights", "params", "macs"]
    assert [tuple(map(int, r[:4])) for r in rows[1:]] == [
        (s["k"], s["s"], s["p"], s["d"]) for s in doc["solutions"]]
    md = run(*MAIN_JOB, "--format", "markdown").output
    assert md.count("\n| 8 |") == 24
    tex = run(*MAIN_JOB, "--format", "latex").output
    assert "\\begin{tabular}" in tex and tex.count("\\\\") == 25


def test_pool_non_overlapping_question_7_2a():
    doc = json.loads(run("solve", "--in", "64x32x32", "--out", "64x8x8", "--layer", "pool",
                         "--fix", "p=0,d=1", "--where", "s == k", "--format", "json").output)
    assert [(r["k"], r["s"]) for r in doc["solutions"]] == [(4, 4)]
    assert doc["solutions"][0]["params"] == 0


def test_one_d_and_three_d():
    doc = json.loads(run("solve", "--in", "3x64", "--out", "8x32", "--fix", "k=8,d=1",
                         "--format", "json").output)
    assert [(r["s"], r["p"]) for r in doc["solutions"]] == [(2, 3)]
    assert doc["solutions"][0]["weights"] == 8 * 3 * 8
    doc = json.loads(run("solve", "--in", "3x16x64x64", "--out", "8x8x32x32", "--fix", "k=4,d=1",
                         "--format", "json").output)
    assert [(r["s"], r["p"]) for r in doc["solutions"]] == [(2, 1)]
    assert doc["solutions"][0]["weights"] == 4 ** 3 * 3 * 8


def test_floor_mode_adds_strides_that_drop_rows():
    exact = json.loads(run("solve", "--in", "64x8x8", "--out", "128x4x4", "--fix", "p=1,d=1",
                           "--mode", "exact", "--format", "json").output)
    floor = json.loads(run("solve", "--in", "64x8x8", "--out", "128x4x4", "--fix", "p=1,d=1",
                           "--mode", "floor", "--format", "json").output)
    assert {(r["k"], r["s"]) for r in exact["solutions"]} == {(4, 2), (7, 1)}
    assert {(r["k"], r["s"]) for r in floor["solutions"]} == {(3, 2), (4, 2), (7, 1)}


def test_no_solution_exit_1_with_nearest(cnnplan_cmd):
    proc = cnnplan_cmd("solve", "--in", "3x64x64", "--out", "64x33x33", "--fix", "k=8,d=1,s=2",
                       "--max", "p=3")
    assert proc.returncode == 1
    assert "nearest reachable outputs" in proc.stdout
    proc = cnnplan_cmd("solve", "--in", "3x64x64", "--out", "64x33x33", "--fix", "k=8,d=1,s=2",
                       "--max", "p=3", "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["count"] == 0 and doc["solutions"] == []
    # with k=8, s=2, d=1 and p <= 3: o = (56 + 2p)/2 + 1 for p = 0..3 -> 29..32
    assert doc["nearest"][0] == {"output": [64, 32, 32], "count": 1}


def test_non_square_explains_per_axis():
    result = run("solve", "--in", "3x64x48", "--out", "8x32x21", "--fix", "k=8,d=1")
    assert result.exit_code == 1
    assert "one (k, s, p, d) must serve every axis" in result.output


def test_non_square_with_common_solution():
    doc = json.loads(run("solve", "--in", "3x64x48", "--out", "8x32x24", "--fix", "d=1",
                         "--mode", "exact", "--format", "json").output)
    expected = brute_force("conv", "exact", [64, 48], [32, 24],
                           {"k": (1, 64), "s": (1, 64), "p": (0, 64), "d": (1, 1)})
    assert {(r["k"], r["s"], r["p"], r["d"]) for r in doc["solutions"]} == expected


def test_explain_column():
    out = run(*MAIN_JOB, "--fix", "d=1", "--explain").output
    assert "(64+2*3-8)/2+1=32" in out


BAD = [
    (["--in", "ax64x64", "--out", "64x32x32"], "not a shape"),
    (["--in", "0x64x64", "--out", "64x32x32"], "at least 1"),
    (["--in", "-3x64x64", "--out", "64x32x32"], "not a shape"),
    (["--in", "3x64x64x64x64x64", "--out", "64x32x32"], "spatial axes"),
    (["--in", "3x64", "--out", "64x32x32"], "spatial axes"),
    (["--in", "3x64x64", "--out", "64x32x32", "--layer", "pool"], "keeps the channels"),
    (["--in", "3x64x64", "--out", "64x32x32", "--fix", "q=1"], "unknown variable 'q'"),
    (["--in", "3x64x64", "--out", "64x32x32", "--max", "x=1"], "unknown variable 'x'"),
    (["--in", "3x64x64", "--out", "64x32x32", "--fix", "k=2.5"], "NAME=INTEGER"),
    (["--in", "3x64x64", "--out", "64x32x32", "--fix", "k=eight"], "NAME=INTEGER"),
    (["--in", "3x64x64", "--out", "64x32x32", "--fix", "k=0"], "below 1"),
    (["--in", "3x64x64", "--out", "64x32x32", "--fix", "k=9", "--max", "k=8"], "outside --max"),
    (["--in", "3x64x64", "--out", "64x32x32", "--max", "s=0"], "below 1"),
    (["--in", "3x64x64", "--out", "64x32x32", "--max", "k=1000000000"], "above the limit"),
    (["--in", "3x64x64", "--out", "64x32x32", "--max", "d=10000", "--max", "p=10000"], "too large"),
    (["--in", "3x64x64", "--out", "64x32x32", "--where", "__import__('os')"], "not a constraint"),
    (["--in", "3x64x64", "--out", "64x32x32", "--where", "k.__class__ == 1"], "attribute"),
    (["--in", "3x64x64", "--out", "64x32x32", "--where", "z > 1"], "unknown name"),
    (["--in", "3x64x64", "--out", "64x32x32", "--where", "k" * 10000], "characters long"),
    (["--in", "3x64x64", "--out", "64x32x32", "--where", "1 == 1"], "mentions none"),
    (["--in", "3x64x64", "--out", "64x32x32", "--format", "nope"], "choose one of"),
    (["--in", "3x64x64", "--out", "64x32x32", "--mode", "round"], "Invalid value"),
    (["--in", "3x64x64"], "Missing option"),
    (["--in", "8x7x7", "--out", "8x14x14", "--layer", "convT", "--fix", "op=-1"], "outside 0"),
    (["--in", "3x64x64", "--out", "64x32x32", "--fix", "op=1"], "unknown variable 'op'"),
    (["--in", "3x64x64", "--out", "3x32x32", "--layer", "conv", "--ceil"], "ceil_mode"),
    (["--in", "3x64x64", "--out", "3x32x32", "--layer", "avgpool", "--fix", "d=2"],
     "no dilation"),
    (["--in", "3x64x64", "--out", "3x32x32", "--layer", "unpool"], "Invalid value"),
]


@pytest.mark.parametrize("args, fragment", BAD)
def test_bad_input_one_line_exit_2(cnnplan_cmd, args, fragment):
    proc = cnnplan_cmd("solve", *args)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""


def test_many_dilations_at_the_limit_answer(cnnplan_cmd):
    proc = cnnplan_cmd("solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=3",
                       "--max", "d=10000", "--format", "json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["count"] > 0


def test_version_and_help(cnnplan_cmd):
    assert cnnplan_cmd("--version").stdout.startswith("cnnplan, version")
    proc = cnnplan_cmd("solve", "--help")
    assert proc.returncode == 0 and "--where" in proc.stdout


def test_per_axis_lists_each_axis_completely():
    doc = json.loads(run("solve", "--in", "3x20x12", "--out", "4x10x5", "--max", "k=7,s=4,p=3,d=2",
                         "--per-axis", "--mode", "exact", "--format", "json").output)
    counts = []
    for axis, (i, o) in zip(doc["axes"], [(20, 10), (12, 5)]):
        expected = brute_force("conv", "exact", [i], [o],
                               {"k": (1, 7), "s": (1, 4), "p": (0, 3), "d": (1, 2)})
        assert {(r["k"], r["s"], r["p"], r["d"]) for r in axis["solutions"]} == expected
        assert (axis["input"], axis["output"], axis["count"]) == (i, o, len(expected))
        counts.append(len(expected))
    assert doc["count"] == counts[0] * counts[1] > 0


@pytest.mark.oracle
def test_per_axis_combinations_run_in_torch(torch):
    doc = json.loads(run("solve", "--in", "3x20x12", "--out", "4x10x5", "--max", "k=7,s=4,p=3,d=2",
                         "--per-axis", "--format", "json").output)
    first, second = (axis["solutions"] for axis in doc["axes"])
    for a in first[::3]:
        for b in second[::3]:
            layer = torch.nn.Conv2d(3, 4, (a["k"], b["k"]), stride=(a["s"], b["s"]),
                                    padding=(a["p"], b["p"]), dilation=(a["d"], b["d"]))
            with torch.no_grad():
                assert tuple(layer(torch.zeros(1, 3, 20, 12)).shape) == (1, 4, 10, 5)
            assert layer.weight.numel() == 3 * 4 * a["k"] * b["k"]


def test_per_axis_no_solution_names_the_axis():
    result = run("solve", "--in", "3x20x12", "--out", "4x10x40", "--max", "k=3,s=2,p=1,d=1",
                 "--per-axis")
    assert result.exit_code == 1
    assert "axis 2 (12 -> 40) has no solution; nearest reachable sizes: 13" in result.output  # 12+2*1-2+1
