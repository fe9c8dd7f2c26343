"""Explorers: controls over a figure that redraws from cached intermediates.

A chapter passes an :class:`ExplorerFigure` (from :mod:`musicnn_nb.figures`) and gets the
figure as an ordinary static output (visible in the HTML book without a kernel), the
controls (rendered from saved widget state in the HTML book), and a player for the current
segment. In a live session every change redraws the figure in place; the network is never
recomputed, because :func:`musicnn_nb.analyse` serves cached results. A bad choice
(unreadable file, say) is reported under the controls and the previous state is kept.

A redraw must feel instant, and matplotlib spends most of a full render on axes, ticks and
text that a change of view does not touch. So a figure is built once and then takes later
views in place: it sorts the artists a view changes into layers by what changes them (unit
or model, colour scale, segment), the explorer renders everything else once as a background
and keeps the canvas after each layer, and a redraw pastes the kept canvas below the lowest
layer the change alters and draws from there (blitting). Only a view of another shape (a
unit with another kernel size, say) builds a new figure.
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import ipywidgets as w
import numpy as np
from IPython.display import HTML, Image, display
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, ScalarFormatter

from musicnn_nb.explore.web import island_html, recording_key
from musicnn_nb.facts.units import nontrivial_units
from musicnn_nb.model.audio import default_audio
from musicnn_nb.model.errors import MusicnnNbError
from musicnn_nb.model.pipeline import Analysis, analyse
from musicnn_nb.model.weights import groups_of, layer_size, load_model
from musicnn_nb.present.plots import COLORMAPS
from musicnn_nb.present.sound import player

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


Changing = Artist | Colorbar  # a colour bar stands for the artists it has when drawn


class ExplorerFigure:
    """A figure of one view that can take later views in place (see the module docstring).

    A subclass draws the view on ``fig`` in ``__init__`` and sorts what later views change into
    three lists, by what changes them: ``unit_artists``, the model, the unit or the recording
    (the kernel, axes whose limits follow the unit, a title naming it); ``scale_artists``, also
    the colour controls (colour bars); ``artists``, also the segment (images, lines, a label
    naming the segment). Automatic colour scales and limits therefore span the whole
    recording, not one segment: moving through segments keeps axes and colours comparable.
    ``update`` sets the artists' data for another view and returns True, or returns False,
    changing nothing, when that view needs a new figure.
    """

    unit_artists: list[Changing]
    scale_artists: list[Changing]
    artists: list[Changing]

    def __init__(self, fig: Figure, analysis: Analysis, view: View):
        self.fig = fig
        self.unit_artists, self.scale_artists, self.artists = [], [], []
        self.recording = (analysis.path, analysis.segment_start_s)

    def update(self, analysis: Analysis, view: View) -> bool:
        return False

    def same_recording(self, analysis: Analysis) -> bool:
        """Whether ``analysis`` cuts the recording the figure was built on into the same segments."""
        path, starts = self.recording
        return analysis.path == path and np.array_equal(analysis.segment_start_s, starts)

    @property
    def layers(self) -> tuple[list[Changing], list[Changing], list[Changing]]:
        """The three lists, from what changes least often to what changes most."""
        return self.unit_artists, self.scale_artists, self.artists


def data_area(ax: Axes) -> list[Artist]:
    """Everything an axes draws inside its frame, frame included, in the order matplotlib draws
    it: what must be redrawn, together, when the data in that frame changes."""
    inside = [*ax.images, *ax.collections, *ax.patches, *ax.lines, *ax.texts, *ax.spines.values()]
    if ax.get_legend() is not None:
        inside.append(ax.get_legend())
    return sorted(inside, key=lambda artist: artist.get_zorder())


def drawn_artists(items: Sequence[Changing]) -> list[Artist]:
    """The artists to draw for ``items``, a colour bar's as it is now: its colours, frame, ticks
    and label (matplotlib replaces a colour bar's colours whenever its scale changes)."""
    return [artist for item in items
            for artist in ([*data_area(item.ax), item.long_axis] if isinstance(item, Colorbar) else [item])]


FigureType = Callable[[Figure, Analysis, View], ExplorerFigure]


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
SPARE_ROOM = 0.08  # room between panels, as a fraction of their size, for tick labels that widen later


def canvas_png(canvas: FigureCanvasAgg) -> bytes:
    """What the canvas holds now, as an 8-bit RGB PNG. Written here, rows unfiltered and zlib at
    its fastest level, because that takes about two thirds of Pillow's time at its fastest, for
    a smaller file on an explorer's flat colours; a redraw waits for it."""
    rgba = np.asarray(canvas.buffer_rgba())
    height, width, _ = rgba.shape
    rows = np.zeros((height, 1 + 3 * width), np.uint8)  # each row: filter type 0, then RGB
    rows[:, 1:].reshape(height, width, 3)[:] = rgba[..., :3]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, truecolour, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
            + chunk(b"IEND", b""))


