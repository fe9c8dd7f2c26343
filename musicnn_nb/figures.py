"""The book's composite figures, each a draw function ``draw(fig, analysis, view)`` that an
:class:`musicnn_nb.widgets.Explorer` redraws, built from :mod:`musicnn_nb.plots` helpers.
"""

from __future__ import annotations

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
