"""The validity rules' one home (cnnplan/kinds/arithmetic.py) against PyTorch, which refuses what they refuse,
and the inverse forms the enumerators use against the rules themselves."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnplan.kinds.arithmetic import dilation_counts, input_fits_kernel, max_padding, min_kernel, output_padding_valid, window_valid


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 40), st.integers(1, 6), st.sampled_from(["conv", "convT", "pool",
                                                                "maxpool", "avgpool"]))
def test_min_kernel_is_the_smallest_valid_kernel(p, d, layer):
    smallest = next(k for k in range(1, 200)
                    if dilation_counts(k, d) and p <= max_padding(k, d, layer))
    assert min_kernel(p, d, layer) == smallest


@pytest.mark.parametrize("k, s, p, d", [(k, s, p, d) for k in range(1, 6) for s in (1, 2)
                                        for p in range(0, 4) for d in (1, 2)])
def test_pooling_padding_rule_is_torchs(torch, k, s, p, d):
    x = torch.zeros(1, 1, 40)
    try:
        torch.nn.functional.max_pool1d(x, k, s, p, d)
        accepted = True
    except RuntimeError:
        accepted = False
    assert accepted == (p <= max_padding(k, d, "maxpool"))


@pytest.mark.parametrize("s, d, op", [(s, d, op) for s in (1, 2, 3) for d in (1, 2, 3)
                                      for op in range(0, 4)])
def test_output_padding_rule_is_torchs(torch, s, d, op):
    x, w = torch.zeros(1, 1, 5), torch.zeros(1, 1, 3)
    try:
        torch.nn.functional.conv_transpose1d(x, w, stride=s, output_padding=op, dilation=d)
        accepted = True
    except RuntimeError:
        accepted = False
    assert accepted == output_padding_valid(op, s, d)
    assert window_valid("convT", 3, s, 0, d, op) == accepted


@pytest.mark.parametrize("sizes, k", [((4, 4, 4), 4), ((3, 4, 4), 4), ((4, 4, 2), 3),
                                      ((5, 6, 7), 5)])
def test_3d_average_pooling_input_rule_is_torchs(torch, sizes, k):
    x = torch.zeros(1, 1, *sizes)
    try:
        torch.nn.functional.avg_pool3d(x, k, 1, 0)
        accepted = True
    except RuntimeError:
        accepted = False
    assert accepted == input_fits_kernel(sizes, k)