class WholeTicks(Formatter):
    """Tick labels that each carry their whole value ("0.25", "5e-11", "20000"), with as many
    significant digits as it takes to tell neighbouring ticks apart, and no separate offset or
    multiplier label."""

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


class Blitter:
    """Renders an :class:`ExplorerFigure` in layers: a background of everything it never changes,
    drawn once, then its three :attr:`ExplorerFigure.layers` in order. The canvas is kept after
    each of the first two, so ``render(first)`` draws layers ``first`` to 2 only: a change of
    segment draws the last layer alone.

    The layout was computed for the first view. After a render, ``outgrown`` says whether an
    axis of the first two layers (a colour bar's tick labels, say) now reaches into another
    axes or out of the figure: the layout did not give it that room.
    """

    def __init__(self, shown: ExplorerFigure):
        self.shown = shown
        items = [item for layer in shown.layers for item in layer]
        for item in items:
            # matplotlib's offset or multiplier label ("1e-3") comes and goes with the values,
            # where the layout and the titles left it no room: each tick carries its own
            # (a colour bar keeps its own formatter, which it puts back on every change)
            if isinstance(item, Colorbar) and isinstance(item.formatter, ScalarFormatter):
                item.formatter = WholeTicks()
            elif isinstance(item, Axis) and isinstance(item.get_major_formatter(), ScalarFormatter):
                item.set_major_formatter(WholeTicks())
        fig, changing = shown.fig, drawn_artists(items)
        self.canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        for artist in changing:  # left out of the background (only while it is drawn: savefig keeps them)
            artist.set_animated(True)
        self.canvas.draw()
        for artist in changing:
            artist.set_animated(False)
        self.kept = [self.canvas.copy_from_bbox(fig.bbox), None, None]  # the canvas before each layer
        self.rooms = None
        self.checked: dict[Axis, tuple] = {}
        self.outgrown = False

    def _crowded(self) -> bool:
        """Whether an axis of the first two layers now reaches outside the figure or into
        another axes (as the layout placed it, labels included). An axis with the limits and
        label it had at the last check has the same ticks, and is not measured again."""
        renderer, fig = self.canvas.get_renderer(), self.shown.fig
        if self.rooms is None:
            self.rooms = [(ax, box) for ax in fig.axes if (box := ax.get_tightbbox(renderer)) is not None]
        unit, scale, _ = self.shown.layers
        for axis in (a for a in drawn_artists([*unit, *scale]) if isinstance(a, Axis)):
            state = (tuple(axis.get_view_interval()), axis.label.get_text())
            if self.checked.get(axis) == state:
                continue
            self.checked[axis] = state
            box = axis.get_tightbbox(renderer)
            if box is not None and (box.x0 < -1 or box.y0 < -1 or box.x1 > fig.bbox.x1 + 1
                                    or box.y1 > fig.bbox.y1 + 1
                                    or any(ax is not axis.axes and box.overlaps(room) for ax, room in self.rooms)):
                return True
        return False

    def render(self, first: int = 0) -> bytes:
        fig, canvas = self.shown.fig, self.canvas
        while self.kept[first] is None:  # a layer below was never drawn
            first -= 1
        canvas.restore_region(self.kept[first])
        for i, layer in enumerate(self.shown.layers[first:], start=first):
            for artist in drawn_artists(layer):
                fig.draw_artist(artist)
            if i < 2:
                self.kept[i + 1] = canvas.copy_from_bbox(fig.bbox)
        if first < 2:
            self.outgrown = self._crowded()
        return canvas_png(canvas)


