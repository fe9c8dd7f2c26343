"""One helper per kind of figure. Each takes an optional ``ax``, returns its handles, and
labels axes in physical units: seconds (16-ms frames), mel bands with their Hz, unit rows.

Signed data (anything after a batch-norm) gets a diverging colour map centred on zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .spectrogram import FRAME_SECONDS, mel_center_hz

DIVERGING = "RdBu_r"
SEQUENTIAL = "magma"
COLORMAPS = (SEQUENTIAL, "viridis", "gray_r", DIVERGING, "coolwarm", "PuOr_r")

STAGES = (  # (key, label) of the "where we are" diagram, left to right
    ("audio", "audio\n16 kHz"),
    ("M_dB", "M_dB\n96×187"),
    ("input_bn", "batch-norm\nM̂_dB"),
    ("cnn1", "CNN_1\n561 units\n→ U 561×187"),
    ("cnn2", "CNN_2\n→ V̂_1 64×187"),
    ("cnn3", "CNN_3\n→ V̂_2, +skip"),
    ("cnn4", "CNN_4\n→ V̂_3, +skip"),
    ("W", "W\n753×187"),
    ("backend", "pooling,\ndense\n→ 50 tags"),
)


def figure_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure of ``figsize`` with one axes."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def color_limits(data: np.ndarray, vmin: float | None = None, vmax: float | None = None,
                 cmap: str | None = None) -> tuple[float, float, str]:
    """Limits and map for ``data``: symmetric and diverging when it has both signs."""
    lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    signed = lo < 0 < hi
    if signed and vmin is None and vmax is None:
        bound = max(-lo, hi)
        lo, hi = -bound, bound
    return (lo if vmin is None else vmin, hi if vmax is None else vmax,
            cmap or (DIVERGING if signed else SEQUENTIAL))


def matrix(data: np.ndarray, ax: Axes | None = None, *, start_s: float = 0.0,
           row_label: str = "row", title: str = "", vmin: float | None = None,
           vmax: float | None = None, cmap: str | None = None, colorbar_label: str = "",
           rows: tuple[float, float] | None = None) -> tuple[Figure, Axes, AxesImage, Colorbar]:
    """A rows x frames array as an image over time in seconds (row 0 at the bottom).

    ``rows`` gives the (first, last) row coordinate when rows are not 0 … n-1.
    """
    fig, ax = figure_axes(ax, (9, 3.2))
    lo, hi, cmap = color_limits(data, vmin, vmax, cmap)
    first, last = rows if rows is not None else (0, data.shape[0] - 1)
    half = (last - first) / max(data.shape[0] - 1, 1) / 2
    extent = (start_s - FRAME_SECONDS / 2, start_s + (data.shape[1] - 0.5) * FRAME_SECONDS,
              first - half, last + half)
    image = ax.imshow(data, origin="lower", aspect="auto", extent=extent, vmin=lo, vmax=hi,
                      cmap=cmap, interpolation="nearest")
    ax.set(xlabel="time (s)", ylabel=row_label, title=title)
    bar = fig.colorbar(image, ax=ax, pad=0.01)
    bar.set_label(colorbar_label)
    return fig, ax, image, bar


def mel_axis(ax: Axes, n_ticks: int = 6) -> None:
    """Label a mel-band axis with the bands' centre frequencies in Hz."""
    hz = mel_center_hz()
    bands = np.linspace(0, len(hz) - 1, n_ticks).round().astype(int)
    ax.set_yticks(bands, [f"{b}\n{hz[b]:,.0f} Hz" for b in bands])
    ax.set_ylabel("mel band")


def spectrogram(m: np.ndarray, ax: Axes | None = None, *, start_s: float = 0.0, title: str = "",
                vmin: float | None = None, vmax: float | None = None, cmap: str | None = None,
                colorbar_label: str = "log10(10000·mel power + 1)"):
    """M_dB or M̂_dB (96 mel bands x frames) with time in seconds and bands in Hz."""
    handles = matrix(m, ax, start_s=start_s, title=title, vmin=vmin, vmax=vmax, cmap=cmap,
                     colorbar_label=colorbar_label)
    mel_axis(handles[1])
    return handles


