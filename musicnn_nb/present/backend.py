"""Drawing the back end's attribution (chapter 13 and its explorer): W's stages in colour,
contributions by row of W, and one row of W over a segment with the frame that wins its maximum."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from musicnn_nb.facts.backend import stage_of_rows, w_stages
from musicnn_nb.model.spectrogram import FRAME_SECONDS
from musicnn_nb.present.notation import GROUP_COLORS
from musicnn_nb.present.plots import figure_axes

MID_END_COLORS = {"V1_hat": "C5", "V12_hat": "C8", "V123_hat": "C9"}
LABEL_POINTS = 18  # the width of a row number's label (three digits, small), in points
LINE_POINTS = 11  # how much further out a label goes per line (a line of small text)
AXES_SHARE = 0.85  # roughly the share of the figure's width its axes take
LINE_ROOM = 0.3  # room above (and below) the largest bar per further line of labels, in its height
STAGE_TEX = {"V1_hat": r"$\hat{V}_1$", "V12_hat": r"$\hat{V}_1+\hat{V}_2$",
             "V123_hat": r"$\hat{V}_1+\hat{V}_2+\hat{V}_3$"}


def stage_color(key: str) -> str:
    """The colour of a stage of W: CNN_1's kernel-group colours, then one per mid-end block."""
    return GROUP_COLORS[key.split("/")[1]] if key.startswith("cnn1/") else MID_END_COLORS[key]


def stage_label(key: str) -> str:
    """A stage's name for a figure: 'CNN_1 38x7' … or the mid-end block in mathtext."""
    return f"CNN$_1$ {key.split('/')[1]}" if key.startswith("cnn1/") else STAGE_TEX[key]


def stage_legend(ax: Axes, **options) -> None:
    """A legend of W's eight stages and their colours."""
    handles = [Patch(color=stage_color(s.key), label=stage_label(s.key)) for s in w_stages()]
    ax.legend(handles=handles, **{"fontsize": 7, "ncols": 4, "loc": "upper left", **options})


def row_contributions(values: np.ndarray, ax: Axes | None = None, *, named: Sequence[int] | np.ndarray = (),
                      title: str = "") -> tuple[Figure, Axes, LineCollection]:
    """One vertical line per row of W (753 values, in logit units), coloured by stage; the rows
    in ``named`` are labelled with their row number."""
    fig, ax = figure_axes(ax, (10, 3))
    rows = np.arange(values.size)
    colors = [stage_color(w_stages()[i].key) for i in stage_of_rows()]
    lines = ax.vlines(rows, 0, values, colors=colors, linewidth=1.2)
    ax.axhline(0, color="gray", linewidth=0.5)
    for s in w_stages()[1:]:
        ax.axvline(s.first_row - 0.5, color="black", linewidth=0.3, linestyle=":")
    # a label goes one line further out than a label on the same side whose row is too close
    # for the two to sit side by side (neighbouring rows often both win: 690 and 702), from the
    # taller of their bars
    xlim = (-5, values.size + 4)
    close = LABEL_POINTS * (xlim[1] - xlim[0]) / (ax.figure.get_figwidth() * 72 * AXES_SHARE)
    placed: list[tuple[int, bool, int, float]] = []  # row, above the axis, line, height of the bar it stands on
    for r in sorted(int(r) for r in named):
        up = bool(values[r] >= 0)
        near = [(n, h) for q, u, n, h in placed if u == up and r - q < close]
        line = 1 + max((n for n, _ in near), default=-1)
        height = max([abs(float(values[r])), *(h for _, h in near)])
        placed.append((r, up, line, height))
        offset = 3 + line * LINE_POINTS
        ax.annotate(str(r), (r, height if up else -height), xytext=(0, offset if up else -offset),
                    textcoords="offset points", ha="center", va="bottom" if up else "top", fontsize="small")
    span = (float(np.abs(values).max()) or 1.0) * (1.25 + LINE_ROOM * max((n for *_, n, _ in placed), default=0))
    ax.set(xlim=xlim, ylim=(-span, span), xlabel="row of W",
           ylabel="contribution to the logit", title=title)
    return fig, ax, lines


def row_series(values: np.ndarray, ax: Axes | None = None, *, start_s: float = 0.0, color: str = "C0",
               title: str = "") -> tuple[Figure, Axes, list]:
    """A row of W over a segment with its mean (dotted) and the frame that wins its maximum (marked)."""
    fig, ax = figure_axes(ax, (9, 2.2))
    t = start_s + np.arange(values.size) * FRAME_SECONDS
    win = int(np.argmax(values))
    handles = [*ax.plot(t, values, color=color, linewidth=1),
               ax.axhline(values.mean(), color=color, linestyle=":", linewidth=1),
               *ax.plot(t[win], values[win], marker="v", color="black", markersize=7, linestyle="none")]
    ax.set(xlabel="time (s)", ylabel="value", title=title, xlim=(t[0] - FRAME_SECONDS, t[-1] + FRAME_SECONDS))
    return fig, ax, handles


__all__ = ["row_contributions", "row_series", "stage_color", "stage_label", "stage_legend"]
