"""What a new user and a plugin author tripped on (issue 26), each through the installed
`cnnplan` command and click's CliRunner, against oracles: PyTorch's layers, brute-force
enumeration, the files' own lines."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re

import pytest
from click.testing import CliRunner

import cnnplan
from cnnplan import Applied, LayerKind, Window, hookimpl
from cnnplan.cli import build_cli
from cnnplan.kinds import POSITIVE, SAME_PADS
from cnnplan.platform.host import isolated_host, use_host
from conftest import run_cnnplan


def invoke(*args, env=None):
    return CliRunner().invoke(build_cli(), list(args), env=env)


def quick(*args, env=None):
    """(exit code, stdout, stderr) through CliRunner only (for loops; `both` also runs the
    installed command)."""
    runner = invoke(*args, env=dict({"COLUMNS": ""}, **(env or {})))
    return runner.exit_code, runner.stdout, runner.stderr


def both(*args, env=None):
    """(exit code, stdout, stderr) of the installed command, checked equal to CliRunner's."""
    proc = run_cnnplan(*args, env=dict({"COLUMNS": ""}, **(env or {})))
    runner = invoke(*args, env=dict({"COLUMNS": ""}, **(env or {})))
    assert (runner.exit_code, runner.stdout) == (proc.returncode, proc.stdout)
    assert runner.stderr.strip() == proc.stderr.strip()
    return proc.returncode, proc.stdout, proc.stderr


# -- --where "k = 3" -------------------------------------------------------------------------

def test_single_equals_says_use_double():
    code, _, err = both("solve", "--in", "3x64x64", "--out", "64x32x32", "--where", "k = 3")
    assert code == 2 and "use == to compare" in err and "'k == 3'" in err
    assert "invalid syntax" not in err
    fixed = json.loads(both("solve", "--in", "3x64x64", "--out", "64x32x32", "--where", "k == 3",
                            "--format", "json")[1])
    assert fixed["count"] == json.loads(both("solve", "--in", "3x64x64", "--out", "64x32x32",
                                             "--fix", "k=3", "--format", "json")[1])["count"]
    code, _, err = both("plan", "--in", "3x8x8", "conv(4) -> 4x8x8", "--where", "1: s = 1")
    assert code == 2 and "use == to compare" in err
    for fine in ("k <= 3", "k >= 3", "k != 3", "k == 3"):   # comparisons are not flagged
        assert quick("solve", "--in", "3x8x8", "--out", "4x8x8", "--where", fine)[0] == 0


# -- did you mean ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, suggestion", [
    (["shapes", "--in", "3x8x8", "comv(4, k=3)"], "did you mean conv?"),
    (["shapes", "--in", "3x8x8", "conv(4, kk=3)"], "did you mean k?"),
    (["shapes", "--in", "3x8x8", "conv(4, kernel_sise=3)"], "did you mean kernel_size?"),
    (["solve", "--in", "3x8x8", "--out", "4x4x4", "--format", "jsn"], "did you mean json?"),
    (["solve", "--in", "3x8x8", "--out", "4x4x4", "--mode", "exct"], "did you mean exact?"),
    (["solve", "--in", "3x8x8", "--out", "4x4x4", "--sort", "parms"], "did you mean params?"),
    (["solve", "--in", "3x8x8", "--out", "4x4x4", "--fix", "kk=3"], "did you mean k?"),
    (["solve", "--in", "3x8x8", "--out", "4x4x4", "--where", "kk == 3"], "did you mean k?"),
    (["solve", "--in", "3x8x8", "--out", "3x4x4", "--layer", "maxpol"], "did you mean maxpool?"),
    (["plan", "--in", "3x8x8", "conv(4)", "--rank", "mac"], "did you mean macs?"),
    (["solve", "--in", "3x8x8", "--out", "4x4x4", "--lmit", "3"], "--limit"),   # click's own
])
def test_misspellings_suggest_the_nearest(args, suggestion):
    code, _, err = both(*args)
    assert code == 2 and suggestion in err and len(err.strip().splitlines()) == 1
    if "did you mean" in suggestion:
        assert "choose one of" not in err          # the suggestion, not all 28 kinds
        word = suggestion.removeprefix("did you mean ").rstrip("?")
        fixed = [re.sub(r"\b(comv|kk|kernel_sise|jsn|exct|parms|maxpol|mac)\b", word, a)
                 for a in args]
        assert invoke(*fixed).exit_code in (0, 1)   # the suggested word works


