"""Explorers in the built pages: how long a reader waits, in headless Chromium, served locally.

1. Redraw after one change, per explorer and kind of change (segment, colour scale, unit,
   model), from the input event to the next painted frame; median and 95th percentile,
   against the one-frame (16 ms) and 50 ms targets. A reader's input arrives at any moment of
   a frame, so the changes are made at phases spread evenly over the frame. The reference
   measured in the same run is an empty change: the input event to the next frame with
   nothing to redraw. Also printed: the redraw's own work (the change's handler, compute and
   drawing, until it returns), which is what must fit in a frame.
2. Each chapter of a built book (``--book``, default ``_build/html``) from navigation to an
   explorer that has answered its first change, in a new page (empty cache): the median of
   ``--loads`` loads (target: 2 s for the heaviest chapter), and the slowest load. A single
   load varies by a few tenths of a second on a 2-core machine, where the browser's
   processes and the server share the cores.
3. The built book's size on disk (target: 40 MB).

    .venv/bin/python benchmarks/bench_explore.py [--book _build/html] [--repeats 30] [--loads 5]
"""

from __future__ import annotations

import argparse
import functools
import shutil
import statistics
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from musicnn_nb.explore.backend import UNIT_PAGES
from musicnn_nb.explore.web import island_html, recording_key, standalone_page
from musicnn_nb.explore.web_past import PAST_KINDS, collection_key, write_past
from musicnn_nb.facts.collection import load
from musicnn_nb.model.audio import default_audio
from musicnn_nb.model.collect import CollectionError
from musicnn_nb.model.weights import LAYERS

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# explorer kind -> (its first unit, its layers, the changes timed: the controls it has)
EXPLORERS = {"unit": ("cnn1/38x7/12", ("cnn1",), ("segment", "colour scale", "model", "unit")),
             "midend": ("cnn2/561x7/0", ("cnn2", "cnn3", "cnn4"), ("segment", "colour scale", "model", "unit")),
             "input": (None, ("cnn1",), ("segment", "colour scale", "model")),
             "taggram": (None, ("cnn1",), ("segment", "colour scale", "model")),
             "segmentation": (None, ("cnn1",), ("segment", "colour scale", "model")),
             "backend": (None, ("cnn1",), ("segment", "model", "tag", "row")),
             "collection": ("cnn1/38x7/12", LAYERS, ("colour scale", "model", "unit"))}

# One change driven through the explorer's own controls, timed from the input event to the
# frame after the redraw, and the redraw's own work. `kind` picks the control; every call
# alternates between two values. The k-th change comes (k * golden ratio mod 1) of a frame
# after a frame starts: phases spread evenly, as a reader's input arrives.
MEASURE = """async ([i, kind, n]) => {
  const ex = window.__explorer[i], ui = ex.ui;
  const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  const times = [], work = [];
  for (let k = 0; k < n; k++) {
    await frame();
    await new Promise(r => setTimeout(r, ((k * 0.6180339887) % 1) * 1000 / 60));
    const count = ex.drawCount, t0 = performance.now();
    if (kind === 'segment') {
      ui.segment.value = String((ex.view.segment + 1) % 10);
      ui.segment.dispatchEvent(new Event('input'));
    } else if (kind === 'colour scale') {
      ui.vmin.value = String(-1 - (k % 2));
      ui.vmax.value = String(1 + (k % 2));
      ui.vmax.dispatchEvent(new Event('change'));
    } else if (kind in ui && ui[kind].tagName === 'SELECT') {  // unit, tag, row: the next entry
      const o = ui[kind].options;
      ui[kind].value = o[(ui[kind].selectedIndex + 1) % o.length].value;
      ui[kind].dispatchEvent(new Event('change'));
    } else if (kind === 'model') {
      ui.model[ex.view.model === 'MSD' ? 1 : 0].click();
    }
    while (kind !== 'nothing' && ex.drawCount === count) await new Promise(r => setTimeout(r, 0));
    await new Promise(r => requestAnimationFrame(r));
    times.push(performance.now() - t0);
    work.push(kind === 'nothing' ? 0 : ex.lastDrawMs);
  }
  return [times, work];
}"""


