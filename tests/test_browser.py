"""The page in a real browser: Playwright drives the system's headless Chromium (Debian's
`chromium` package; Playwright's own browser download is not used). Marked `browser`;
CNNPLAN_REQUIRE_BROWSER=1 (set by .ci/run) turns a skip into a failure."""

from __future__ import annotations

import os
import re
import shutil
import time

import pytest

from web_support import server  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "examples")


def chromium_path() -> str | None:
    return os.environ.get("CNNPLAN_CHROMIUM") or shutil.which("chromium") or \
        shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_path()
    if not executable:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=ARGS)
        yield instance
        instance.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=30_000)   # each answer runs the command: slow CI
    return playwright_expect(locator)


def wait_loaded(image, timeout: float = 20.0) -> int:
    """The natural width of an <img> once it has loaded (polled from Python: the page's
    Content-Security-Policy forbids the eval that Page.wait_for_function uses)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
        if width:
            return width
        time.sleep(0.1)
    raise AssertionError("the picture did not load")


def _answered(message) -> bool:
    """A console line for an HTTP error the page expects: an API answer it shows as text, or
    the favicon it does not have."""
    url = message.location.get("url", "")
    return message.text.startswith("Failed to load resource") and (
        "/api/" in url or url.endswith("/favicon.ico"))


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: message.type == "error" and not _answered(message)
            and errors.append(message.text))
    page.goto(server + "/")
    yield page
    context.close()
    assert all(url.startswith((server, "blob:", "data:")) for url in requests), requests
    assert not errors     # no script error, and no style refused by the page's CSP


def test_solve_as_you_type(page, tmp_path):
    rows = page.locator("#solve-table tbody tr")
    expect(rows.first).to_be_visible()
    page.fill("#solve-fix", "k=8,d=1")
    expect(page.locator("#solve-status")).to_have_text(re.compile(r"^1 solution$"))
    expect(rows).to_have_count(1)
    assert rows.first.locator("td").all_inner_texts()[:4] == ["8", "2", "3", "1"]
    svg = page.locator("#solve-svg")
    expect(svg).to_have_attribute("data-url", re.compile("fix=k%3D8%2Cs%3D2%2Cp%3D3%2Cd%3D1"))
    expect(svg.locator(".caption").first).to_have_text(re.compile(r": solution 1 of 1$"))
    assert svg.locator("svg").bounding_box()["width"] > 300
    taps = svg.locator(".solution").first.locator("rect.tap")
    expect(taps).to_have_count(64)
    # the picture's own stylesheet applies in the page (allowed by its hash in the CSP)
    assert taps.first.evaluate("e => getComputedStyle(e).fill") == "rgb(31, 95, 168)"
    # on a wide screen the diagram stands beside the table
    table, figure = page.locator("#solve-table").bounding_box(), svg.bounding_box()
    assert figure["x"] >= table["x"] + table["width"] and figure["y"] < table["y"] + 100
    page.screenshot(path=str(tmp_path / "solve.png"), full_page=True)
    assert (tmp_path / "solve.png").stat().st_size > 10_000


def test_sorting_and_selecting_rows(page):
    page.fill("#solve-fix", "k=3")
    page.fill("#solve-in", "1x16")
    page.fill("#solve-out", "1x8")
    page.select_option("#solve-mode", "floor")
    import cnnplan

    count = cnnplan.solve("1x16", "1x8", fix="k=3", mode="floor").data["count"]
    expect(page.locator("#solve-status")).to_have_text(f"{count} solutions")
    rows = page.locator("#solve-table tbody tr")
    expect(rows).to_have_count(count)
    header = page.locator("#solve-table th", has_text=re.compile("^p$"))
    header.click()
    page.locator("#solve-table th", has_text=re.compile("^p$")).click()   # descending
    ps = [int(text) for text in page.locator("#solve-table tbody tr td:nth-child(3)")
          .all_inner_texts()]
    assert len(ps) == count > 1 and ps == sorted(ps, reverse=True) and ps[0] > ps[-1]
    rows.nth(1).click()
    expect(rows.nth(1)).to_have_class("selected")
    # the caption counts what the page counts, not the one solution its question fixes
    expect(page.locator("#solve-svg .caption").first).to_have_text(
        re.compile(f": solution 2 of {count}$"))
    p = rows.nth(1).locator("td").nth(2).inner_text()
    expect(page.locator("#solve-svg .caption").first).to_have_text(re.compile(r"^convolution 1x16"))
    assert f"p={p}" in page.locator("#solve-svg").inner_text()


def test_errors_are_shown_as_text(page):
    expect(page.locator("#solve-table tbody tr").first).to_be_visible()
    page.fill("#solve-out", "64x32<img src=x onerror=alert(1)>")
    status = page.locator("#solve-status")
    expect(status).to_have_class(re.compile("error"))
    assert "--out" in status.inner_text() and "<img" in status.inner_text()  # text, not markup
    assert page.locator("#solve img[src='x']").count() == 0


def test_network_tab(page, tmp_path):
    page.click("#tab-network")
    rows = page.locator("#network-table tbody tr")
    expect(rows).to_have_count(3)
    assert "128x24x24" in rows.last.locator("td").all_inner_texts()
    import cnnplan
    from cnnplan.pictures import render_svg

    result = cnnplan.shapes("3x256x256", ["conv(64, k=8, s=2)", "maxpool(k=5)",
                                          "conv(128, k=4, p=1)"])
    headers = page.locator("#network-table th").all_inner_texts()
    assert headers[:3] == ["name", "from", "spec"]
    first = dict(zip(headers, rows.first.locator("td").all_inner_texts()))
    layer = result.data["layers"][0]
    assert first["from"] == "input" and first["size"] == f"{layer['size']:,}" == "1,000,000"
    assert first["params"] == f"{layer['params']:,}"
    expect(page.locator("#network-status")).to_contain_text(f"{result.data['params']:,} params")
    # the same picture as `cnnplan shapes --format svg` (and the HTML page): same boxes, places
    blocks = page.locator("#network-svg g.block")
    expect(blocks).to_have_count(4)
    drawn = blocks.evaluate_all("gs => gs.map(g => [g.dataset.name, g.querySelector('rect')"
                                ".getAttribute('x'), g.querySelector('rect').getAttribute('y')])")
    import xml.etree.ElementTree as ET

    root = ET.fromstring(render_svg(result).encode())
    ns = "{http://www.w3.org/2000/svg}"
    expected = [[g.get("data-name"), g.find(ns + "rect").get("x"), g.find(ns + "rect").get("y")]
                for g in root.iter(ns + "g") if "block" in g.get("class", "").split()]
    assert drawn == expected
    assert "128x24x24" in page.locator("#network-svg").inner_text()
    # conv k=8 s=2 needs i >= 8; maxpool k=5 then needs (i-8)//2+1 >= 5, and conv k=4 p=1
    # needs the pooled size >= 2, so (i-8)//2+1 >= 10: i >= 26, every size from there
    expect(page.locator("#network-inputs")).to_have_text(
        "input sizes accepted in 1..1024: 999 (every size >= 26)")
    page.fill("#network-specs", 'title = "<b>plan</b>"\ninput = "3x32x32"\n[[layers]]\n'
                                'spec = "conv(8, k=3)"\n')
    expect(rows).to_have_count(1)
    assert "8x30x30" in rows.first.inner_text()
    expect(page.locator("#network-inputs")).to_have_text(
        "input sizes accepted in 1..1024: 1022 (every size >= 3)")
    page.fill("#network-specs", "conv(8, k=3)\nconv(8, k=3000)")
    expect(page.locator("#network-inputs")).to_have_text("")   # refused: no rule shown
    # an imported model's groups, open and collapsed to depth 1
    plan = open(os.path.join(EXAMPLES, "networks", "small_resnet.toml"), encoding="utf-8").read()
    page.fill("#network-specs", plan)
    blocks = page.locator("#network-svg g.block")
    expect(blocks).to_have_count(16)
    expect(page.locator("#network-svg g.frame[data-name='block.downsample']")).to_have_count(1)
    page.fill("#network-collapse", "1")
    expect(blocks).to_have_count(6)     # input, stem, block, pool, flatten, fc
    assert "block" in blocks.evaluate_all("gs => gs.map(g => g.dataset.name)")
    page.screenshot(path=str(tmp_path / "network.png"), full_page=True)


def test_network_tab_shows_effective_padding(page):
    """The eff_padding column and the picture's last line, per axis where the axes differ
    (pads before: rows 0 then 1, columns 1 then 1; strides 2, 2: 0 + 1*2 = 2 and 1 + 1*2 =
    3), and the line inside the picture as the browser draws it."""
    page.click("#tab-network")
    page.fill("#network-in", "3x40x41")
    page.fill("#network-specs", "conv(8, k=3, s=2, p=((0, 1), (1, 0)))\n"
                                "maxpool(k=3, s=2, p=1)")
    rows = page.locator("#network-table tbody tr")
    expect(rows).to_have_count(2)
    headers = page.locator("#network-table th").all_inner_texts()
    assert headers[-3:] == ["rf", "jump", "eff_padding"]
    assert [r.locator("td").last.inner_text() for r in rows.all()] == ["0, 1", "2, 3"]
    line = page.locator("#network-svg text.rf")
    expect(line).to_contain_text("(jump 4; effective padding 2, 3 per axis; input 40x41)")
    box, svg = line.bounding_box(), page.locator("#network-svg svg").bounding_box()
    assert svg["x"] <= box["x"] and box["x"] + box["width"] <= svg["x"] + svg["width"]


# --- Network pictures measured in the browser -------------------------------------------
# The SVG of `shapes` is drawn by Chromium and read back with the browser's own geometry:
# every box's client rectangle (getBoundingClientRect: text included) and every edge sampled
# along its length (getPointAtLength, mapped to the page by getScreenCTM).

MEASURE = """() => {
  const rect = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const blocks = [...document.querySelectorAll("g.block")].map((g) => ({
    name: g.dataset.name, join: g.classList.contains("n-join"), box: rect(g),
    frame: rect(g.querySelector("rect")), text: g.textContent }));
  const edges = [...document.querySelectorAll("path.edge")].map((p) => {
    const length = p.getTotalLength(), ctm = p.getScreenCTM(), points = [];
    const steps = Math.max(8, Math.ceil(length / 4));
    for (let i = 0; i <= steps; i++) {
      const q = p.getPointAtLength(length * i / steps).matrixTransform(ctm);
      points.push([q.x, q.y]);
    }
    return { from: p.dataset.from, to: p.dataset.to, length, points };
  });
  return { blocks, edges };
}"""


@pytest.fixture(scope="module")
def drawing(browser):
    """measure(svg): what Chromium draws of an SVG document (one page for the module)."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})

    def measure(svg: str) -> dict:
        page.set_content("<!DOCTYPE html><body style='margin:0'>" + svg.split("?>", 1)[1]
                         + "</body>")
        return page.evaluate(MEASURE)

    yield measure
    page.close()