def test_nothing_close_lists_every_choice():
    code, _, err = both("shapes", "--in", "3x8x8", "zzzzzz(4)")
    assert code == 2 and "choose one of: conv, convT" in err and "did you mean" not in err


def test_toml_spec_misspelling(tmp_path):
    path = tmp_path / "net.toml"
    path.write_text('input = "3x8x8"\n\n[[layers]]\nkind = "comv"\nchannels = 4\nk = 3\n')
    code, _, err = both("shapes", str(path))
    assert code == 2 and "did you mean conv?" in err and "line 3" in err


# -- one alias set, PyTorch's class names --------------------------------------------------

CLASSES = {"Conv{n}d": "conv", "ConvTranspose{n}d": "convT", "MaxPool{n}d": "maxpool",
           "AvgPool{n}d": "avgpool"}


def _any_case(word: str, rng) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)


@pytest.mark.parametrize("template, kind", CLASSES.items())
@pytest.mark.parametrize("n", [1, 2, 3])
def test_solve_layer_takes_pytorch_class_names(template, kind, n):
    rng = random.Random(n)
    shape_in = "x".join(["4"] + ["6"] * n)
    out_c = "4" if "Pool" in template else "2"
    shape_out = "x".join([out_c] + ["3"] * n)
    canonical = json.loads(quick("solve", "--in", shape_in, "--out", shape_out, "--layer", kind,
                                 "--format", "json")[1])
    first = both if n == 2 else quick      # the installed command once per class
    for run, word in ((first, template.format(n=n)), (quick, _any_case(template.format(n=n), rng))):
        doc = json.loads(run("solve", "--in", shape_in, "--out", shape_out, "--layer", word,
                             "--format", "json")[1])
        assert doc["solutions"] == canonical["solutions"] and doc["layer"] == kind
    wrong = "x".join([shape_in.split("x")[0]] + ["6"] * (n % 3 + 1))
    code, _, err = quick("solve", "--in", wrong, "--out", wrong, "--layer", template.format(n=n))
    assert code == 2 and f"takes {n}-D inputs" in err


@pytest.mark.parametrize("n", [1, 2, 3])
def test_specs_take_the_same_class_names_as_torch_does(torch, n):
    """A spec written with PyTorch's class name gives torch's own output shape."""
    nn = torch.nn
    size = (9,) * n
    cases = [
        (f"Conv{n}d(6, k=3, s=2, p=1)", getattr(nn, f"Conv{n}d")(4, 6, 3, stride=2, padding=1)),
        (f"convtranspose{n}D(5, k=3, s=2, p=1, op=1)",
         getattr(nn, f"ConvTranspose{n}d")(4, 5, 3, stride=2, padding=1, output_padding=1)),
        (f"MAXPOOL{n}D(k=3, s=2, ceil=true)",
         getattr(nn, f"MaxPool{n}d")(3, stride=2, ceil_mode=True)),
        (f"AvgPool{n}d(k=2)", getattr(nn, f"AvgPool{n}d")(2)),
    ]
    for spec, module in cases:
        expected = list(module(torch.zeros(1, 4, *size)).shape[1:])
        run = both if spec.startswith("Conv") and n == 2 else quick
        doc = json.loads(run("shapes", "--in", "x".join(map(str, (4, *size))), spec,
                             "--format", "json")[1])
        assert doc["output"] == expected, spec


def test_solve_and_specs_share_one_word_list():
    from cnnplan.kinds import kinds
    from cnnplan.solver.layer import window_words

    registry = kinds()
    spec_words = {w.lower() for w in registry.words() if registry[w].window}
    assert set(window_words()) == spec_words
    assert {"pool", "conv2d", "convtranspose2d", "maxpool3d", "avgpool1d"} <= spec_words


