"""Window kinds (issue 13, item 11): a kind's `Window` record is what solve and plan read, so a
plugin's window kind works in `solve --layer`, `plan`, `shapes`, plan files and `--format torch`
with no further code. Oracles: PyTorch's own modules (shapes and parameter counts) and brute
force over every configuration."""

from __future__ import annotations

import doctest
import json
from fractions import Fraction
from itertools import product

import pytest

import cnnplan
from cnnplan import Applied, BadInput, LayerKind, RfStep, Window, hookimpl
from cnnplan.kinds.arithmetic import conv_output
from cnnplan.kinds.records import BOOLEAN, NONNEGATIVE, POSITIVE
from cnnplan.kinds.registry import kinds
from cnnplan.platform.host import PluginFailure
from cnnplan.testing import window_mismatches


# -- a third party's window kind: depthwise convolution (keeps the channels, has weights) ------

def dw_apply(spec, inputs, where):
    (shape,) = inputs
    k, s, p, d = (spec.get(n) for n in ("k", "s", "p", "d"))
    sizes = [conv_output(i, k, s, p, d) for i in shape[1:]]
    if len(shape) < 2 or None in sizes:
        raise BadInput(f"{where} {spec.describe()}: the window does not fit")
    c, n = shape[0], len(sizes)
    weights = c * k ** n
    positions = 1
    for o in sizes:
        positions *= o
    steps = (RfStep(d * (k - 1), s, Fraction(d * (k - 1), 2) - p),) * n
    return Applied((c, *sizes), weights, weights + (c if spec.get("bias") else 0),
                   c * positions * k ** n, steps=steps)


def dw_torch(spec, inputs):
    c, n = inputs[0][0], len(inputs[0]) - 1
    return (f"nn.Conv{n}d({c}, {c}, {spec.get('k')}, stride={spec.get('s')}, "
            f"padding={spec.get('p')}, dilation={spec.get('d')}, groups={c}, "
            f"bias={spec.get('bias')})")


class Depthwise:
    @hookimpl
    def register_layer_kinds(register):
        register(LayerKind("dwconv", "depthwise convolution: dwconv(k, s=1, p=0, d=1)",
                           "test_window_kinds:dw_apply", "test_window_kinds:dw_torch",
                           args={"k": POSITIVE, "s": POSITIVE, "p": NONNEGATIVE, "d": POSITIVE,
                                 "bias": BOOLEAN},
                           positional="k", defaults={"s": 1, "p": 0, "d": 1, "bias": True},
                           required=("k",), window="conv"))


def torch_configurations(torch, shape_in, shape_out, ks, ss, ps, ds):
    """Brute force: every (k, s, p, d) whose torch depthwise Conv2d maps shape_in onto
    shape_out, listed as solve lists them (k = 1 only with d = 1, p <= k' - 1), with its
    parameter count."""
    x = torch.zeros(1, *shape_in)
    found = {}
    for k, s, p, d in product(ks, ss, ps, ds):
        if (k == 1 and d > 1) or p > d * (k - 1):
            continue
        module = torch.nn.Conv2d(shape_in[0], shape_in[0], k, s, p, d, groups=shape_in[0])
        try:
            y = module(x)
        except RuntimeError:
            continue
        if tuple(y.shape[1:]) == shape_out:
            found[k, s, p, d] = sum(t.numel() for t in module.parameters())
    return found


def test_core_window_kinds_give_the_shapes_their_rules_say():
    for name in ("conv", "convT", "maxpool", "avgpool"):
        assert window_mismatches(kinds()[name]) == [], name


def test_window_docstring_examples_run():
    import cnnplan.kinds.records

    outcome = doctest.testmod(cnnplan.kinds.records)
    assert outcome.failed == 0 and outcome.attempted >= 2


