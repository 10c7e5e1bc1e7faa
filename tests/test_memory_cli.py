"""Memory on the command line (installed `cnnplan` and CliRunner), in the library and the API:
--batch, --dtype, --optimizer, --memory on shapes, --memory on inputs; bad input exits 2 with
one line, a budget nothing fits exits 1."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from conftest import run_cnnplan

from cnnplan.cli import build_cli
from cnnplan.network.forward import forward
from cnnplan.network.memory import memory, parse_budget

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = os.path.join(ROOT, "examples", "networks", "small_resnet.toml")
LAYERS = ["conv(8, k=3, p=1)", "bn", "relu(inplace=true)", "maxpool(2)", "flatten", "linear(10)"]


def _json(args):
    out = CliRunner().invoke(build_cli(), [*args, "--format", "json"])
    assert out.exit_code in (0, 1), out.output
    return json.loads(out.output), out.exit_code


def test_bytes_follow_batch_and_dtype():
    data, _ = _json(["shapes", "--in", "3x16x16", *LAYERS, "--batch", "4", "--dtype", "float16"])
    assert data["batch"] == 4 and data["dtype"] == "float16"
    assert data["param_bytes"] == 2 * data["params"]
    for layer in data["layers"]:
        assert layer["out_bytes"] == 4 * 2 * layer["size"]
    # by hand: conv saves its input (3x16x16), bn its input (8x16x16) and 2 x 8 float32
    # statistics, the in-place ReLU its output (bn's, 8x16x16), max pooling its input (the
    # same storage) and int64 indices (8x8x8), linear its input (the pooled 512)
    by_hand = 4 * 2 * (3 * 256 + 8 * 256 + 8 * 256 + 512) + 2 * 8 * 4 + 4 * 8 * 512
    assert data["train_saved_bytes"] == by_hand
    assert data["train_total_bytes"] == 4 * data["param_bytes"] + by_hand
    # in inference the input is freed once conv has run; the peak is conv's and bn's outputs
    # while bn runs (ReLU works in place; pooling then frees them)
    assert data["inference_peak_bytes"] == 4 * 2 * (8 * 256 + 8 * 256)


def test_optimizers():
    sgd, _ = _json(["shapes", "--in", "3x16x16", *LAYERS, "--optimizer", "sgd"])
    adam, _ = _json(["shapes", "--in", "3x16x16", *LAYERS])
    assert sgd["optimizer_bytes"] == 0 and adam["optimizer_bytes"] == 2 * adam["param_bytes"]
    assert adam["train_total_bytes"] - sgd["train_total_bytes"] == 2 * adam["param_bytes"]


@pytest.mark.parametrize("inference", [False, True])
def test_max_batch_is_the_largest_that_fits(inference):
    data, code = _json(["shapes", SMALL, "--memory", "1.5GiB"] + (["--inference"] if inference
                                                                   else []))
    assert code == 0 and data["memory_budget"] == 3 * 2 ** 29
    net = forward((3, 32, 32), _small())
    key = "inference_total_bytes" if inference else "train_total_bytes"
    n = data["max_batch"]
    assert getattr(memory(net, n), key) <= 3 * 2 ** 29 < getattr(memory(net, n + 1), key)
    assert data["max_batch_split"]["total_bytes"] == getattr(memory(net, n), key)


def _small():
    from cnnplan.language.planfile import gather
    from cnnplan.network.forward import plan_nodes

    _, items, _, _ = gather(None, [], SMALL, None, what="network")
    return plan_nodes(items)


def test_nothing_fits_exits_1_with_the_need():
    out = run_cnnplan("shapes", SMALL, "--memory", "100KiB")
    assert out.returncode == 1
    assert "no batch fits: one sample's training takes" in out.stdout


@pytest.mark.parametrize("args, words", [
    (["--memory", "24XB"], "--memory '24XB'"),
    (["--memory", "1" * 50], "--memory"),
    (["--batch", "0"], "--batch"),
    (["--dtype", "int4"], "--dtype"),
    (["--dtype", "int8", "--memory", "1GiB"], "int8 is an inference dtype"),
])
def test_bad_input_is_one_line_exit_2(args, words):
    out = run_cnnplan("shapes", SMALL, *args)
    assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr


def test_budgets():
    assert parse_budget("24GiB") == 24 * 2 ** 30 and parse_budget("16 GB") == 16 * 10 ** 9
    assert parse_budget("1.5MiB") == 3 * 2 ** 19 and parse_budget("1000") == 1000


def test_table_shows_memory_only_when_asked():
    plain = run_cnnplan("shapes", "--in", "3x16x16", *LAYERS).stdout
    asked = run_cnnplan("shapes", "--in", "3x16x16", *LAYERS, "--batch", "2").stdout
    assert "train total" not in plain and "out bytes" not in plain
    assert "train total (adam):" in asked and "excluded: the framework's workspace" in asked


def test_inputs_largest_size_in_a_budget():
    data, code = _json(["inputs", SMALL, "--memory", "64MiB", "--batch", "8",
                        "--range", "8..512"])
    n = data["largest_fitting"]
    assert code == 0 and n is not None

    def need(size):
        return memory(forward((3, size, size), _small()), 8).train_total_bytes

    assert need(n) <= 64 * 2 ** 20 < need(n + 1)
    assert data["largest_fitting_bytes"] == need(n)


def test_api_query_takes_the_memory_options():
    from cnnplan.web.query import argv_for, describe

    argv, _ = argv_for("shapes", [("in", "3x16x16"), ("spec", "relu"), ("batch", "4"),
                                  ("memory", "24GiB"), ("inference", "1")])
    assert "--batch=4" in argv and "--memory=24GiB" in argv and "--inference" in argv
    assert "bfloat16" in describe()["shapes"]["dtype"]["choices"]
    assert "adam" in describe()["inputs"]["optimizer"]["choices"]


PLANS = [
    ["--in", "3x32x32", "conv(8, d=1) -> 8x16x16", "relu", "maxpool(d=1) -> 8x8x8",
     "conv(4, k=3, s=1, d=1)", "--max", "k=5,p=2,s=4"],
    ["--in", "3x24x24", "conv(8, d=1)", "bn", "relu6(inplace=true)", "maxpool(k=2, d=1)",
     "dropout", "conv(4, k=1) -> 4x3x3", "--max", "k=3,p=1,s=3"],
]


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("rank, key", [("train", "train_total_bytes"),
                                       ("peak", "inference_peak_bytes")])
def test_plan_ranks_by_memory(plan, rank, key):
    """Brute force: every chain (listed in params order), each measured by `cnnplan shapes`;
    --rank peak|train lists the smallest first."""
    args = ["plan", *plan, "--batch", "4"]
    every, _ = _json([*args, "--top", "1000"])
    assert len(every["chains"]) == every["count"] <= 1000
    measured = []
    for chain in every["chains"]:
        specs = [layer["spec"] for layer in chain["layers"]]
        data, _ = _json(["shapes", "--in", plan[1], *specs, "--batch", "4"])
        measured.append(data[key])
        assert chain[key] == data[key]
    ranked, _ = _json([*args, "--rank", rank, "--top", "5"])
    assert [chain[key] for chain in ranked["chains"]] == sorted(measured)[:5]


def test_several_outputs_and_kinds_without_saves_rules():
    """chunk's outputs are views of its input: conv saves its input (2 x 4x6x8 floats), the
    add nothing, the ReLU its output (2 x 2x6x8); mha has no saves rule (what attention
    saves depends on the kernel torch picks), so its network's training memory is null."""
    data, code = _json(["shapes", "--in", "4x6x8", "conv(4, k=1)", "a: chunk(2)",
                        "add(a[0], a[1])", "relu", "--batch", "2"])
    assert code == 0 and data["train_saved_bytes"] == 2 * 4 * 6 * 8 * 4 + 2 * 2 * 6 * 8 * 4
    assert "memory_unknown_kinds" not in data
    data, code = _json(["shapes", "--in", "4x8", "mha(2)", "relu", "--batch", "2"])
    assert code == 0 and data["train_saved_bytes"] is None
    assert data["memory_unknown_kinds"] == ["mha"] and data["inference_peak_bytes"] > 0


STRIDED = ["--in", "4x6x6", "conv(4, k=1)", "permute(dims=(1, 0, 2))", "reshape(shape=(4, -1))"]


def test_a_layer_reading_a_strided_view_is_named():
    """reshape after a permute copies in torch: training memory not given, the layer named in
    JSON and the table's footer, and --memory refuses in one line (installed command too)."""
    data, code = _json(["shapes", *STRIDED, "--batch", "2"])
    assert code == 0 and data["train_saved_bytes"] is None
    assert data["memory_strided_layers"] == ["3"]
    table = run_cnnplan("shapes", *STRIDED, "--batch", "2")
    assert table.returncode == 0 and "layer(s) 3 read a view that may not be contiguous" in \
        " ".join(table.stdout.split())
    refused = run_cnnplan("shapes", *STRIDED, "--memory", "1GiB")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "read a non-contiguous view" in refused.stderr