# -- solve's page ----------------------------------------------------------------------------

def _brute_force(i: int, o: int, top: int) -> int:
    """PyTorch's floor rule and validity (p <= k' - 1; k = 1 only with d = 1), by brute force."""
    count = 0
    for k in range(1, top + 1):
        for d in range(1, top + 1):
            if k == 1 and d > 1:
                continue
            ke = d * (k - 1) + 1
            for p in range(0, min(ke - 1, top) + 1):
                for s in range(1, top + 1):
                    if i + 2 * p >= ke and (i + 2 * p - ke) // s + 1 == o:
                        count += 1
    return count


def test_table_shows_a_page_json_and_csv_all():
    args = ("solve", "--in", "3x24x24", "--out", "8x12x12")
    expected = _brute_force(24, 12, 24)
    assert expected > 20
    code, out, _ = both(*args)
    rows = [line for line in out.splitlines() if re.match(r"^\s*\d+\s+\d+\s+\d+\s+\d+\s", line)]
    assert code == 0 and len(rows) == 20
    assert f"the first 20 of {expected:,} solutions are shown; --limit 0 shows all" in out
    everything = both(*args, "--limit", "0")[1]
    assert len([line for line in everything.splitlines()
                if re.match(r"^\s*\d+\s+\d+\s+\d+\s+\d+\s", line)]) == expected
    assert "--limit 0 shows all" not in everything
    doc = json.loads(both(*args, "--format", "json")[1])
    assert doc["count"] == len(doc["solutions"]) == expected
    table = list(csv.reader(io.StringIO(both(*args, "--format", "csv")[1])))
    assert len(table) - 1 == expected
    few = both(*args, "--limit", "3")[1]
    assert "shown:     3" in few and "--limit 0 shows all" not in few


def test_small_answers_have_no_page_note():
    out = both("solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8,d=1")[1]
    assert "--limit 0" not in out


# -- notes wrap to the terminal ----------------------------------------------------------------

def test_notes_wrap_to_the_terminal_width():
    args = ("solve", "--in", "3x32x32", "--out", "8x32x32", "--fix", "k=4,s=1,d=1")
    wide = both(*args)[1]                       # piped, no COLUMNS: one line per note
    narrow = both(*args, env={"COLUMNS": "60"})[1]
    notes_wide = wide.split("\n\n")[-1].splitlines()
    notes_narrow = narrow.split("\n\n")[-1].splitlines()
    assert max(map(len, notes_wide)) > 100
    assert max(map(len, notes_narrow)) <= 60
    # the words are the same, only the line breaks differ
    assert " ".join(notes_narrow).split() == " ".join(notes_wide).split()
    assert wide.split("\n\n")[:-1] == narrow.split("\n\n")[:-1]   # tables untouched


# -- plan --format torch says what the text says ---------------------------------------------

@pytest.mark.parametrize("specs, word", [
    (["conv(8, k=3, d=1) -> 8x8x8", "maxpool(k=2)"], "chain"),
    (["a: conv(8, k=3, p=1, d=1); avgpool(k=2, p=0) -> 8x8x8; b: conv(8, k=1, s=2, from=a); "
      "add(b)"], "network"),
])
def test_torch_export_names_chains_as_the_text_does(specs, word):
    text = both("plan", "--in", "8x16x16", *specs, "--max", "s=2,p=1")[1]
    code = both("plan", "--in", "8x16x16", *specs, "--max", "s=2,p=1", "--format", "torch")[1]
    assert re.search(rf"^{word} 1: params", text, re.M)
    assert re.search(rf"^\s*# {word} 1: params", code, re.M)
    other = {"chain": "network", "network": "chain"}[word]
    assert not re.search(rf"^\s*# {other} \d", code, re.M)