def check_geometry(seen: dict, data: dict) -> None:
    """The picture's promises, from the browser's measurements."""
    import numpy as np
    from scipy.spatial import cKDTree

    blocks = {b["name"]: b for b in seen["blocks"]}
    assert len(blocks) == len(seen["blocks"])                      # one block per name
    boxes = np.array([b["box"] for b in seen["blocks"]])
    # no two boxes overlap
    lo = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    hi = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    overlap = np.all(hi - lo > 0.5, axis=2)
    np.fill_diagonal(overlap, False)
    assert not overlap.any(), [(seen["blocks"][i]["name"], seen["blocks"][j]["name"])
                               for i, j in zip(*np.nonzero(overlap))][:5]
    # the text of a box stays in its frame
    for b in seen["blocks"]:
        assert np.allclose(b["box"], b["frame"], atol=1.0), (b["name"], b["box"], b["frame"])
    names = list(blocks)
    for edge in seen["edges"]:
        points = np.array(edge["points"])
        # an edge enters no box but its own two ends' (1 px of anti-aliasing allowed)
        inside = ((points[:, None, 0] > boxes[None, :, 0] + 1) &
                  (points[:, None, 0] < boxes[None, :, 2] - 1) &
                  (points[:, None, 1] > boxes[None, :, 1] + 1) &
                  (points[:, None, 1] < boxes[None, :, 3] - 1))
        hit = {names[j] for j in np.nonzero(inside.any(axis=0))[0]} - {edge["from"], edge["to"]}
        assert not hit, f"edge {edge['from']} -> {edge['to']} crosses {sorted(hit)}"
    # no edge runs along another (within 2 px) for a quarter of its length or more
    points = [np.array(edge["points"]) for edge in seen["edges"]]
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(points)])
    tree = cKDTree(np.concatenate(points))
    for i, edge in enumerate(seen["edges"]):
        shared = np.zeros(len(points))
        for near in tree.query_ball_point(points[i], r=2.0):
            shared[np.unique(owner[near])] += 1
        shared[i] = 0
        j = int(shared.argmax())
        assert shared[j] < 0.25 * len(points[i]), (
            f"{edge['from']}->{edge['to']} runs on {seen['edges'][j]['from']}->"
            f"{seen['edges'][j]['to']}")
    # every join has one visibly distinct incoming edge per input
    sources = {str(layer["name"]): [str(s) for s in layer.get("from", [])]
               for layer in data["layers"] if "name" in layer}
    for name, block in blocks.items():
        if not block["join"]:
            continue
        arriving = [e for e in seen["edges"] if e["to"] == name]
        assert sorted(e["from"] for e in arriving) == sorted(sources[name])
        ends = np.array([e["points"][-1] for e in arriving])
        left, top, right, _ = block["box"]
        assert np.all(np.abs(ends[:, 1] - top) < 2) and np.all((ends[:, 0] > left)
                                                               & (ends[:, 0] < right))
        gaps = np.abs(ends[:, None, 0] - ends[None, :, 0]) + np.eye(len(ends)) * 99
        assert gaps.min() >= 4, f"inputs of {name} arrive on top of each other"
    # the edges are the network's: one per `from` entry
    drawn = sorted((e["from"], e["to"]) for e in seen["edges"])
    expected = sorted((s, name) for name, froms in sources.items() for s in froms)
    assert drawn == expected
    # every layer's name is in its box
    for name in sources:
        assert name in blocks[name]["text"]


