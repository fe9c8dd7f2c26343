"""What a reader and a maintainer feel: book build times, site size, widget redraw time.

Prints, as numbers:
  * clean build: ``jupyter-book build`` into an empty folder (every chapter executed);
  * cached rebuild: the same command again (execution cache hit, pages re-rendered);
  * size of ``_build/html`` and of its largest page (HTML plus the images it embeds);
  * median redraw time of each explorer the chapters use, for each kind of change (segment,
    colour scale, model, unit) and over all of them, with intermediates already cached (what a
    reader waits for after moving a control).
Targets: clean build <= 4 min, cached rebuild <= 30 s, redraw <= 100 ms, site <= 40 MB.

    .venv/bin/python benchmarks/bench_book.py [--skip-build]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def timed_build(output: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(JUPYTER_BOOK), "build", str(ROOT), "--path-output", str(output)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def largest_page(html: Path) -> tuple[str, float]:
    sizes = {}
    for page in html.rglob("*.html"):
        text = page.read_text(errors="ignore")
        images = {page.parent / src for src in re.findall(r'src="([^"]+\.(?:png|svg|jpg))"', text)}
        sizes[str(page.relative_to(html))] = (page.stat().st_size
                                              + sum(i.stat().st_size for i in images if i.exists())) / 1e6
    name = max(sizes, key=sizes.get)
    return name, sizes[name]


# Each explorer as its chapters show it: figure size, colour range, and the layers it offers.
EXPLORERS = {
    "TaggramView": dict(figsize=(11, 8), scale=(0.0, 1.0)),
    "SegmentationView": dict(figsize=(11, 7)),
    "InputView": dict(figsize=(11, 3.6)),
    "UnitView": dict(figsize=(13, 7), layers=("cnn1",)),
    "MidendView": dict(figsize=(13, 7), layers=("cnn2", "cnn3", "cnn4")),
}
KINDS = ("segment", "scale", "model", "unit")


def tours(explorer, units: list[str]) -> dict[str, list[dict]]:
    """Changes of each kind a reader makes, each applied to the view the previous one left."""
    n = explorer.analysis.n_segments
    return {
        "segment": [dict(segment=s) for s in (*range(1, n), *range(n - 2, -1, -1))],
        "scale": [dict(cmap="viridis"), dict(vmin=-2.0, vmax=2.0), dict(cmap="coolwarm"), dict(vmin=-1.0),
                  dict(vmin=None, vmax=None), dict(cmap=None)] * 2,
        "model": [dict(model="MTT"), dict(model="MSD")] * 4,
        "unit": [dict(unit=u) for u in units[1:9]],
    }


def redraw_times() -> dict[str, dict[str, float]]:
    """Median redraw seconds per explorer and kind of change, with the analyses already cached,
    and over all changes together ("all")."""
    from dataclasses import replace

    from musicnn_nb.explore import figures
    from musicnn_nb.explore.widgets import CONTROLS, Explorer, unit_choices

    medians = {}
    for name, options in EXPLORERS.items():
        layers = options.get("layers")
        controls = CONTROLS if layers else tuple(c for c in CONTROLS if c != "unit")
        explorer = Explorer(getattr(figures, name), controls=controls, **options)
        explorer.update(replace(explorer.view, model="MTT"))  # analyse both models before timing
        explorer.update(replace(explorer.view, model="MSD"))
        units = unit_choices("MSD", layers[-1], nontrivial_only=True) if layers else []
        times: dict[str, list[float]] = {}
        for kind, changes in tours(explorer, units).items():
            for change in changes:
                explorer.update(replace(explorer.view, **change))
                times.setdefault(kind, []).append(explorer.last_redraw_s)
        medians[name] = {kind: statistics.median(t) for kind, t in times.items() if t}
        medians[name]["all"] = statistics.median([x for t in times.values() for x in t])
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-build", action="store_true", help="only time the explorers")
    args = parser.parse_args()
    if not args.skip_build:
        with tempfile.TemporaryDirectory() as tmp:
            clean, cached = timed_build(Path(tmp)), timed_build(Path(tmp))
            html = Path(tmp) / "_build" / "html"
            site, (page, page_mb) = folder_mb(html), largest_page(html)
        print(f"clean build          {clean:8.1f} s   (target <= 240 s)")
        print(f"cached rebuild       {cached:8.1f} s   (target <= 30 s)")
        print(f"site _build/html     {site:8.1f} MB  (target <= 40 MB)")
        print(f"largest page         {page_mb:8.1f} MB  ({page})")
    print(f"median redraw (ms), target <= 100:  {'explorer':18}" + "".join(f"{k:>9}" for k in (*KINDS, "all")))
    for name, by_kind in redraw_times().items():
        cells = "".join(f"{by_kind[k] * 1000:9.0f}" if k in by_kind else f"{'-':>9}" for k in (*KINDS, "all"))
        print(f"{'':35}{name:18}{cells}")


if __name__ == "__main__":
    main()