def test_avgpool_d_is_1_in_chain_and_graph_plans(torch):
    """PyTorch's AvgPool has no dilation: d is 1 in both plan documents."""
    chain = json.loads(both("plan", "--in", "8x16x16", "conv(8, k=3, p=1, d=1)",
                            "avgpool(k=2, p=0) -> 8x8x8", "--format", "json")[1])
    graph = json.loads(both("plan", "--in", "8x16x16", "a: conv(8, k=3, p=1, d=1); "
                            "avgpool(k=2, p=0) -> 8x8x8; b: conv(8, k=1, s=2, from=a); add(b)",
                            "--format", "json")[1])
    for doc in (chain, graph):
        pools = [layer for layer in doc["chains"][0]["layers"] if layer["kind"] == "avgpool"]
        assert pools and all(layer["d"] == 1 for layer in pools)
    assert "dilation" not in torch.nn.AvgPool2d.__init__.__code__.co_varnames


# -- channels first ---------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["shapes", "--in", "224x224x3", "conv(8, k=3)"],
    ["shapes", "--in", "1x3x64x64", "conv(8, k=3)"],
    ["inputs", "--in", "64x64x3", "conv(8, k=3)", "--range", "1..8"],
    ["plan", "--in", "1x3x64x64", "conv(8, k=3, d=1) -> 8x31x31", "--max", "s=2,p=1"],
])
def test_hints_for_channels_last_and_batched_shapes(args):
    code, out, err = both(*args)
    text = out + err
    assert ("shapes are channels first" in text) or ("shapes leave out the batch" in text)
    good = [a.replace("224x224x3", "3x224x224").replace("64x64x3", "3x64x64")
            .replace("1x3x64x64", "3x64x64").replace("8x31x31", "8x62x62") for a in args]
    out, err = quick(*good)[1:]
    assert "channels first" not in out + err and "leave out the batch" not in out + err


def test_hint_is_added_to_an_error():
    code, _, err = both("plan", "--in", "1x3x64x64", "conv(8, k=3, s=2) -> 8x32x32")
    assert code == 2 and "shapes leave out the batch" in err and len(err.splitlines()) == 1


@pytest.mark.oracle
def test_import_hints_channels_last(torch, tmp_path):
    model = os.path.join(os.path.dirname(__file__), "..", "examples", "models", "reference.py")
    proc = run_cnnplan("import", f"{model}:SmallResNet", "--in", "32x32x3")
    code, err = proc.returncode, proc.stderr
    assert code == 2 and "channels first" in err and "--in 3x32x32" in err   # the importer's own


# -- plan files name the line -----------------------------------------------------------------

@pytest.mark.parametrize("second, message", [
    ('name = "a"\nspec = "relu"\n', "the name 'a' is already used"),
    ('spec = "relu"\nfrom = "zz"\n', "reads 'zz', but no earlier layer"),
    ('spec = "add"\nfrom = ["a", "zz"]\n', "reads 'zz', but no earlier layer"),
])
@pytest.mark.parametrize("command", ["shapes", "plan", "inputs"])
def test_plan_file_errors_name_file_and_line(tmp_path, second, message, command):
    path = tmp_path / "net.toml"
    path.write_text('input = "3x8x8"\n\n[[layers]]\nname = "a"\nspec = "conv(4, k=3)"\n\n'
                    f"[[layers]]\n{second}")
    code, _, err = both(command, str(path))
    match = re.search(r"line (\d+)", err)
    assert code == 2 and str(path) in err and message in err and match
    assert path.read_text().splitlines()[int(match.group(1)) - 1] == "[[layers]]"
    assert "layer 2" in err


# -- --skip-unknown ---------------------------------------------------------------------------

GAMMA = '''
import torch
from torch import nn


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.gamma = nn.Parameter(torch.ones(8, 1, 1))

    def forward(self, x):
        return torch.pow(self.conv(x), self.gamma)    # no layer kind: --skip-unknown skips it
'''


