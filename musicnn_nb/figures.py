"""The book's composite figures, each a draw function ``draw(fig, analysis, view)`` that an
:class:`musicnn_nb.widgets.Explorer` redraws, built from :mod:`musicnn_nb.plots` helpers.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from . import plots
from .pipeline import Analysis
from .widgets import View


def input_view(fig: Figure, a: Analysis, view: View) -> None:
    """Chapter 3: one segment's M_dB and the normalised M̂_dB the network sees."""
    left, right = fig.subplots(1, 2)
    s, start = view.segment, a.segment_start_s[view.segment]
    plots.spectrogram(a.M_dB[s], left, start_s=start, title=f"M_dB, segment {s}",
                      vmin=view.vmin, vmax=view.vmax, cmap=view.cmap)
    plots.spectrogram(a.M_hat[s], right, start_s=start, title=f"M̂_dB ({a.model.name} input batch-norm)",
                      vmin=view.vmin, vmax=view.vmax, cmap=view.cmap, colorbar_label="normalised value")


def taggram_view(fig: Figure, a: Analysis, view: View) -> None:
    """Chapter 1: the taggram (tags x segments) with the chosen segment outlined, and that
    segment's ten largest tag weights. Colour limits default to the sigmoid's [0, 1]."""
    from .tagging import segment_top_tags

    left, right = fig.subplots(1, 2, width_ratios=(2.2, 1))
    s = a.check_segment(view.segment)
    plots.taggram(a.taggram, a.tags, a.segment_start_s, left, title=f"{a.model.name} taggram of {a.path.name}",
                  vmin=0.0 if view.vmin is None else view.vmin, vmax=1.0 if view.vmax is None else view.vmax,
                  cmap=view.cmap, highlight=s)
    plots.top_tags(segment_top_tags(a, s, 10), right,
                   title=f"segment {s} ({a.segment_start_s[s]:.2f} s): top 10")
    right.set_xlabel(f"tag weight in segment {s}")


def segmentation_view(fig: Figure, a: Analysis, view: View) -> None:
    """Chapter 2: the chosen segment on the whole spectrogram, and that segment's W (753 × 187)
    with lines between its blocks U, V̂_1, V̂_1+V̂_2, V̂_1+V̂_2+V̂_3 (dotted: CNN_1's kernel groups).

    The colour controls act on W; the spectrogram keeps its automatic scale.
    """
    from . import architecture

    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": (1, 2.2)})
    architecture.segmentation_figure(a, highlight=view.segment, ax=top)
    s = view.segment
    w = a.W[s]
    plots.matrix(w, bottom, start_s=a.segment_start_s[s], row_label="row of W",
                 title=f"W of segment {s} ({a.model.name}): {w.shape[0]} rows × {w.shape[1]} frames",
                 vmin=view.vmin, vmax=view.vmax, cmap=view.cmap, colorbar_label="value")
    architecture.mark_row_groups(bottom, architecture.u_row_groups(), labels=False, linestyle=":",
                                 linewidth=0.6)
    architecture.mark_row_groups(bottom, architecture.w_row_groups())


def unit_view(fig: Figure, a: Analysis, view: View) -> None:
    """Chapters 4-8: one CNN_1 unit through every step on one segment.

    Its kernel K_i; the filtered map K_i ⋆ M̂_dB + b_i; Y_i after the rectifier; Ŷ_i after the
    unit's batch-norm; its row of U, [U]_{i,t} = max_f [Ŷ_i]_{f,t}; and the row that wins the
    max at each frame (frames where every row ties are left out). The colour controls act on
    the three maps.
    """
    unit = a.model.unit(view.unit, "cnn1")
    maps = a.unit_maps(unit.name, view.segment)
    start = a.segment_start_s[view.segment]
    axes = fig.subplot_mosaic([["kernel", "pre", "Y"], ["Y_hat", "U", "win"]], width_ratios=(1, 1.4, 1.4))
    scale = {"vmin": view.vmin, "vmax": view.vmax, "cmap": view.cmap}
    plots.kernel(unit.kernel, unit.group.frames, axes["kernel"], title=f"kernel $K_{{{unit.index}}}$")
    one_d = unit.group.rows == 1
    row_label = "mel band" if one_d else f"output row (bands f…f+{unit.group.rows - 1})"
    for key, data, title in (("pre", maps.pre_activation, "$K \\star \\hat M_{dB} + b$"),
                             ("Y", maps.Y, "$Y$ = ReLU($K \\star \\hat M_{dB} + b$)"),
                             ("Y_hat", maps.Y_hat, "$\\hat Y$ after batch-norm")):
        plots.matrix(data, axes[key], start_s=start, row_label=row_label, title=title, **scale)
        if one_d:
            plots.mel_axis(axes[key], n_ticks=4)
    plots.series(a.U[view.segment, unit.index], axes["U"], start_s=start, ylabel=f"$[U]_{{{unit.index},t}}$",
                 title="row of U: max over frequency of $\\hat Y$", stem=True)
    tied = maps.Y_hat.max(axis=0) == maps.Y_hat.min(axis=0)
    winner = np.where(tied, np.nan, maps.row_of_max.astype(float))
    plots.series(winner, axes["win"], start_s=start, ylabel=row_label,
                 title=f"winning row ({int(tied.sum())} tied frames left out)")
    axes["win"].lines[0].set(linestyle="none", marker=".", markersize=3)
    axes["win"].set_ylim(-0.5, maps.Y_hat.shape[0] - 0.5)
    fig.suptitle(f"{unit.name} ({a.model.name}, segment {view.segment}): $\\|K\\|_F$ = {unit.norm:.3g}, "
                 f"b = {unit.bias:.3g}, γ = {unit.gamma:.3g}, β = {unit.beta:.3g}, μ = {unit.mean:.3g}, "
                 f"σ² = {unit.variance:.3g}", fontsize=10)


