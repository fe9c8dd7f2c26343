"""The explorers' static default figures, drawn once with matplotlib.

An explorer (:mod:`musicnn_nb.explore.widgets`) is computed and drawn in the reader's browser
(``js/src/explorer.js``), in the built book and in Jupyter alike. Its first view is also drawn
here, once, as a PNG: what the page shows with JavaScript off, and until the script replaces
it. Each ``draw_<kind>`` draws the view that :data:`FIGURES` names by the same kind as the
page's script, from :mod:`musicnn_nb.present.plots` helpers.

Inside an explorer, time runs from the start of the segment (where the segment starts is
written in a title or in the figure's top-left corner), and automatic colour scales and value
axes span the whole recording, as in the page: moving the segment changes the data, never the
axes or the meaning of a colour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, ScalarFormatter

from musicnn_nb.facts.tags import segment_top_tags
from musicnn_nb.model.network import LAYER_INPUT, LAYER_OUTPUT
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.weights import Unit
from musicnn_nb.present import plots
from musicnn_nb.present.notation import mark_row_groups, u_row_groups, w_row_groups
from musicnn_nb.present.segmentation import segmentation_figure

SEGMENT_TIME = "time in segment (s)"


@dataclass(frozen=True)
class View:
    """What the reader chose: model, segment, unit, colour scale (None = automatic)."""

    model: str = "MSD"
    segment: int = 0
    vmin: float | None = None
    vmax: float | None = None
    cmap: str | None = None
    unit: str | None = None  # a stable unit name such as "cnn1/38x7/12"


class WholeTicks(Formatter):
    """Tick labels that each carry their whole value ("0.25", "5e-11", "20000"), with as many
    significant digits as it takes to tell neighbouring ticks apart, and no separate offset or
    multiplier label: as the page's ``MusicnnPlot.formatTicks`` labels them."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.format_ticks([x])[0]

    def format_ticks(self, values) -> list[str]:
        values = np.asarray(values, dtype=float) + 0.0  # no "-0"
        if values.size == 0:
            return []
        largest = float(np.max(np.abs(values))) or 1.0
        step = float(np.min(np.diff(values))) if values.size > 1 else 0.0
        digits = int(np.ceil(np.log10(largest / step))) + 1 if step > 0 else 3
        digits = max(digits, int(np.floor(np.log10(largest))) + 1, 1)
        return [f"{v:.{digits}g}" for v in values]


def whole_ticks(fig: Figure) -> None:
    """Label every plain numeric axis of ``fig`` with :class:`WholeTicks`."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(WholeTicks())


def limits(data: np.ndarray, view: View) -> dict:
    """The colour scale the reader chose, completed from ``data`` (see :func:`plots.color_limits`)."""
    lo, hi, cmap = plots.color_limits(data, view.vmin, view.vmax, view.cmap)
    return {"vmin": lo, "vmax": hi, "cmap": cmap}


def value_range(ax: Axes, values: np.ndarray, axis: str = "y") -> None:
    """Fix an axis to the range of ``values`` plus a 5 % margin."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    margin = 0.05 * (hi - lo) or 0.5
    (ax.set_ylim if axis == "y" else ax.set_xlim)(lo - margin, hi + margin)


def segment_title(a: Analysis, s: int) -> str:
    """Which segment, and where it starts in the recording."""
    return f"segment {s}, from {a.segment_start_s[s]:.2f} s"


def unit_summary(unit: Unit, model: str) -> str:
    """A unit's name and parameters, for a figure's title."""
    return (f"{unit.name} ({model}): $\\|K\\|_F$ = {unit.norm:.3g}, b = {unit.bias:.3g}, γ = {unit.gamma:.3g}, "
            f"β = {unit.beta:.3g}, μ = {unit.mean:.3g}, σ² = {unit.variance:.3g}")


def segment_label(fig: Figure, text: str) -> None:
    """The figure's top-left corner, where a figure whose title names its unit says the segment."""
    fig.text(0.005, 0.995, text, ha="left", va="top", fontsize=10)


def draw_input(fig: Figure, a: Analysis, view: View) -> None:
    """Chapter 3: one segment's M_dB and the normalised M̂_dB the network sees."""
    left, right = fig.subplots(1, 2)
    s = view.segment
    plots.spectrogram(a.M_dB[s], left, title=f"M_dB, {segment_title(a, s)}", **limits(a.M_dB, view))
    plots.spectrogram(a.M_hat[s], right, colorbar_label="normalised value",
                      title=f"M̂_dB ({a.model.name} input batch-norm), segment {s}", **limits(a.M_hat, view))
    for ax in (left, right):
        ax.set_xlabel(SEGMENT_TIME)


