"""Bounded fuzzing of every command through the installed `cnnplan` (issue 14).

Hypothesis builds hostile command lines: shapes, specs, NAME=VALUE lists, constraint and math
expressions, arrays and file names (FIFOs, /dev/zero, damaged or oversized weights, plan files
with huge numbers, names too long for the file system), in every output format. Each runs under
hostile_support's budget (5 s of CPU, 500 MB) and must exit 0, 1, 2 or 130, print no
traceback, say a failure in one line, and create or change no file when it fails.

Issue 22 added hostile text in plan files (newlines into generated code, <script>, bidi
overrides, NUL), every picture and code format, -o onto a directory, a FIFO or a link, wide
graphs and 50,000 constraints; the snapshot notices a FIFO or device replaced by a file and a
changed mode; and `test_hostile_api_requests` sends hostile queries and bodies to a running
`cnnplan serve` (status 200/400/404/413/503 only, errors as {"error": ...} with the security
headers).

CI runs a few examples (CNNPLAN_FUZZ_EXAMPLES, default 8, derandomized). A long run:

    CNNPLAN_FUZZ_EXAMPLES=2000 CNNPLAN_FUZZ_LOG=fuzz.jsonl python -m pytest tests/test_fuzz.py -q

With CNNPLAN_FUZZ_LOG every invocation is appended to that file as one JSON line (arguments,
exit code, CPU, peak memory, problems) and problems are recorded instead of stopping the run.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hostile_support import add_all_plan, run_bounded, snapshot, wide_concat_plan
from web_support import fetch, server  # noqa: F401  (server is a fixture)

EXAMPLES = int(os.environ.get("CNNPLAN_FUZZ_EXAMPLES", "8"))
LOG = os.environ.get("CNNPLAN_FUZZ_LOG")

HUGE = ["9" * 400, "9" * 5000, "1" + "0" * 30, "-1", "0", "10001", "1e308", "nan", "inf"]
FORMATS = ["table", "json", "csv", "markdown", "latex", "torch", "svg", "svg-animated", "html",
           "bogus"]
FILES = ["good.npz", "good.json", "bomb.npz", "corrupt.npz", "bigint.json", "huge.json",
         "fifo.json", "fifo.toml", "fifo.csv", "/dev/zero", "folder", "missing.json",
         "plan.toml", "bigint.toml", "power.toml", "signal.csv", "secret.csv", "binary.csv",
         "x" * 300 + ".json", "y" * 300 + ".toml", "existing.json", "existing.npz",
         # issue 22: hostile text in plan files, wide graphs, many constraints, odd -o targets
         "evil-title.toml", "bidi.toml", "concat.toml", "addall.toml", "where.toml",
         "nul.toml", "dir.json", "link.json"]


def _text():
    """Arbitrary text that a command line can carry (no NUL; undecodable bytes as \\udcff)."""
    chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    return st.one_of(st.text(chars, max_size=40), st.sampled_from(HUGE + ["\udcff", "x" * 600]))


def _number():
    small = st.integers(-3, 300).map(str)
    return st.one_of(small, small, small, st.sampled_from(HUGE))


def _shape():
    size = st.one_of(st.integers(1, 64), st.integers(1, 300), st.integers(1, 300),
                     st.sampled_from([10**9, 10**10, 0]))
    valid = st.lists(size, min_size=2, max_size=4).map(lambda v: "x".join(map(str, v)))
    return st.one_of(valid, valid, valid, _text())


def _expression():
    leaf = st.one_of(st.sampled_from(["k", "s", "p", "d", "x", "y"]), _number())
    tree = st.recursive(leaf, lambda inner: st.tuples(
        inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "==", "<", "and", ","]),
        inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"), max_leaves=10)
    return st.one_of(tree.map(lambda e: f"{e} == 1"), tree.map(lambda e: f"{e} > 0"), tree,
                     _text())


def _assignments(names="kspd"):
    pair = st.tuples(st.sampled_from(list(names) + ["q"]), _number()).map("=".join)
    return st.one_of(st.lists(pair, min_size=1, max_size=4).map(",".join), _text())


def _spec():
    kind = st.sampled_from(["conv", "convT", "maxpool", "avgpool", "relu", "flatten", "linear",
                            "bn", "pool"])
    arg = st.one_of(_number(), st.tuples(st.sampled_from(["k", "s", "p", "d", "op", "groups",
                                                          "ceil"]), _number()).map("=".join))
    spec = st.tuples(kind, st.lists(arg, max_size=3)).map(
        lambda t: f"{t[0]}({', '.join(t[1])})" if t[1] else t[0])
    target = st.one_of(st.just(""), st.just(""), _shape().map(lambda s: f" -> {s}"))
    valid = st.tuples(spec, target).map("".join)
    return st.one_of(valid, valid, valid, _text())


def _options(*pairs):
    """Optional `--name value` pairs, each drawn or left out."""
    return st.lists(st.sampled_from(pairs).flatmap(
        lambda pair: pair[1].map(lambda value: [pair[0], value])), max_size=3).map(
        lambda chosen: [part for pair in chosen for part in pair])


def _command():
    fmt = ("--format", st.sampled_from(FORMATS[:5] * 3 + FORMATS[5:]))
    solve = st.tuples(st.just(["solve", "--in"]), _shape(), st.just(["--out"]), _shape(),
                      _options(("--fix", _assignments()), ("--max", _assignments()),
                               ("--where", _expression()), ("--layer", st.sampled_from(
                                   ["conv", "pool", "bogus", "convT", "AVGPOOL", "relu"])),
                               ("--mode", st.sampled_from(["exact", "floor"])),
                               ("--limit", _number()), fmt))
    plan = st.tuples(st.just(["plan"]), st.one_of(
        st.lists(_spec(), min_size=1, max_size=4), st.sampled_from(FILES).map(lambda f: [f])),
        _options(("--in", _shape()), ("--out", _shape()), ("--max", _assignments()),
                 ("--where", st.one_of(_expression(), st.tuples(_number(), _expression()).map(
                     ": ".join))), ("--top", _number()), ("--mode", st.sampled_from(
                         ["exact", "floor"])), fmt))
    shapes = st.tuples(st.just(["shapes"]), st.one_of(
        st.lists(_spec(), min_size=1, max_size=4), st.sampled_from(FILES).map(lambda f: [f])),
        _options(("--in", _shape()), fmt))
    inputs = st.tuples(st.just(["inputs"]), st.one_of(
        st.lists(_spec(), min_size=1, max_size=4), st.sampled_from(FILES).map(lambda f: [f])),
        _options(("--in", _shape()), ("--range", st.one_of(_text(), st.tuples(
            _number(), _number()).map(lambda t: f"{t[0]}..{t[1]}"))), fmt))
    array = st.one_of(st.lists(_number(), min_size=1, max_size=6).map(",".join),
                      st.sampled_from(FILES).map(lambda f: "@" + f), _text())
    conv = st.tuples(st.just(["conv"]), array.map(lambda a: [a]), array.map(lambda a: [a]),
                     _options(("--mode", st.sampled_from(["all", "full", "same", "valid"])),
                              ("--stride", _number()), ("--dilation", _number()), fmt))
    activation = st.sampled_from(["sigmoid", "tanh", "relu"])
    convert = st.tuples(st.just(["convert", "--from"]), activation.map(lambda a: [a]),
                        st.just(["--to"]), activation.map(lambda a: [a]),
                        st.sampled_from(FILES).map(lambda f: [f]),
                        _options(("-o", st.sampled_from(["out.json", "out.npz", "out.txt"] +
                                                         FILES)),
                                 ("--samples", _number()), ("--seed", _number()), fmt))
    ad = st.tuples(st.just(["ad"]), _expression().map(lambda e: [e]),
                   _options(("--at", _assignments("xy")), fmt))
    identity = st.tuples(st.just(["identity", "check"]), st.sampled_from(
        ["all", "sigmoid-step-limit", "bogus"]).map(lambda n: [n]),
        _options(("--samples", _number()), ("--seed", _number()), fmt))
    listing = st.tuples(st.sampled_from([["formats"], ["plugins"], ["solvers"], ["kinds"]]),
                        _options(fmt))
    return st.one_of(solve, plan, shapes, inputs, conv, convert, ad, identity, listing).map(
        lambda parts: [str(a) for part in parts for a in part])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The working directory of every case: good and hostile input files."""
    path = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(0)
    net = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(4),
           "W2": rng.standard_normal((2, 4)), "b2": rng.standard_normal(2)}
    np.savez(path / "good.npz", **net)
    np.savez(path / "existing.npz", **net)
    text = json.dumps({k: v.tolist() for k, v in net.items()})
    (path / "good.json").write_text(text)
    (path / "existing.json").write_text(text)
    np.savez_compressed(path / "bomb.npz", W1=np.zeros((10_000, 10_000), np.uint8),
                        b1=np.zeros(3), W2=np.zeros((2, 3)), b2=np.zeros(2))
    raw = bytearray((path / "good.npz").read_bytes())
    raw[4] = 0xFF
    (path / "corrupt.npz").write_bytes(bytes(raw))
    (path / "bigint.json").write_text(text.replace("[[", "[[" + "9" * 5000 + ", ", 1))
    (path / "huge.json").write_text(json.dumps({k: (v * 1e307).tolist() for k, v in net.items()}))
    for name in ("fifo.json", "fifo.toml", "fifo.csv"):
        os.mkfifo(path / name)
    (path / "folder").mkdir()
    (path / "plan.toml").write_text('input = "3x32x32"\n[[layers]]\nspec = "conv(8)"\n'
                                    'out = "8x16x16"\n')
    (path / "bigint.toml").write_text(f'input = "3x8x8"\ntop = {"9" * 5000}\n[[layers]]\n'
                                      'spec = "relu"\n')
    (path / "power.toml").write_text('input = "3x8x8"\nwhere = "((k**64)**64)**64 == 1"\n'
                                     '[[layers]]\nspec = "conv(4)"\nout = "4x4x4"\n')
    (path / "signal.csv").write_text("1,2,3\n4,5,6\n")
    (path / "secret.csv").write_text("root:x:0:0:TOPSECRET\n")
    (path / "binary.csv").write_bytes(b"\xff\xfe\x00\x01")
    layer = '[[layers]]\nspec = "conv(4, k=3)"\n'
    (path / "evil-title.toml").write_text(
        'title = "x\\n__import__(\'pathlib\').Path(\'PWNED\').touch()  # <script>"\n'
        'input = "3x8x8"\n' + layer)
    (path / "bidi.toml").write_text('title = "a\\u202eb\\u200bc"\ninput = "3x8x8"\n' + layer)
    (path / "nul.toml").write_text('title = "a\\u0000b"\ninput = "3x8x8"\n' + layer)
    (path / "concat.toml").write_text(wide_concat_plan(500, "4x16x16"))
    (path / "addall.toml").write_text(add_all_plan(200, "4x8x8"))
    (path / "where.toml").write_text('input = "3x64x64"\nwhere = [' + ", ".join(
        ['"k > 0"'] * 50_000) + ']\n[[layers]]\nspec = "conv(8)"\nout = "8x32x32"\n')
    (path / "dir.json").mkdir()
    os.symlink("existing.json", path / "link.json")
    return path


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 50,
          suppress_health_check=list(HealthCheck), database=None)