MATH_NAMES = {"U": "$U$", "V1_hat": "$\\hat V_1$", "V2_hat": "$\\hat V_2$", "V3_hat": "$\\hat V_3$",
              "V12_hat": "$\\hat V_1+\\hat V_2$", "V123_hat": "$\\hat V_1+\\hat V_2+\\hat V_3$"}


def midend_view(fig: Figure, a: Analysis, view: View) -> None:
    """Chapters 10-12: one CNN_2-4 unit on one segment.

    Its kernel (input rows x 7 frames) and how much of the kernel's energy falls on each input
    row; the layer's input; the unit's pre-activation, V and V̂ over time; and the layer's
    whole batch-normalised output V̂_k with the unit's row marked. The colour controls act on
    the input and output matrices.
    """
    from .network import LAYER_INPUT, LAYER_OUTPUT

    unit = a.model.unit(view.unit, "cnn2")
    layer, s = unit.layer, view.segment
    series = a.midend_unit(unit.name, s)
    start = a.segment_start_s[s]
    source = LAYER_INPUT[layer]
    axes = fig.subplot_mosaic([["kernel", "input", "output"], ["rows", "series", "series"]],
                              width_ratios=(1, 1.5, 1.5))
    scale = {"vmin": view.vmin, "vmax": view.vmax, "cmap": view.cmap}
    plots.kernel(unit.kernel, unit.group.frames, axes["kernel"], title=f"kernel of {unit.name}")
    axes["kernel"].set_ylabel(f"input row ({MATH_NAMES[source]})")
    energy = np.sqrt((unit.kernel.astype(np.float64) ** 2).sum(axis=1))
    axes["rows"].plot(energy, np.arange(energy.size), linewidth=0.8)
    axes["rows"].set(xlabel="kernel norm per input row", ylabel=f"input row ({MATH_NAMES[source]})",
                     ylim=(-0.5, energy.size - 0.5), title="where the kernel puts its weight")
    plots.matrix(a.arrays[source][s], axes["input"], start_s=start, row_label="row",
                 title=f"input: {MATH_NAMES[source]}", **scale)
    out = LAYER_OUTPUT[layer][1]
    plots.matrix(a.arrays[out][s], axes["output"], start_s=start, row_label="unit",
                 title=f"output {MATH_NAMES[out]} (unit {unit.index} marked)", **scale)
    axes["output"].axhline(unit.index, color="black", linewidth=0.6, linestyle="--")
    for values, label in ((series.pre_activation, "pre-activation"), (series.V, "$V$ (after ReLU)"),
                          (series.V_hat, "$\\hat V$ (after batch-norm)")):
        plots.series(values, axes["series"], start_s=start, ylabel="value",
                     title=f"{unit.name} over time")
        axes["series"].lines[-1].set_label(label)
    axes["series"].axhline(0, color="gray", linewidth=0.5)
    axes["series"].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"{unit.name} ({a.model.name}, segment {s}): $\\|K\\|_F$ = {unit.norm:.3g}, b = {unit.bias:.3g}, "
                 f"γ = {unit.gamma:.3g}, β = {unit.beta:.3g}, μ = {unit.mean:.3g}, σ² = {unit.variance:.3g}",
                 fontsize=10)
