"""SVG and HTML pictures: valid XML whose geometry is checked against PyTorch (which input cells
each output reads, output sizes, transposed convolutions as zero-stretched inputs), networks
and graphs drawn node for node, everything escaped, and the CLI's handling of them."""

from __future__ import annotations

import html.parser
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cnnplan
from cnnplan import Result, Table
from cnnplan.pictures import render_svg

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def by_class(root, cls: str) -> list:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def cells(element, cell: float) -> float:
    return round(float(element.get("width")) / cell), round(float(element.get("height")) / cell)


def read_oracle(torch, sizes, k, s, p, d):
    """From PyTorch: the output shape, the padded cells read by the first and second window
    (along the last axis), and per axis the padded positions no output reads."""
    import torch.nn.functional as F

    n = len(sizes)
    conv = (F.conv1d, F.conv2d)[n - 1]
    x = torch.zeros((1, 1, *[i + 2 * p for i in sizes]), dtype=torch.float64, requires_grad=True)
    w = torch.ones((1, 1, *[k] * n), dtype=torch.float64)
    out = conv(x, w, stride=s, dilation=d)   # padding done by hand: its cells get gradients

    def read_by(index):
        (grad,) = torch.autograd.grad(out[(0, 0, *index)], x, retain_graph=True)
        nz = grad[0, 0].nonzero().tolist()
        return {tuple(c) if n == 2 else (0, c[0]) for c in nz}

    first = read_by([0] * n)
    second = read_by([0] * (n - 1) + [1]) if out.shape[-1] > 1 else set()
    (grad,) = torch.autograd.grad(out.sum(), x)
    g = grad[0, 0].abs()
    unused = [{r for r in range(g.shape[a]) if float(g.select(a, r).sum()) == 0}
              for a in range(n)]
    return tuple(out.shape[2:]), first, second, unused


def first_solution(svg: str) -> ET.Element:
    """The first solution's diagram (not the legend)."""
    return by_class(parse(svg), "solution")[0]


def drawn(svg: str):
    """What the diagram of one solution shows, read back from its SVG."""
    root = first_solution(svg)
    (group,) = by_class(root, "layer-input")
    cell = float(group.get("data-cell"))
    taps = {(int(t.get("data-row")), int(t.get("data-col"))) for t in by_class(root, "tap")}
    taps2 = {(int(t.get("data-row")), int(t.get("data-col"))) for t in by_class(root, "tap2")}
    unused: dict[int, set] = {0: set(), 1: set()}
    for strip in by_class(root, "unused"):
        unused[int(strip.get("data-axis"))] |= set(range(int(strip.get("data-start")),
                                                         int(strip.get("data-stop"))))
    (output,) = by_class(root, "output")
    (pad,) = by_class(root, "pad")[:1]
    (real,) = by_class(root, "input")
    return dict(root=root, cell=cell, taps=taps, taps2=taps2, unused=unused,
                out=(int(output.get("data-rows")), int(output.get("data-cols"))),
                padded=cells(pad, cell), ring=(round(float(real.get("x")) / cell),
                                               round(float(real.get("y")) / cell)))


@st.composite
def window_case(draw):
    n = draw(st.sampled_from([1, 2]))
    sizes = tuple(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)))
    k, s, d = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    assume(k > 1 or d == 1)
    p = draw(st.integers(0, d * (k - 1)))
    assume(all(i + 2 * p >= d * (k - 1) + 1 for i in sizes))
    return sizes, k, s, p, d


@pytest.mark.oracle
@settings(max_examples=60, deadline=None)
@given(window_case())
def test_solve_diagram_matches_pytorch(torch, case):
    sizes, k, s, p, d = case
    shape_out, first, second, unused = read_oracle(torch, sizes, k, s, p, d)
    result = cnnplan.solve("1x" + "x".join(map(str, sizes)),
                           "1x" + "x".join(map(str, shape_out)),
                           fix={"k": k, "s": s, "p": p, "d": d}, mode="floor")
    assert result.data["count"] == 1
    seen = drawn(render_svg(result))
    flat = len(sizes) == 1
    assert seen["out"] == ((1,) + shape_out if flat else shape_out)
    assert seen["taps"] == first                 # taps per window and where they fall
    assert len(seen["taps"]) == k ** len(sizes)
    assert seen["taps2"] == second               # the next window, one stride on
    padded = tuple(i + 2 * p for i in sizes)
    assert seen["padded"][::-1] == ((1,) + padded if flat else padded)
    assert seen["ring"] == (p, 0 if flat else p)  # padding ring width
    axes = [seen["unused"][1]] if flat else [seen["unused"][0], seen["unused"][1]]
    assert axes == unused                        # rows/columns no window reads


