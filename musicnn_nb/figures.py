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
