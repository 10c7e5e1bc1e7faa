"""What a new user meets: help, forgiving spellings, hints that name the fix, wide tables
that fit a terminal, PyTorch's rule by default. Through the installed command."""

from __future__ import annotations

import json

import pytest

SOLVE = ["solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8,d=1"]


def test_bare_cnnplan_prints_help_on_stdout(cnnplan_cmd):
    proc = cnnplan_cmd()
    assert proc.returncode == 0 and proc.stderr == ""
    assert "Usage: cnnplan" in proc.stdout and "solve" in proc.stdout


@pytest.mark.parametrize("shape", ["3X64X64", "3×64×64", "3 x 64 x 64"])
def test_shapes_accept_X_and_times(cnnplan_cmd, shape):
    proc = cnnplan_cmd("solve", "--in", shape, "--out", "64x32x32", "--fix", "k=8,d=1",
                       "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["input"] == [3, 64, 64]


def test_choices_are_case_insensitive(cnnplan_cmd):
    proc = cnnplan_cmd(*SOLVE, "--format", "JSON", "--mode", "Floor", "--layer", "CONV",
                       "--sort", "Params")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["mode"], doc["layer"]) == ("floor", "conv")
    proc = cnnplan_cmd("solve", "--in", "8x7x7", "--out", "8x14x14", "--layer", "CONVT",
                       "--fix", "k=3,d=1", "--format", "Json")
    assert json.loads(proc.stdout)["layer"] == "convT"


def test_pytorch_rule_is_the_default_with_unused(cnnplan_cmd):
    """ResNet's stem (224 -> 112, k=7, s=2, p=3) is answered; it leaves one padded row."""
    proc = cnnplan_cmd("solve", "--in", "3x224x224", "--out", "64x112x112", "--fix", "k=7",
                       "--limit", "1", "--format", "json")
    doc = json.loads(proc.stdout)
    assert doc["mode"] == "floor"
    first = doc["solutions"][0]
    assert (first["k"], first["s"], first["p"], first["d"], first["unused"]) == (7, 2, 3, 1,
                                                                                  [1, 1])
    table = cnnplan_cmd("solve", "--in", "3x224x224", "--out", "64x112x112", "--fix", "k=7",
                        "--limit", "1").stdout
    assert "unused" in table.splitlines()[7]


def test_exact_mode_says_floor_has_answers(cnnplan_cmd):
    proc = cnnplan_cmd("solve", "--in", "3x224x224", "--out", "64x112x112", "--fix",
                       "k=7,s=2,p=3", "--mode", "exact")
    assert proc.returncode == 1
    assert "0 solutions in exact mode, 1 in floor mode (PyTorch's rule): add --mode floor" \
        in proc.stdout
    doc = json.loads(cnnplan_cmd("solve", "--in", "3x224x224", "--out", "64x112x112", "--fix",
                                 "k=7,s=2,p=3", "--mode", "exact", "--format", "json").stdout)
    assert doc["other_mode"] == {"mode": "floor", "count": 1}


def test_plan_exact_mode_names_the_layer_and_floor(cnnplan_cmd):
    args = ["plan", "--in", "3x32x32", "conv(16, k=3, s=2, p=1) -> 16x16x16",
            "conv(8, k=3, s=2, p=0, d=1) -> 8x7x7"]
    assert cnnplan_cmd(*args).returncode == 0  # floor by default: shapes and plan agree
    proc = cnnplan_cmd(*args, "--mode", "exact")
    assert proc.returncode == 1
    assert ("0 chains in exact mode, 1 in floor mode (PyTorch's rule), where layer 1 "
            "conv(16, k=3, s=2, p=1) has 1 configuration: add --mode floor") in proc.stdout


def test_channels_last_and_bare_2d_shapes_are_explained(cnnplan_cmd):
    proc = cnnplan_cmd("solve", "--in", "64x64x3", "--out", "16x32x32")
    assert proc.returncode == 1
    assert ("shapes are channels first: --in 64x64x3 was read as 64 channels of size 64x3; "
            "a 64x64 image with 3 channels is 3x64x64") in proc.stdout
    proc = cnnplan_cmd("solve", "--in", "64x64", "--out", "32x32", "--fix", "k=3,s=2,p=1")
    assert "--in 64x64 was read as 1-D: 64 channels of length 64" in proc.stdout


