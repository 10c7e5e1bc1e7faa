"""Every Result kind's JSON Schema (shipped in the package) against the real output of the
installed `cnnplan` command, validated by jsonschema (an implementation nobody here wrote)."""

from __future__ import annotations

import copy
import json
import os

import pytest

jsonschema = pytest.importorskip("jsonschema")

import cnnplan  # noqa: E402
from cnnplan.platform.host import get_host  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NET = os.path.join(ROOT, "examples", "activations", "sigmoid_net.json")

# (kind, command line): at least one run of each kind, including its exit-1 forms
CASES = [
    ("solve", ["solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8"]),
    ("solve", ["solve", "--in", "3x64x64", "--out", "64x32x31", "--fix", "k=8,s=2"]),
    ("solve", ["solve", "--in", "64x64x64", "--out", "64x8x8", "--layer", "pool", "--limit", "0"]),
    ("solve", ["solve", "--in", "3x32x32", "--out", "8x64x64", "--layer", "convT", "--fix",
               "k=4", "--limit", "3"]),
    ("solve", ["solve", "--in", "3x33x33", "--out", "3x17x17", "--layer", "maxpool", "--ceil",
               "--limit", "3"]),
    ("solve", ["solve", "--in", "3x64x64", "--out", "64x32x32", "--mode", "exact", "--fix",
               "k=3,s=2"]),
    ("solve-per-axis", ["solve", "--in", "3x64x64", "--out", "64x32x30", "--fix", "k=8,d=1",
                        "--per-axis"]),
    ("solve-per-axis", ["solve", "--in", "3x64x48", "--out", "8x128x96", "--layer", "convT",
                        "--fix", "k=4", "--per-axis", "--limit", "2"]),
    ("solve-padded", ["solve", "--in", "3x224x224", "--out", "8x112x112", "--padding",
                      "same_upper"]),
    ("solve-padded", ["solve", "--in", "3x224x224", "--out", "8x112x100", "--padding",
                      "same_lower"]),
    ("solve-padded", ["solve", "--in", "3x20x20", "--out", "8x10x10", "--padding", "explicit",
                      "--max", "k=4,d=2"]),
    ("shapes", ["shapes", "--in", "3x32x32", "conv(8,k=3,p=1)", "maxpool(k=2)",
                "convT(4, k=4, s=2, p=1)", "flatten", "linear(10)"]),
    ("shapes", ["shapes", "--in", "3x32x32", "conv(8,k=3,p=1) -> 8x30x30"]),
    ("shapes", ["shapes", os.path.join(ROOT, "examples", "networks", "unet.toml")]),
    ("plan", ["plan", os.path.join(ROOT, "examples", "networks", "resnet18_stage_plan.toml"),
              "--top", "2"]),
    ("plan", ["plan", "--in", "3x8x8", "a: conv(4, k=3, p=1); b: conv(4, k=2, from=a); add(a)"]),
    ("plan", ["plan", "--in", "3x8x8", "a: conv(4, k=3) -> 4x20x20; b: relu; add(a)"]),
    ("plan", ["plan", "--in", "3x64x64", "conv(64, k=8, d=1) -> 64x32x32",
              "maxpool(p=0, d=1) -> 64x8x8", "--top", "2", "--limit", "1"]),
    ("plan", ["plan", "--in", "3x64x64", "conv(64, k=8, d=1) -> 64x31x32", "conv(8)"]),
    ("plan", ["plan", "--in", "3x64x64", "--out", "8x16x16", "conv(8)", "conv(8)", "--top", "0",
              "--max", "k=3,s=2,p=1,d=1"]),
    ("inputs", ["inputs", "--in", "3x64x64", "conv(8, k=3, s=2); conv(8, k=3, s=2)",
                "--range", "1..12"]),
    ("inputs", ["inputs", "--in", "3x8x8", "conv(8, k=9)", "--range", "1..4"]),
    ("plugins", ["plugins", "--all"]),
    ("formats", ["formats"]),
    ("solvers", ["solvers"]),
    ("kinds", ["kinds"]),
    ("ad", ["ad", "x1*x2 + sin(x1)", "--at", "x1=1,x2=2"]),
    ("ad", ["ad", "exp(x)", "--at", "x=0", "--mode", "forward"]),
    ("ad", ["ad", "x*y", "--at", "x=2,y=3", "--mode", "reverse"]),
    ("conv", ["conv", "1,2,3", "1,1"]),
    ("conv", ["conv", "1,2;3,4", "1,0;0,1", "--correlate", "--stride", "2", "--mode", "valid"]),
    ("identity-list", ["identity", "list"]),
    ("activation-convert", ["convert", "--from", "sigmoid", "--to", "tanh", NET]),
    ("identity-check", ["identity", "check", "relu-x-step"]),
    ("identity-check", ["identity", "check", "all", "--samples", "50"]),
]


