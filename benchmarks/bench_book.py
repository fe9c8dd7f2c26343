"""What a reader and a maintainer feel: book build times and site size.

Prints, as numbers:
  * clean build: ``jupyter-book build`` into an empty folder (every chapter executed);
  * cached rebuild: the same command again (execution cache hit, pages re-rendered);
  * size of ``_build/html`` and of its largest page (HTML plus the images it embeds).
Targets: clean build <= 4 min, cached rebuild <= 30 s, site <= 40 MB. (An explorer's redraw
is the page's, in Jupyter too: ``bench_explore.py`` times it.)

    .venv/bin/python benchmarks/bench_book.py
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clean, cached = timed_build(Path(tmp)), timed_build(Path(tmp))
        html = Path(tmp) / "_build" / "html"
        site, (page, page_mb) = folder_mb(html), largest_page(html)
    print(f"clean build          {clean:8.1f} s   (target <= 240 s)")
    print(f"cached rebuild       {cached:8.1f} s   (target <= 30 s)")
    print(f"site _build/html     {site:8.1f} MB  (target <= 40 MB)")
    print(f"largest page         {page_mb:8.1f} MB  ({page})")


if __name__ == "__main__":
    main()
