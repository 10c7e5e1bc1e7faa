"""Array text, files and bad input for `cnnplan conv`: one clear line on stderr, exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnplan
from cnnplan.cli import build_cli
from cnnplan_convmodes.arrays import MAX_ELEMENTS, parse_array, parse_csv


@pytest.mark.parametrize("text, expected", [
    ("1,2,3,4", [1, 2, 3, 4]),
    ("[1,2,3,4]", [1, 2, 3, 4]),
    ("1 2 3 4", [1, 2, 3, 4]),
    ("[1 2, 3 ,4]", [1, 2, 3, 4]),
    (" -1, +2.5, 1e2, .5, -0.0 ", [-1, 2.5, 100.0, 0.5, 0.0]),
    ("7", [7]),
    ("[[1,2],[3,4]]", [[1, 2], [3, 4]]),
    ("1,2;3,4", [[1, 2], [3, 4]]),
    ("[[5]]", [[5]]),
    ("[[1, 2, 3]]", [[1, 2, 3]]),
    ("1 2\n3 4\n", [[1, 2], [3, 4]]),
    ("[[1, 2],\n [3, 4]]", [[1, 2], [3, 4]]),
])
def test_array_text(text, expected):
    grid = parse_array(text, "signal")
    assert grid.tolist() == expected
    assert [type(v) for v in _flat(grid.tolist())] == [type(v) for v in _flat(expected)]
    assert grid.ndim == (2 if isinstance(expected[0], list) else 1)


def _flat(values):
    return [v for row in values for v in row] if isinstance(values[0], list) else values


@pytest.mark.parametrize("text, expected", [
    ("1,2,3\n", [1, 2, 3]),
    ("1\n2\n3\n", [1, 2, 3]),
    ("# comment\n1, 2\n3, 4\n\n", [[1, 2], [3, 4]]),
    ("[[1],[2]]", [[1], [2]]),
    ("\ufeff1,2\r\n3,4\r\n", [[1, 2], [3, 4]]),
])
def test_csv_text(text, expected):
    assert parse_csv(text, "signal").tolist() == expected


def invoke(*args):
    return CliRunner().invoke(build_cli(), ["conv", *args])


def test_file_arguments_and_negative_first_values(tmp_path, cnnplan_cmd):
    (tmp_path / "signal.csv").write_text("1,2,3,4\n")
    (tmp_path / "image.csv").write_text("1,2\n3,4\n")
    done = cnnplan_cmd("conv", f"@{tmp_path / 'signal.csv'}", "1,0,2", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["full"] == [1, 2, 5, 8, 6, 8]
    done = cnnplan_cmd("conv", f"@{tmp_path / 'image.csv'}", "[[1]]", "--format", "json",
                       "--mode", "valid")
    assert json.loads(done.stdout)["valid"] == [[1, 2], [3, 4]]
    done = cnnplan_cmd("conv", "-1,2,3", "-1", "--format", "json", "--mode", "full")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["full"] == [1, -2, -3]


BAD = [
    (["[]", "1"], "signal is empty"),
    (["1,2", "[[]]"], "kernel is empty"),
    (["[[1,2],[3]]", "[[1]]"], "signal has ragged rows (lengths 2, 1)"),
    (["1,2;3", "1"], "signal has ragged rows"),
    (["1,a,3", "1"], "signal: 'a' is not a number"),
    (["1,2", "0x10"], "kernel: '0x10' is not a number"),
    (["[[1,2],[3,4]]", "1,2"], "the signal is 2-D (2x2) but the kernel is 1-D (2 values)"),
    (["[1,[2,3]]", "1"], "signal mixes numbers and rows"),
    (["[[[1]]]", "1"], "signal nests deeper than 2 levels"),
    (["1,nan", "1"], "signal: 'nan' is not a finite number"),
    (["1,2", "-inf"], "kernel: '-inf' is not a finite number"),
    (["1,2", "1e999"], "kernel: '1e999' overflows to infinity"),
    (["1,,2", "1"], "signal has an empty value"),
    (["1,2,", "1"], "signal ends with a comma"),
    (["[1,2", "1"], "signal has an unclosed '['"),
    (["1,2]", "1"], "signal has a ']' without a matching '['"),
    (["1,2", "1", "--stride", "2"], "--stride and --dilation apply to cross-correlation"),
    (["1,2", "1", "--correlate", "--dilation", "0"], "Invalid value for '--dilation'"),
    (["1,2", "1", "--mode", "middle"], "Invalid value for '--mode'"),
    (["1,2", "1", "--same", "scipy"], "Invalid value for '--same'"),
    (["@/nonexistent/signal.csv", "1"], "signal file '/nonexistent/signal.csv' does not exist"),
    (["@", "1"], "'@' must be followed by a file name"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(cnnplan_cmd, args, message):
    done = cnnplan_cmd("conv", *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith("Error: ") and message in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_too_large_arrays_and_too_much_work_are_refused(tmp_path, cnnplan_cmd):
    (tmp_path / "big.csv").write_text("1\n" * (MAX_ELEMENTS + 1))
    done = cnnplan_cmd("conv", f"@{tmp_path / 'big.csv'}", "1")
    assert done.returncode == 2
    assert f"signal ({tmp_path / 'big.csv'}) has {MAX_ELEMENTS + 1:,} values" in done.stderr
    (tmp_path / "long.csv").write_text("1\n" * 5000)
    done = cnnplan_cmd("conv", f"@{tmp_path / 'long.csv'}", f"@{tmp_path / 'long.csv'}")
    assert done.returncode == 2 and "multiplications; the limit is" in done.stderr


def test_steps_for_big_arrays_show_the_first_rows_and_say_so():
    run = invoke(",".join(str(n) for n in range(100)), "1,2,3", "--steps", "--mode", "valid")
    assert run.exit_code == 0, run.output
    assert "valid: steps shown for the first 24 of 98 positions" in run.output
    assert "valid: rows longer than 16 values are cut to the window (...)" in run.output
    matrix = "[" + ",".join("[" + ",".join(["1"] * 30) + "]" for _ in range(20)) + "]"
    run = invoke(matrix, "[[1,1],[1,1]]", "--steps", "--mode", "same")
    assert run.exit_code == 0, run.output
    assert "same: steps shown for the first 24 of 600 positions (output row 0 of 20)" in run.output
    assert "same: the padded signal is larger than 16x16; it is not shown." in run.output
    run = invoke("[[1,2,3],[4,5,6],[7,8,9],[1,2,3]]", "[[1]]", "--steps", "--mode", "full")
    assert "steps shown" not in run.output


def test_no_valid_output_exits_1_with_the_reason():
    run = invoke("[[1,2,3]]", "[[1],[2]]", "--mode", "valid")
    assert run.exit_code == 1
    assert "neither fits inside the other" in run.output
    run = invoke("1,2", "1,2,3", "--correlate", "--dilation", "2", "--mode", "valid",
                 "--format", "json")
    assert run.exit_code == 1
    assert json.loads(run.output)["valid"] == []
    run = invoke("[[1,2,3]]", "[[1],[2]]")  # the other modes still answer
    assert run.exit_code == 0


def test_kernel_longer_than_signal_is_explained():
    run = invoke("1,2", "1,0,2,3")
    assert run.exit_code == 0
    assert "numpy swaps them and 'same' has the kernel's length 4" in run.output
    assert "the signal slides inside the kernel" in run.output


def test_library_api_rejects_bad_values_with_badinput():
    for kwargs in ({"signal": [1, float("nan")], "kernel": [1]},
                   {"signal": [1, True], "kernel": [1]},
                   {"signal": [[1, 2], [3]], "kernel": [[1]]},
                   {"signal": [1, 2], "kernel": [1], "mode": "middle"},
                   {"signal": [1, 2], "kernel": [1], "correlate": True, "stride": 2.0}):
        with pytest.raises(cnnplan.BadInput):
            cnnplan.run_solver("conv", **kwargs)


def test_numpy_arrays_are_accepted_by_the_library_api():
    import numpy as np

    data = cnnplan.run_solver("conv", signal=np.array([1, 2, 3, 4]), kernel=np.array([1, 0, 2])).data
    assert data["full"] == [1, 2, 5, 8, 6, 8] and type(data["full"][0]) is int
    data = cnnplan.run_solver("conv", signal=np.eye(2), kernel=np.ones((1, 1)), mode="valid").data
    assert data["valid"] == [[1.0, 0.0], [0.0, 1.0]]


@settings(max_examples=150, deadline=None)
@given(st.text("0123456789-+.,; []eEnaif\n", max_size=30), st.text("0123456789-,[] ", max_size=12),
       st.sampled_from(("all", "full", "same", "valid")), st.booleans(), st.booleans())
def test_any_text_gives_an_answer_or_badinput(signal, kernel, mode, correlate, steps):
    try:
        result = cnnplan.run_solver("conv", signal=signal, kernel=kernel, mode=mode,
                                    correlate=correlate, steps=steps)
    except cnnplan.BadInput as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for fmt in ("table", "json", "csv", "markdown", "latex"):
        assert cnnplan.render(result, fmt)
