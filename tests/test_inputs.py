"""`cnnplan inputs` against PyTorch: the sizes it lists are exactly those a U-Net (padded, or the
original with valid convolutions and centre-cropped skips) runs on, with every crop symmetric."""

from __future__ import annotations

import json

import pytest

import cnnplan
from cnnplan import BadInput
from cnnplan.network.inputs import parse_range, rule_for
import networks_support

WIDTH = 2      # channels of the first level (small: the oracle runs hundreds of forward passes)
LEVELS = 3


def unet_plan(padded: bool) -> str:
    return networks_support.unet_plan(padded, LEVELS, WIDTH)


def torch_unet(torch, padded: bool):
    nn = torch.nn
    p = 1 if padded else 0

    def double(c_in, c):
        return nn.Sequential(nn.Conv2d(c_in, c, 3, padding=p), nn.ReLU(),
                             nn.Conv2d(c, c, 3, padding=p), nn.ReLU())

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [WIDTH * 2 ** level for level in range(LEVELS + 1)]
            self.down = nn.ModuleList(double(c_in, c) for c_in, c in
                                      zip([1] + widths[:-2], widths[:-1]))
            self.bottom = double(widths[-2], widths[-1])
            self.up = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                    for i in reversed(range(LEVELS)))
            self.merge = nn.ModuleList(double(2 * widths[i], widths[i])
                                       for i in reversed(range(LEVELS)))
            self.head = nn.Conv2d(widths[0], 2, 1)
            self.asymmetric = False

        def crop(self, skip, size):
            extra = skip.shape[-1] - size
            if extra % 2:
                self.asymmetric = True
            start = extra // 2
            return skip[..., start:start + size, start:start + size]

        def forward(self, x):
            skips = []
            for block in self.down:
                x = block(x)
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            x = self.bottom(x)
            for up, merge, skip in zip(self.up, self.merge, reversed(skips)):
                x = up(x)
                if not padded:
                    skip = self.crop(skip, x.shape[-1])
                x = merge(torch.cat([skip, x], dim=1))
            return self.head(x)

    return UNet().eval()


def torch_accepts(torch, model, size: int) -> bool:
    model.asymmetric = False
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, size, size))
    except RuntimeError:
        return False
    return not model.asymmetric


@pytest.mark.parametrize("padded, hi", [(True, 130), (False, 230)])
def test_inputs_equal_the_sizes_torch_runs(torch, padded, hi):
    result = cnnplan.run_solver("inputs", plan_text=unet_plan(padded), range=f"1..{hi}")
    model = torch_unet(torch, padded)
    expected = [n for n in range(1, hi + 1) if torch_accepts(torch, model, n)]
    assert expected, "the oracle accepted nothing"
    assert result.data["sizes"] == expected
    assert result.data["count"] == len(expected)
    # the rule describes exactly the listed sizes
    step = 2 ** LEVELS
    if padded:
        assert result.data["rule"] == f"{step}n for n >= 1"
    else:
        first = expected[0]
        assert expected == list(range(first, hi + 1, step))
        assert result.data["rule"] == f"{step}n + {first % step} for n >= {first // step}"


def test_refused_sizes_name_the_first_failing_layer(cnnplan_cmd, tmp_path):
    plan = tmp_path / "unet.toml"
    plan.write_text(unet_plan(False))
    proc = cnnplan_cmd("inputs", str(plan), "--range", "1..100", "--format", "json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert data["range"] == [1, 100] and data["count"] == len(data["sizes"])
    reasons = {r["reason"] for r in data["refused"]}
    assert any("kernel 3 larger than padded input" in r for r in reasons)
    assert any("not symmetric" in r for r in reasons)
    refused = sorted(n for r in data["refused"] for n in r["sizes"])
    assert sorted(refused + data["sizes"]) == list(range(1, 101))
    table = cnnplan_cmd("inputs", str(plan), "--range", "1..100")
    assert "rule:" in table.stdout and table.returncode == 0


def test_rule_finder_against_brute_force():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=200, deadline=None)
    @given(st.integers(1, 24), st.sets(st.integers(0, 23), min_size=1, max_size=4),
           st.integers(1, 40), st.integers(60, 200))
    def check(m, residues, start, hi):
        sizes = [n for n in range(1, hi + 1) if n % m in {r % m for r in residues} and n >= start]
        if not sizes:
            return
        rule = rule_for(sizes, 1, hi)
        assert rule
        # evaluate the rule independently: each term "a n + b for n >= c" or "every size >= c"
        got = set()
        for term in rule.split("; "):
            if term.startswith("every size >= "):
                got |= set(range(int(term.split()[-1]), hi + 1))
                continue
            head, _, low = term.partition(" for n >= ")
            a, _, b = head.partition("n")
            b = int(b.replace("+", "").strip() or 0)
            got |= {int(a) * n + b for n in range(int(low), hi + 1) if int(a) * n + b <= hi}
        assert got == set(sizes)

    check()


@pytest.mark.parametrize("text, message", [
    ("5..1", "need 1 <= LO <= HI"), ("a..b", "write LO..HI"), ("0..4", "need 1 <= LO"),
    ("1..100000", "the limit is 65,536"),
])
def test_bad_ranges(text, message):
    with pytest.raises(BadInput, match=message):
        parse_range(text)


def test_bad_range_on_the_command_line(cnnplan_cmd):
    proc = cnnplan_cmd("inputs", "--in", "3x8x8", "conv(4, k=3)", "--range", "9..1")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_no_size_accepted_is_exit_1(cnnplan_cmd):
    proc = cnnplan_cmd("inputs", "--in", "3x8x8", "conv(4, k=30)", "--range", "1..20")
    assert proc.returncode == 1 and "0 of 20" in proc.stdout
