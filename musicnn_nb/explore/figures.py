"""The book's explorer figures, each an :class:`musicnn_nb.widgets.ExplorerFigure` that an
:class:`musicnn_nb.widgets.Explorer` shows and then moves from view to view in place, built
from :mod:`musicnn_nb.plots` helpers.

Inside an explorer, time runs from the start of the segment (where the segment starts is
written in a title or in the figure's top-left corner), and automatic colour scales and value
axes span the whole recording: moving the segment slider then changes the data, never the
axes or the meaning of a colour.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.text import Text

from musicnn_nb.explore.widgets import ExplorerFigure, View, data_area
from musicnn_nb.facts.tags import segment_top_tags
from musicnn_nb.model.network import LAYER_INPUT, LAYER_OUTPUT
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.weights import Unit
from musicnn_nb.present import plots
from musicnn_nb.present.notation import mark_row_groups, u_row_groups, w_row_groups
from musicnn_nb.present.segmentation import segmentation_figure

SEGMENT_TIME = "time in segment (s)"


def limits(data: np.ndarray, view: View) -> dict:
    """The colour scale the reader chose, completed from ``data`` (see :func:`plots.color_limits`)."""
    lo, hi, cmap = plots.color_limits(data, view.vmin, view.vmax, view.cmap)
    return {"vmin": lo, "vmax": hi, "cmap": cmap}


def show_image(image: AxesImage, data: np.ndarray, scale: dict) -> None:
    """Put ``data`` and a colour scale on an image (and so on its colour bar)."""
    image.set_data(data)
    show_scale(image, scale)


def show_scale(image: AxesImage, scale: dict) -> None:
    """Give an image a colour scale, if it differs, telling its colour bar once: a colour bar
    recomputes itself on every change it hears of."""
    limits, changed = (scale["vmin"], scale["vmax"]), False
    with image.callbacks.blocked():
        if image.get_clim() != limits:
            image.set_clim(*limits)
            changed = True
        if image.get_cmap().name != scale["cmap"]:
            image.set_cmap(scale["cmap"])
            changed = True
    if changed:
        image.changed()


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


def segment_label(fig: Figure) -> Text:
    """The figure's top-left corner, where a figure whose title names its unit says the segment."""
    return fig.text(0.005, 0.995, "", ha="left", va="top", fontsize=10)


class InputView(ExplorerFigure):
    """Chapter 3: one segment's M_dB and the normalised M̂_dB the network sees."""

    web = "input"  # its version in the built page (musicnn_nb.explore.web)

    def __init__(self, fig: Figure, a: Analysis, view: View):
        super().__init__(fig, a, view)
        left, right = fig.subplots(1, 2)
        s = view.segment
        _, _, self.m_db, left_bar = plots.spectrogram(a.M_dB[s], left, **limits(a.M_dB, view))
        _, _, self.m_hat, right_bar = plots.spectrogram(a.M_hat[s], right, colorbar_label="normalised value",
                                                        **limits(a.M_hat, view))
        for ax in (left, right):
            ax.set_xlabel(SEGMENT_TIME)
        self.update(a, view)
        self.artists = [*data_area(left), *data_area(right), left.title, right.title]
        self.scale_artists = [left_bar, right_bar]

    def update(self, a: Analysis, view: View) -> bool:
        s = view.segment
        show_image(self.m_db, a.M_dB[s], limits(a.M_dB, view))
        show_image(self.m_hat, a.M_hat[s], limits(a.M_hat, view))
        self.m_db.axes.set_title(f"M_dB, {segment_title(a, s)}")
        self.m_hat.axes.set_title(f"M̂_dB ({a.model.name} input batch-norm), segment {s}")
        return True