@given(args=_command())
def test_hostile_command_lines(folder, args):
    before = snapshot(folder)
    run = run_bounded(args, cwd=folder)
    after = snapshot(folder)
    problems = run.problems()
    if run.returncode != 0 and after != before:
        problems.append("files changed on failure: " + ", ".join(
            sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))))
    for name in set(after) - set(before):  # a successful -o OUT: remove it for the next case
        os.remove(folder / name)
    if (folder / "PWNED").exists():
        problems.append("user text ran as code")
    if LOG:
        with open(LOG, "a") as log:
            log.write(json.dumps({"args": args, "exit": run.returncode, "cpu": round(run.cpu, 2),
                                  "peak_mb": round(run.peak_mb), "problems": problems,
                                  "stderr": run.stderr[-300:]}, ensure_ascii=True) + "\n")
        return
    assert problems == [], (args, problems, run.stderr[-2000:])


API_KEYS = ["in", "out", "fix", "max", "where", "layer", "mode", "format", "spec", "range",
            "top", "limit", "per-axis", "rank", "bogus"]


def _query():
    value = st.one_of(_shape(), _assignments(), _expression(), _spec(), _number(),
                      st.sampled_from(FORMATS + ["/etc/passwd.toml", "../x.toml", "%00", "1"]),
                      _text())
    return st.lists(st.tuples(st.sampled_from(API_KEYS), value), max_size=6)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 50,
          suppress_health_check=list(HealthCheck), database=None)