RESIDUAL = os.path.join("pictures", "residual_block.toml")


def _network(path_or_text: str):
    """The shapes result of an example plan (a path under examples/) or of a plan's text."""
    import cnnplan

    if path_or_text.endswith(".toml"):
        return cnnplan.shapes(plan_file=os.path.join(EXAMPLES, path_or_text))
    return cnnplan.shapes(plan_text=path_or_text)


@pytest.mark.parametrize("network", [RESIDUAL] + [
    os.path.join("networks", name) for name in ("unet.toml", "unet_padded.toml",
                                                "unet_imported.toml", "unet_padded_imported.toml",
                                                "resnet18.toml")],
                         ids=["residual", "unet", "unet_padded", "unet_imported",
                              "unet_padded_imported", "resnet18"])
def test_network_picture_geometry(drawing, network):
    from cnnplan.pictures import render_svg

    result = _network(network)
    check_geometry(drawing(render_svg(result)), result.data)


def test_identity_shortcut_is_its_own_lane(drawing):
    """The shortcut input -> sum runs beside the block, not down its middle."""
    from cnnplan.pictures import render_svg

    seen = drawing(render_svg(_network(RESIDUAL)))
    (skip,) = [e for e in seen["edges"] if e["from"] == "input"
               and e["to"] == "sum"]
    boxes = {b["name"]: b["box"] for b in seen["blocks"]}
    xs = [x for x, _ in skip["points"]]
    middle = [boxes[n] for n in ("c1", "b1", "r1", "c2", "b2")]
    assert all(min(xs) < box[0] or max(xs) > box[2] for box in middle)