@pytest.mark.oracle
def test_skip_unknown_says_what_it_skipped(torch, tmp_path):
    path = tmp_path / "scaled.py"
    path.write_text(GAMMA)
    proc = run_cnnplan("import", f"{path}:Scaled", "--in", "3x8x8", "--skip-unknown")
    code, out, err = proc.returncode, proc.stdout, proc.stderr
    gamma = torch.nn.Parameter(torch.ones(8, 1, 1))
    shown = f"parameter gamma ({'x'.join(map(str, gamma.shape))}, {gamma.numel()} values)"
    assert code == 0 and shown in err and "skipped" in err and "torch.pow" in err
    assert shown in out          # the placeholder's comment in the plan file says it too


# -- cnnplan kinds: arguments ------------------------------------------------------------------

def test_kinds_lists_arguments_with_true_defaults():
    code, out, _ = both("kinds", "--format", "json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["conv"]["signature"] == ("channels, k, s=1, p=0, d=1, groups=1, bias=true, "
                                         "gain=false, fixed=false")
    table = both("kinds", env={"COLUMNS": "200"})[1]
    assert re.search(r"^name\s+description\s+arguments\s+window\s+provider", table, re.M)
    # each default the column shows is the one a spec gets when it leaves the value out
    cases = {"conv": ("3x9x9", "conv(4, k=3)"), "convT": ("3x9x9", "convT(4, k=3)"),
             "maxpool": ("3x9x9", "maxpool(k=3)"), "groupnorm": ("4x5x5", "groupnorm(2)")}
    for kind, (shape, spec) in cases.items():
        names = rows[kind]["arguments"].split(", ")
        assert sorted(part.split("=")[0] for part in rows[kind]["signature"].split(", ")) \
            == sorted(names)
        defaults = dict(part.split("=") for part in rows[kind]["signature"].split(", ")
                        if "=" in part)
        explicit = spec[:-1] + "".join(f", {n}={v}" for n, v in defaults.items()) + ")"
        short = json.loads(quick("shapes", "--in", shape, spec, "--format", "json")[1])
        full = json.loads(quick("shapes", "--in", shape, explicit, "--format", "json")[1])
        assert (short["output"], short["params"]) == (full["output"], full["params"])


# -- ceil pools in exact mode: plan and solve agree with the rule the docs state -----------

