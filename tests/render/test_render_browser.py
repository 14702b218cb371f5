"""The rendered newsletter in a real browser: Debian's headless Chromium, driven by Playwright.

Chromium comes from Debian's packages (``make test`` installs it through
scripts/dev/install_browser.sh); Playwright only drives it and never downloads a browser. Without
Chromium these tests fail, saying how to install it: a silent skip would hide a broken layout.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.render.documents import full_document
from vectora_core.pipeline.render import render_html

CHROMIUM = Path("/usr/bin/chromium")
# This machine has no network: without these, Chromium's background connections fail noisily.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE, DESKTOP = 375, 1024
VIEWPORT_HEIGHT = 800
# The block ids render_html gives, top to bottom.
BLOCKS = ["banners", "masthead", "tldr", "intro", "section-regulatory", "section-deals"]
BLOCKS += ["section-clinical", "section-other", "metrics", "footer"]

# Decodes a PNG in the page (a data: URL does not taint the canvas) and counts its colours.
PNG_STATS_JS = """async (src) => {
  const img = new Image();
  img.src = src;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  const counts = new Map();
  for (let i = 0; i < data.length; i += 4) {
    const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  const top = Math.max(...counts.values());
  return {width: img.width, height: img.height, colours: counts.size, other: 1 - top / (data.length / 4)};
}"""

# Really visible: a box, not hidden or transparent, and on top where it is drawn (not covered).
ON_TOP_JS = """(el) => {
  el.scrollIntoView({block: "center"});
  const style = getComputedStyle(el);
  const line = el.getClientRects()[0];
  const hit = document.elementFromPoint(line.left + line.width / 2, line.top + line.height / 2);
  return style.visibility === "visible" && style.opacity !== "0" && el.contains(hit);
}"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, on a new empty profile."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM} is missing): the browser tests need Debian's "
            "'chromium' package. Install it with `make browser` (scripts/dev/install_browser.sh, as "
            "root), which `make test` runs first.",
            pytrace=False,
        )
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def newsletter_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("newsletter") / "newsletter.html"
    path.write_text(render_html(full_document()), encoding="utf-8")
    return path


@pytest.fixture
def page(browser: BrowserContext, newsletter_file: Path) -> Iterator[Page]:
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(newsletter_file.as_uri())
    try:
        yield page
    finally:
        page.close()
    # Nothing but the file itself: no stylesheet, font, image or script fetched from anywhere.
    assert requests == [newsletter_file.as_uri()]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # IHDR, the first chunk
    return width, height


def assert_not_blank(page: Page, shot: Path) -> None:
    data = shot.read_bytes()
    src = "data:image/png;base64," + base64.b64encode(data).decode()
    stats = page.evaluate(PNG_STATS_JS, src)
    assert (stats["width"], stats["height"]) == png_size(data)
    # A blank page is one colour; text, rules and tinted boxes give hundreds (anti-aliasing).
    assert stats["colours"] > 50, stats
    assert stats["other"] > 0.05, stats  # a good share of the page is not background


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_every_section_and_item_title_is_visible_and_the_page_fits(
    page: Page, width: int, tmp_path: Path
) -> None:
    # given: the four-section issue open at this width
    page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
    doc = full_document()
    # then: no horizontal scrolling, even with a 60-character word in a title
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page is {scroll_width} px wide in a {width} px viewport"
    # and: every section title and item title is really visible, inside the viewport's width
    titles = [page.get_by_role("heading", name=s.title, exact=True, level=2) for s in doc.sections]
    titles += [page.get_by_role("link", name=i.title, exact=True) for s in doc.sections for i in s.items]
    for title in titles:
        assert title.count() == 1
        box = title.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, title
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (title, box)
        assert title.evaluate(ON_TOP_JS), f"{title} is hidden or covered"
    # and: the screenshot of the whole page is a real picture of it
    shot = tmp_path / f"newsletter-{width}.png"
    page.screenshot(path=shot, full_page=True)
    assert png_size(shot.read_bytes())[0] == width
    assert_not_blank(page, shot)


def test_blocks_are_drawn_top_to_bottom_in_the_documents_order(page: Page) -> None:
    page.set_viewport_size({"width": PHONE, "height": VIEWPORT_HEIGHT})
    tops = [page.locator(f"#{block}").bounding_box() for block in BLOCKS]
    assert all(box is not None for box in tops)
    ys = [box["y"] for box in tops if box is not None]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_text_stays_readable_on_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": PHONE, "height": VIEWPORT_HEIGHT})
    # The smallest text drawn (footer, labels) and the body text, as computed by the browser.
    sizes = page.evaluate(
        """() => [...document.querySelectorAll("p, h1, h2, h3, a, td")]
             .filter((el) => el.textContent.trim())
             .map((el) => parseFloat(getComputedStyle(el).fontSize))"""
    )
    assert min(sizes) >= 12
    summary = page.get_by_text(full_document().sections[0].items[0].summary, exact=True)
    assert float(summary.evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)")) >= 15