def random_plan(seed: int) -> str:
    """A random DAG of shape-keeping layers and joins (add, mul, concat of equal inputs
    then a 1x1 conv back), dotted names so that frames are drawn."""
    import random

    rng = random.Random(seed)
    lines = ['title = "random"', 'input = "8x8x8"']
    names = ["input"]
    for n in range(rng.randint(6, 30)):
        name = f"g{rng.randint(0, 3)}.b{rng.randint(0, 2)}.l{n}" if rng.random() < 0.7 else f"l{n}"
        roll = rng.random()
        if roll < 0.3 and len(names) > 2:
            count = rng.randint(2, min(4, len(names)))
            froms = rng.sample(names, count)
            kind = rng.choice(["add", "mul"])
            lines += ["[[layers]]", f'name = "{name}"', f'spec = "{kind}"',
                      "from = [" + ", ".join(f'"{f}"' for f in froms) + "]"]
        else:
            spec = rng.choice(["conv(8, k=3, p=1)", "relu", "bn", "maxpool(k=3, s=1, p=1)"])
            lines += ["[[layers]]", f'name = "{name}"', f'spec = "{spec}"',
                      f'from = "{rng.choice(names)}"']
        names.append(name)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(8))
def test_random_dag_geometry(drawing, seed):
    from cnnplan.pictures import render_svg

    result = _network(random_plan(seed))
    check_geometry(drawing(render_svg(result)), result.data)
