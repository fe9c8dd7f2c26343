"""The collection explorer's (chapter 14) static default figure: any unit of either model over
a whole collection.

The explorer itself is :class:`musicnn_nb.explore.widgets.Explorer` of kind ``"collection"``:
one implementation, drawn in the reader's browser (``KINDS.collection`` in js/src/explorer.js)
from the collection's summary (:mod:`musicnn_nb.explore.web_past`), in the built book and in
Jupyter alike; its input is the collection store, not an audio file. Here: its first unit
(:func:`default_unit`) and its figure drawn once with matplotlib (:func:`unit_figure`), what
the cell shows with JavaScript off.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from musicnn_nb.explore.common import unit_choices
from musicnn_nb.facts.collection import TOP, Collection
from musicnn_nb.model.spectrogram import FRAME_SECONDS
from musicnn_nb.model.weights import load_model
from musicnn_nb.present.plots import spectrogram

FIGSIZE = (13, 6.5)


def unit_figure(c: Collection, unit: str, fig: Figure | None = None) -> tuple[Figure, list[Axes], list]:
    """A unit's dataset examples (M_dB of its top segments, the frame of its maximum marked),
    the distribution of its per-segment maximum, and its strongest tag correlations."""
    if fig is None:
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        FigureCanvasAgg(fig)
    j = c.column(unit)
    top_row, bottom_row = fig.subfigures(2, 1)  # laid out apart: the tag labels do not widen a column above
    examples = top_row.subplots(1, TOP)
    axes, artists = [], []
    for k, i in enumerate(c.top(unit)):
        ax = examples[k]
        # one time axis for all (time in the segment; where it starts is in the title), as in the page
        _, _, _, bar = spectrogram(c.segment_m_db(i), ax, vmin=0, vmax=4)
        ax.set_xlabel("time in segment (s)")
        if k < TOP - 1:
            bar.remove()
        artists.append(ax.axvline(c.argmax[i, j] * FRAME_SECONDS, color="white", lw=1.2, ls="--"))
        ax.set_title(f"#{k + 1}: {c.label(i)[:22]}\nat {c.starts[i]:.1f} s, max {c.max[i, j]:.2f}", fontsize="small")
        if k:
            ax.set_ylabel("")
            ax.set_yticklabels([])
        axes.append(ax)
    ax, tags_ax = bottom_row.subplots(1, 2)
    artists.append(ax.hist(c.max[:, j], bins=40, color="tab:blue")[2])
    ax.set(yscale="log", ylabel="segments",
           xlabel=f"maximum of the unit's row over a segment ({len(c.files):,} segments)")
    ax.set_title(f"{unit} ({c.model}): rectifier open on {c.open[:, j].mean():.0%} of frames", fontsize=9)
    axes.append(ax)
    ax = tags_ax
    r = c.tag_association(unit)
    order = np.argsort(-np.abs(r))[:10][::-1]
    tags = load_model(c.model).tags
    artists.append(ax.barh([tags[t] for t in order], r[order], color=np.where(r[order] > 0, "tab:red", "tab:blue")))
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set(xlim=(-1, 1), xlabel="correlation over segments: unit's mean vs tag weight")
    ax.set_title("tags it goes with (10 strongest correlations)", fontsize=9)
    axes.append(ax)
    return fig, axes, artists


def default_unit(model: str) -> str:
    """The explorer's first unit: the model's lowest non-trivial CNN_1 row."""
    return unit_choices(model, "cnn1", nontrivial_only=True)[0]