READY = "window.__explorer && window.__explorer.length && window.__explorer.every(e => e.drawCount > 0)"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def redraws(browser, repeats: int) -> bool:
    folder = Path(tempfile.mkdtemp(prefix="bench-explore-"))
    key, suffix = recording_key(), default_audio().suffix.lower()
    explorers, extra = dict(EXPLORERS), {"backend": {"unit_pages": UNIT_PAGES}}
    try:
        extra["collection"] = {"collection": collection_key(load("MSD"))}
    except CollectionError as error:  # no collection store: that explorer is left out
        print(f"the collection explorer is not timed: {error}")
        del explorers["collection"]
    islands = [island_html(kind, key, {"model": "MSD", "segment": 0, "unit": unit}, layers, suffix, extra.get(kind))
               for kind, (unit, layers, _) in explorers.items()]
    standalone_page(folder, islands)
    write_past(folder / "explore", tuple(k for k in PAST_KINDS if k in explorers))
    server, origin = serve(folder)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{origin}/index.html")
    page.wait_for_function(READY, timeout=60_000)
    for i in range(len(explorers)):  # both models' data loaded before timing
        page.evaluate("async i => { const ex = window.__explorer[i]; await ex.model('MTT'); }", i)
    reference = summary(page.evaluate(MEASURE, [0, "nothing", repeats])[0])
    print(f"reference: an empty change, input event to next frame: median {reference[0]:.1f} ms, "
          f"p95 {reference[1]:.1f} ms")
    print(f"{'explorer':<13} {'change':<13} {'median ms':>9} {'p95 ms':>7} {'median/16ms':>11} {'p95/50ms':>9} "
          f"{'median/ref':>10} {'work median ms':>14}")
    ok = True
    for i, (kind, (_, _, changes)) in enumerate(explorers.items()):
        for change in changes:
            times, work = page.evaluate(MEASURE, [i, change, repeats])
            (median, p95), work_median = summary(times), statistics.median(work)
            ok &= median <= 16 and p95 <= 50
            print(f"{kind:<13} {change:<13} {median:9.1f} {p95:7.1f} {median / 16:11.2f} {p95 / 50:9.2f} "
                  f"{median / max(reference[0], 1e-3):10.1f} {work_median:14.1f}")
    page.close()
    server.shutdown()
    shutil.rmtree(folder)
    return ok


def first_answer(browser, url: str) -> float:
    """Seconds from navigating a new page (empty cache) to `url` until its first explorer has
    drawn and answered a change."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(READY, timeout=60_000, polling=10)
    change = page.evaluate("window.__explorer[0].ui.segment ? 'segment' : 'unit'")  # chapter 14 has no segment
    page.evaluate(MEASURE, [0, change, 1])
    seconds = time.perf_counter() - start
    page.close()
    return seconds


def chapters(browser, book: Path, loads: int) -> bool:
    pages = sorted(p for p in book.rglob("*.html")
                   if 'class="musicnn-explorer"' in p.read_text(encoding="utf-8"))
    if not pages:
        print(f"no built page with an explorer under {book}: build the book first (make book)")
        return True
    server, origin = serve(book)
    seconds: dict[Path, list[float]] = {path: [] for path in pages}
    for _ in range(loads):  # in rounds, so that a slow spell of the machine spreads over the chapters
        for path in pages:
            seconds[path].append(first_answer(browser, f"{origin}/{path.relative_to(book).as_posix()}"))
    server.shutdown()
    print(f"{'chapter':<28} {'to first answered change (s): median':>37} {'slowest':>8}  ({loads} loads each)")
    for path, times in seconds.items():
        print(f"{path.stem:<28} {statistics.median(times):37.2f} {max(times):8.2f}")
    worst = max(statistics.median(times) for times in seconds.values())
    slowest = max(max(times) for times in seconds.values())
    size = sum(p.stat().st_size for p in book.rglob("*") if p.is_file()) / 1e6
    print(f"heaviest chapter to first answered change, median of {loads} loads: {worst:.2f} s "
          f"(target 2 s, ratio {worst / 2:.2f}); the slowest single load: {slowest:.2f} s")
    print(f"built book on disk: {size:.1f} MB (target 40 MB, ratio {size / 40:.2f})")
    return worst <= 2 and size <= 40


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--repeats", type=int, default=30, help="changes timed per explorer and kind")
    parser.add_argument("--loads", type=int, default=5, help="loads of each chapter (a new page each)")
    args = parser.parse_args()
    if CHROMIUM is None:
        print("Chromium is not installed (apt-get install chromium): nothing measured")
        return 1
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        fast = redraws(browser, args.repeats)
        quick = chapters(browser, args.book, args.loads)
        browser.close()
    print("all targets met" if fast and quick else "some targets missed (see above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