def test_space_separated_fix_suggests_commas(cnnplan_cmd):
    proc = cnnplan_cmd("solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=3", "s=2")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "give several values with commas: --fix k=3,s=2" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_where_names_allowed_operators(cnnplan_cmd):
    proc = cnnplan_cmd("solve", "--in", "3x64x64", "--out", "64x32x32", "--where", "k is odd")
    assert proc.returncode == 2
    assert "the operator 'is' is not allowed" in proc.stderr
    assert "== != < <= > >=" in proc.stderr and "Compare" not in proc.stderr


def test_ad_implicit_product_says_write_star(cnnplan_cmd):
    proc = cnnplan_cmd("ad", "2x", "--at", "x=1")
    assert proc.returncode == 2
    assert "write 2*x" in proc.stderr and "decimal literal" not in proc.stderr


def test_shapes_without_in_says_where_the_shape_goes(cnnplan_cmd):
    proc = cnnplan_cmd("shapes", "3x256x256", "conv(64,k=8,s=2)")
    assert proc.returncode == 2
    assert "the input shape goes in --in: --in 3x256x256" in proc.stderr


@pytest.mark.parametrize("command", [["solvers"], ["identity", "list"], ["formats"]])
def test_wide_tables_fit_100_columns(cnnplan_cmd, command):
    proc = cnnplan_cmd(*command)
    assert proc.returncode == 0
    assert max(len(line) for line in proc.stdout.splitlines()) <= 100
    doc = json.loads(cnnplan_cmd(*command, "--format", "json").stdout)
    rows = doc if isinstance(doc, list) else doc.get("identities", doc)
    cells = [v for row in rows for v in (row.values() if isinstance(row, dict) else row)
             if isinstance(v, str)]
    assert cells and not any("\n" in c for c in cells)  # json keeps each text whole
    if command != ["formats"]:
        assert max(len(c) for c in cells) > 60  # longer than any wrapped column


def test_solvers_json_keeps_full_arguments(cnnplan_cmd):
    doc = json.loads(cnnplan_cmd("solvers", "--format", "json").stdout)
    solve = next(r for r in doc if r["name"] == "solve")
    assert "per_axis=False" in solve["arguments"] and "\n" not in solve["arguments"]


@pytest.mark.oracle
def test_same_padding_hint_is_what_torch_does(cnnplan_cmd, torch):
    """k=4, stride 1, 32 -> 32: no symmetric p; padding='same' pads 1 before and 2 after,
    which equals F.pad(x, (1, 2, 1, 2)) and p=0."""
    proc = cnnplan_cmd("solve", "--in", "3x32x32", "--out", "8x32x32", "--fix", "k=4,s=1,d=1")
    assert proc.returncode == 1
    assert ("PyTorch's padding='same' does it (it pads 1 before and 2 after), or pad "
            "asymmetrically, x = F.pad(x, (1, 2, 1, 2)), then use p=0") in proc.stdout
    torch.manual_seed(0)
    same = torch.nn.Conv2d(3, 8, 4, padding="same")
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        padded = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 2, 1, 2)),
                                            same.weight, same.bias)
        assert torch.allclose(same(x), padded, atol=1e-6)
        assert tuple(same(x).shape) == (1, 8, 32, 32)


def test_json_writer_calls_no_dumps_per_value(monkeypatch):
    import json as json_module

    from cnnplan import render, solve

    result = solve("3x64x64", "8x32x32", max="k=64,s=64,p=64,d=64")
    calls = []
    real = json_module.dumps
    monkeypatch.setattr(json_module, "dumps", lambda *a, **k: calls.append(1) or real(*a, **k))
    text = render(result, "json")
    assert json_module.loads(text) == json_module.loads(real(result.data))
    assert calls == [] and result.data["count"] == 1432


def test_same_messages_through_click_runner():
    """The group's own main (as CliRunner calls it) gives the help and the hints too."""
    from click.testing import CliRunner

    from cnnplan.cli import build_cli

    runner = CliRunner()
    bare = runner.invoke(build_cli(), [])
    assert bare.exit_code == 0 and "Usage: cnnplan" in bare.output
    hint = runner.invoke(build_cli(), ["solve", "--in", "3x64x64", "--out", "64x32x32",
                                       "--fix", "k=3", "s=2", "p=1"])
    assert hint.exit_code == 2
    assert "give several values with commas: --fix k=3,s=2,p=1" in hint.output
    doc = json.loads(runner.invoke(build_cli(), [
        "solve", "--in", "64X16X16", "--out", "32x32x32", "--layer", "convT", "--fix",
        "k=4,d=1", "--format", "json"]).output)
    assert [(r["s"], r["p"], r["op"]) for r in doc["solutions"]] == [(2, 1, 0)]