class TaggramView(ExplorerFigure):
    """Chapter 1: the taggram (tags x segments) with the chosen segment outlined, and that
    segment's ten largest tag weights. Colour limits default to the sigmoid's [0, 1]."""

    web = "taggram"  # its version in the built page (musicnn_nb.explore.web)

    def __init__(self, fig: Figure, a: Analysis, view: View):
        super().__init__(fig, a, view)
        self.taggram_ax, self.bars_ax = fig.subplots(1, 2, width_ratios=(2.2, 1))
        s = a.check_segment(view.segment)
        _, left, self.image, bar = plots.taggram(a.taggram, a.tags, a.segment_start_s, self.taggram_ax,
                                                 highlight=s)
        self.highlight = left.patches[-1]
        _, _, self.bars = plots.top_tags(segment_top_tags(a, s, 10), self.bars_ax)
        self.bars_ax.set_xlabel("tag weight")
        self.update(a, view)
        self.unit_artists = [left.yaxis, left.title]  # the model's tags
        self.scale_artists = [*(x for x in data_area(left) if x is not self.highlight), bar]
        self.artists = [self.highlight, *data_area(self.bars_ax), self.bars_ax.yaxis, self.bars_ax.title]

    def update(self, a: Analysis, view: View) -> bool:
        if not self.same_recording(a):  # its whole spectrogram or taggram: a new figure
            return False
        s = a.check_segment(view.segment)
        self.image.set_data(a.taggram.T)
        self.taggram_ax.set_yticks(range(len(a.tags)), a.tags)
        self.taggram_ax.set_title(f"{a.model.name} taggram of {a.path.name}")
        show_scale(self.image, {"vmin": 0.0 if view.vmin is None else view.vmin,
                                "vmax": 1.0 if view.vmax is None else view.vmax, "cmap": view.cmap or plots.SEQUENTIAL})
        self.highlight.set_x(s - 0.5)
        top = segment_top_tags(a, s, len(self.bars))
        for bar, (_, weight) in zip(self.bars, top):
            bar.set_width(weight)
        self.bars_ax.set_yticks([bar.get_y() + bar.get_height() / 2 for bar in self.bars], [t for t, _ in top])
        self.bars_ax.set_title(f"top {len(top)} tags in\n{segment_title(a, s)}")  # a wide title would be cut
        return True


class SegmentationView(ExplorerFigure):
    """Chapter 2: the chosen segment on the whole spectrogram, and that segment's W (753 × 187)
    with lines between its blocks U, V̂_1, V̂_1+V̂_2, V̂_1+V̂_2+V̂_3 (dotted: CNN_1's kernel groups).

    The colour controls act on W; the spectrogram keeps its automatic scale.
    """

    web = "segmentation"  # its version in the built page (musicnn_nb.explore.web)

    def __init__(self, fig: Figure, a: Analysis, view: View):
        super().__init__(fig, a, view)
        top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": (1, 2.2)})
        s = view.segment
        segmentation_figure(a, highlight=s, ax=top)
        self.span = next(p for p in top.patches if not p.get_fill())  # the outlined segment
        for number in top.texts:  # the outline alone marks the segment: the numbers never change
            number.set(color="black", fontweight="normal")
        _, _, self.w, bar = plots.matrix(a.W[s], bottom, row_label="row of W", colorbar_label="value",
                                         **limits(a.W, view))
        bottom.set_xlabel(SEGMENT_TIME)
        mark_row_groups(bottom, u_row_groups(), labels=False, linestyle=":",
                                     linewidth=0.6)
        mark_row_groups(bottom, w_row_groups())
        self.update(a, view)
        self.artists = [self.span, *data_area(bottom), bottom.title]
        self.scale_artists = [bar]

    def update(self, a: Analysis, view: View) -> bool:
        if not self.same_recording(a):  # its whole spectrogram or taggram: a new figure
            return False
        s = view.segment
        self.span.set_x(a.segment_start_s[s])
        w = a.W[s]
        show_image(self.w, w, limits(a.W, view))
        self.w.axes.set_title(f"W of {segment_title(a, s)} ({a.model.name}): {w.shape[0]} rows × {w.shape[1]} frames")
        return True