def validator(kind):
    schema = cnnplan.schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("kind, args", CASES, ids=[" ".join(a[:2]) for _, a in CASES])
def test_real_output_follows_its_schema(cnnplan_cmd, kind, args):
    proc = cnnplan_cmd(*args, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    errors = [e.message for e in validator(kind).iter_errors(json.loads(proc.stdout))]
    assert errors == []


def test_every_kind_a_command_makes_has_a_schema():
    assert {kind for kind, _ in CASES} | {"result"} == set(get_host().schemas())


def test_a_result_without_data_prints_the_generic_document():
    result = cnnplan.Result(title="t", facts=(("a", 1),), notes=("n",),
                            tables=(cnnplan.Table(("x", "y"), ((1, None),), "tab"),))
    check = validator("result")
    assert check.is_valid(json.loads(cnnplan.render(result, "json")))
    assert not check.is_valid({"title": "t"})


def test_schemas_are_not_vacuous(cnnplan_cmd):
    """A document with a field removed or of the wrong type fails: the schemas constrain."""
    doc = json.loads(cnnplan_cmd(*CASES[0][1], "--format", "json").stdout)
    check = validator("solve")
    assert check.is_valid(doc)
    for broken in ({"count": "24"}, {"input": [3, 0, 64]}, {"solutions": [{"k": 8}]}):
        assert not check.is_valid({**doc, **broken})
    missing = copy.deepcopy(doc)
    del missing["bounds"]
    assert not check.is_valid(missing)


@pytest.mark.parametrize("kind, call", [
    ("solve", lambda: cnnplan.solve("3x8", "4x4", fix="k=2,d=1")),
    ("solve-per-axis", lambda: cnnplan.solve("3x8x8", "4x4x3", fix="d=1", per_axis=True)),
    ("shapes", lambda: cnnplan.shapes("3x8", ["conv(4, k=2, s=2)"])),
    ("plan", lambda: cnnplan.plan("3x8", ["conv(4, k=2, d=1) -> 4x4"])),
    ("inputs", lambda: cnnplan.run_solver("inputs", input="3x8", layers=["conv(4, k=3)"],
                                          range="1..8")),
    ("ad", lambda: cnnplan.run_solver("ad", expression="x*x", at="x=3")),
    ("conv", lambda: cnnplan.run_solver("conv", signal="1,2,3", kernel="1,1")),
    ("identity-list", lambda: cnnplan.run_solver("identity-list")),
    ("identity-check", lambda: cnnplan.run_solver("identity-check", identity="relu-x-step")),
])
def test_results_say_what_made_them(kind, call):
    result = call()
    assert result.kind == kind
    if result.data is not None:
        assert validator(kind).is_valid(json.loads(cnnplan.render(result, "json")))


def test_unknown_kind_names_the_schemas():
    with pytest.raises(cnnplan.BadInput, match="no schema for kind 'nope'; there are: .*solve"):
        cnnplan.schema("nope")