def taggram(weights: np.ndarray, tags: Sequence[str], segment_start_s: np.ndarray,
            ax: Axes | None = None, *, title: str = "", vmin: float = 0.0, vmax: float = 1.0,
            cmap: str | None = None, highlight: int | None = None):
    """Tag weights (segments x tags) as tags x segments, segments labelled by start time."""
    fig, ax = figure_axes(ax, (9, 9))
    image = ax.imshow(weights.T, origin="upper", aspect="auto", vmin=vmin, vmax=vmax,
                      cmap=cmap or SEQUENTIAL, interpolation="nearest")
    ax.set_yticks(range(len(tags)), tags, fontsize=7)
    ax.set_xticks(range(len(segment_start_s)), [f"{s:.1f}" for s in segment_start_s], fontsize=7)
    ax.set(xlabel="segment start (s)", title=title)
    if highlight is not None:
        ax.axvspan(highlight - 0.5, highlight + 0.5, fill=False, edgecolor="cyan", linewidth=2)
    bar = fig.colorbar(image, ax=ax, pad=0.01)
    bar.set_label("tag weight (sigmoid output)")
    return fig, ax, image, bar


def top_tags(pairs: Sequence[tuple[str, float]], ax: Axes | None = None, *, title: str = ""):
    """Horizontal bars of (tag, mean weight), the largest on top."""
    fig, ax = figure_axes(ax, (4, 3.5))
    names, values = zip(*pairs)
    bars = ax.barh(range(len(values))[::-1], values, color="tab:blue")
    ax.set_yticks(range(len(values))[::-1], names)
    ax.set(xlabel="mean tag weight over segments", xlim=(0, 1), title=title)
    return fig, ax, bars


def network_diagram(highlight: str | Sequence[str], ax: Axes | None = None):
    """The network as a row of stages, the ones this chapter explains highlighted."""
    keys = {highlight} if isinstance(highlight, str) else set(highlight)
    unknown = keys - {k for k, _ in STAGES}
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}: choose from {[k for k, _ in STAGES]}")
    fig, ax = figure_axes(ax, (11, 1.6))
    width, gap = 1.0, 0.35
    boxes = []
    for i, (key, label) in enumerate(STAGES):
        x = i * (width + gap)
        on = key in keys
        box = FancyBboxPatch((x, 0), width, 1, boxstyle="round,pad=0.04",
                             facecolor="#f4a261" if on else "#e9ecef",
                             edgecolor="#9c4a0c" if on else "#adb5bd", linewidth=2 if on else 1)
        ax.add_patch(box)
        ax.text(x + width / 2, 0.5, label, ha="center", va="center", fontsize=7.5,
                fontweight="bold" if on else "normal")
        if i:
            ax.add_patch(FancyArrowPatch((x - gap, 0.5), (x, 0.5), arrowstyle="-|>", mutation_scale=10))
        boxes.append(box)
    for src, dst in ((4, 6), (3, 7), (4, 7), (5, 7)):  # skip and dense connections
        x0, x1 = src * (width + gap) + width / 2, dst * (width + gap) + width / 2
        ax.add_patch(FancyArrowPatch((x0, 1.05), (x1, 1.05), connectionstyle="arc3,rad=-0.18",
                                     arrowstyle="-|>", mutation_scale=8, color="#6c757d", linewidth=0.8))
    ax.set(xlim=(-0.2, len(STAGES) * (width + gap)), ylim=(-0.15, 2.1), aspect="auto")
    ax.axis("off")
    return fig, ax, boxes


def segment_bounds(ax: Axes, segment_start_s: np.ndarray, segment_s: float, highlight: int | None = None):
    """Mark segment boundaries (and one highlighted segment) on a time axis in seconds."""
    lines = [ax.axvline(s, color="white", linewidth=0.8, alpha=0.8) for s in segment_start_s]
    if highlight is not None:
        start = segment_start_s[highlight]
        lines.append(ax.axvspan(start, start + segment_s, fill=False, edgecolor="cyan", linewidth=2))
    return lines