def draw_taggram(fig: Figure, a: Analysis, view: View) -> None:
    """Chapter 1: the taggram (tags x segments) with the chosen segment outlined, and that
    segment's ten largest tag weights. Colour limits default to the sigmoid's [0, 1]."""
    left, right = fig.subplots(1, 2, width_ratios=(2.2, 1))
    s = view.segment
    plots.taggram(a.taggram, a.tags, a.segment_start_s, left, highlight=s,
                  title=f"{a.model.name} taggram of {a.path.name}", cmap=view.cmap,
                  vmin=0.0 if view.vmin is None else view.vmin, vmax=1.0 if view.vmax is None else view.vmax)
    top = segment_top_tags(a, s, 10)
    plots.top_tags(top, right, title=f"top {len(top)} tags in\n{segment_title(a, s)}")  # a wide title would be cut
    right.set_xlabel("tag weight")


def draw_segmentation(fig: Figure, a: Analysis, view: View) -> None:
    """Chapter 2: the chosen segment on the whole spectrogram, and that segment's W (753 × 187)
    with lines between its blocks U, V̂_1, V̂_1+V̂_2, V̂_1+V̂_2+V̂_3 (dotted: CNN_1's kernel groups).
    The colour controls act on W; the spectrogram keeps its automatic scale."""
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": (1, 2.2)})
    s = view.segment
    segmentation_figure(a, highlight=s, ax=top)
    for number in top.texts:  # the outline alone marks the segment, as in the page
        number.set(color="black", fontweight="normal")
    w = a.W[s]
    plots.matrix(w, bottom, row_label="row of W", colorbar_label="value", **limits(a.W, view),
                 title=f"W of {segment_title(a, s)} ({a.model.name}): {w.shape[0]} rows × {w.shape[1]} frames")
    bottom.set_xlabel(SEGMENT_TIME)
    mark_row_groups(bottom, u_row_groups(), labels=False, linestyle=":", linewidth=0.6)
    mark_row_groups(bottom, w_row_groups())


UNIT_MAPS = (("pre", "pre_activation", "$K \\star \\hat M_{dB} + b$"),
             ("Y", "Y", "$Y$ = ReLU($K \\star \\hat M_{dB} + b$)"),
             ("Y_hat", "Y_hat", "$\\hat Y$ after batch-norm"))


def draw_unit(fig: Figure, a: Analysis, view: View) -> None:
    """Chapters 4-9: one CNN_1 unit through every step on one segment.

    Its kernel K_i; the filtered map K_i ⋆ M̂_dB + b_i; Y_i after the rectifier; Ŷ_i after the
    unit's batch-norm; its row of U, [U]_{i,t} = max_f [Ŷ_i]_{f,t}; and the row that wins the
    max at each frame (frames where every row ties are left out). The colour controls act on
    the three maps, whose automatic scales span the unit's maps on every segment.
    """
    unit, s = a.model.unit(view.unit, "cnn1"), view.segment
    maps = a.unit_maps(unit.name, s)
    every = [a.unit_maps(unit.name, k) for k in range(a.n_segments)]
    axes = fig.subplot_mosaic([["kernel", "pre", "Y"], ["Y_hat", "U", "win"]], width_ratios=(1, 1.4, 1.4))
    plots.kernel(unit.kernel, unit.group.frames, axes["kernel"], title=f"kernel $K_{{{unit.index}}}$")
    one_d = unit.group.rows == 1  # a one-row kernel is drawn as a line, a taller one as an image
    if one_d:
        value_range(axes["kernel"], unit.kernel)
    row_label = "mel band" if one_d else f"output row (bands f…f+{unit.group.rows - 1})"
    for key, field, title in UNIT_MAPS:
        whole = np.stack([getattr(m, field) for m in every])
        plots.matrix(getattr(maps, field), axes[key], row_label=row_label, title=title, **limits(whole, view))
        if one_d:
            plots.mel_axis(axes[key], n_ticks=4)
    u = a.U[s, unit.index]
    plots.series(u, axes["U"], ylabel=f"$[U]_{{{unit.index},t}}$", stem=True,
                 title="row of U: max over frequency of $\\hat Y$")
    value_range(axes["U"], np.append(a.U[:, unit.index], 0.0))
    tied = maps.Y_hat.max(axis=0) == maps.Y_hat.min(axis=0)
    winner = plots.series(np.where(tied, np.nan, maps.row_of_max.astype(float)), axes["win"], ylabel=row_label,
                          title=f"winning row ({int(tied.sum())} tied frames left out)")[2][0]
    winner.set(linestyle="none", marker=".", markersize=3)
    axes["win"].set_ylim(-0.5, maps.Y_hat.shape[0] - 0.5)
    for key in ("pre", "Y", "Y_hat", "U", "win"):
        axes[key].set_xlabel(SEGMENT_TIME)
    fig.suptitle(unit_summary(unit, a.model.name), fontsize=10)
    segment_label(fig, segment_title(a, s))


