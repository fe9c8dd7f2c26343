"""Execute one chapter as the book build would, save the executed notebook and its figures.

For writing a chapter without rebuilding the whole book:

    .venv/bin/python scripts/preview_chapter.py book/04_cnn1_1d.md /tmp/preview
    # -> /tmp/preview/04_cnn1_1d.ipynb and /tmp/preview/04_cnn1_1d-<cell>-<n>.png

Exits non-zero, naming the cell, when a cell raises. Set MUSICNN_NB_AUDIO as for the book.
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def execute(chapter: Path, output: Path) -> Path:
    """Run ``chapter`` in its own folder with the python3 kernel; write the notebook to ``output``."""
    notebook = jupytext.read(chapter)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(chapter.parent)}})
    try:
        client.execute()
    finally:
        output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, output)
    return output


def save_figures(notebook_path: Path, folder: Path) -> list[Path]:
    """Write every PNG output of an executed notebook next to it."""
    saved = []
    for i, cell in enumerate(nbformat.read(notebook_path, as_version=4).cells):
        for j, out in enumerate(cell.get("outputs", [])):
            png = out.get("data", {}).get("image/png")
            if png:
                path = folder / f"{notebook_path.stem}-{i:02d}-{j}.png"
                path.write_bytes(base64.b64decode(png))
                saved.append(path)
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", type=Path)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    output = args.folder / f"{args.chapter.stem}.ipynb"
    try:
        execute(args.chapter.resolve(), output)
    except CellExecutionError as error:
        print(f"{args.chapter}: a cell raised:\n{error}", file=sys.stderr)
        return 1
    for path in save_figures(output, args.folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
