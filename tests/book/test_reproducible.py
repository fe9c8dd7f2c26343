"""Two builds of the book give the same numbers: every text, table and figure pixel agrees.

Figures may differ only in metadata (PNG chunks), and widget views only in their random
model ids; everything a reader can read must be identical.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
from conftest import ROOT, build, chapters
from PIL import Image

SKIPPED = {"application/vnd.jupyter.widget-view+json"}  # random model ids


def readable_outputs(notebook: dict) -> list[tuple[str, object]]:
    """(mime type, content) of every output, figures as pixel arrays."""
    found = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if "text" in output:
                found.append(("stream", output["text"]))
            for mime, data in output.get("data", {}).items():
                if mime in SKIPPED:
                    continue
                if mime == "image/png":
                    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))
                    found.append((mime, pixels))
                else:
                    found.append((mime, data))
    return found


def test_two_builds_produce_identical_numbers(built_book, tmp_path):
    second = build(ROOT, tmp_path, MUSICNN_NB_CACHE=str(tmp_path / "cache"))  # recomputed, not read back
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    for chapter in chapters():
        name = chapter.split("/")[-1] + ".ipynb"
        first_nb = json.loads((built_book.parent / "jupyter_execute" / "book" / name).read_text())
        second_nb = json.loads((tmp_path / "_build" / "jupyter_execute" / "book" / name).read_text())
        first, again = readable_outputs(first_nb), readable_outputs(second_nb)
        assert [m for m, _ in first] == [m for m, _ in again], chapter
        for (mime, a), (_, b) in zip(first, again):
            if mime == "image/png":
                assert a.shape == b.shape and np.array_equal(a, b), f"{chapter}: a figure differs"
            else:
                assert a == b, f"{chapter}: a {mime} output differs"