def test_ceil_pools_in_exact_mode_plan_agrees_with_solve(torch):
    F = torch.nn.functional
    doc = open(os.path.join(os.path.dirname(__file__), "..", "docs", "networks.md")).read()
    assert "`ceil=true` pools included" in doc
    for i in range(2, 10):
        for k in range(1, 4):
            for s in range(1, 4):
                for p in range(0, k // 2 + 1):
                    spec = f"avgpool(k={k}, s={s}, p={p}, ceil=true)"
                    if i + 2 * p < k:
                        continue
                    o = F.avg_pool1d(torch.zeros(1, 1, i), k, s, p, ceil_mode=True).shape[-1]
                    exact = (i + 2 * p - k) % s == 0        # the rule docs/networks.md states
                    for mode, want in (("floor", 1), ("exact", 1 if exact else 0)):
                        planned = cnnplan.plan(f"1x{i}", [f"{spec} -> 1x{o}"], mode=mode)
                        assert planned.data["count"] == want, (spec, i, mode)
                        solved = cnnplan.solve(f"1x{i}", f"1x{o}", layer="avgpool", ceil=True,
                                               fix=f"k={k},s={s},p={p}", mode=mode)
                        assert solved.data["count"] == want, (spec, i, mode)
    code, out, _ = both("plan", "--in", "1x5", "avgpool(k=2, s=2, p=0, ceil=true)", "--mode",
                        "exact")
    assert code == 1 and "0 chains in exact mode, 1 in floor mode" in out


# -- what docs/plugins.md now says about complete(), defaults and p=same -----------------------

SEEN: list = []


def _sep_apply(spec, inputs, where):
    (shape,) = inputs
    k, s, p = spec.get("k"), spec.get("s"), spec.get("p")
    if p == "same":
        p = (k - 1) // 2      # odd kernels at stride 1, as the test uses
    outs = tuple((i + 2 * p - k) // s + 1 for i in shape[1:])
    return Applied((spec.get("channels"), *outs), weights=k * k * shape[0])


def _sep_complete(values):
    SEEN.append(dict(values))
    return values


class SepPlugin:
    @hookimpl
    def register_layer_kinds(register):
        register(LayerKind("sep", "test kind", _sep_apply, lambda spec, inputs: "nn.Identity()",
                           args={"channels": POSITIVE, "k": POSITIVE, "s": POSITIVE,
                                 "p": SAME_PADS},
                           positional="channels", defaults={"k": 3, "s": 1, "p": 0},
                           required=("channels",), window=Window("conv"),
                           complete=_sep_complete))


def test_plugin_kind_complete_defaults_and_same(torch):
    with use_host(isolated_host(SepPlugin)):
        SEEN.clear()
        out = cnnplan.shapes("3x9x9", ["sep(4, p=same)"]).data["output"]
        expected = torch.nn.functional.conv2d(torch.zeros(1, 3, 9, 9), torch.zeros(4, 3, 3, 3),
                                              padding="same").shape[1:]
        assert out == list(expected)
        assert SEEN == [{"k": 3, "s": 1, "p": "same", "channels": 4}]  # defaults filled in
        SEEN.clear()
        solved = cnnplan.solve("3x9x9", "4x9x9", layer="sep", max="k=5,s=2,p=2,d=1")
        ks = {row["k"] for row in solved.data["solutions"]}
        assert ks == {1, 3, 5}                     # the default k=3 does not fix k
        assert {(v["k"], v["p"]) for v in SEEN} >= {(1, 0), (3, 1), (5, 2)}
        SEEN.clear()
        planned = cnnplan.plan("3x9x9", ["sep(4) -> 4x9x9"], max="k=5,s=2,p=2")
        assert planned.data["count"] == 3 and SEEN  # plan searches k too, calling complete
        assert cnnplan.plan("3x9x9", ["sep(4, k=3, s=1) -> 4x9x9"],
                            max="p=2").data["count"] == 1


# -- cnnplan.solve's fix, max and where --------------------------------------------------------

def test_solve_takes_strings_sequences_and_mappings():
    forms = [dict(fix="k=8,d=1"), dict(fix=("k=8", "d=1")), dict(fix=["k=8", "d=1"]),
             dict(fix={"k": 8, "d": 1}), dict(fix={"k": "8"}, max={"d": 1}),
             dict(fix="k=8", max="d=1"), dict(fix="k=8", where="d == 1"),
             dict(fix="k=8", where=["d == 1", "k == 8"])]
    answers = [cnnplan.solve("3x64x64", "64x32x32", **form).data["solutions"] for form in forms]
    assert all(answer == answers[0] for answer in answers) and len(answers[0]) == 1


# -- the JSON writer ----------------------------------------------------------------------------

def test_to_json_is_json_with_number_lists_on_one_line():
    """to_json (the fast writer) against the json module: the same document, and the layout
    its docstring promises (lists of plain values on one line, two-space indents)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from cnnplan.platform.reporters import to_json

    plain = st.one_of(st.integers(-10**30, 10**30), st.booleans(), st.none(), st.text(max_size=5),
                      st.floats(allow_nan=False, allow_infinity=False))
    docs = st.recursive(plain, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=20)

    @settings(max_examples=300, deadline=None)
    @given(docs)
    def check(value):
        text = to_json(value)
        assert json.loads(text) == value
        if isinstance(value, list) and all(type(v) is int for v in value):
            assert text == json.dumps(value)

    check()
    doc = cnnplan.solve("3x64x64", "64x32x32", max="k=64,s=64,p=64,d=64").data
    indented = json.dumps(doc, indent=2, ensure_ascii=False)
    one_line = re.sub(r"\[\n\s+((?:-?\d+,\n\s+)*-?\d+)\n\s+\]",
                      lambda m: "[" + ", ".join(re.findall(r"-?\d+", m.group(1))) + "]", indented)
    assert to_json(doc) == one_line and doc["count"] == 1432
