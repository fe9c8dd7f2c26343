"""Every chapter in a real browser, offline: figures, explorers, audio, maths, no errors.

Serves the built book on localhost and opens each chapter in headless Chromium (Debian's
package, driven by Playwright). Screenshots go to ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import ROOT, chapters

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: run "
                                "`apt-get install chromium` (Debian) to enable the browser test")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
         "--disable-background-networking", "--disable-component-update"]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(built_book):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(built_book)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_every_chapter_renders_offline_in_chromium(site):
    from playwright.sync_api import sync_playwright

    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
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
            if page.locator(".musicnn-explorer").count():
                # every explorer draws in the page, in place of the static figure and saved controls
                page.wait_for_function("window.__explorer && window.__explorer.length > 0 && "
                                       "window.__explorer.every(e => e.drawCount > 0)", timeout=60_000)
                assert page.locator(".mx-explorer canvas").count() == page.locator(".musicnn-explorer").count()
            else:  # an explorer not yet in the page (chapter 13's): its saved widget state renders
                page.wait_for_selector(".jupyter-widgets", timeout=30_000)
            widths = page.evaluate(
                "[...document.images].filter(i => i.src.includes('_images')).map(i => i.naturalWidth)")
            assert len(widths) >= 2 and all(w > 0 for w in widths), f"{chapter}: figures {widths}"
            page.wait_for_function("[...document.querySelectorAll('audio')].every(a => a.readyState >= 1)",
                                   timeout=30_000)
            assert page.locator("audio").count() >= 1, chapter
            if page.locator(".math").count():
                page.wait_for_selector("mjx-container", state="attached", timeout=30_000)
            assert page.locator(".output.error, .traceback").count() == 0, chapter
            page.screenshot(path=shots / f"{chapter.split('/')[-1]}.png", full_page=True)
            assert not problems, f"{chapter}: " + "; ".join(problems[:5])
            page.close()
        browser.close()
