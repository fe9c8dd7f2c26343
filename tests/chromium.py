"""What the browser tests share: Chromium, a quiet local server and a page that records the
problems a reader's browser would show (console errors and warnings, page errors, requests
that leave the page's origin)."""

from __future__ import annotations

import base64
import functools
import io
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NEEDS_CHROMIUM = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: run "
                                    "`apt-get install chromium` (Debian) to enable the browser tests")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
         "--disable-background-networking", "--disable-component-update"]
DRAWN = "window.__explorer && window.__explorer.length === {n} && window.__explorer.every(e => e.drawCount > 0)"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(folder: str | Path) -> Iterator[str]:
    """``folder`` served on localhost while the block runs: its address. A plain static server,
    ``python -m http.server``'s: no range requests, so a page that needs to seek into a file
    it has not fully buffered fails here as it would there."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@contextmanager
def launch() -> Iterator:
    """A headless Chromium for the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url: str, origin: str, explorers: int | None = None):
    """The page at ``url`` (once ``explorers`` explorers have drawn, if given) and the list the
    problems it reports go to."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: problems.append(f"left the origin: {r.url}")
            if not r.url.startswith((origin, "data:", "blob:")) else None)
    page.goto(url)
    if explorers is not None:
        page.wait_for_function(DRAWN.format(n=explorers), timeout=60_000)
    return page, problems


def assert_close(got, expected, what: str, tolerance: float = 1e-4) -> None:
    """Every value the page computed within ``tolerance`` of the largest magnitude of
    ``expected`` (the package's), with NaN exactly where the package has NaN."""
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64).reshape(expected.shape)
    both = ~np.isnan(expected)
    assert np.array_equal(both, ~np.isnan(got)), f"{what}: NaNs differ"
    scale = max(float(np.max(np.abs(expected[both]))) if both.any() else 0.0, 1e-30)
    worst = float(np.max(np.abs(got[both] - expected[both]))) / scale if both.any() else 0.0
    assert worst <= tolerance, f"{what}: off by {worst:.2e} of the largest magnitude"


def pixels(page, index: int) -> np.ndarray:
    """The canvas of the page's ``index``-th explorer as an RGBA array (device pixels), passed as a PNG."""
    from PIL import Image

    url = page.evaluate("i => window.__explorer[i].ui.canvas.toDataURL('image/png')", index)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))


def followed_player(page, index: int, timeout_ms: int = 5_000) -> str:
    """The source of the page's explorer ``index``'s player once it has followed the view: a
    player takes a new view's source after the frame that shows the view, not at once."""
    from playwright.sync_api import TimeoutError as Timeout

    try:
        followed = "i => { const ex = window.__explorer[i]; return ex.ui.audio.getAttribute('src') === ex.audioSrc; }"
        page.wait_for_function(followed, arg=index, timeout=timeout_ms)
    except Timeout:
        raise AssertionError("the player did not take the view's source") from None
    return page.evaluate("i => window.__explorer[i].ui.audio.getAttribute('src')", index)


def settled_address(page, *parts: str, timeout_ms: int = 5_000) -> str:
    """The page's address once it names every one of ``parts``: an explorer writes its view
    into the address when the view has been still for a moment, not on every change."""
    from playwright.sync_api import TimeoutError as Timeout

    try:
        page.wait_for_function("parts => parts.every(p => location.href.includes(p))", arg=list(parts),
                               timeout=timeout_ms)
    except Timeout:
        raise AssertionError(f"the address {page.url} does not name {parts}") from None
    return page.url
