"""Explorers: controls over a figure that redraws from cached intermediates.

A chapter passes a draw function ``draw(fig, analysis, view)`` (from :mod:`musicnn_nb.figures`)
and gets the figure as an ordinary static output (visible in the HTML book without a
kernel), the controls (rendered from saved widget state in the HTML book), and a player for
the current segment. In a live session every change redraws the figure in place; the
network is never recomputed, because :func:`musicnn_nb.analyse` serves cached results.
A bad choice (unreadable file, say) is reported under the controls and the previous state
is kept.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import ipywidgets as w
import numpy as np
import PIL.Image
from IPython.display import Audio, Image, display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .analysis import nontrivial_units
from .audio import default_audio
from .errors import MusicnnNbError
from .pipeline import Analysis, analyse
from .plots import COLORMAPS
from .spectrogram import SAMPLE_RATE
from .weights import groups_of, layer_size, load_model

CONTROLS = ("model", "segment", "unit", "scale", "audio")


@dataclass(frozen=True)
class View:
    """What the reader chose: model, segment, unit, colour scale (None = automatic)."""

    model: str = "MSD"
    segment: int = 0
    vmin: float | None = None
    vmax: float | None = None
    cmap: str | None = None
    unit: str | None = None  # a stable unit name such as "cnn1/38x7/12"


DrawFunction = Callable[[Figure, Analysis, View], None]


def unit_choices(model: str, layer: str, group: str | None = None, nontrivial_only: bool = False) -> list[str]:
    """Names of the units of ``layer`` (optionally one kernel group, optionally only the
    units :func:`musicnn_nb.analysis.nontrivial_units` keeps) for the unit control."""
    weights = load_model(model)
    rows = nontrivial_units(weights, layer).rows if nontrivial_only else range(layer_size(layer))
    names = [weights.unit(r, layer).name for r in rows]
    return [n for n in names if group in (None, "all") or n.split("/")[1] == group]


def _shown_path(path: Path) -> str:
    """The path as the reader would type it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)


def _layer_of(unit: str) -> str:
    return unit.split("/")[0]


def _group_options(layer: str) -> list[str]:
    """The kernel-group filter's choices for a layer: all, or one group by name."""
    return ["all", *(g.name for g in groups_of(layer))]


