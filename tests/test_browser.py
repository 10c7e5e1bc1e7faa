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


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + "/")
    yield page
    context.close()
    assert all(url.startswith((server, "blob:", "data:")) for url in requests), requests
    assert not errors


def test_solve_as_you_type(page, tmp_path):
    rows = page.locator("#solve-table tbody tr")
    expect(rows.first).to_be_visible()
    page.fill("#solve-fix", "k=8,d=1")
    expect(page.locator("#solve-status")).to_have_text(re.compile(r"^1 solution$"))
    expect(rows).to_have_count(1)
    assert rows.first.locator("td").all_inner_texts()[:4] == ["8", "2", "3", "1"]
    svg = page.locator("#solve-svg")
    expect(svg).to_have_attribute("src", re.compile("fix=k%3D8%2Cs%3D2%2Cp%3D3%2Cd%3D1"))
    assert wait_loaded(svg) > 300
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
    wait_loaded(page.locator("#solve-svg"))


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
    wait_loaded(page.locator("#network-svg"))
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
    page.screenshot(path=str(tmp_path / "network.png"), full_page=True)