class UnitView(ExplorerFigure):
    """Chapters 4-8: one CNN_1 unit through every step on one segment.

    Its kernel K_i; the filtered map K_i ⋆ M̂_dB + b_i; Y_i after the rectifier; Ŷ_i after the
    unit's batch-norm; its row of U, [U]_{i,t} = max_f [Ŷ_i]_{f,t}; and the row that wins the
    max at each frame (frames where every row ties are left out). The colour controls act on
    the three maps.
    """

    web = "unit"  # its version in the built page (musicnn_nb.explore.web)

    MAPS = (("pre", "pre_activation", "$K \\star \\hat M_{dB} + b$"),
            ("Y", "Y", "$Y$ = ReLU($K \\star \\hat M_{dB} + b$)"),
            ("Y_hat", "Y_hat", "$\\hat Y$ after batch-norm"))

    def __init__(self, fig: Figure, a: Analysis, view: View):
        super().__init__(fig, a, view)
        unit = a.model.unit(view.unit, "cnn1")
        self.group = unit.group
        maps = a.unit_maps(unit.name, view.segment)
        axes = self.axes = fig.subplot_mosaic([["kernel", "pre", "Y"], ["Y_hat", "U", "win"]],
                                              width_ratios=(1, 1.4, 1.4))
        kernel = plots.kernel(unit.kernel, unit.group.frames, axes["kernel"])
        one_d = unit.group.rows == 1  # a one-row kernel is drawn as a line, a taller one as an image
        self.kernel = kernel[2][0] if one_d else kernel[2]
        row_label = "mel band" if one_d else f"output row (bands f…f+{unit.group.rows - 1})"
        self.images, bars = {}, []
        for key, field, title in self.MAPS:
            _, _, self.images[key], bar = plots.matrix(getattr(maps, field), axes[key], row_label=row_label,
                                                       title=title)
            axes[key].set_xlabel(SEGMENT_TIME)
            bars.append(bar)
            if one_d:
                plots.mel_axis(axes[key], n_ticks=4)
        u = a.U[view.segment, unit.index]
        self.stem = plots.series(u, axes["U"], ylabel="$[U]_{i,t}$", stem=True,
                                 title="row of U: max over frequency of $\\hat Y$")[2]
        self.winner = plots.series(np.zeros(u.size), axes["win"], ylabel=row_label)[2][0]
        self.winner.set(linestyle="none", marker=".", markersize=3)
        axes["win"].set_ylim(-0.5, maps.Y_hat.shape[0] - 0.5)
        for key in ("U", "win"):
            axes[key].set_xlabel(SEGMENT_TIME)
        self.suptitle = fig.suptitle("", fontsize=10)
        self.segment = segment_label(fig)
        self._song = None
        self.update(a, view)
        kernel_scale = [kernel[3]] if not one_d else [axes["kernel"].yaxis]
        self.unit_artists = [*data_area(axes["kernel"]), axes["kernel"].title, *kernel_scale, axes["U"].yaxis,
                             self.suptitle]
        self.scale_artists = bars
        self.artists = [*(x for key in ("pre", "Y", "Y_hat", "U", "win") for x in data_area(axes[key])),
                        axes["win"].title, self.segment]

    def song(self, a: Analysis, unit: str) -> dict[str, np.ndarray]:
        """The unit's maps on every segment (for scales that hold across segments), kept per unit."""
        if self._song is None or self._song[0] != (a, unit):
            maps = [a.unit_maps(unit, s) for s in range(a.n_segments)]
            self._song = ((a, unit), {field: np.stack([getattr(m, field) for m in maps])
                                      for _, field, _ in self.MAPS})
        return self._song[1]

    def update(self, a: Analysis, view: View) -> bool:
        unit = a.model.unit(view.unit, "cnn1")
        if unit.group.name != self.group.name:  # other kernel and map sizes: a new figure
            return False
        s, axes = view.segment, self.axes
        maps, song = a.unit_maps(unit.name, s), self.song(a, unit.name)
        if isinstance(self.kernel, AxesImage):
            show_image(self.kernel, unit.kernel, limits(unit.kernel, View()))
        else:
            self.kernel.set_ydata(unit.kernel[0])
            value_range(axes["kernel"], unit.kernel)
        axes["kernel"].set_title(f"kernel $K_{{{unit.index}}}$")
        for key, field, _ in self.MAPS:
            show_image(self.images[key], getattr(maps, field), limits(song[field], view))
        u = a.U[s, unit.index]
        self.stem.markerline.set_ydata(u)
        self.stem.stemlines.set_segments([((t, 0.0), (t, v)) for t, v in zip(self.stem.markerline.get_xdata(), u)])
        value_range(axes["U"], np.append(a.U[:, unit.index], 0.0))
        axes["U"].set_ylabel(f"$[U]_{{{unit.index},t}}$")
        tied = maps.Y_hat.max(axis=0) == maps.Y_hat.min(axis=0)
        self.winner.set_ydata(np.where(tied, np.nan, maps.row_of_max.astype(float)))
        axes["win"].set_title(f"winning row ({int(tied.sum())} tied frames left out)")
        self.segment.set_text(segment_title(a, s))
        self.suptitle.set_text(unit_summary(unit, a.model.name))
        return True


MATH_NAMES = {"U": "$U$", "V1_hat": "$\\hat V_1$", "V2_hat": "$\\hat V_2$", "V3_hat": "$\\hat V_3$",
              "V12_hat": "$\\hat V_1+\\hat V_2$", "V123_hat": "$\\hat V_1+\\hat V_2+\\hat V_3$"}