@pytest.mark.oracle
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 6), st.integers(0, 2))
def test_transposed_diagram_is_a_stretched_convolution(torch, i, k, s, d, p, op):
    """Convolving the drawn zero-stretched, padded input with the flipped kernel at stride 1
    gives PyTorch's conv_transpose1d, value for value."""
    import torch.nn.functional as F

    ke = d * (k - 1) + 1
    assume(p <= ke - 1 and op < max(s, d) and (i - 1) * s - 2 * p + ke + op >= 1)
    x = torch.arange(1.0, i + 1, dtype=torch.float64).reshape(1, 1, i)
    w = torch.arange(1.0, k + 1, dtype=torch.float64).reshape(1, 1, k)
    expected = F.conv_transpose1d(x, w, stride=s, padding=p, dilation=d, output_padding=op)
    o = expected.shape[-1]
    data = {"layer": "convT", "rule": "convT", "mode": "floor", "input": [1, i], "output": [1, o],
            "bounds": {}, "count": 1,
            "solutions": [{"k": k, "s": s, "p": p, "d": d, "op": op, "output": [1, o]}]}
    root = first_solution(render_svg(Result("t", data=data)))
    (group,) = by_class(root, "layer-input")
    cell = float(group.get("data-cell"))
    width = cells(by_class(root, "pad")[0], cell)[0]
    positions = sorted(round(float(e.get("x")) / cell) for e in by_class(root, "input"))
    assert len(positions) == i
    stretched = torch.zeros((1, 1, width), dtype=torch.float64)
    stretched[0, 0, positions] = x[0, 0]
    got = F.conv1d(stretched, torch.flip(w, [-1]), dilation=d)
    assert torch.equal(got, expected)
    assert len(by_class(root, "tap")) == k


def test_large_input_is_cropped_and_said_so():
    result = cnnplan.solve("3x200x200", "8x100x100", fix={"k": 3, "s": 2, "p": 1}, mode="floor")
    svg = render_svg(result)
    seen = drawn(svg)
    assert "cropped: the top-left 24 x 24 of 202 x 202 padded cells" in svg
    assert seen["padded"] == (24, 24)
    assert seen["out"] == (100, 100)
    assert len(seen["taps"]) == 9


def test_animation_visits_every_window_in_order():
    result = cnnplan.solve("1x6x6", "1x3x3", fix={"k": 2, "s": 2, "p": 0})
    root = parse(cnnplan.render(result, "svg-animated"))
    moves = [e for e in root.iter(NS + "animateTransform")]
    assert len(moves) == 2            # the window on the input, its cell on the output
    cell = float(by_class(root, "layer-input")[0].get("data-cell"))
    window = [tuple(float(v) / cell for v in pair.split())
              for pair in moves[0].get("values").split(";")]
    assert window == [(c * 2, r * 2) for r in range(3) for c in range(3)]
    assert moves[0].get("calcMode") == "discrete"
    assert not list(root.iter(NS + "script"))


def test_diagram_count_follows_limit():
    many = cnnplan.solve("1x16", "1x8", mode="floor")
    root = parse(render_svg(many))
    assert len(by_class(root, "solution")) == 12 < many.data["count"]
    few = cnnplan.solve("1x16", "1x8", mode="floor", limit=3)
    assert len(by_class(parse(render_svg(few)), "solution")) == 3


def test_no_solution_and_per_axis():
    none = cnnplan.solve("3x10x10", "3x40x40", layer="pool")
    assert "no solution" in render_svg(none)
    per = cnnplan.solve("1x9x8", "1x4x4", fix={"k": 3}, per_axis=True, mode="floor")
    root = parse(render_svg(per))
    shown = sum(len(ax["solutions"]) for ax in per.data["axes"])
    assert len(by_class(root, "solution")) == min(shown, 12)


