"""The HTML report, looked at (issue 12, part 5): every example rendered in headless Chromium at a phone
width and a desktop width must not scroll sideways and must not lay text boxes over each other.

The checks are structural (page width, box geometry), not about what the report says, so they hold
whatever the template prints. The driver is Playwright for Python from PyPI, pointed at the system
Chromium (Debian's ``chromium`` package): it runs offline (its own browser download is never used),
gives an exact CSS viewport, full-page screenshots and in-page JavaScript in a few lines, and needs no
chromedriver whose version must match the browser. Without a browser the tests skip, unless
``DRAFTER_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

import drafter
from tests.cassette_scenarios import BY_NAME, CASSETTES, EXAMPLE_PACKS, MODEL, REPORT_DATE, ROOT
from tests.llm_server import ScriptedOpenAIServer, auto_draft_step, make_vcr
from tests.synthetic_packs import synthetic_pack

WIDTHS = {"phone": 390, "desktop": 1280}
HEIGHT = 844
REQUIRED = os.environ.get("DRAFTER_REQUIRE_BROWSER") == "1"
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"DRAFTER_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _chromium() -> str | None:
    explicit = os.environ.get("DRAFTER_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((found for name in BROWSER_NAMES if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    executable = _chromium()
    if executable is None:
        _missing("no Chromium found (apt-get install chromium, or set DRAFTER_CHROMIUM)")
    with sync_playwright() as playwright:
        try:
            instance = playwright.chromium.launch(executable_path=executable, headless=True)
        except Error as exc:
            _missing(f"{executable} does not start under Playwright: {str(exc).splitlines()[0]}")
        yield instance
        instance.close()


def _replayed(name: str, pack: str) -> drafter.Report:
    client = openai.OpenAI(api_key="replay", base_url="https://api.openai.com/v1", max_retries=0)
    scenario = BY_NAME[name]
    with make_vcr(CASSETTES, "none").use_cassette(scenario.cassette.name, allow_playback_repeats=True):
        return drafter.draft_report(ROOT / pack, client=client, model=MODEL, report_date=REPORT_DATE,
                                    **scenario.options)


def _long_words() -> drafter.Report:
    """A synthetic pack whose drug and disease names are single 90-character words (chemical names are)."""
    pack = synthetic_pack(1)
    pack["drug"]["inn"] = "dimethylamino" * 7
    pack["predicted_indications"][0]["disease_name"] = "pseudohypoaldosteronism" * 4
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=60) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
        return drafter.draft_report(drafter.load_pack(pack), client=client, model=MODEL, report_date=REPORT_DATE,
                                    max_indications=1)


# Every example, a report whose sections were withheld (its notice boxes lay out differently), and
# one whose names are long unbreakable words.
PAGES = [*((Path(p).stem, "examples", p) for p in EXAMPLE_PACKS),
         ("baclofen-uk-withheld", "withheld", "examples/packs/baclofen-uk.json"),
         ("long-words", "synthetic", "")]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("html")
    written = {}
    for stem, scenario, pack in PAGES:
        written[stem] = out / f"{stem}.html"
        report = _long_words() if scenario == "synthetic" else _replayed(scenario, pack)
        written[stem].write_text(report.html, encoding="utf-8")
    return written


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: $DRAFTER_SCREENSHOTS if set (to look at them), else a pytest tmp dir."""
    chosen = os.environ.get("DRAFTER_SCREENSHOTS")
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    return tmp_path_factory.mktemp("screenshots")


# Text boxes whose geometry is checked: headings, paragraphs, list items, tables and their cells,
# quotes, preformatted blocks, summaries of collapsible parts, and notices.
LAYOUT_JS = """
() => {
  const selector = 'h1,h2,h3,h4,h5,h6,p,li,table,th,td,caption,blockquote,pre,summary,dt,dd,figcaption,div.withheld';
  const boxes = [];
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    // Not rendered: zero-sized, hidden, or inside a closed <details> (whose content keeps a layout box
    // in Chromium but is not painted; checkVisibility() knows).
    if (r.width === 0 || r.height === 0 || !el.checkVisibility({visibilityProperty: true, opacityProperty: true}))
      continue;
    boxes.push({el, r, name: el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''),
                text: (el.textContent || '').trim().slice(0, 50)});
  }
  const overlaps = [];
  const slack = 1;  // sub-pixel rounding of borders
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      // Cells of one table share borders by design (border-collapse) and table layout cannot stack them;
      // a cell whose text is wider than the cell is caught by the spill check below.
      if (a.el.closest('table') && a.el.closest('table') === b.el.closest('table')) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > slack && h > slack) overlaps.push(`${a.name} "${a.text}" / ${b.name} "${b.text}" (${w|0}x${h|0}px)`);
    }
  }
  // Text that spills out of its own box sideways (a long id or word at phone width) overlaps its neighbour.
  const spills = [];
  for (const {el, name, text} of boxes) {
    if (getComputedStyle(el).overflowX !== 'visible') continue;  // a scroll container keeps its content
    if (el.scrollWidth > el.clientWidth + slack) spills.push(`${name} "${text}" (${el.scrollWidth} > ${el.clientWidth}px)`);
  }
  const root = document.documentElement;
  return {viewport: window.innerWidth, scrollWidth: Math.max(root.scrollWidth, document.body.scrollWidth),
          boxes: boxes.length, overlaps, spills};
}
"""


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


