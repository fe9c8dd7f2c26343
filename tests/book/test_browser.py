"""Every chapter in a real browser, offline: figures, explorers, audio, maths, no errors.

Serves the built book on localhost and opens each chapter in headless Chromium (Debian's
package, driven by Playwright). Screenshots go to ``_build/screenshots/``.
"""

from __future__ import annotations

import re

import pytest
from chromium import NEEDS_CHROMIUM, launch, serve
from conftest import ROOT, chapters

pytestmark = NEEDS_CHROMIUM
WIDTHS = (1280, 390)  # a laptop window and a phone: no display equation may overflow the column at either
MIN_SHOWN_RATIO = 0.8  # a figure shown narrower than this share of its drawn width has text below 80 % of its size
# an absolute file-system path of the build machine in page text (a home, a venv, /tmp, site-packages ...)
MACHINE_PATH = r"(^|[\s(`'\"])/(home|root|tmp|usr|opt|var|work|Users|srv|mnt)/[\w.+-]+|site-packages|\b[A-Z]:\\\w"
FIT = """() => {
  const column = (el) => (el.closest('.bd-article') || el.closest('main') || document.body).getBoundingClientRect();
  const over = [...document.querySelectorAll('mjx-container[display="true"]')].map(c => {
    const r = (c.querySelector('mjx-math') || c).getBoundingClientRect(), col = column(c);
    return [Math.round(Math.max(r.right - col.right, col.left - r.left)), c.textContent.slice(0, 40)];
  }).filter(([px]) => px > 1);
  const errors = [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 60));
  return {over, errors};
}"""
TYPESET_ALL = "MathJax.startup.promise.then(() => MathJax.startup.document.lazyTypesetAll())"
MATHJAX_STARTED = "!!(window.MathJax && MathJax.startup && MathJax.startup.promise)"
# the last equation of a page is typeset once it is scrolled to (MathJax's lazy typesetting)
LAST_ON_SCROLL = """async () => {
  const last = () => [...document.querySelectorAll('mjx-container')].pop();
  const before = !!last().querySelector('mjx-math');
  last().scrollIntoView();
  for (let i = 0; i < 200 && !last().querySelector('mjx-math'); i++) await new Promise(r => setTimeout(r, 25));
  return [before, !!last().querySelector('mjx-math')];
}"""
ICONS_DRAWN = """async () => {
  await document.fonts.ready;
  const loaded = [...document.fonts].some(f => f.family.includes('Font Awesome') && f.status === 'loaded');
  const icons = [...document.querySelectorAll('.bd-header-article i[class*="fa-"]')]
    .filter(i => i.getClientRects().length);  // shown (not in a closed menu)
  return loaded && icons.length >= 3 && icons.every(i => i.getBoundingClientRect().width > 8
    && getComputedStyle(i).fontFamily.includes('Font Awesome'));
}"""
EXPLORERS_DRAWN = "window.__explorer && window.__explorer.length > 0 && window.__explorer.every(e => e.drawCount > 0)"
IMAGES = """() => [...document.images].filter(i => i.src.includes('_images')).map(i => ({
  shown: i.getBoundingClientRect().width, drawn: i.naturalWidth, alt: i.alt, src: i.src.split('/').pop(),
  full_size: (i.closest('a.full-size') || {}).href === i.src,
  replaced: !i.getClientRects().length && !!i.closest('.cell')
            && !!i.closest('.cell').querySelector('.musicnn-explorer')}))"""


@pytest.fixture(scope="module")
def site(built_book):
    with serve(built_book) as origin:
        yield origin


