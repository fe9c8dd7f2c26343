"""One helper per kind of figure. Each takes an optional ``ax``, returns its handles, and
labels axes in physical units: seconds (16-ms frames), mel bands with their Hz, unit rows.

Signed data (anything after a batch-norm) gets a diverging colour map centred on zero.

Figures are drawn for the page's text column (:data:`COLUMN_INCHES` at :data:`DPI` is the
column's width in pixels), so that their text, at :data:`FONT_SIZE` and no smaller than
``"small"``, reads at about the size of the body text; :func:`column_size` fits a figure's
design size to the column. Galleries too large for the column open full size on click.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.image import AxesImage
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from musicnn_nb.model.spectrogram import FRAME_SECONDS, mel_center_hz

DIVERGING = "RdBu_r"
SEQUENTIAL = "magma"
COLORMAPS = (SEQUENTIAL, "viridis", "gray_r", DIVERGING, "coolwarm", "PuOr_r")

COLUMN_PX = 684  # the book's text column at a 1280-px window (688 px), less a margin
COLUMN_INCHES = 5.9  # figure width that fills the column; with FONT_SIZE, sets text size on the page
DPI = COLUMN_PX / COLUMN_INCHES  # so a figure COLUMN_INCHES wide is drawn COLUMN_PX wide
FONT_SIZE = 10.0  # points: "small" (0.83 of it) is then 80 % of the 16-px body text when shown
plt.rcParams.update({"figure.dpi": DPI, "savefig.dpi": "figure", "font.size": FONT_SIZE, "axes.titlesize": "medium",
                     "figure.titlesize": "medium",
                     "legend.fontsize": "small"})


def column_size(width: float, height: float) -> tuple[float, float]:
    """A figure designed ``width`` x ``height`` inches, fitted to the text column: no wider
    than :data:`COLUMN_INCHES`, and as tall, since its text (titles, labels) keeps its size."""
    return min(width, COLUMN_INCHES), height

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
DIAGRAM_ROW = 5  # stages per row of the diagram: five boxes' text fits the column


def axes_height_points(ax: Axes) -> float:
    """The axes' height in points as laid out now (in a figure or a subfigure)."""
    return float(ax.bbox.height) * 72 / ax.figure.dpi


def label_step(ax: Axes, n: int, fontsize: str = "small") -> int:
    """Label every k-th of ``n`` evenly spaced rows of the axes: the smallest k that leaves 1.3
    times the labels' font size between labels (the axes' height as laid out now)."""
    if n <= 1:
        return 1
    spacing = axes_height_points(ax) / n  # points between rows
    size = FontProperties(size=fontsize).get_size_in_points()
    return max(1, int(np.ceil(1.3 * size / spacing)))


