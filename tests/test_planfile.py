"""TOML plan files: the documented schema, both layer forms, and errors with line numbers."""

from __future__ import annotations

import textwrap

import pytest

import cnnplan
from cnnplan import BadInput
from cnnplan.language.planfile import load_plan
from cnnplan.language.specs import parse_spec


def write(tmp_path, text, name="plan.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_schema_with_both_layer_forms(tmp_path):
    path = write(tmp_path, """
        title = "Question 7 (a)"
        input = "3x64x64"
        output = "128x4x4"
        mode = "floor"
        rank = "macs"
        top = 3
        where = "d == 1"

        [max]
        p = 8

        [[layers]]
        spec = "conv(64, k=8)"
        out = "64x32x32"

        [[layers]]
        kind = "maxpool"
        p = 0
        out = "64x8x8"
        where = ["s == k"]

        [[layers]]
        kind = "conv"
        channels = 128
        p = 0
    """)
    plan = load_plan(path)
    assert plan.input == (3, 64, 64) and plan.output == (128, 4, 4)
    assert plan.options == {"mode": "floor", "rank": "macs", "top": 3, "where": ("d == 1",),
                            "max": {"p": 8}}
    assert [layer.spec for layer in plan.layers] == [parse_spec("conv(64, k=8)"),
                                                     parse_spec("maxpool(p=0)"),
                                                     parse_spec("conv(128, p=0)")]
    assert plan.layers[1].where == ("s == k",)
    assert plan.layers[1].origin == f"{path}, layer 2 (line 17)"
    result = cnnplan.plan(plan_file=path)
    assert result.title.startswith("Question 7 (a) 3x64x64 -> 128x4x4")
    assert result.data["mode"] == "floor" and result.data["rank"] == "macs"
    assert len(result.data["chains"]) == 3
    # the command line wins over the file
    again = cnnplan.plan(plan_file=path, mode="exact", rank="params", top=1)
    assert again.data["mode"] == "exact" and len(again.data["chains"]) == 1


def test_shapes_reads_plan_files_and_checks_their_targets(tmp_path):
    ok = write(tmp_path, """
        input = "3x256x256"
        [[layers]]
        spec = "conv(64, k=8, s=2)"
        [[layers]]
        kind = "maxpool"
        k = 5
        out = "64x25x25"
        [[layers]]
        spec = "conv(128, k=4, p=1)"
        out = "128x24x24"
        where = "k % 2 == 0"
    """)
    assert cnnplan.shapes(plan_file=ok).data["size"] == 73728
    bad = write(tmp_path, """
        input = "3x256x256"
        where = "k % 2 == 1"
        [[layers]]
        spec = "conv(64, k=8, s=2)"
        out = "64x124x124"
    """, "bad.toml")
    result = cnnplan.shapes(plan_file=bad)
    assert result.exit_code == 1
    assert result.data["mismatches"] == [
        "layer 1 gives 64x125x125 but its target is 64x124x124",
        "layer 1 conv(64, k=8, s=2, p=0, d=1) breaks where 'k % 2 == 1'"]


@pytest.mark.parametrize("text, message", [
    ('input = "3x64x64"\n[[layers]\nspec = "relu"\n', "TOML syntax error: "),
    ('input = "3x64x64"\n\n[[layers]]\nspec = relu\n', "(at line 4, column 8)"),
    ('input = "3x64x64"\nspeed = 3\n[[layers]]\nspec = "relu"\n',
     "line 2: unknown key 'speed'"),
    ('input = 3\n[[layers]]\nspec = "relu"\n', "line 1: input must be a shape in quotes"),
    ('input = "3x64x64"\n', "a plan file needs layers"),
    ('input = "3x64x64"\n[[layers]]\nspec = "relu"\n[[layers]]\nkind = "conv"\nk = 0\n',
     "layer 2 (line 4): k=0 must be at least 1"),
    ('input = "3x64x64"\n[[layers]]\nspec = "relu"\nkind = "relu"\n',
     "layer 1 (line 2): give either spec"),
    ('input = "3x64x64"\n[[layers]]\nspec = "conv(64 k=3)"\n',
     "layer 1 (line 2) 'conv(64 k=3)': expected ',' or ')', found 'k' at column 9"),
    ('input = "3x64x64"\n[[layers]]\nspec = "conv(64, k=3)"\nk = 3\n',
     "unknown key 'k' next to spec"),
    ('input = "3x64x64"\n[[layers]]\nkind = "conv"\nchannels = 8\nout = "8x0x0"\n',
     "layer 1 (line 2): out '8x0x0'"),
    ('input = "3x64x64"\ntop = -1\n[[layers]]\nspec = "relu"\n', "line 2: top must be"),
    ('input = "3x64x64"\n[max]\nk = "big"\n[[layers]]\nspec = "relu"\n',
     "line 2: max.k must be a whole number"),
    ('input = "3x64x64"\n[max]\nq = 3\n[[layers]]\nspec = "relu"\n',
     "line 2: max.q is not one of k, s, p, d"),
    ('input = "3x64x64"\nwhere = 3\n[[layers]]\nspec = "relu"\n',
     "line 2: where must be text or a list of texts"),
    ('input = "3x64x64"\nlayers = [1]\n', "layer 1: each layer must be a table"),
    ("x = " + "[" * 5000 + "]" * 5000 + "\n", "TOML"),
])
def test_bad_plan_files_say_where(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(BadInput) as info:
        cnnplan.plan(plan_file=path)
    assert message in str(info.value)


def test_unreadable_and_oversized_files(tmp_path):
    with pytest.raises(BadInput, match="plan file .*missing.toml. does not exist"):
        load_plan(str(tmp_path / "missing.toml"))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BadInput, match="is not UTF-8 text"):
        load_plan(str(binary))
    with pytest.raises(BadInput, match="either a plan file or layer specs"):
        cnnplan.plan("3x8x8", ["relu"], plan_file=str(binary))
    with pytest.raises(BadInput, match="give the input shape with --in"):
        cnnplan.shapes(plan_file=write(tmp_path, '[[layers]]\nspec = "relu"\n'))


def test_plan_files_of_thousands_of_layers(tmp_path):
    body = 'input = "4x16x16"\n' + '[[layers]]\nspec = "conv(4, k=3, d=1)"\n' * 3000
    path = write(tmp_path, body + '[[layers]]\nspec = "relu"\nout = "4x16x16"\n')
    result = cnnplan.plan(plan_file=path, max=["s=1", "p=1"], top=1)
    assert result.data["count"] == 1
    fixed = body.replace("d=1", "p=1")
    assert cnnplan.shapes(plan_file=write(tmp_path, fixed, "s.toml")).data["output"] == [4, 16, 16]