def test_every_chapter_renders_offline_in_chromium(site):
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with launch() as browser:
        for chapter in chapters():
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            # each handler binds this page's list now, not the name a later chapter rebinds
            page.on("console", lambda m, note=problems.append: note(f"console {m.type}: {m.text}")
                    if m.type == "error" else None)
            page.on("pageerror", lambda e, note=problems.append: note(f"page error: {e}"))
            page.on("request", lambda r, note=problems.append: note(f"left localhost: {r.url}")
                    if not r.url.startswith((site, "data:", "blob:")) else None)
            page.goto(f"{site}/{chapter}.html", wait_until="networkidle")
            # every explorer draws in the page, in place of the static figure
            page.wait_for_function(EXPLORERS_DRAWN, timeout=60_000)
            assert page.locator(".mx-explorer canvas").count() == page.locator(".musicnn-explorer").count() >= 1
            widths = page.evaluate(
                "[...document.images].filter(i => i.src.includes('_images')).map(i => i.naturalWidth)")
            assert len(widths) >= 2 and all(w > 0 for w in widths), f"{chapter}: figures {widths}"
            page.wait_for_function("[...document.querySelectorAll('audio')].every(a => a.readyState >= 1)",
                                   timeout=30_000)
            assert page.locator("audio").count() >= 1, chapter
            if page.locator(".math").count():
                page.wait_for_selector("mjx-container", state="attached", timeout=30_000)
            assert page.locator(".output.error, .traceback").count() == 0, chapter
            # the theme's icons are drawn from Font Awesome's web fonts, without its script
            assert page.locator("i[class*='fa-']").count() >= 3 and page.evaluate(ICONS_DRAWN), chapter
            assert not page.evaluate(
                "performance.getEntriesByType('resource').some(r => r.name.includes('fontawesome.js'))")
            text = page.inner_text("main")
            paths = [m.group(0) for m in re.finditer(MACHINE_PATH, text)]
            assert not paths, f"{chapter}: a path of the build machine in the page: {paths[:3]}"
            page.screenshot(path=shots / f"{chapter.split('/')[-1]}.png", full_page=True)
            assert not problems, f"{chapter}: " + "; ".join(problems[:5])
            page.close()


def _pages(site: str, width: int):
    """Each chapter (and the introduction) opened at ``width`` px, with its maths typeset."""
    with launch() as browser:
        for chapter in ["book/intro", *chapters()]:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"{site}/{chapter}.html", wait_until="networkidle")
            if page.locator(".math").count():
                page.wait_for_selector("mjx-container", state="attached", timeout=30_000)
                page.wait_for_function("!window.MathJax || !MathJax.startup || MathJax.startup.promise", timeout=30_000)
                page.evaluate(TYPESET_ALL)  # MathJax typesets on scrolling (lazily): all of it, here
            if page.locator(".musicnn-explorer").count():  # the page's explorers replace their static views
                page.wait_for_function(EXPLORERS_DRAWN, timeout=60_000)
            yield chapter, page
            page.close()


def test_maths_far_down_a_page_is_typeset_when_the_reader_gets_there(site):
    with launch() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{site}/book/10_cnn2.html", wait_until="networkidle")
        page.wait_for_function(MATHJAX_STARTED, timeout=30_000)  # once the page's explorers have drawn
        page.evaluate("MathJax.startup.promise")
        assert page.evaluate(LAST_ON_SCROLL) == [False, True]  # not typeset at first, typeset on arrival


@pytest.mark.parametrize("width", WIDTHS)
def test_no_display_equation_overflows_its_column(site, width):
    bad = []
    for chapter, page in _pages(site, width):
        fit = page.evaluate(FIT)
        bad += [f"{chapter}: {px} px past the column: {text!r}" for px, text in fit["over"]]
        bad += [f"{chapter}: MathJax error {e!r}" for e in fit["errors"]]
    assert not bad, f"at {width} px: " + "; ".join(bad[:8])


def test_every_figure_has_alt_text_that_is_not_its_file_name(site):
    """Each figure's own description: not empty, not its file name, not the book's fallback."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    fallback = config["sphinx"]["config"]["nb_render_image_options"]["alt"]
    bad = []
    for chapter, page in _pages(site, WIDTHS[0]):
        for image in page.evaluate(IMAGES):
            alt = image["alt"]
            if not alt or image["src"] in alt or alt.endswith((".png", ".svg")) or alt == fallback:
                bad.append(f"{chapter}: {image['src']} has alt {alt!r}")
    assert not bad, f"{len(bad)} figures without a description, e.g. " + "; ".join(bad[:5])


def test_figures_are_shown_at_least_at_80_percent_of_their_drawn_width(site):
    """Figures are drawn for the column, so their text is shown at the size it was drawn; a
    gallery too large for it (its cell tagged ``full-size``) is a link that opens it at that size.
    The only image not shown is an explorer's static view, which its explorer replaces."""
    bad, shown = [], 0
    for chapter, page in _pages(site, WIDTHS[0]):
        for image in page.evaluate(IMAGES):
            if image["replaced"]:
                continue
            shown += 1
            ratio = image["shown"] / image["drawn"]
            if ratio < MIN_SHOWN_RATIO and not image["full_size"]:
                bad.append(f"{chapter}: {image['src']} shown at {ratio:.0%} of its drawn width")
    assert shown > 2 * len(chapters()), f"only {shown} figures shown in the whole book"
    assert not bad, f"{len(bad)} figures shrunk below {MIN_SHOWN_RATIO:.0%}: " + "; ".join(bad[:5])
