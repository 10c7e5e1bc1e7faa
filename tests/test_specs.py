"""The layer-spec language: parsing, canonical forms, and errors with their column."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnplan import BadInput
from cnnplan.language.specs import KINDS, MAX_SPEC_LENGTH, parse_spec, parse_target, spec_from_mapping
from networks_support import layer_text


@pytest.mark.parametrize("text, canonical, complete", [
    ("conv(64, k=8, s=2)", "conv(64, k=8, s=2)", "conv(64, k=8, s=2, p=0, d=1)"),
    ("conv(128, k=3, p=1, d=2, groups=4, bias=false)",
     "conv(128, k=3, p=1, d=2, groups=4, bias=false)",
     "conv(128, k=3, s=1, p=1, d=2, groups=4, bias=false)"),
    ("convT(64, k=4, s=2, p=1, op=0)", "convT(64, k=4, s=2, p=1, op=0)",
     "convT(64, k=4, s=2, p=1, d=1, op=0)"),
    ("maxpool(k=5)", "maxpool(k=5)", "maxpool(k=5, s=5, p=0, d=1)"),
    ("avgpool(k=2, s=2)", "avgpool(k=2, s=2)", "avgpool(k=2, s=2, p=0)"),
    ("maxpool(k=3, s=2, ceil=true)", "maxpool(k=3, s=2, ceil=true)",
     "maxpool(k=3, s=2, p=0, d=1, ceil=true)"),
    ("flatten", "flatten", "flatten"),
    ("linear(10)", "linear(10)", "linear(10)"),
    ("relu()", "relu", "relu"),
    ("bn", "bn", "bn"),
    ("  Conv ( 64 , kernel_size = 3 , stride=2 )  ", "conv(64, k=3, s=2)",
     "conv(64, k=3, s=2, p=0, d=1)"),
    ("ConvTranspose(8, kernel_size=2, stride=2, output_padding=1)", "convT(8, k=2, s=2, op=1)",
     "convT(8, k=2, s=2, p=0, d=1, op=1)"),
    ("maxpool(3)", "maxpool(k=3)", "maxpool(k=3, s=3, p=0, d=1)"),
    ("batchnorm", "bn", "bn"),
    ("linear(features=7, bias=False)", "linear(7, bias=false)", "linear(7, bias=false)"),
])
def test_specs_parse_to_canonical_forms(text, canonical, complete):
    spec = parse_spec(text)
    assert spec.canonical() == canonical
    assert spec.complete().canonical() == complete
    assert parse_spec(spec.canonical()) == spec


@settings(max_examples=200, deadline=None)
@given(st.booleans().flatmap(layer_text))
def test_canonical_text_round_trips(text):
    spec = parse_spec(text)
    assert parse_spec(spec.canonical()).complete() == spec.complete()
    assert parse_spec(spec.complete().canonical()).complete() == spec.complete()


@pytest.mark.parametrize("text, message", [
    ("conv(64 k=3)", "expected ',' or ')', found 'k' at column 9"),
    ("conv(64, k=3", "expected ',' or ')', found the end at column 13"),
    ("conv(64,, k=3)", "expected an argument, found ',' at column 9"),
    ("conv(64, k=)", "k must be a whole number, found ')' at column 12"),
    ("conv(64, k 3)", "expected '=', found '3' at column 12"),
    ("foo(3)", "unknown layer kind 'foo'; choose one of: conv, convT, maxpool"),
    ("conv(64, q=3)", "unknown argument 'q' for conv (choose from channels, k, s, p, d, groups, "
                      "bias, gain, fixed) at column 10"),
    ("avgpool(k=2, d=2)", "avgpool has no dilation at column 14"),
    ("conv(0, k=3)", "channels=0 must be at least 1 at column 6"),
    ("conv(64, k=-3)", "k=-3 must be at least 1 at column 12"),
    ("conv(64, p=-1)", "p=-1 must be at least 0 at column 12"),
    ("conv(64, k=3, k=4)", "k is given twice at column 15"),
    ("conv(64, 32)", "conv takes one positional value (channels) at column 10"),
    ("relu(3)", "relu takes no positional value"),
    ("conv(64, k=3.5)", "unexpected '.' at column 13"),
    ("conv(64, bias=1)", "bias must be true or false, found '1' at column 15"),
    ("conv(64, k=3) relu", "unexpected 'relu' after the layer at column 15"),
    ("(64)", "expected a layer kind"),
    ("", "expected a layer kind"),
    ("__import__('os').system('true')", "unexpected \"'\" at column 12"),
    ("__import__", "unknown layer kind '__import__'"),
    ("conv(64, k=99999999999)", "k=99999999999 is above the limit"),
    ("conv(64, k=3) -> 8x8", "a target '-> SHAPE' (column 15) belongs in `cnnplan plan`"),
])
def test_bad_specs_name_the_problem_and_its_column(text, message):
    with pytest.raises(BadInput) as info:
        parse_spec(text)
    assert message in str(info.value)


def test_targets_and_limits():
    spec, target = parse_spec("conv(64, k=8) -> 64x32x32", allow_target=True)
    assert spec.canonical() == "conv(64, k=8)" and target == (64, 32, 32)
    assert parse_spec("linear(10) -> 10", allow_target=True)[1] == (10,)
    assert parse_spec("relu", allow_target=True) == (parse_spec("relu"), None)
    with pytest.raises(BadInput, match="'->' at column 15 needs a shape"):
        parse_spec("conv(64, k=8) ->", allow_target=True)
    with pytest.raises(BadInput, match="is not a shape"):
        parse_spec("conv(64, k=8) -> 64x-1", allow_target=True)
    with pytest.raises(BadInput, match="limit is 500"):
        parse_spec("conv(" + "1" * MAX_SPEC_LENGTH + ")")
    with pytest.raises(BadInput, match="a size must be between 1 and"):
        parse_target("0")


def test_table_form_matches_text_form():
    for kind in KINDS:
        assert spec_from_mapping(kind, {}, "t").kind == kind
    assert spec_from_mapping("conv", {"channels": 64, "k": 8, "s": 2}, "t") == \
        parse_spec("conv(64, k=8, s=2)")
    assert spec_from_mapping("maxpool", {"kernel_size": 3, "ceil_mode": True}, "t") == \
        parse_spec("maxpool(k=3, ceil=true)")
    for kind, values, message in [
        ("conv", {"k": "3"}, "k must be a whole number"),
        ("conv", {"k": 0}, "k=0 must be at least 1"),
        ("conv", {"bias": 1}, "bias must be true or false"),
        ("conv", {"q": 1}, "unknown key 'q' for conv"),
        ("unpool", {}, "unknown layer kind 'unpool'"),
        (3, {}, "kind must be text"),
    ]:
        with pytest.raises(BadInput, match=message):
            spec_from_mapping(kind, values, "t")
