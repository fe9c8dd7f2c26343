"""What the explorers share: the units a unit control offers, the path an audio box shows,
and the PNG writer of the kernel-side explorers of chapters 13 and 14 (until they too are
computed in the page, as :mod:`musicnn_nb.explore.widgets` explains)."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from musicnn_nb.facts.units import nontrivial_units
from musicnn_nb.model.weights import layer_size, load_model

PNG_DPI = 90  # pixels per inch of an explorer's figure


def unit_choices(model: str, layer: str, group: str | None = None, nontrivial_only: bool = False) -> list[str]:
    """Names of the units of ``layer`` (optionally one kernel group, optionally only the
    units :func:`musicnn_nb.facts.units.nontrivial_units` keeps) for a unit control."""
    weights = load_model(model)
    rows = nontrivial_units(weights, layer).rows if nontrivial_only else range(layer_size(layer))
    names = [weights.unit(r, layer).name for r in rows]
    return [n for n in names if group in (None, "all") or n.split("/")[1] == group]


def shown_path(path: str | Path) -> str:
    """The path as the reader would type it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)


def canvas_png(canvas: FigureCanvasAgg) -> bytes:
    """What the canvas holds now, as an 8-bit RGB PNG. Written here, rows unfiltered and zlib at
    its fastest level, because that takes about two thirds of Pillow's time at its fastest, for
    a smaller file on an explorer's flat colours; a redraw waits for it."""
    rgba = np.asarray(canvas.buffer_rgba())
    height, width, _ = rgba.shape
    rows = np.zeros((height, 1 + 3 * width), np.uint8)  # each row: filter type 0, then RGB
    rows[:, 1:].reshape(height, width, 3)[:] = rgba[..., :3]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, truecolour, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
            + chunk(b"IEND", b""))
