"""`--format torch`: the snippet is exec'd with torch on a zero tensor, every intermediate
shape compared with cnnplan's table, and its parameters counted."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

import cnnplan
from cnnplan import BadInput, NoSolution
from cnnplan.network.forward import forward
from networks_support import network_case


def run_snippet(code: str) -> dict:
    namespace = {"__name__": "cnnplan_snippet"}
    exec(compile(code, "<cnnplan --format torch>", "exec"), namespace)
    return namespace


@pytest.mark.oracle
def test_question_6_snippet(torch):
    result = cnnplan.shapes("3x256x256", ["conv(64, k=8, s=2)", "maxpool(k=5)",
                                          "conv(128, k=4, p=1)"])
    ns = run_snippet(cnnplan.render(result, "torch"))
    assert ns["check"]() == (128, 24, 24)
    assert ns["OUTPUT_SHAPES"] == [tuple(layer["output"]) for layer in result.data["layers"]]
    assert sum(p.numel() for p in ns["MODEL"].parameters()) == result.data["params"] == 143552
    last = ns["MODEL"][2]
    assert last.weight.numel() == 131072 and last.bias.numel() == 128


@pytest.mark.oracle
@settings(max_examples=60, deadline=None)
@given(network_case())
def test_exported_networks_rebuild_every_shape(torch, case):
    shape, texts = case
    try:
        net = forward(shape, texts)
    except BadInput:
        return
    result = cnnplan.shapes("x".join(map(str, shape)), texts)
    ns = run_snippet(cnnplan.render(result, "torch"))
    assert ns["INPUT_SHAPE"] == tuple(shape)
    assert ns["OUTPUT_SHAPES"] == [step.output for step in net.steps]
    assert ns["check"]() == net.output  # torch asserts each intermediate shape inside
    assert sum(p.numel() for p in ns["MODEL"].parameters()) == net.params


@pytest.mark.oracle
def test_exported_plan_chains(torch):
    result = cnnplan.plan("3x64x64", ["conv(16) -> 16x32x32", "bn", "relu",
                                      "maxpool(ceil=true) -> 16x16x16", "convT(8, op=0)",
                                      "flatten", "linear(10)"],
                          max="k=4,s=3,p=2,d=2", mode="floor", rank="macs", top=4)
    assert result.data["count"] > 4
    ns = run_snippet(cnnplan.render(result, "torch"))
    assert len(ns["CHAINS"]) == 4
    for chain, model, shapes in zip(result.data["chains"], ns["CHAINS"], ns["CHAIN_OUTPUT_SHAPES"]):
        assert shapes == [tuple(layer["output"]) for layer in chain["layers"]]
        assert ns["check"](model, shapes) == (10,)
        assert sum(p.numel() for p in model.parameters()) == chain["params"]


def test_torch_format_refuses_other_results():
    solved = cnnplan.solve("3x64x64", "64x32x32", fix={"k": 8})
    with pytest.raises(BadInput, match="format 'torch' cannot render 'solve' results"):
        cnnplan.render(solved, "torch")
    with pytest.raises(BadInput, match="cannot render unnamed results"):
        cnnplan.render(cnnplan.Result("x", data={"input": [1, 2], "layers": [{"spec": 3}]}),
                       "torch")
    none = cnnplan.plan("3x64x64", ["conv(8, k=3, s=1, p=0, d=1) -> 8x10x10"])
    with pytest.raises(NoSolution, match="no chain satisfies the plan"):
        cnnplan.render(none, "torch")
    counted = cnnplan.plan("3x64x64", ["conv(8) -> 8x32x32"], top=0)
    with pytest.raises(BadInput, match="--top 0"):
        cnnplan.render(counted, "torch")