# What the check finds on the report template as merged from main (94777e6), each measured: the page
# scrolls sideways there. The template is another helper's, so it is not changed here. Strict: once a
# case passes, its mark fails as XPASS and must go. With ``table{display:block;overflow-x:auto}`` and
# ``h1,h2,h3,h4,p,li{overflow-wrap:break-word}`` added to the page's style (a table that does not stack
# scrolls inside its own box; prose breaks a word only when it cannot fit), every case below passes
# (checked on this template, and on the one before the merge) and the other cases still do.
KNOWN_OVERFLOW: dict[tuple[str, str], str] = {}  # (page, width) -> cause; none known today
CASES = [pytest.param(stem, width, id=f"{stem}-{width}",
                      marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=KNOWN_OVERFLOW[stem, width])]
                      if (stem, width) in KNOWN_OVERFLOW else [])
         for stem, _, _ in PAGES for width in WIDTHS]


@pytest.mark.parametrize(("stem", "width"), CASES)
def test_html_report_fits_the_width_and_no_text_box_overlaps(browser: Any, pages: dict[str, Path],
                                                             screenshots: Path, stem: str, width: str) -> None:
    pixels = WIDTHS[width]
    page = browser.new_page(viewport={"width": pixels, "height": HEIGHT}, device_scale_factor=1)
    try:
        page.goto(pages[stem].as_uri())
        for state in ("closed", "open"):  # collapsible parts (<details>) as a reader first sees them, then opened
            if state == "open":
                page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
            layout = page.evaluate(LAYOUT_JS)
            where = f"{stem} at {pixels}px, details {state}"
            assert layout["viewport"] == pixels
            assert layout["boxes"] > 10, f"{where}: too few text boxes measured ({layout['boxes']}); not a report?"
            assert layout["scrollWidth"] <= pixels, f"{where}: the page scrolls sideways ({layout['scrollWidth']}px)"
            assert layout["overlaps"] == [], f"{where}: overlapping text boxes: {layout['overlaps'][:5]}"
            assert layout["spills"] == [], f"{where}: text wider than its box: {layout['spills'][:5]}"
            shot = screenshots / f"{stem}-{width}-{state}.png"
            page.screenshot(path=str(shot), full_page=True)
            shot_width, shot_height = _png_size(shot)
            assert shot_width == pixels and shot_height >= HEIGHT, (where, shot_width, shot_height)
    finally:
        page.close()


def test_the_overlap_check_sees_an_overlap(browser: Any, tmp_path: Path) -> None:
    """The check above can fail: a heading pulled over a paragraph and a too-wide word are both reported."""
    html = tmp_path / "broken.html"
    html.write_text('<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1">'
                    "</head><body>" + "".join(f"<p>paragraph {i}</p>" for i in range(12))
                    + '<h2 style="margin-top:-2.5em">pulled up</h2><p>Antidisestablishmentarianism' + "x" * 60
                    + "</p></body></html>", encoding="utf-8")
    page = browser.new_page(viewport={"width": WIDTHS["phone"], "height": HEIGHT})
    try:
        page.goto(html.as_uri())
        layout = page.evaluate(LAYOUT_JS)
    finally:
        page.close()
    assert any("pulled up" in o for o in layout["overlaps"]), layout
    assert layout["spills"] and layout["scrollWidth"] > WIDTHS["phone"], layout


def test_a_missing_browser_is_a_failure_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI sets DRAFTER_REQUIRE_BROWSER=1 so that a browser that failed to install cannot pass as a skip."""
    import tests.test_html_browser as module

    monkeypatch.setattr(module, "REQUIRED", True)
    with pytest.raises(pytest.fail.Exception, match="DRAFTER_REQUIRE_BROWSER=1"):
        module._missing("no Chromium found")
    monkeypatch.setattr(module, "REQUIRED", False)
    with pytest.raises(pytest.skip.Exception):
        module._missing("no Chromium found")