def test_network_chain_blocks_and_edges():
    result = cnnplan.shapes("3x256x256", ["conv(64, k=8, s=2)", "maxpool(k=5)",
                                          "conv(128, k=4, p=1)", "flatten", "linear(10)"])
    root = parse(render_svg(result))
    blocks = by_class(root, "block")
    assert len(blocks) == 6
    edges = [(e.get("data-from"), e.get("data-to")) for e in by_class(root, "edge")]
    names = ["input"] + [str(n) for n in range(1, 6)]  # unnamed layers are called by number
    assert edges == list(zip(names, names[1:]))
    third = block_text(blocks[3])
    layer = result.data["layers"][2]
    assert "#3" in third and layer["spec"] in third and "128x24x24" in third
    assert f"{layer['params']:,} params" == "131,200 params" and "131,200 params" in third
    (rf,) = by_class(root, "rf")
    assert int(rf.get("data-rf")) == result.data["layers"][2]["rf"]


def araujo(layers):
    """Per axis: (rf, jump, effective padding) after a chain of (k, s, pad before) windows,
    by the recurrences of Araujo, Norris & Sim (Distill 2019), written out here."""
    rf, jump, pad = 1, 1, 0
    for k, s, before in layers:
        rf, pad, jump = rf + (k - 1) * jump, pad + before * jump, jump * s
    return rf, jump, pad


def test_network_picture_shows_effective_padding_per_axis():
    chain = ["conv(8, k=3, s=2, p=((0, 1), (1, 0)))", "maxpool(k=3, s=2, p=1)",
             "conv(8, k=3, p=((2, 0), (0, 0)))"]
    root = parse(render_svg(cnnplan.shapes("3x40x41", chain)))
    (line,) = by_class(root, "rf")
    rows = araujo([(3, 2, 0), (3, 2, 1), (3, 1, 2)])
    cols = araujo([(3, 2, 1), (3, 2, 1), (3, 1, 0)])
    assert rows[:2] == cols[:2] and (rows[2], cols[2]) == (10, 3)
    assert line.get("data-rf") == str(rows[0]) and line.get("data-jump") == str(rows[1])
    assert line.get("data-eff-padding") == "10, 3"
    assert (f"{rows[0]} (jump {rows[1]}; effective padding 10, 3 per axis; input 40x41)"
            in line.text)
    # the axes agree (TensorFlow's same on 225): one number
    same = ["conv(8, k=3, s=2, p=same_upper)", "conv(8, k=3, s=2, p=same_upper)"]
    (line,) = by_class(parse(render_svg(cnnplan.shapes("3x225x225", same))), "rf")
    # 225 -> 113 pads 1/1; 113 -> 57 pads 1/1 (t = 56*2 + 3 - 113 = 2)
    assert line.get("data-eff-padding") == str(araujo([(3, 2, 1), (3, 2, 1)])[2]) == "3"
    assert "effective padding 3; input 225x225" in line.text


def block_text(block) -> str:
    """The text a box shows, its lines joined by spaces (the tooltip left out)."""
    return " ".join("".join(t.itertext()) for t in block.iter(NS + "text"))


def boxes_of(root) -> dict:
    """{data-name: (x, y, width, height)} of every block's rectangle."""
    return {b.get("data-name"): tuple(float(b.find(NS + "rect").get(k))
                                      for k in ("x", "y", "width", "height"))
            for b in by_class(root, "block")}


def graph_data(name="sum"):
    layer = {"spec": "conv(8, k=3, p=1)", "kind": "conv", "output": [8, 16, 16], "params": 224,
             "macs": 1, "rf": 3}
    return {"input": [3, 16, 16], "output": [16, 16, 16], "layers": [
        dict(layer, name="a", **{"from": ["input"]}),
        dict(layer, name="b", **{"from": ["input"]}, rf=5),
        dict(layer, name=name, **{"from": ["a", "b"]}, kind="add", spec="add", params=0),
        dict(layer, name="cat", **{"from": [name, "a"]}, kind="concat", spec="concat",
             output=[16, 16, 16], params=0)]}