class Explorer:
    """Controls for ``view`` over a figure of type ``kind``; see the module docstring."""

    def __init__(self, kind: FigureType, *, path: str | Path | None = None, view: View = View(),
                 controls: Sequence[str] = ("model", "segment", "scale", "audio"), layers: Sequence[str] = ("cnn1",),
                 figsize: tuple[float, float] = (10, 4), scale: tuple[float, float] = (-10.0, 10.0)):
        unknown = set(controls) - set(CONTROLS)
        if unknown:
            raise ValueError(f"unknown controls {sorted(unknown)}: choose from {CONTROLS}")
        self.kind = kind
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
        self._blitter: Blitter | None = None
        self._drawn: tuple[Analysis, View] | None = None  # what the figure shows
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
        try:
            self._follow(change)
        except Exception as error:  # a callback's error belongs in the page, not in the kernel's log
            if self._drawn is not None:
                self.analysis, self.view = self._drawn  # back to what the figure shows
            self._sync_controls()
            self.status.value = self._describe(f"could not show that view ({type(error).__name__}: {error})")

    def _follow(self, change) -> None:
        """Take the view the controls now show (one control changed)."""
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
            self._sync_controls()  # the controls go back to the view still shown
            self.status.value = self._describe(str(error))
            return
        self.analysis, self.view = analysis, view
        self._sync_controls()
        self.redraw()

    def redraw(self) -> None:
        """Show the current view: in place when the figure can take it, drawing only the layers
        the change alters (see :class:`Blitter`), else on a new figure. ``last_redraw_s`` is
        what a reader waits."""
        start = time.perf_counter()
        if self._blitter is not None and self._blitter.shown.update(self.analysis, self.view):
            self.png = self._blitter.render(self._first_changed_layer())
            if self._blitter.outgrown:
                self._lay_out(self._blitter.shown)
        else:
            self.figure = Figure(figsize=self.figsize, layout="constrained", dpi=PNG_DPI)
            self._lay_out(self.kind(self.figure, self.analysis, self.view))
        self._drawn = (self.analysis, self.view)
        self.last_redraw_s = time.perf_counter() - start
        self.status.value = self._describe()
        if self._figure_handle is not None:
            self._figure_handle.update(Image(self.png))
            self._player_handle.update(self._player())

    def _first_changed_layer(self) -> int:
        """The lowest of the figure's layers that the change from the last drawn view alters."""
        analysis, view = self._drawn
        if analysis is not self.analysis or (view.model, view.unit) != (self.view.model, self.view.unit):
            return 0
        if (view.vmin, view.vmax, view.cmap) != (self.view.vmin, self.view.vmax, self.view.cmap):
            return 1
        return 2

    def _lay_out(self, shown: ExplorerFigure) -> None:
        """Lay the figure out for what it shows now (constrained layout, the slowest step of a
        render, is then switched off) and render it from scratch."""
        shown.fig.set_layout_engine("constrained", wspace=SPARE_ROOM, hspace=SPARE_ROOM)
        shown.fig.draw_without_rendering()
        shown.fig.set_layout_engine("none")
        self._blitter = Blitter(shown)
        self.png = self._blitter.render()

    def _player(self) -> HTML:
        return player(self.analysis.segment_samples(self.view.segment))

    def island(self) -> str:
        """The element by which the built page's script draws this explorer in the browser
        (see :mod:`musicnn_nb.explore.web`); empty when the figure type has no page version."""
        kind = getattr(self.kind, "web", None)
        if kind is None:
            return ""
        v = self.view
        first = {"model": v.model, "segment": v.segment, "unit": v.unit, "vmin": v.vmin, "vmax": v.vmax, "cmap": v.cmap}
        return island_html(kind, recording_key(self.path), first, self.layers, self.path.suffix.lower())

    def show(self) -> Explorer:
        """Display figure, controls and player (the figure is also the static default), after
        the island from which the built page draws the same explorer without a kernel."""
        self.redraw()
        if island := self.island():
            display(HTML(island))
        self._figure_handle = display(Image(self.png), display_id=True)
        display(self.controls)
        self._player_handle = display(self._player(), display_id=True)
        return self


def explore(kind: FigureType, **options) -> None:
    """Build and show an :class:`Explorer`: the one line a chapter needs. (To keep a handle
    on it in a live session, use ``Explorer(kind, **options).show()``.)"""
    Explorer(kind, **options).show()