def test_a_wrong_apply_is_caught_by_check_window(cnnplan_host):
    def off_by_one(spec, inputs, where):
        (shape,) = inputs
        return Applied((shape[0],) + tuple(i // spec.get("s") for i in shape[1:]))

    class Wrong:
        @hookimpl
        def register_layer_kinds(register):
            register(LayerKind("wrongpool", "w", off_by_one, lambda spec, inputs: "nn.Identity()",
                               args={"k": POSITIVE, "s": POSITIVE}, positional="k",
                               defaults={"s": 1}, required=("k",), window="pool"))

    app = cnnplan_host(Wrong)
    with pytest.raises(AssertionError, match=r"shapes differ from the Window rule, e\.g\.:\n"
                                             r"wrongpool\(k=1, s=2\) on 2x1: apply gives 2x0, "
                                             r"Window\('pool'\) gives 2x1\n"):
        app.check_window("wrongpool")


def test_plugin_window_kind_in_solve_matches_torch(cnnplan_host, torch):
    app = cnnplan_host(Depthwise)
    app.check_window("dwconv")
    for shape_out in ((4, 5, 4), (4, 11, 9), (4, 3, 2)):
        expected = torch_configurations(torch, (4, 11, 9), shape_out, range(1, 7), range(1, 6),
                                        range(0, 4), range(1, 4))
        run = app.invoke("solve", "--layer", "dwconv", "--in", "4x11x9", "--out",
                         "x".join(map(str, shape_out)), "--max", "k=6,s=5,p=3,d=3",
                         "--format", "json")
        assert run.exit_code == (0 if expected else 1), run.output
        doc = json.loads(run.stdout)
        got = {(r["k"], r["s"], r["p"], r["d"]): r["params"] for r in doc["solutions"]}
        assert got == expected
        for row in doc["solutions"]:  # MACs: k^2 per output element (channels x positions)
            assert row["macs"] == shape_out[0] * shape_out[1] * shape_out[2] * row["k"] ** 2
        assert doc["layer"] == "dwconv" and doc["rule"] == "conv"


def test_plugin_window_kind_in_plan_matches_brute_force(cnnplan_host, torch):
    app = cnnplan_host(Depthwise)
    expected = torch_configurations(torch, (4, 12, 12), (4, 6, 6), range(1, 5), range(1, 4),
                                     range(0, 3), range(1, 3))
    run = app.invoke("plan", "--in", "4x12x12", "dwconv -> 4x6x6", "conv(8, k=1, s=1, p=0, d=1)",
                     "--max", "k=4,s=3,p=2,d=2", "--top", "1", "--format", "json")
    assert run.exit_code == 0, run.output
    doc = json.loads(run.stdout)
    assert doc["count"] == len(expected)
    best = doc["chains"][0]
    assert best["params"] == min(expected.values()) + 8 * 4 + 8   # + the 1x1 conv
    assert best["layers"][0]["spec"].startswith("dwconv(k=1,")  # the fewest weights
    # ranked by MACs too: cnnplan's MAC count of the kind, the brute force's minimum
    by_macs = json.loads(app.invoke("plan", "--in", "4x12x12", "dwconv -> 4x6x6",
                                    "--max", "k=4,s=3,p=2,d=2", "--rank", "macs", "--top", "1",
                                    "--format", "json").stdout)
    assert by_macs["chains"][0]["macs"] == min(4 * 36 * k * k for k, *_ in expected)


def test_plugin_window_kind_in_shapes_and_export(cnnplan_host, torch):
    app = cnnplan_host(Depthwise)
    code = app.invoke("shapes", "--in", "8x32x32", "dwconv(3, s=2, p=1)", "conv(16, k=1)",
                      "--format", "torch").stdout
    assert "nn.Conv2d(8, 8, 3, stride=2, padding=1, dilation=1, groups=8, bias=True)" in code
    namespace = {}
    exec(compile(code, "export", "exec"), namespace)
    assert namespace["check"]() == (16, 16, 16)
    net = namespace["MODEL"]
    shapes = cnnplan.shapes("8x32x32", ["dwconv(3, s=2, p=1)", "conv(16, k=1)"]).data
    assert shapes["params"] == sum(t.numel() for t in net.parameters())


def test_kinds_lists_window_rules_and_providers(cnnplan_host, cnnplan_cmd):
    app = cnnplan_host(Depthwise)
    rows = {row["name"]: row for row in json.loads(app.invoke("kinds", "--format",
                                                              "json").stdout)}
    assert rows["dwconv"]["window"] == "conv" and rows["dwconv"]["provider"] == "Depthwise"
    assert (rows["conv"]["window"], rows["convT"]["window"], rows["maxpool"]["window"],
            rows["relu"]["window"], rows["add"]["join"]) == ("conv", "convT", "pool", "", True)
    listed = cnnplan_cmd("kinds")
    assert listed.returncode == 0 and "window kinds, which solve --layer takes" in listed.stdout
    assert "pool (maxpool)" not in listed.stdout


def test_unknown_layer_names_the_window_kinds(cnnplan_host, cnnplan_cmd):
    app = cnnplan_host(Depthwise)
    run = app.invoke("solve", "--layer", "relu", "--in", "3x8x8", "--out", "3x4x4")
    assert run.exit_code == 2
    assert ("'relu' is not a window kind; choose one of: conv, convT, maxpool, avgpool, dwconv"
            in run.stderr)   # pool is maxpool's alias, as in specs
    assert cnnplan.solve("3x8x8", "3x4x4", layer="dwconv", fix="k=2,d=1,p=0").data["count"] == 1
    with pytest.raises(BadInput, match="unknown layer 'nope'; choose one of: conv, convT, "
                                       "maxpool, avgpool, dwconv"):
        cnnplan.solve("3x8x8", "3x4x4", layer="nope")
    proc = cnnplan_cmd("solve", "--layer", "POOL", "--in", "3x8x8", "--out", "3x4x4",
                       "--fix", "k=2,d=1,p=0", "--format", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["layer"] == "maxpool"


def test_absent_window_values_are_fixed(cnnplan_host):
    app = cnnplan_host(Depthwise)
    run = app.invoke("solve", "--layer", "avgpool", "--in", "3x8x8", "--out", "3x4x4",
                     "--fix", "d=2")
    assert run.exit_code == 2 and "average pooling has no dilation (d is 1)" in run.stderr


@pytest.mark.parametrize("window, args, message", [
    (True, {"k": POSITIVE, "s": POSITIVE}, "window=True; say which rule it follows"),
    ("bogus", {"k": POSITIVE, "s": POSITIVE}, "window=Window\\(rule='bogus'.*\\); give "
                                              "cnnplan.Window\\(rule\\) with rule one of "
                                              "conv, pool, convT"),
    ("conv", {"k": POSITIVE}, "a conv window but no s argument"),
    ("convT", {"k": POSITIVE, "s": POSITIVE}, "a convT window but no op argument"),
    ("conv", {"k": POSITIVE, "s": POSITIVE, "ceil": BOOLEAN},
     "a ceil argument; only rule 'pool' has ceil_mode"),
])
def test_a_window_that_cannot_work_is_refused_at_registration(cnnplan_host, window, args,
                                                               message):
    class Broken:
        @hookimpl
        def register_layer_kinds(register):
            register(LayerKind("broken", "b", dw_apply, dw_torch, args=args, window=window))

    with pytest.raises(PluginFailure, match="plugin Broken registered layer kind 'broken' with "
                                            + message):
        cnnplan_host(Broken)


def test_a_rule_that_is_neither_function_nor_reference_is_refused(cnnplan_host):
    class Broken:
        @hookimpl
        def register_layer_kinds(register):
            register(LayerKind("broken", "b", 42, dw_torch))

    with pytest.raises(PluginFailure, match="with apply=42; give a function or a "
                                            "'package.module:function' reference"):
        cnnplan_host(Broken)


def test_a_reference_that_cannot_be_imported_says_so_in_one_line(cnnplan_host):
    class Missing:
        @hookimpl
        def register_layer_kinds(register):
            register(LayerKind("missing", "m", "no_such_module:apply", dw_torch))

    run = cnnplan_host(Missing).invoke("shapes", "--in", "3x8x8", "missing")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: layer kind 'missing' of plugin Missing: "
                                 "'no_such_module:apply' could not be imported: "
                                 "ModuleNotFoundError")
    assert len(run.stderr.strip().splitlines()) == 1