@given(command=st.sampled_from(["solve", "shapes", "plan", "inputs", "nope"]), query=_query(),
       body=st.one_of(st.none(), st.sampled_from(["evil-title.toml", "concat.toml", "bidi.toml"]),
                      st.binary(max_size=200)))
def test_hostile_api_requests(server, folder, command, query, body):
    data = (folder / body).read_bytes() if isinstance(body, str) else body
    # lone surrogates go out as the invalid UTF-8 they stand for (%ED%B3%BF)
    query = [(k, v.encode("utf-8", "surrogatepass")) for k, v in query]
    status, headers, text = fetch(f"{server}/api/{command}", query, data)
    headers = {k.lower(): v for k, v in headers.items()}
    problems = []
    if status not in (200, 400, 404, 413, 503):
        problems.append(f"status {status}")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append("no nosniff header")
    if status != 200:
        try:
            doc = json.loads(text)
            if set(doc) != {"error"} or "\n" in doc["error"] or "Traceback" in doc["error"]:
                problems.append("error is not one line of JSON")
        except ValueError:
            problems.append("error is not JSON")
    if (folder / "PWNED").exists():
        problems.append("user text ran as code")
    if LOG:
        with open(LOG, "a") as log:
            log.write(json.dumps({"api": command, "query": [(k, v.decode("utf-8", "replace"))
                                                            for k, v in query], "status": status,
                                  "problems": problems}, ensure_ascii=True) + "\n")
        return
    assert problems == [], (command, query, status, text[:500])