def test_graph_network_draws_branches_and_joins():
    root = parse(render_svg(Result("graph", data=graph_data())))
    edges = {(e.get("data-from"), e.get("data-to")) for e in by_class(root, "edge")}
    assert edges == {("input", "a"), ("input", "b"), ("a", "sum"), ("b", "sum"),
                     ("sum", "cat"), ("a", "cat")}
    assert len(by_class(root, "n-join")) == 2
    boxes = boxes_of(root)
    (ax, ay, aw, _), (bx, by, _, _) = boxes["a"], boxes["b"]
    assert ay == by and (bx >= ax + aw or ax >= bx + aw)   # parallel branches side by side
    assert boxes["sum"][1] > ay and boxes["cat"][1] > boxes["sum"][1]   # each below its inputs


def test_names_and_titles_are_escaped():
    evil = '</text><script>alert(1)</script>"&'
    svg = render_svg(Result(evil, data=graph_data(name=evil)))
    root = parse(svg)
    assert not list(root.iter(NS + "script"))
    assert "<script>" not in svg
    assert evil in [t.text for t in root.iter(NS + "text")] + [root.find(NS + "title").text]
    page = cnnplan.render(Result(evil, facts=(("x", evil),), tables=(Table(("a",), ((evil,),)),),
                                 notes=(evil,), data=graph_data(name=evil)), "html")
    assert "<script>" not in page


def test_autodiff_graph_has_a_box_per_variable():
    result = cnnplan.run_solver("ad", expression="1/(x1+x2) + x2**2 + cos(x1)",
                                at="x1=3,x2=6", mode="both")
    root = parse(render_svg(result))
    boxes = [r.get("data-name") for r in root.iter(NS + "rect") if r.get("data-name")]
    assert boxes == [e["name"] for e in result.data["primal"]]
    edges = [(e.get("data-from"), e.get("data-to")) for e in by_class(root, "edge")]
    assert edges == [(o, e["name"]) for e in result.data["primal"] for o in e["operands"]]
    dot = cnnplan.render(result, "dot")
    assert len(edges) == dot.count(" -> ")


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.rows = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.rows += tag == "tr"


def test_html_page_is_self_contained():
    result = cnnplan.solve("3x64x64", "64x32x32", fix={"k": 8})
    page = cnnplan.render(result, "html")
    parser = _Page()
    parser.feed(page)
    assert parser.rows == 1 + len(result.tables[0].rows)
    assert "svg" in parser.tags and "script" not in parser.tags
    assert not re.search(r"(src|href)=\"?https?:", page)


def test_html_numbers_have_thousands_separators():
    result = cnnplan.shapes(plan_file="examples/networks/resnet18.toml")
    page = cnnplan.render(result, "html")
    params = result.data["params"]
    assert params == 11689512 and "<dd>11,689,512</dd>" in page
    macs = result.data["layers"][0]["macs"]
    assert f'<td class="num">{macs:,}</td>' in page and str(macs) not in page.split("<svg")[0]


def test_jupyter_reprs():
    shapes = cnnplan.shapes("3x32x32", ["conv(8, k=3)"])
    assert shapes._repr_svg_().startswith("<?xml")
    assert "<table>" in shapes._repr_html_() and "<svg" in shapes._repr_html_()
    plain = Result("a title", facts=(("n", 1),))
    assert plain._repr_svg_() is None
    assert "a title" in plain._repr_html_()


def test_cli_svg(cnnplan_cmd):
    done = cnnplan_cmd("solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8,d=1",
                       "--format", "svg")
    assert done.returncode == 0, done.stderr
    assert len(by_class(first_solution(done.stdout), "tap")) == 64


