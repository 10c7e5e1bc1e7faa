"""The installed `cnnplan` command: bad input is one clear line on stderr and exit 2, never a
traceback; the plugin loads through the entry point without importing numpy at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cnnplan_activations.limits import MAX_SAMPLES

GOOD = {"W1": [[1.0, 2.0]], "b1": [0.5], "W2": [[1.0], [-1.0]], "b2": [0.0, 1.0]}


def with_(**changes):
    doc = dict(GOOD)
    for key, value in changes.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


JSON_CASES = {
    "missing-key.json": (with_(b2=None), "lacks b2"),
    "b1-shape.json": (with_(b1=[0.5, 1.0]), "b1 has 2 entries but W1 has 1 row"),
    "w2-shape.json": (with_(W2=[[1.0, 2.0]]), "W2 has 2 columns but W1 has 1 row"),
    "b2-shape.json": (with_(b2=[1.0]), "b2 has 1 entry but W2 has 2 rows"),
    "w1-vector.json": (with_(W1=[1.0, 2.0]), "W1 must be a matrix (M x D); it has shape (2,)"),
    "ragged.json": (with_(W1=[[1.0, 2.0], [3.0]]), "W1 is not a rectangular array of numbers"),
    "text.json": (with_(b1=["a"]), "b1 must hold real numbers; it holds text"),
    "nan.json": (with_(W2=[[1.0], [float("nan")]]), "W2 holds a non-finite value (nan at [1, 0])"),
    "inf.json": (with_(b2=[0.0, float("inf")]), "b2 holds a non-finite value (inf at [1])"),
    "empty.json": (with_(W1=[[]]), "W1 has shape (1, 0); every size must be at least 1"),
    "list.json": ([1, 2, 3], "must hold a JSON object with keys W1, b1, W2, b2; it holds a list"),
}
RAW_CASES = {
    "broken.json": ('{"W1": [[1, 2]', "is not valid JSON"),
    "deep.json": ("[" * 50_000 + "]" * 50_000, "nests JSON too deeply"),
    "text.npz": ("not a zip file", "is not a valid .npz archive"),
    "weights.txt": ("", "must end in .npz or .json"),
}


def write_cases(tmp_path):
    cases = []
    for name, (doc, message) in JSON_CASES.items():
        (tmp_path / name).write_text(json.dumps(doc))
        cases.append((name, message))
    for name, (text, message) in RAW_CASES.items():
        (tmp_path / name).write_text(text)
        cases.append((name, message))
    np.save(tmp_path / "single.npy", np.ones(3))
    os.rename(tmp_path / "single.npy", tmp_path / "single.npz")
    cases.append(("single.npz", "is not a valid .npz archive"))
    np.savez(tmp_path / "objects.npz", W1=np.array([{}], dtype=object), b1=[1.0],
             W2=[[1.0]], b2=[1.0])
    cases.append(("objects.npz", "holds Python objects"))
    np.savez(tmp_path / "complex.npz", W1=np.ones((1, 1)) * 1j, b1=[1.0], W2=[[1.0]], b2=[1.0])
    cases.append(("complex.npz", "W1 must hold real numbers; it holds complex numbers"))
    cases.append(("absent.npz", "does not exist"))
    (tmp_path / "folder.json").mkdir()
    cases.append(("folder.json", "is a directory"))
    return cases


def assert_one_line_error(proc, message):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr


def test_bad_weight_files_through_the_installed_command(tmp_path, cnnplan_cmd):
    cases = write_cases(tmp_path)
    for name, message in cases:
        proc = cnnplan_cmd("convert", "--from", "sigmoid", "--to", "tanh", str(tmp_path / name))
        assert_one_line_error(proc, message)


@pytest.mark.parametrize("args,message", [
    (["identity", "check", "softmax"], "unknown identity 'softmax'; choose one of: all, "),
    (["identity", "check", "all", "--samples", "0"], f"between 1 and {MAX_SAMPLES} (got 0)"),
    (["identity", "check", "all", "--samples", str(10**30)], f"between 1 and {MAX_SAMPLES}"),
    (["identity", "check", "all", "--samples", "many"], "'many' is not a valid integer"),
    (["identity", "check", "all", "--seed", "-3"], "--seed must be between 0 and"),
    (["identity", "check", "all", "--format", "pdf"], "unknown format 'pdf'"),
    (["convert", "--from", "sigmoid", "--to", "relu", "w.json"], "'relu' is not one of"),
    (["convert", "--from", "tanh", "--to", "tanh", "w.json"], "both tanh; nothing to convert"),
    (["convert", "--from", "sigmoid", "--to", "tanh", "w.json", "--samples", "0"],
     "--samples must be between 1"),
    (["convert", "--from", "sigmoid", "--to", "tanh", "w.json", "-o", "w.csv"],
     "output file 'w.csv' must end in .npz or .json"),
    (["convert", "--from", "sigmoid", "--to", "tanh", "w.json", "-o", "w.json"],
     "is the weights file"),
    (["convert", "--from", "sigmoid", "--to", "tanh", "huge.json"], "outputs overflow float64"),
])
def test_bad_arguments_through_the_installed_command(tmp_path, cnnplan_cmd, args, message):
    (tmp_path / "w.json").write_text(json.dumps(GOOD))
    (tmp_path / "huge.json").write_text(json.dumps(
        {"W1": [[1.0]], "b1": [0.0], "W2": [[1e308]], "b2": [1e308]}))
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert_one_line_error(cnnplan_cmd(*args), message)
    finally:
        os.chdir(old)


def test_installed_command_checks_and_converts(tmp_path, cnnplan_cmd):
    proc = cnnplan_cmd("identity", "check", "all", "--samples", "100")
    assert proc.returncode == 0 and "10 identities checked: all hold" in proc.stdout
    (tmp_path / "w.json").write_text(json.dumps(GOOD))
    proc = cnnplan_cmd("convert", "--from", "sigmoid", "--to", "tanh", str(tmp_path / "w.json"),
                       "-o", str(tmp_path / "t.npz"))
    assert proc.returncode == 0 and (tmp_path / "t.npz").exists()
    plugins = json.loads(cnnplan_cmd("plugins", "--format", "json").stdout)
    assert any(p["name"] == "activations" and "register_commands" in p["hooks"] for p in plugins)


def test_start_up_does_not_import_numpy():
    code = ("import sys; from cnnplan.cli import build_cli; cli = build_cli(); "
            "assert {'identity', 'convert'} <= set(cli.commands), cli.commands; "
            "from cnnplan.platform.host import get_host; get_host().solvers; "
            "assert 'numpy' not in sys.modules, 'numpy imported at start-up'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_an_unwritable_output_exits_1(tmp_path, cnnplan_cmd):
    """An output that cannot be written is exit 1 (README: the question was fine, the file
    was not), one line, and nothing is created."""
    (tmp_path / "w.json").write_text(json.dumps(GOOD))
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        proc = cnnplan_cmd("convert", "--from", "sigmoid", "--to", "tanh", "w.json", "-o",
                           "no/such/dir/o.json")
    finally:
        os.chdir(old)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "Error: cannot write 'no/such/dir/o.json': its folder does not exist"]
    assert not (tmp_path / "no").exists()
