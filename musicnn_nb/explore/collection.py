"""The collection explorer (chapter 14): any unit of either model over a whole collection.

Model, layer and unit controls over :func:`unit_figure`, and a player for the unit's
strongest segment; the figure is also the static default, as in the book's other explorers.
In the built book the same explorer runs in the reader's browser (``KINDS.collection`` in
js/src/explorer.js, data from :mod:`musicnn_nb.explore.web_past`), without the player: the
collection's audio is not part of the site.
"""

from __future__ import annotations

import ipywidgets as w
import numpy as np
from IPython.display import HTML, Image, display
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from musicnn_nb.explore.common import canvas_png, unit_choices
from musicnn_nb.explore.web import island_html, recording_key
from musicnn_nb.explore.web_past import collection_key
from musicnn_nb.facts.collection import MODELS, TOP, Collection, load
from musicnn_nb.model.audio import default_audio
from musicnn_nb.model.errors import MusicnnNbError
from musicnn_nb.model.spectrogram import FRAME_SECONDS
from musicnn_nb.model.weights import LAYERS, load_model
from musicnn_nb.present.plots import spectrogram
from musicnn_nb.present.sound import player

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
        _, _, _, bar = spectrogram(c.segment_m_db(i), ax, start_s=float(c.starts[i]), vmin=0, vmax=4)
        if k < TOP - 1:
            bar.remove()
        artists.append(ax.axvline(c.starts[i] + c.argmax[i, j] * FRAME_SECONDS, color="white", lw=1.2, ls="--"))
        ax.set_title(f"#{k + 1}: {c.label(i)[:22]}\nmax {c.max[i, j]:.2f}", fontsize="small")
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


class CollectionExplorer:
    """Model, layer, non-trivial filter and unit controls over :func:`unit_figure`."""

    def __init__(self, model: str = "MSD", unit: str | None = None, store: str | None = None):
        self.store = store
        self.collection = load(model, store)
        self.unit = unit or default_unit(self.collection.model)
        self.collection.column(self.unit)
        self.model = w.ToggleButtons(options=list(MODELS), value=self.collection.model, description="model")
        self.layer = w.Dropdown(options=LAYERS, value=self.unit.split("/")[0], description="layer")
        self.nontrivial = w.Checkbox(value=True, description="non-trivial units only")
        options = unit_choices(self.model.value, self.layer.value, nontrivial_only=True)
        self.units = w.Dropdown(options=options if self.unit in options else [self.unit, *options],
                                value=self.unit, description="unit")
        self.status = w.HTML()
        for control in (self.model, self.layer, self.nontrivial, self.units):
            control.observe(self._changed, names="value")
        self.controls = w.VBox([self.model, w.HBox([self.layer, self.nontrivial]), self.units, self.status])
        self._image = self._player = None

    def _changed(self, change) -> None:
        try:
            self.collection = load(self.model.value, self.store)
        except MusicnnNbError as error:
            self.status.value = f"<span style='color:#b00020'>{error}</span>"
            return
        if change["owner"] is self.units:
            self.unit = change["new"]
        else:
            options = unit_choices(self.model.value, self.layer.value, nontrivial_only=self.nontrivial.value)
            if not options:
                self.status.value = self._describe("no unit passes these filters: the current unit stays.")
                return
            self.unit = self.unit if self.unit in options else options[0]
            self.units.unobserve(self._changed, names="value")
            self.units.options, self.units.value = options, self.unit
            self.units.observe(self._changed, names="value")
        self.redraw()

    def _describe(self, error: str = "") -> str:
        c = self.collection
        text = f"<b>{self.unit}</b> of {c.model} over {len(c.files):,} segments of {c.n_files} recordings"
        return text + (f"<br><span style='color:#b00020'>{error}</span>" if error else "")

    def png(self) -> bytes:
        fig, _, _ = unit_figure(self.collection, self.unit, Figure(figsize=FIGSIZE, layout="constrained", dpi=90))
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return canvas_png(canvas)

    def player(self) -> HTML:
        return player(self.collection.segment_audio(self.collection.top(self.unit, 1)[0]))

    def redraw(self) -> None:
        self.status.value = self._describe()
        if self._image is not None:
            self._image.update(Image(self.png()))
            self._player.update(self.player())

    def island(self) -> str:
        """The element from which the built page draws this explorer without a kernel; it reads
        the book recording's shared data (colour maps, unit lists) and the collection's."""
        audio = default_audio()
        return island_html("collection", recording_key(audio), {"model": self.collection.model, "unit": self.unit},
                           LAYERS, audio.suffix.lower(), {"collection": collection_key(self.collection)})

    def show(self) -> CollectionExplorer:
        """Display the island the built page draws from, the figure (the static default), the
        controls and the player."""
        display(HTML(self.island()))
        self._image = display(Image(self.png()), display_id=True)
        display(self.controls)
        self._player = display(self.player(), display_id=True)
        self.status.value = self._describe()
        return self