def test_cli_formats_without_a_picture(cnnplan_cmd):
    done = cnnplan_cmd("formats", "--format", "svg")
    assert done.returncode == 2
    assert done.stderr.startswith("Error: format 'svg' cannot render 'formats' results")
    assert done.stderr.count("\n") == 1 and "html" in done.stderr  # the formats that can
    done = cnnplan_cmd("shapes", "--in", "3x8x8", "conv(4, k=3)", "--format", "svg-animated")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_plan_draws_its_best_chain():
    result = cnnplan.plan("3x64x64", ["conv(64, k=8, d=1) -> 64x32x32",
                                      "maxpool(p=0, d=1) -> 64x8x8",
                                      "conv(128, p=0, d=1) -> 128x4x4"], where=["2: s == k"])
    root = parse(render_svg(result))
    best = [layer["spec"] for layer in result.data["chains"][0]["layers"]]
    forward = cnnplan.shapes("3x64x64", best)       # the chain run forward on its own
    shapes = ["x".join(map(str, layer["output"])) for layer in forward.data["layers"]]
    blocks = by_class(root, "block")
    assert len(blocks) == len(best) + 1
    for block, shape, spec in zip(blocks[1:], shapes, best):
        assert shape in block_text(block) and spec in block_text(block)
    assert int(by_class(root, "rf")[0].get("data-rf")) == forward.data["layers"][-1]["rf"]
    none = cnnplan.plan("3x64x64", ["conv(64, k=3, s=1, p=0, d=1) -> 64x32x32"])
    assert "no chain to draw" in render_svg(none)


def test_three_d_layers_draw_two_axes():
    result = cnnplan.solve("1x6x8x10", "1x3x4x5", fix={"k": 2, "s": 2, "p": 0})
    svg = render_svg(result)
    assert "3-D: the first two spatial axes are drawn" in svg
    assert drawn(svg)["out"] == (3, 4)


def _reference_groups(data: dict, depth: int):
    """The boxes and edges a picture collapsed at `depth` must have, worked out here from
    the layer names alone: a name's first `depth` dotted parts name its box (unless no other
    layer shares them)."""
    def group(name):
        parts = name.split(".")
        return ".".join(parts[:depth]) if len(parts) > depth else name

    sizes = {}
    for layer in data["layers"]:
        sizes[group(layer["name"])] = sizes.get(group(layer["name"]), 0) + 1

    def box(name):                         # a group of one layer stays that layer
        return group(name) if sizes.get(group(name), 0) > 1 else name

    joins = {layer["name"] for layer in data["layers"] if layer["kind"] in ("add", "concat", "mul")}
    boxes = ["input"] + list(dict.fromkeys(box(layer["name"]) for layer in data["layers"]))
    edges = []
    for layer in data["layers"]:
        target = box(layer["name"])
        froms = [box(s) for s in layer["from"] if box(s) != target]
        edges += [(f, target) for f in froms]
    seen, unique = set(), []
    for edge in edges:                       # one edge per pair, but a join keeps each input
        if edge not in seen or edge[1] in joins:
            unique.append(edge)
        seen.add(edge)
    return boxes, unique


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_collapsed_groups(depth):
    result = cnnplan.shapes(plan_file="examples/networks/resnet18.toml")
    root = parse(render_svg(cnnplan.pictures.with_collapse(result, depth)))
    boxes, edges = _reference_groups(result.data, depth)
    assert [b.get("data-name") for b in by_class(root, "block")] == boxes
    assert sorted((e.get("data-from"), e.get("data-to")) for e in by_class(root, "edge")) == \
        sorted(edges)
    if depth == 1:
        assert len(boxes) == 12     # input, the stem's 4 layers, 4 stages, avgpool, flatten, fc
        layer1 = [b for b in by_class(root, "block") if b.get("data-name") == "layer1"][0]
        members = [layer for layer in result.data["layers"] if layer["name"].startswith("layer1.")]
        text = block_text(layer1)
        assert f"{len(members)} layers" in text
        assert f"{sum(m['params'] for m in members):,} params" in text
        assert "x".join(map(str, members[-1]["output"])) in text


def test_frames_hold_their_groups():
    result = cnnplan.shapes(plan_file="examples/networks/resnet18.toml")
    root = parse(render_svg(result))
    names = [layer["name"] for layer in result.data["layers"]]
    prefixes = {".".join(n.split(".")[:k]) for n in names for k in range(1, n.count(".") + 1)}
    expected = {p for p in prefixes if sum(n.startswith(p + ".") for n in names) > 1}
    frames = {f.get("data-name"): tuple(float(f.find(NS + "rect").get(k))
                                        for k in ("x", "y", "width", "height"))
              for f in by_class(root, "frame")}
    assert set(frames) == expected and "layer1.0" in frames and "layer4.1" in frames
    boxes = boxes_of(root)
    for prefix, (x, y, w, h) in frames.items():
        for name, (bx, by, bw, bh) in boxes.items():
            inside = x < bx and bx + bw < x + w and y < by and by + bh < y + h
            assert inside == name.startswith(prefix + "."), (prefix, name)
        label = [t.text for t in by_class(root, "frame")[0].iter(NS + "text")]
        assert label