MATH_NAMES = {"U": "$U$", "V1_hat": "$\\hat V_1$", "V2_hat": "$\\hat V_2$", "V3_hat": "$\\hat V_3$",
              "V12_hat": "$\\hat V_1+\\hat V_2$", "V123_hat": "$\\hat V_1+\\hat V_2+\\hat V_3$"}
MIDEND_SERIES = (("pre_activation", "pre-activation"), ("V", "$V$ (after ReLU)"),
                 ("V_hat", "$\\hat V$ (after batch-norm)"))


def draw_midend(fig: Figure, a: Analysis, view: View) -> None:
    """Chapters 10-12: one CNN_2-4 unit on one segment.

    Its kernel (input rows x 7 frames) and how much of the kernel's energy falls on each input
    row; the layer's input; the unit's pre-activation, V and V̂ over time (a value axis that
    spans every segment); and the layer's whole batch-normalised output V̂_k with the unit's
    row marked. The colour controls act on the input and output matrices.
    """
    unit, s = a.model.unit(view.unit, "cnn2"), view.segment
    source, out = LAYER_INPUT[unit.layer], LAYER_OUTPUT[unit.layer][1]
    axes = fig.subplot_mosaic([["kernel", "input", "output"], ["rows", "series", "series"]],
                              width_ratios=(1, 1.5, 1.5))
    row_label = f"input row ({MATH_NAMES[source]})"
    plots.kernel(unit.kernel, unit.group.frames, axes["kernel"], title=f"kernel of {unit.name}")
    axes["kernel"].set_ylabel(row_label)
    rows = unit.kernel.shape[0]
    energy = np.sqrt((unit.kernel.astype(np.float64) ** 2).sum(axis=1))
    axes["rows"].plot(energy, np.arange(rows), linewidth=0.8)
    axes["rows"].set(xlabel="kernel norm per input row", ylabel=row_label, ylim=(-0.5, rows - 0.5),
                     title="where the kernel puts its weight")
    value_range(axes["rows"], np.append(energy, 0.0), axis="x")
    plots.matrix(a.arrays[source][s], axes["input"], row_label="row", title=f"input: {MATH_NAMES[source]}",
                 **limits(a.arrays[source], view))
    plots.matrix(a.arrays[out][s], axes["output"], row_label="unit", **limits(a.arrays[out], view),
                 title=f"output {MATH_NAMES[out]} (unit {unit.index} marked)")
    axes["output"].axhline(unit.index, color="black", linewidth=0.6, linestyle="--")
    runs = [a.midend_unit(unit.name, k) for k in range(a.n_segments)]
    for field, label in MIDEND_SERIES:
        plots.series(getattr(runs[s], field), axes["series"], ylabel="value")[2][-1].set_label(label)
    value_range(axes["series"], np.append([[getattr(r, f) for f, _ in MIDEND_SERIES] for r in runs], 0.0))
    axes["series"].axhline(0, color="gray", linewidth=0.5)
    axes["series"].legend(fontsize="small", loc="upper right")
    axes["series"].set_title(f"{unit.name} over time")
    for key in ("input", "output", "series"):
        axes[key].set_xlabel(SEGMENT_TIME)
    fig.suptitle(unit_summary(unit, a.model.name), fontsize=10)
    segment_label(fig, segment_title(a, s))


Draw = Callable[[Figure, Analysis, View], None]
FIGURES: dict[str, Draw] = {"input": draw_input, "taggram": draw_taggram, "segmentation": draw_segmentation,
                            "unit": draw_unit, "midend": draw_midend}  # by the page script's kind names
LAYERS = {"unit": ("cnn1",), "midend": ("cnn2", "cnn3", "cnn4")}  # the layers a kind's unit control offers
