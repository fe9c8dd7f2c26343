"""The back-end explorer (chapter 13): model, segment and tag → the tag's logit split over the
rows of W, coloured by stage, with the top rows named; choosing a row shows it over the segment
with the frame that wins its maximum, and plays the audio around that frame.

Its state is one :class:`BackEndView` and its figure one function of that view. In the built
book the same explorer runs in the reader's browser (``KINDS.backend`` in js/src/explorer.js,
data from :mod:`musicnn_nb.explore.web_past`), drawn from the island :meth:`BackEndExplorer.show`
prints; with JavaScript off, the figure shown here is the static default.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import ipywidgets as w
import numpy as np
from IPython.display import HTML, Image, display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from musicnn_nb.explore.common import PNG_DPI, canvas_png
from musicnn_nb.explore.common import shown_path as _shown_path
from musicnn_nb.explore.web import island_html, recording_key
from musicnn_nb.facts import backend as fb
from musicnn_nb.model.audio import default_audio
from musicnn_nb.model.errors import MusicnnNbError
from musicnn_nb.model.pipeline import Analysis, analyse
from musicnn_nb.model.weights import W_ROWS
from musicnn_nb.present.backend import row_contributions, row_series, stage_color, stage_label, stage_legend
from musicnn_nb.present.sound import player

N_ROWS = 12  # rows offered in the row control: the tag's largest contributions
N_NAMED = 5  # rows labelled on the contributions panel
MOMENT_S = 1.0  # seconds of audio around the winning frame
UNIT_PAGES = {"cnn1": "08_cnn1_max.html", "cnn2": "10_cnn2.html", "cnn3": "11_cnn3.html",
              "cnn4": "12_cnn4_w.html"}  # the chapter whose explorer shows a layer's units, beside this one


@dataclass(frozen=True)
class BackEndView:
    """What the reader chose. ``tag`` None: the segment's top tag; ``row`` None: the tag's top row."""

    model: str = "MSD"
    segment: int = 0
    tag: str | None = None
    row: int | None = None


def tags_by_weight(a: Analysis, segment: int) -> list[str]:
    """The model's tags, the segment's largest tag weight first."""
    weights = a.taggram[a.check_segment(segment)]
    return [a.tags[i] for i in np.argsort(-weights, kind="stable")]


def complete(a: Analysis, view: BackEndView) -> BackEndView:
    """The view with a valid segment, a tag of the model and a row of W filled in."""
    segment = a.check_segment(view.segment)
    tag = view.tag if view.tag in a.tags else tags_by_weight(a, segment)[0]
    att = fb.attribute_segment(a, segment)
    row = view.row if view.row is not None and 0 <= view.row < W_ROWS else int(att.top_rows(tag, 1)[0])
    return BackEndView(a.model.name, segment, tag, row)


def draw(fig: Figure, a: Analysis, view: BackEndView) -> None:
    """The two panels of a complete view (see :func:`complete`) on an empty figure."""
    assert view.tag is not None and view.row is not None, "draw needs a complete view"
    s, k = view.segment, a.tags.index(view.tag)
    att = fb.attribute_segment(a, s)
    top, bottom = fig.subplots(2, 1, height_ratios=(1.4, 1))
    row_contributions(att.per_row[k], top, named=att.top_rows(k, N_NAMED),
                      title=f"{a.model.name}, segment {s}: “{view.tag}” (weight {a.taggram[s, k]:.2f}), logit "
                            f"{att.logits[k]:.2f} = constant {att.constant[k]:.2f} + Σ rows {att.per_row[k].sum():.2f}")
    top.axvline(view.row, color="black", linewidth=0.8, alpha=0.4)
    stage_legend(top)
    stage = fb.w_stages()[fb.stage_of_rows()[view.row]]
    row_series(a.W[s, view.row], bottom, color=stage_color(stage.key),
               title=f"row {view.row} of W ({fb.w_row_unit(view.row)}, {stage_label(stage.key)}): contribution "
                     f"{att.per_row[k, view.row]:+.3f}; ▼ the frame that wins its maximum")
    bottom.set_xlabel("time in segment (s)")


def render(a: Analysis, view: BackEndView, figsize: tuple[float, float] = (12, 6.5)) -> bytes:
    """A complete view as PNG bytes."""
    fig = Figure(figsize=figsize, layout="constrained", dpi=PNG_DPI)
    canvas = FigureCanvasAgg(fig)
    draw(fig, a, view)
    canvas.draw()
    return canvas_png(canvas)


class BackEndExplorer:
    """Controls for a :class:`BackEndView` over :func:`render`'s figure and a player."""

    def __init__(self, path: str | Path | None = None, view: BackEndView = BackEndView(),
                 figsize: tuple[float, float] = (12, 6.5)):
        self.path = Path(path) if path is not None else default_audio()
        self.figsize = figsize
        self.analysis = analyse(self.path, view.model)
        self.view = complete(self.analysis, view)
        self.model = w.ToggleButtons(options=["MSD", "MTT"], value=self.view.model, description="model")
        self.segment = w.IntSlider(value=self.view.segment, min=0, max=self.analysis.n_segments - 1,
                                   description="segment", continuous_update=False)
        self.tag = w.Dropdown(description="tag")
        self.row = w.Dropdown(description="row of W", layout=w.Layout(width="420px"))
        self.file = w.Text(value=_shown_path(self.path), description="audio file", layout=w.Layout(width="60%"))
        self.load = w.Button(description="analyse file")
        self.status = w.HTML()
        self._syncing = False
        self._sync()
        for control in (self.model, self.segment, self.tag, self.row):
            control.observe(self._on_change, names="value")
        self.load.on_click(lambda _button: self.open(self.file.value))
        self.controls = w.VBox([self.model, self.segment, w.HBox([self.tag, self.row]),
                                w.HBox([self.file, self.load]), self.status])
        self._figure = self._player = None

    def _sync(self) -> None:
        """Make the controls show the view (top tags first, the tag's top rows) without redraws."""
        a, v = self.analysis, self.view
        assert v.tag is not None and v.row is not None  # complete() filled them in
        att = fb.attribute_segment(a, v.segment)
        rows = [int(r) for r in att.top_rows(v.tag, N_ROWS)]
        if v.row not in rows:
            rows.append(v.row)
        k = a.tags.index(v.tag)
        self._syncing = True
        try:
            self.model.value, self.segment.max, self.segment.value = v.model, a.n_segments - 1, v.segment
            self.tag.options = [(f"{t} ({a.taggram[v.segment, a.tags.index(t)]:.2f})", t)
                                for t in tags_by_weight(a, v.segment)]
            self.tag.value = v.tag
            self.row.options = [(f"{r}: {fb.w_row_unit(r)} ({att.per_row[k, r]:+.3f})", r) for r in rows]
            self.row.value = v.row
        finally:
            self._syncing = False
        self.status.value = f"<b>{a.path.name}</b>, {a.model.name}, segment {v.segment} of {a.n_segments}"

    def _on_change(self, change) -> None:
        if self._syncing:
            return
        row = self.row.value if change["owner"] is self.row else None  # a new tag or segment: its top row
        self.update(replace(self.view, model=self.model.value, segment=self.segment.value, tag=self.tag.value,
                            row=row))

    def update(self, view: BackEndView) -> None:
        """Show ``view``; a bad choice is reported under the controls and the last view stays."""
        try:
            a = analyse(self.path, view.model) if view.model != self.analysis.model.name else self.analysis
            view = complete(a, view)
        except (MusicnnNbError, ValueError) as error:
            self.status.value = f"<span style='color:#b00020'>{error}</span>"
            self._sync_back()
            return
        self.analysis, self.view = a, view
        self._sync()
        if self._figure is not None:
            self._figure.update(Image(render(a, view, self.figsize)))
            self._player.update(self.moment())

    def open(self, path: str | Path) -> None:
        """Analyse another audio file (same model, segment if it has it, top tag and row); on
        failure keep the current file and say why."""
        try:
            a = analyse(path, self.view.model)
        except MusicnnNbError as error:
            self.status.value = f"<span style='color:#b00020'>{error}</span>"
            self.file.value = _shown_path(self.path)
            return
        self.path, self.analysis = Path(path), a
        self.file.value = _shown_path(self.path)
        self.update(BackEndView(self.view.model, min(self.view.segment, a.n_segments - 1)))

    def _sync_back(self) -> None:
        message = self.status.value
        self._sync()
        self.status.value = message

    def moment(self) -> HTML:
        """:data:`MOMENT_S` seconds of audio centred on the frame that wins the row's maximum."""
        a, v = self.analysis, self.view
        frame = int(fb.winning_frames(a, v.segment, np.array([v.row]))[0])
        first, stop = fb.moment_window(a, v.segment, frame, MOMENT_S)
        return player(a.audio.samples[first:stop])

    def island(self) -> str:
        """The element from which the built page draws this explorer without a kernel
        (:mod:`musicnn_nb.explore.web_past` writes its data)."""
        v = self.view
        return island_html("backend", recording_key(self.path), {"model": v.model, "segment": v.segment, "tag": v.tag,
                                                                 "row": v.row}, ("cnn1",), self.path.suffix.lower(),
                           {"unit_pages": UNIT_PAGES})

    def show(self) -> BackEndExplorer:
        """Display the island the built page draws from, then the figure (also the static
        default), the controls and the player."""
        display(HTML(self.island()))
        self._figure = display(Image(render(self.analysis, self.view, self.figsize)), display_id=True)
        display(self.controls)
        self._player = display(self.moment(), display_id=True)
        return self


__all__ = ["BackEndExplorer", "BackEndView", "complete", "draw", "render", "tags_by_weight"]
