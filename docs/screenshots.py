"""The screenshots in docs/pictures.md: each picture drawn by the `cnnplan` command, shown in
Chromium (Playwright with the system's /usr/bin/chromium, or CNNPLAN_CHROMIUM) and saved as
PNG under docs/images/.

    python docs/screenshots.py          # from the repository's root; needs playwright

Each entry: the PNG, the command's arguments, a zoom, and the height kept (None: all of it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
SHOTS = [
    ("network-residual.png", ["examples/pictures/residual_block.toml"], 1.0, None),
    ("network-unet.png", ["examples/networks/unet.toml"], 0.5, None),
    ("network-resnet50-collapsed.png", ["examples/networks/resnet50.toml", "--collapse", "1"],
     1.0, None),
    ("network-resnet50-depth2.png", ["examples/networks/resnet50.toml", "--collapse", "2"],
     0.8, None),
    ("network-resnet50-open.png", ["examples/networks/resnet50.toml"], 0.8, 1500),
]


def main() -> None:
    from playwright.sync_api import sync_playwright

    cnnplan = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
    chromium = os.environ.get("CNNPLAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 800, "height": 600})
        for name, args, zoom, height in SHOTS:
            svg = subprocess.run([cnnplan, "shapes", *args, "--format", "svg"], cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout
            page.set_content(f"<body style='margin:0;zoom:{zoom}'>{svg.split('?>', 1)[1]}</body>")
            box = page.locator("svg").bounding_box()
            clip = {"x": 0, "y": 0, "width": box["width"],
                    "height": min(box["height"], height or box["height"])}
            page.screenshot(path=str(OUT / name), clip=clip, full_page=True)
            print(f"{name}: {round(clip['width'])}x{round(clip['height'])} px")
        browser.close()


if __name__ == "__main__":
    main()