def test_long_names_and_specs_wrap_between_tokens():
    name = "encoder.stage_four.block_eleven.depthwise_separable.pointwise"
    result = cnnplan.shapes(plan_text=f"""input = "3x32x32"
[[layers]]
name = "{name}"
spec = "conv(128, k=3, s=1, p=1, d=1, groups=1, bias=false)"
""")
    root = parse(render_svg(result))
    block = [b for b in by_class(root, "block") if b.get("data-name") == name][0]
    lines = ["".join(t.itertext()) for t in block.iter(NS + "text")]
    spec = result.data["layers"][0]["spec"]
    assert len(lines) > 3                               # the name and spec take several lines
    n = next(n for n in range(len(lines) + 1) if "".join(lines[:n]) == name)
    assert n > 1 and all(line.endswith((".", "_")) for line in lines[:n - 1])  # after . or _
    m = next(m for m in range(n, len(lines) + 1) if " ".join(lines[n:m]) == spec)
    assert m > n + 1 and all(line.endswith(",") for line in lines[n:m - 1])    # after ', '
    title = block.find(NS + "title").text
    assert name in title and spec in title


def test_cli_collapse(cnnplan_cmd):
    done = cnnplan_cmd("shapes", "examples/networks/resnet50.toml", "--collapse", "1",
                       "--format", "svg")
    assert done.returncode == 0, done.stderr
    root = parse(done.stdout)
    assert [b.get("data-name") for b in by_class(root, "block")][5:9] == [
        "layer1", "layer2", "layer3", "layer4"]
    done = cnnplan_cmd("shapes", "examples/networks/resnet50.toml", "--collapse", "0")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--collapse" in done.stderr
    from click.testing import CliRunner

    from cnnplan.cli import cli

    ran = CliRunner().invoke(cli, ["shapes", "examples/networks/small_resnet.toml",
                                   "--collapse", "1", "--format", "json"])
    assert ran.exit_code == 0 and '"collapse": 1' in ran.output


def test_too_many_edge_lanes_is_refused(cnnplan_cmd, tmp_path):
    """A join reading 520 layers would need 134,940 lanes (each edge one per row it passes:
    the sum of 519 - i over its inputs i): refused in one line, exit 2."""
    n = 520
    lines = ['input = "4x8x8"']
    for i in range(n):
        lines += ["[[layers]]", f'name = "r{i}"', 'spec = "relu"']
    lines += ["[[layers]]", 'name = "sum"', 'spec = "add"',
              "from = [" + ", ".join(f'"r{i}"' for i in range(n)) + "]"]
    (tmp_path / "dense.toml").write_text("\n".join(lines) + "\n")
    done = cnnplan_cmd("shapes", str(tmp_path / "dense.toml"), "--format", "svg")
    lanes = sum(n - 1 - i for i in range(n))
    assert lanes == 134_940
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"{lanes:,} edge lanes" in done.stderr and "--collapse" in done.stderr


def test_collapse_edge_cases():
    """A layer named like the group it heads joins the group; a group of one layer stays that
    layer (its own name shown); a join outside groups still shows each input."""
    result = cnnplan.shapes(plan_text="""input = "4x8x8"
[[layers]]
name = "a"
spec = "relu"
[[layers]]
name = "a.b"
spec = "relu"
[[layers]]
name = "a.c"
spec = "relu"
[[layers]]
name = "x.y"
spec = "add"
from = ["a", "a.c"]
""")
    root = parse(render_svg(cnnplan.pictures.with_collapse(result, 1)))
    assert [b.get("data-name") for b in by_class(root, "block")] == ["input", "a", "x.y"]
    assert [(e.get("data-from"), e.get("data-to")) for e in by_class(root, "edge")] == [
        ("input", "a"), ("a", "x.y"), ("a", "x.y")]
    group = by_class(root, "block")[1]
    assert "3 layers: 3 relu" in block_text(group) and "n-group" in group.get("class")