PNG_DPI = 90  # pixels per inch of an explorer's figure


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG at its own dpi, drawn once by Agg. (``savefig`` draws a figure that
    has a layout engine twice, once to lay it out; an explorer lays out only when its axes
    change, so the extra pass would double the time a reader waits.)"""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buffer, format="png")
    return buffer.getvalue()


class Explorer:
    """Controls for ``view`` over ``draw``'s figure; see the module docstring."""

    def __init__(self, draw: DrawFunction, *, path: str | Path | None = None, view: View = View(),
                 controls: Sequence[str] = ("model", "segment", "scale", "audio"), layers: Sequence[str] = ("cnn1",),
                 figsize: tuple[float, float] = (10, 4), scale: tuple[float, float] = (-10.0, 10.0)):
        unknown = set(controls) - set(CONTROLS)
        if unknown:
            raise ValueError(f"unknown controls {sorted(unknown)}: choose from {CONTROLS}")
        self.draw = draw
        self.layers = tuple(layers)
        self.path = Path(path) if path is not None else default_audio()
        self.analysis = analyse(self.path, view.model)
        if "unit" in controls and view.unit is None:
            view = replace(view, unit=unit_choices(view.model, self.layers[0], nontrivial_only=True)[0])
        if view.unit is not None:
            view = replace(view, unit=load_model(view.model).unit(view.unit, self.layers[0]).name)
        self.view = replace(view, segment=self.analysis.check_segment(view.segment))
        self.figsize = figsize
        self.figure = Figure(figsize=figsize, layout="constrained", dpi=PNG_DPI)
        self.last_redraw_s = 0.0
        self.png = b""
        self._layout: list[tuple[type, object]] = []
        self._controls = tuple(controls)
        self._build_controls(scale)
        self._figure_handle = self._player_handle = None

    # -- controls -------------------------------------------------------------------------
    def _build_controls(self, scale: tuple[float, float]) -> None:
        v = self.view
        self.model = w.ToggleButtons(options=["MSD", "MTT"], value=v.model, description="model")
        self.segment = w.IntSlider(value=v.segment, min=0, max=self.analysis.n_segments - 1,
                                   description="segment", continuous_update=False)
        self.auto = w.Checkbox(value=v.vmin is None and v.vmax is None, description="automatic colour scale")
        narrow = {"layout": w.Layout(width="150px"), "style": {"description_width": "40px"}}
        self.vmin = w.FloatText(value=scale[0] if v.vmin is None else v.vmin, description="min", **narrow)
        self.vmax = w.FloatText(value=scale[1] if v.vmax is None else v.vmax, description="max", **narrow)
        self.cmap = w.Dropdown(options=["automatic", *COLORMAPS], value=v.cmap or "automatic",
                               description="colours")
        layer = _layer_of(v.unit) if v.unit else self.layers[0]
        self.layer = w.Dropdown(options=self.layers, value=layer, description="layer")
        self.group = w.Dropdown(options=_group_options(layer), value="all", description="kernels")
        self.nontrivial = w.Checkbox(value=v.unit is None or v.unit in unit_choices(v.model, layer,
                                                                                      nontrivial_only=True),
                                     description="non-trivial units only")
        self.unit = w.Dropdown(options=[v.unit] if v.unit else [], value=v.unit, description="unit")
        self.file = w.Text(value=_shown_path(self.path), description="audio file", layout=w.Layout(width="60%"))
        self.load = w.Button(description="analyse file")
        self.status = w.HTML(value=self._describe())
        self._syncing = False
        self._sync_controls()
        for control in (self.model, self.segment, self.auto, self.vmin, self.vmax, self.cmap, self.unit,
                        self.layer, self.group, self.nontrivial):
            control.observe(self._on_change, names="value")
        self.load.on_click(self._on_load)
        rows = {"model": [self.model], "segment": [self.segment],
                "unit": [w.HBox([self.layer] * (len(self.layers) > 1) + [self.group, self.nontrivial]), self.unit],
                "scale": [self.auto, w.HBox([self.vmin, self.vmax, self.cmap])],
                "audio": [w.HBox([self.file, self.load])]}
        self.controls = w.VBox([c for key in CONTROLS if key in self._controls for c in rows[key]]
                               + [self.status])

    def _describe(self, error: str = "") -> str:
        a = self.analysis
        text = (f"<b>{a.path.name}</b>, model {a.model.name}, segment {self.view.segment} of "
                f"{a.n_segments} (starts at {a.segment_start_s[self.view.segment]:.2f} s)"
                + (f", unit <code>{self.view.unit}</code>" if self.view.unit else ""))
        return text + (f"<br><span style='color:#b00020'>{error}</span>" if error else "")

    def _read_view(self) -> View:
        auto = self.auto.value
        return View(self.model.value, self.segment.value, None if auto else self.vmin.value,
                    None if auto else self.vmax.value, None if self.cmap.value == "automatic" else self.cmap.value,
                    self.unit.value)

    def _sync_controls(self) -> None:
        """Make the controls show ``self.view`` without triggering redraws."""
        v, a = self.view, self.analysis
        self._syncing = True
        try:
            self.model.value = v.model
            self.segment.max = a.n_segments - 1
            self.segment.value = v.segment
            self.cmap.value = v.cmap or "automatic"
            if v.unit is not None:
                layer = _layer_of(v.unit)
                if self.layer.value != layer:
                    self.layer.value = layer
                    self._reset_groups()
                options = unit_choices(v.model, layer, self.group.value, self.nontrivial.value)
                self.unit.options = options if v.unit in options else [v.unit, *options]
                self.unit.value = v.unit
        finally:
            self._syncing = False

    def _reset_groups(self) -> None:
        """Offer the kernel groups of the chosen layer, with all of them selected."""
        self.group.options = _group_options(self.layer.value)
        self.group.value = "all"

    def _on_change(self, change) -> None:
        if self._syncing:
            return
        view = self._read_view()
        if change["owner"] is self.layer:
            self._syncing = True
            self._reset_groups()
            self._syncing = False
        if view.unit is not None and change["owner"] in (self.model, self.layer, self.group, self.nontrivial):
            options = unit_choices(view.model, self.layer.value, self.group.value, self.nontrivial.value)
            if not options:
                self.status.value = self._describe("no unit passes these filters: the current unit stays.")
                return
            view = replace(view, unit=view.unit if view.unit in options else options[0])
        self.update(view)

    def _on_load(self, _button=None) -> None:
        self.open(self.file.value)

    # -- actions --------------------------------------------------------------------------
    def open(self, path: str | Path) -> None:
        """Analyse another file; on failure keep the current one and say why."""
        try:
            analysis = analyse(path, self.view.model)
        except MusicnnNbError as error:
            self.file.value = _shown_path(self.path)
            self.status.value = self._describe(str(error))
            return
        self.path, self.analysis = Path(path), analysis
        self.update(replace(self.view, segment=min(self.view.segment, analysis.n_segments - 1)))

    def update(self, view: View) -> None:
        """Show ``view``: switch model if needed (cached), then redraw figure and player."""
        try:
            analysis = analyse(self.path, view.model) if view.model != self.analysis.model.name else self.analysis
            view = replace(view, segment=analysis.check_segment(view.segment))
            if view.unit is not None:
                analysis.model.unit(view.unit, self.layers[0])
        except MusicnnNbError as error:
            self.status.value = self._describe(str(error))
            return
        self.analysis, self.view = analysis, view
        self._sync_controls()
        self.redraw()

    def redraw(self) -> None:
        """Draw the current view and render it; ``last_redraw_s`` is what a reader waits.

        Each view is drawn on a new figure (``Figure.clear`` would first clear every axes it is
        about to delete). Constrained layout is the slowest part of a render, so it runs only
        when the figure's set of axes changes; otherwise the axes go back to the positions it
        last computed.
        """
        start = time.perf_counter()
        self.figure = Figure(figsize=self.figsize, layout="constrained", dpi=PNG_DPI)
        self.draw(self.figure, self.analysis, self.view)
        axes = self.figure.axes
        reuse = len(axes) == len(self._layout) and all(
            type(ax) is kind for ax, (kind, _) in zip(axes, self._layout))
        if reuse:
            for ax, (_, position) in zip(axes, self._layout):
                ax.set_position(position)
        else:  # lay out once without rendering, as savefig does, then render with the layout fixed
            self.figure.draw_without_rendering()
        self.figure.set_layout_engine("none")
        self.png = figure_png(self.figure)
        self._layout = [(type(ax), ax.get_position()) for ax in axes]
        self.last_redraw_s = time.perf_counter() - start
        self.status.value = self._describe()
        if self._figure_handle is not None:
            self._figure_handle.update(Image(self.png))
            self._player_handle.update(self._player())

    def _player(self) -> Audio:
        return Audio(self.analysis.segment_samples(self.view.segment), rate=SAMPLE_RATE)

    def show(self) -> "Explorer":
        """Display figure, controls and player (the figure is also the static default)."""
        self.redraw()
        self._figure_handle = display(Image(self.png), display_id=True)
        display(self.controls)
        self._player_handle = display(self._player(), display_id=True)
        return self


def explore(draw: DrawFunction, **options) -> None:
    """Build and show an :class:`Explorer`: the one line a chapter needs. (To keep a handle
    on it in a live session, use ``Explorer(draw, **options).show()``.)"""
    Explorer(draw, **options).show()