class MidendView(ExplorerFigure):
    """Chapters 10-12: one CNN_2-4 unit on one segment.

    Its kernel (input rows x 7 frames) and how much of the kernel's energy falls on each input
    row; the layer's input; the unit's pre-activation, V and V̂ over time; and the layer's
    whole batch-normalised output V̂_k with the unit's row marked. The colour controls act on
    the input and output matrices.
    """

    web = "midend"  # its version in the built page (musicnn_nb.explore.web)

    SERIES = (("pre_activation", "pre-activation"), ("V", "$V$ (after ReLU)"),
              ("V_hat", "$\\hat V$ (after batch-norm)"))

    def __init__(self, fig: Figure, a: Analysis, view: View):
        super().__init__(fig, a, view)
        unit = a.model.unit(view.unit, "cnn2")
        self.layer, s = unit.layer, view.segment
        self.source, self.out = LAYER_INPUT[unit.layer], LAYER_OUTPUT[unit.layer][1]
        axes = self.axes = fig.subplot_mosaic([["kernel", "input", "output"], ["rows", "series", "series"]],
                                              width_ratios=(1, 1.5, 1.5))
        _, _, self.kernel, kernel_bar = plots.kernel(unit.kernel, unit.group.frames, axes["kernel"])
        row_label = f"input row ({MATH_NAMES[self.source]})"
        axes["kernel"].set_ylabel(row_label)
        self.energy = axes["rows"].plot(np.zeros(unit.kernel.shape[0]), np.arange(unit.kernel.shape[0]),
                                        linewidth=0.8)[0]
        axes["rows"].set(xlabel="kernel norm per input row", ylabel=row_label,
                         ylim=(-0.5, unit.kernel.shape[0] - 0.5), title="where the kernel puts its weight")
        _, _, self.input, input_bar = plots.matrix(a.arrays[self.source][s], axes["input"], row_label="row",
                                                   title=f"input: {MATH_NAMES[self.source]}")
        _, _, self.output, output_bar = plots.matrix(a.arrays[self.out][s], axes["output"], row_label="unit")
        self.mark = axes["output"].axhline(unit.index, color="black", linewidth=0.6, linestyle="--")
        self.lines = []
        for _, label in self.SERIES:
            self.lines += plots.series(np.zeros(a.arrays[self.out].shape[-1]), axes["series"], ylabel="value")[2]
            self.lines[-1].set_label(label)
        axes["series"].axhline(0, color="gray", linewidth=0.5)
        axes["series"].legend(fontsize="small", loc="upper right")
        for key in ("input", "output", "series"):
            axes[key].set_xlabel(SEGMENT_TIME)
        self.suptitle = fig.suptitle("", fontsize=10)
        self.segment = segment_label(fig)
        self._song = None
        self.update(a, view)
        self.unit_artists = [*data_area(axes["kernel"]), axes["kernel"].title, kernel_bar, *data_area(axes["rows"]),
                             axes["rows"].xaxis, axes["output"].title, axes["series"].yaxis, axes["series"].title,
                             self.suptitle]
        self.scale_artists = [input_bar, output_bar]
        self.artists = [*data_area(axes["input"]), *data_area(axes["output"]), *data_area(axes["series"]),
                        self.segment]

    def song(self, a: Analysis, unit: str) -> np.ndarray:
        """The unit's pre-activation, V and V̂ on every segment (for a value axis that holds
        across segments), kept per unit."""
        if self._song is None or self._song[0] != (a, unit):
            runs = [a.midend_unit(unit, s) for s in range(a.n_segments)]
            self._song = ((a, unit), np.array([[getattr(r, field) for field, _ in self.SERIES] for r in runs]))
        return self._song[1]

    def update(self, a: Analysis, view: View) -> bool:
        unit = a.model.unit(view.unit, "cnn2")
        if unit.layer != self.layer:  # another input and kernel size: a new figure
            return False
        s, axes = view.segment, self.axes
        show_image(self.kernel, unit.kernel, limits(unit.kernel, View()))
        axes["kernel"].set_title(f"kernel of {unit.name}")
        energy = np.sqrt((unit.kernel.astype(np.float64) ** 2).sum(axis=1))
        self.energy.set_xdata(energy)
        value_range(axes["rows"], np.append(energy, 0.0), axis="x")
        show_image(self.input, a.arrays[self.source][s], limits(a.arrays[self.source], view))
        show_image(self.output, a.arrays[self.out][s], limits(a.arrays[self.out], view))
        axes["output"].set_title(f"output {MATH_NAMES[self.out]} (unit {unit.index} marked)")
        self.mark.set_ydata([unit.index, unit.index])
        song = self.song(a, unit.name)
        for line, values in zip(self.lines, song[s]):
            line.set_ydata(values)
        value_range(axes["series"], np.append(song, 0.0))
        axes["series"].set_title(f"{unit.name} over time")
        self.segment.set_text(segment_title(a, s))
        self.suptitle.set_text(unit_summary(unit, a.model.name))
        return True