def figure_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure of ``figsize`` with one axes."""
    if ax is None:
        fig, ax = plt.subplots(figsize=column_size(*figsize), layout="constrained")
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
    """Label a mel-band axis with band numbers and their centre frequencies in Hz: at most
    ``n_ticks`` two-line labels, fewer if the axes are too short for them (each needs three
    font sizes), at the middles of equal stretches of bands, so that none hangs over the ends."""
    hz = mel_center_hz()
    size = FontProperties(size="small").get_size_in_points()
    height = axes_height_points(ax)
    n = int(np.clip(height // (3 * size), 2, n_ticks))
    bands = ((np.arange(n) + 0.5) * len(hz) / n).astype(int)
    ax.set_yticks(bands, [f"{b}\n{hz[b]:,.0f} Hz" for b in bands], fontsize="small")
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
    ax.set_yticks(range(len(tags)), tags, fontsize="small")
    segment_ticks(ax, segment_start_s)
    ax.set(xlabel="segment start (s)", title=title)
    if highlight is not None:
        ax.axvspan(highlight - 0.5, highlight + 0.5, fill=False, edgecolor="cyan", linewidth=2)
    bar = fig.colorbar(image, ax=ax, pad=0.01)
    bar.set_label("tag weight (sigmoid output)")
    return fig, ax, image, bar


def segment_ticks(ax: Axes, segment_start_s: np.ndarray) -> None:
    """An x axis of segments 0, 1, … labelled by their start time: a tick for every segment, a
    label on as many as matplotlib finds room for when it draws (so the labels never run into
    each other however narrow the axes end up)."""
    starts = np.asarray(segment_start_s, dtype=float)

    def start(value: float, _position: int) -> str:
        i = round(value)
        return f"{starts[i]:.1f}" if 0 <= i < starts.size and abs(value - i) < 1e-6 else ""

    ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True, min_n_ticks=1))
    ax.xaxis.set_major_formatter(FuncFormatter(start))
    ax.xaxis.set_minor_locator(FixedLocator(np.arange(starts.size)))
    ax.tick_params(axis="x", labelsize="small")


def top_tags(pairs: Sequence[tuple[str, float]], ax: Axes | None = None, *, title: str = ""):
    """Horizontal bars of (tag, mean weight), the largest on top."""
    fig, ax = figure_axes(ax, (4, 3.5))
    names, values = zip(*pairs)
    bars = ax.barh(range(len(values))[::-1], values, color="tab:blue")
    ax.set_yticks(range(len(values))[::-1], names)
    ax.set(xlabel="mean tag weight", xlim=(0, 1), title=title)
    return fig, ax, bars


def network_diagram(highlight: str | Sequence[str], ax: Axes | None = None):
    """The network as stages in two rows, the ones this chapter explains highlighted, so that
    the boxes' text reads at the column's width. The second row runs right to left under the
    first (the flow turns down at its end), so that the skip and dense connections, which
    run from the first row down to the second, reach their targets without crossing."""
    keys = {highlight} if isinstance(highlight, str) else set(highlight)
    unknown = keys - {k for k, _ in STAGES}
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}: choose from {[k for k, _ in STAGES]}")
    fig, ax = figure_axes(ax, (COLUMN_INCHES, 2.5))
    width, height, gap, lane, per_row = 1.0, 0.9, 0.3, 0.6, DIAGRAM_ROW

    def column(i: int) -> int:
        return i % per_row if (i // per_row) % 2 == 0 else per_row - 1 - i % per_row

    place = [(column(i) * (width + gap), -(i // per_row) * (height + lane)) for i in range(len(STAGES))]
    index = {key: i for i, (key, _) in enumerate(STAGES)}
    boxes = []
    for i, (key, label) in enumerate(STAGES):
        (x, y), on = place[i], key in keys
        box = FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.04",
                             facecolor="#f4a261" if on else "#e9ecef",
                             edgecolor="#9c4a0c" if on else "#adb5bd", linewidth=2 if on else 1)
        ax.add_patch(box)
        ax.text(x + width / 2, y + height / 2, label, ha="center", va="center", fontsize="small",
                fontweight="bold" if on else "normal")
        boxes.append(box)
    flow = {"arrowstyle": "-|>", "mutation_scale": 10}
    for i in range(1, len(STAGES)):
        (x0, y0), (x1, y1) = place[i - 1], place[i]
        if y0 != y1:  # the turn: straight down, at the right end of the box
            start, end = (x0 + 0.85 * width, y0 - 0.04), (x1 + 0.85 * width, y1 + height + 0.04)
        elif x1 > x0:
            start, end = (x0 + width + 0.04, y0 + height / 2), (x1 - 0.04, y1 + height / 2)
        else:
            start, end = (x0 - 0.04, y0 + height / 2), (x1 + width + 0.04, y1 + height / 2)
        ax.add_patch(FancyArrowPatch(start, end, **flow))
    side = {"arrowstyle": "-|>", "mutation_scale": 8, "color": "#6c757d", "linewidth": 0.8}
    # Skip and dense connections from the first row down to the second, each leaving and
    # arriving at its own point in the same left-to-right order: straight lines, no crossing.
    down = [("cnn1", 0.5, "W", 0.35), ("cnn2", 0.2, "W", 0.65), ("cnn2", 0.5, "cnn4", 0.5)]
    for src, at, dst, to in down:
        (x0, y0), (x1, y1) = place[index[src]], place[index[dst]]
        ax.add_patch(FancyArrowPatch((x0 + at * width, y0 - 0.04), (x1 + to * width, y1 + height + 0.04), **side))
    # CNN_3's skip to W passes under CNN_4, below the second row, where nothing else runs.
    (x0, y0), (x1, y1) = place[index["cnn3"]], place[index["W"]]
    ax.add_patch(FancyArrowPatch((x0 + width / 2, y0 - 0.04), (x1 + width / 2, y1 - 0.04),
                                 connectionstyle="arc3,rad=-0.3", **side))
    rows = -(-len(STAGES) // per_row)
    bottom = -(rows - 1) * (height + lane) - 0.5
    ax.set(xlim=(-0.1, per_row * (width + gap) - gap + 0.1), ylim=(bottom, height + 0.1), aspect="auto")
    ax.axis("off")
    return fig, ax, boxes


def segment_bounds(ax: Axes, segment_start_s: np.ndarray, segment_s: float, highlight: int | None = None):
    """Mark segment boundaries (and one highlighted segment) on a time axis in seconds."""
    lines = [ax.axvline(s, color="white", linewidth=0.8, alpha=0.8) for s in segment_start_s]
    if highlight is not None:
        start = segment_start_s[highlight]
        lines.append(ax.axvspan(start, start + segment_s, fill=False, edgecolor="cyan", linewidth=2))
    return lines


def kernel(values: np.ndarray, frames: int, ax: Axes | None = None, *, title: str = "",
           vmin: float | None = None, vmax: float | None = None, cmap: str | None = None):
    """One convolution kernel in the blog's orientation (rows x frames).

    A single-row kernel is drawn as the impulse response it is (value against time lag in
    seconds); a taller one as an image over time lag and kernel row (0 at the bottom).
    """
    fig, ax = figure_axes(ax, (3, 3))
    lags = (np.arange(frames) - (frames - 1) // 2) * FRAME_SECONDS
    if values.shape[0] == 1:
        line = ax.plot(lags, values[0], linewidth=1)
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.set(xlabel="time lag (s)", ylabel="weight", title=title)
        return fig, ax, line
    lo, hi, cmap = color_limits(values, vmin, vmax, cmap)
    image = ax.imshow(values, origin="lower", aspect="auto", vmin=lo, vmax=hi, cmap=cmap,
                      interpolation="nearest", extent=(lags[0] - FRAME_SECONDS / 2, lags[-1] + FRAME_SECONDS / 2,
                                                       -0.5, values.shape[0] - 0.5))
    ax.set(xlabel="time lag (s)", ylabel="kernel row", title=title)
    bar = fig.colorbar(image, ax=ax, pad=0.01)
    return fig, ax, image, bar


def kernel_gallery(units: Sequence, frames: int, fig: Figure | None = None, *, columns: int = 12,
                   clip_percentile: float = 99.5, row_height: float = 2.1, row_label: str = "kernel row",
                   bar_label: str = "K / ‖K‖_F"):
    """Kernels of one group (objects with ``kernel``, ``norm`` and ``index``, such as
    :class:`musicnn_nb.model.weights.Unit`), left to right and top to bottom in the order given, each
    divided by its Frobenius norm so that all share one diverging colour scale, which ends at
    ``clip_percentile`` of the drawn |values|. Returns figure, axes grid, images and colour bar."""
    if not units:
        raise ValueError("no kernel to draw: the gallery needs at least one unit")
    n_rows = -(-len(units) // columns)
    fig = fig or plt.figure(figsize=(13, 0.5 + row_height * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, columns, sharex=True, sharey=True, squeeze=False)
    bound = float(np.percentile(np.abs(np.concatenate([u.kernel.ravel() / u.norm for u in units])),
                                clip_percentile))
    images = []
    for ax, unit in zip(axes.flat, units):
        _, _, image, bar = kernel(unit.kernel / unit.norm, frames, ax, vmin=-bound, vmax=bound, cmap=DIVERGING)
        bar.remove()
        ax.set_title(f"{unit.index}\n‖K‖={unit.norm:.2f}", fontsize="small")
        ax.set(xlabel="", ylabel="")
        ax.tick_params(labelsize="small")
        images.append(image)
    for ax in axes.flat[len(units):]:
        ax.set_axis_off()
    for ax in axes[:, 0]:
        ax.set_ylabel(row_label, fontsize="small")
    for ax in axes[-1]:
        ax.set_xlabel("lag (s)", fontsize="small")
    bar = fig.colorbar(images[0], ax=axes, pad=0.01, shrink=0.8, aspect=40, extend="both")
    bar.set_label(bar_label)
    return fig, axes, images, bar


def series(values: np.ndarray, ax: Axes | None = None, *, start_s: float = 0.0, title: str = "",
           ylabel: str = "value", stem: bool = False):
    """A sequence with one value per 16-ms frame, over time in seconds (a stem plot on request,
    to show that it is discrete)."""
    fig, ax = figure_axes(ax, (9, 2.5))
    t = start_s + np.arange(values.size) * FRAME_SECONDS
    handles = ax.stem(t, values, basefmt="gray", markerfmt=".") if stem else ax.plot(t, values, linewidth=1)
    ax.set(xlabel="time (s)", ylabel=ylabel, title=title, xlim=(t[0] - FRAME_SECONDS, t[-1] + FRAME_SECONDS))
    return fig, ax, handles


def norms(values: dict[str, np.ndarray], ax: Axes | None = None, *, threshold: float | None = None,
          first_row: int = 0, title: str = "", log: bool = True):
    """Frobenius norms of a layer's kernels, one stem series per model, against unit index,
    with the non-trivial threshold as a dashed line."""
    fig, ax = figure_axes(ax, (9, 3))
    handles = []
    for i, (model, v) in enumerate(values.items()):
        x = first_row + np.arange(v.size) + (i - (len(values) - 1) / 2) * 0.3
        handles.append(ax.stem(x, np.maximum(v, 1e-12) if log else v, linefmt=f"C{i}-", markerfmt=f"C{i}.",
                               basefmt=" ", label=model))
    if threshold is not None:
        handles.append(ax.axhline(threshold, color="gray", linestyle="--", linewidth=1,
                                  label=f"threshold {threshold:g}"))
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="unit (row index)", ylabel="Frobenius norm of kernel", title=title)
    ax.legend(fontsize="small")
    return fig, ax, handles


def sensitivity(counts: dict[str, dict[float, int]], ax: Axes | None = None, *, total: int | None = None,
                threshold: float | None = None, title: str = ""):
    """How many units pass a norm threshold, as the threshold varies, one line per model."""
    fig, ax = figure_axes(ax, (5, 3))
    lines = []
    for model, by_threshold in counts.items():
        t = sorted(by_threshold)
        lines += ax.plot(t, [by_threshold[x] for x in t], "o-", label=model)
    if threshold is not None:
        ax.axvline(threshold, color="gray", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set(xlabel="norm threshold", ylabel="units above it" + (f" (of {total})" if total else ""), title=title)
    ax.legend(fontsize="small")
    return fig, ax, lines
