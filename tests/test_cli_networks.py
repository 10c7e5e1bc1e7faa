"""`cnnplan shapes` and `cnnplan plan` on the command line: the installed command for every bad
input (one line on stderr, the right exit code, never a traceback) and click's CliRunner for
the answers."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cnnplan.cli import build_cli

Q6 = ["--in", "3x256x256", "conv(64,k=8,s=2)", "maxpool(k=5)", "conv(128,k=4,p=1)"]


def invoke(*args):
    return CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)


def test_shapes_table_and_json():
    table = invoke("shapes", *Q6)
    assert table.exit_code == 0
    assert "128x24x24" in table.output and "73728" in table.output and "131200" in table.output
    data = json.loads(invoke("shapes", *Q6, "--format", "json").output)
    assert data["size"] == 73728 and data["layers"][2]["weights"] == 131072
    markdown = invoke("shapes", *Q6, "--format", "markdown").output
    assert "| 3 | conv(128, k=4, s=1, p=1, d=1) | 128x24x24 |" in markdown


def test_plan_table_json_and_torch():
    args = ["plan", "--in", "3x64x64", "conv(64, k=8, d=1) -> 64x32x32",
            "maxpool(p=0, d=1) -> 64x8x8", "conv(128, p=0, d=1) -> 128x4x4", "--where",
            "2: s == k", "--mode", "exact"]
    table = invoke(*args)
    assert table.exit_code == 0 and "2 chains" in table.output
    data = json.loads(invoke(*args, "--format", "json").output)
    assert data["count"] == 2
    assert [x["k"] for x in data["chains"][0]["layers"]] == [8, 4, 2]
    snippet = invoke(*args, "--format", "torch").output
    assert "CHAINS = [" in snippet and "nn.MaxPool2d(kernel_size=4, stride=4" in snippet
    out = invoke("plan", "--in", "3x64x64", "--out", "128x16x16", "conv(64)", "conv(128)",
                 "--max", "k=3,s=2", "--max", "p=1,d=1", "--rank", "rf", "--top", "2",
                 "--format", "json")
    assert out.exit_code == 0 and len(json.loads(out.output)["chains"]) == 2


def test_unreachable_plan_exits_1_with_the_reason_on_stdout():
    result = invoke("plan", "--in", "3x64x64", "conv(64, k=8, d=1) -> 64x32x32",
                    "maxpool(k=8, s=4, p=0, d=1) -> 64x8x8")
    assert result.exit_code == 1
    assert "layer 2 maxpool(k=8, s=4, p=0, d=1) cannot give its target 64x8x8" in result.output
    assert "nearest reachable outputs there (distance 2): 64x7x7" in result.output


def test_progress_only_on_a_terminal_and_after_a_second(tmp_path):
    # a plan whose sizes keep growing: it runs for seconds, then stops at the work limit
    path = tmp_path / "long.toml"
    path.write_text('input = "2x16"\n[max]\nk = 3\ns = 1\np = 1\n' +
                    '[[layers]]\nspec = "conv(2, d=1)"\n' * 2000)
    exe = os.path.join(os.path.dirname(sys.executable), "cnnplan")
    plain = subprocess.run([exe, "plan", str(path)], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 2
    assert plain.stderr.startswith("Error: the plan is too large") and \
        len(plain.stderr.splitlines()) == 1
    leader, follower = pty.openpty()
    proc = subprocess.Popen([exe, "plan", str(path)], stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=120)
    os.close(leader)
    assert proc.returncode == 2
    assert b"cnnplan: layer " in seen and b"Error: the plan is too large" in seen


BAD = [
    (["shapes", "--in", "3x64x64", "conv(64 k=3)"], 2,
     "expected ',' or ')', found 'k' at column 9"),
    (["shapes", "--in", "3x64x64", "unpool(k=3)"], 2,
     "unknown layer kind 'unpool' at column 1; did you mean pool?"),   # pool is maxpool
    (["shapes", "--in", "3x64x64", "conv(64, kernel=3, q=1)"], 2, "unknown argument 'q'"),
    (["shapes", "--in", "3x64x64", "conv(0, k=3)"], 2, "channels=0 must be at least 1"),
    (["shapes", "--in", "3x64x64", "conv(8, k=-3)"], 2, "k=-3 must be at least 1"),
    (["shapes", "--in", "3x0x64", "relu"], 2, "every size must be at least 1"),
    (["shapes", "--in", "3x64x64", "conv(64, k=8, s=2)", "maxpool(k=5)", "conv(128, k=8)"], 2,
     "layer 3 conv(128, k=8): kernel 8 larger than padded input 5"),
    (["shapes", "conv(8, k=3)"], 2, "give the input shape with --in"),
    (["shapes", "--in", "3x64x64"], 2, "give the layers of the network"),
    (["shapes", "missing.toml"], 2, "plan file 'missing.toml' does not exist"),
    (["shapes", "--in", "3x8x8", "a.toml", "relu"], 2, "either one plan file"),
    (["shapes", "--in", "3x8x8", "conv(" + "9" * 600 + ")"], 2, "the limit is 500"),
    (["solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8", "--format", "torch"], 2,
     "format 'torch' cannot render 'solve' or 'solve-per-axis' results"),
    (["plan", "--in", "3x64x64", "conv(64) -> 64x31x32", "--format", "torch"], 1,
     "no chain satisfies the plan"),
    (["plan", "--in", "3x224x224", "conv(64)", "conv(64) -> 64x7x7"], 2,
     "give --max bounds"),
    (["plan", "--in", "3x64x64", "conv(8)", "--where", "k ==== 1"], 2,
     "is not an expression"),
    (["plan", "--in", "3x64x64", "conv(8)", "--where", "__import__('os')"], 2,
     "is not a constraint"),
    (["plan", "--in", "3x64x64", "conv(8) -> 8x32x32", "--where", "4: k == 1"], 2,
     "names layer 4"),
    (["plan", "--in", "3x64x64", "conv(8) -> 8x32x32", "--top", "-1"], 2,
     "Invalid value for '--top'"),
    (["plan", "--in", "3x64x64", "conv(8) -> 8x32x32", "--max", "k=100000"], 2,
     "above the limit 10000"),
    (["plan", "--in", "3x64x64", "conv -> 8x32x32", "conv"], 2,
     "give the output channels"),
    (["plan", "--in", "3x64x64", "conv(8) -> 8x32"], 2, "does not fit"),
    (["plan", "--in", "3x64x64", "conv(8) ->"], 2, "needs a shape after it"),
    (["plan", "--in", "3x64x64", "--out", "8x32x32", "conv(8) -> 8x16x16"], 2,
     "differs from the output 8x32x32"),
]


@pytest.mark.parametrize("args, code, message", BAD, ids=[" ".join(b[0])[:60] for b in BAD])
def test_bad_input_through_the_installed_command(cnnplan_cmd, tmp_path, args, code, message):
    proc = cnnplan_cmd(*args)
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert message in lines[0]


@pytest.mark.parametrize("text, message", [
    ('input = "3x64x64"\n[[layers]\n', "TOML syntax error: "),
    ('input = "3x64x64"\n[[layers]]\nspec = "relu"\n[[layers]]\nspec = 3\n',
     "layer 2 (line 4): spec must be text"),
    ('input = "3x64x64"\nlayer = 3\n', "line 2: unknown key 'layer'"),
    ("x = " + "[" * 3000 + "]" * 3000, "TOML"),
])
def test_bad_plan_files_through_the_installed_command(cnnplan_cmd, tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    for command in ("shapes", "plan"):
        proc = cnnplan_cmd(command, str(path))
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr


def test_help_lists_the_new_commands(cnnplan_cmd):
    proc = cnnplan_cmd("--help")
    assert "shapes" in proc.stdout and "plan" in proc.stdout
    assert "torch" in cnnplan_cmd("shapes", "--help").stdout


def test_shapes_accepts_per_layer_where_in_a_plan_file_as_plan_does(tmp_path, cnnplan_cmd):
    """Issue 16, 5: where = ["2: s >= k"] in a plan file is checked on layer 2 by shapes."""
    text = 'input = "3x32x32"\nwhere = ["2: s >= k"]\n[[layers]]\nspec = "conv(8, k=3, p=1)"\n'
    good = tmp_path / "good.toml"
    good.write_text(text + '[[layers]]\nspec = "maxpool(k=2, s=2)"\n')
    bad = tmp_path / "bad.toml"
    bad.write_text(text + '[[layers]]\nspec = "maxpool(k=3, s=2)"\n')
    assert cnnplan_cmd("shapes", str(good)).returncode == 0
    assert cnnplan_cmd("plan", str(good)).returncode == 0
    proc = cnnplan_cmd("shapes", str(bad))
    assert proc.returncode == 1
    assert "layer 2 maxpool(k=3, s=2, p=0, d=1) breaks where 's >= k'" in proc.stdout
    result = invoke("shapes", str(bad), "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.output)["mismatches"] == [
        "layer 2 maxpool(k=3, s=2, p=0, d=1) breaks where 's >= k'"]
