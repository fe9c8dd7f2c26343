"""The 408 two-dimensional kernels of CNN_1, 38×7 and 67×7 (chapter 5, "CNN_1: the 408
two-dimensional convolutions").

Each 2-D unit correlates a kernel K_i that spans h mel bands (38 or 67) and 7 frames with
the normalised spectrogram M̂_dB. Over frequency nothing is padded, so output row f reads
bands f … f+h−1; over time 3 zero frames pad each side. This module ranks the kernels by
Frobenius norm, counts the non-trivial ones per group with their criterion, summarises from
the weights where a kernel's energy lies (which band offsets, which time lags), and draws
the kernels and their outputs on a segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure, SubFigure
from matplotlib.image import AxesImage

from musicnn_nb.facts.units import (
    M_DB_MAX,
    NORM_THRESHOLD,
    group_sensitivity,
    largest_norm_unit,
    map_rows,
    nontrivial_in_group,
    ranked_units,
)
from musicnn_nb.model.network import PAD, cnn1_group_maps
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FRAME_SECONDS, N_MELS, mel_center_hz
from musicnn_nb.model.weights import Group, Model, Unit, groups_of
from musicnn_nb.present import plots

TWO_D: tuple[Group, ...] = tuple(g for g in groups_of("cnn1") if g.rows > 1)  # 38x7, 67x7
GALLERY_SIZE = 24  # kernels per gallery: at most this many of a group's largest
CLIP_PERCENTILE = 99.5  # the galleries' colour scale ends at this percentile of |K_i| / ‖K_i‖_F
CENTRAL_FRAMES = 3  # the frames at lags −1, 0, +1 that "concentrated in time" refers to


def _subplots(fig: Figure | SubFigure | None, figsize: tuple[float, float], **options):
    """``fig`` (or a new figure of ``figsize``) and its grid of subplots."""
    if fig is None:
        fig = plt.figure(figsize=plots.column_size(*figsize), layout="constrained")
    return fig, fig.subplots(**options)


def band_span(group: Group, row: int) -> tuple[int, int]:
    """First and last mel band that output row ``row`` of the group reads."""
    if not 0 <= row < map_rows(group):
        raise ValueError(f"a {group.name} map has rows 0 to {map_rows(group) - 1}, not {row}")
    return row, row + group.rows - 1


# ---------------------------------------------------------------------------------------
# Norms and counts (per group: musicnn_nb.facts.units.nontrivial_in_group, ranked_units, ...)
# ---------------------------------------------------------------------------------------

def largest_units(model: Model) -> list[Unit]:
    """The unit with the largest kernel norm in each 2-D group, 38x7 first (chapter 5)."""
    return [largest_norm_unit(model, (g,)) for g in TWO_D]


def largest_unit(model: Model) -> Unit:
    """The 2-D unit with the largest kernel norm: the chapter's explorer opens on it."""
    return largest_norm_unit(model, TWO_D)


def structure_table() -> str:
    """The two groups' shapes, from :data:`musicnn_nb.model.weights.GROUPS`, as Markdown (chapter 5)."""
    head = ("| group | units | rows of U | kernel: bands × frames | time span of a kernel | time padding | "
            "rows of $\\mathbf{K}_i \\star \\hat{\\mathbf{M}}_{\\mathrm{dB}}$ |\n"
            "|---|---:|---:|---:|---:|---:|---:|")
    lines = [f"| `{g.name}` | {g.size} | {g.first_row}–{g.stop_row - 1} | {g.rows} × {g.frames} | "
             f"{g.frames * FRAME_SECONDS * 1000:.0f} ms | {PAD} + {PAD} frames | "
             f"{N_MELS} − {g.rows} + 1 = {map_rows(g)} |" for g in TWO_D]
    return "\n".join([head, *lines, f"| both | {sum(g.size for g in TWO_D)} | | | | | |"])


def coverage_table(n_rows: int = 4) -> str:
    """Which mel bands (and centre frequencies) some output rows of each group read (chapter 5)."""
    hz = mel_center_hz()
    head = "| group | output row f | mel bands read | centre frequencies |\n|---|---:|---:|---:|"
    lines = []
    for g in TWO_D:
        for f in np.unique(np.linspace(0, map_rows(g) - 1, n_rows).round().astype(int)):
            first, last = band_span(g, int(f))
            lines.append(f"| `{g.name}` | {f} | {first}–{last} | {hz[first]:,.0f}–{hz[last]:,.0f} Hz |")
    return "\n".join([head, *lines])


def counts_table(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Non-trivial kernels per model and group, with the largest one, as Markdown (chapter 5)."""
    head = ("| model | group | non-trivial kernels | largest norm | its unit | criterion |\n"
            "|---|---|---:|---:|---|---|")
    lines = []
    for model in models:
        counts = [nontrivial_in_group(model, g, threshold) for g in TWO_D]
        for g, c in zip(TWO_D, counts):
            top = ranked_units(model, g, 1, threshold)
            largest = f"{top[0].norm:.3g} | `{top[0].name}`" if top else "– | –"
            lines.append(f"| {model.name} | `{g.name}` | {c.count} of {c.total} | {largest} | {c.criterion} |")
        lines.append(f"| {model.name} | both | {sum(c.count for c in counts)} of "
                     f"{sum(c.total for c in counts)} | | | |")
    return "\n".join([head, *lines])


def norms_figure(models: Sequence[Model], fig: Figure | SubFigure | None = None,
                 threshold: float = NORM_THRESHOLD):
    """Frobenius norms of all 408 2-D kernels, one panel per model, with the non-trivial
    threshold and the boundary between the groups (chapter 5). Returns figure, axes, handles."""
    stop = TWO_D[-1].stop_row
    fig, axes = _subplots(fig, (12, 1.2 + 2.3 * len(models)), nrows=len(models), sharex=True, squeeze=False)
    handles = []
    for ax, model in zip(axes[:, 0], models):
        handles += plots.norms({model.name: model.norms("cnn1")[:stop]}, ax, threshold=threshold)[2]
        handles += [ax.axvline(g.first_row - 0.5, color="black", linewidth=0.8) for g in TWO_D[1:]]
        ax.legend(fontsize="small", loc="lower right")
        ax.set(xlim=(-2, stop + 1), ylabel="‖K_i‖_F")
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    for g in TWO_D:
        label = f"{g.name} (rows {g.first_row}–{g.stop_row - 1} of U)"
        axes[0, 0].text((g.first_row + g.stop_row) / 2, 1.02, label, transform=axes[0, 0].get_xaxis_transform(),
                        ha="center", va="bottom", fontsize=9)
    return fig, axes[:, 0], handles


def input_bound(model: Model) -> float:
    """Largest |value| any cell of M̂_dB can take: the input batch-norm's image of the ends of
    M_dB's range [0, log10(10000 · 65504 + 1)] (zero padding adds 0)."""
    bn = model.input_bn
    return float(np.max(np.abs([bn(np.float32(0.0))[0], bn(np.float32(M_DB_MAX))[0]])))


def gain_bound(model: Model, group: Group, norm: float) -> float:
    """Largest change a kernel of Frobenius norm ``norm`` can make to K ⋆ M̂_dB (chapter 5).

    By Cauchy–Schwarz, |⟨K, P⟩| ≤ ‖K‖_F ‖P‖_F, and a window P of h × 7 cells has
    ‖P‖_F ≤ √(7h) · max |M̂_dB|.
    """
    return norm * np.sqrt(group.rows * group.frames) * input_bound(model)


def bound_sentence(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """What a kernel at the non-trivial threshold can do at most, per model and group."""
    parts = "; ".join(f"{m.name} {g.name}: {gain_bound(m, g, threshold):.2g}" for m in models for g in TWO_D)
    largest = ", ".join(f"{m.name} {input_bound(m):.3g}" for m in models)
    kernel, m_hat = r"\mathbf{K}_i", r"\hat{\mathbf{M}}_{\mathrm{dB}}"
    return (f"At the threshold, $\\|{kernel}\\|_F = {threshold:g}$, a kernel can move ${kernel} \\star {m_hat}$ "
            f"by at most {parts} (the bound $\\|{kernel}\\|_F \\sqrt{{7h}}\\, \\max |{m_hat}|$, with each "
            f"model's largest possible $|{m_hat}|$: {largest}).")


def spreads(analysis: Analysis, segment: int, group: Group) -> np.ndarray:
    """Range (max − min) of K_i ⋆ M̂_dB + b_i over one segment, for every unit of a group."""
    z = cnn1_group_maps(analysis.model, group, analysis.M_hat[analysis.check_segment(segment)])[0]
    return z.max(axis=(1, 2)) - z.min(axis=(1, 2))


def spread_table(analyses: Sequence[Analysis], segment: int, threshold: float = NORM_THRESHOLD) -> str:
    """How much the filtered maps of trivial and non-trivial kernels move on one segment,
    per model and group, as Markdown (chapter 5): the criterion checked against real audio."""
    head = ("| model | group | largest range, trivial kernels | smallest range, non-trivial kernels | "
            "median range, non-trivial kernels |\n|---|---|---:|---:|---:|")
    lines = []
    for a in analyses:
        for g in TWO_D:
            spread = spreads(a, segment, g)
            live = np.zeros(g.size, dtype=bool)
            live[np.array(nontrivial_in_group(a.model, g, threshold).rows, dtype=int) - g.first_row] = True
            trivial = f"{spread[~live].max():.2g}" if (~live).any() else "–"
            alive = (f"{spread[live].min():.2g} | {np.median(spread[live]):.2g}" if live.any() else "– | –")
            lines.append(f"| {a.model.name} | `{g.name}` | {trivial} | {alive} |")
    return "\n".join([head, *lines])


def sensitivity_figure(models: Sequence[Model], ax: Axes | None = None, threshold: float = NORM_THRESHOLD):
    """How each group's count of non-trivial kernels moves with the norm threshold, per model."""
    counts = {f"{m.name} {g.name}": group_sensitivity(m, g) for m in models for g in TWO_D}
    return plots.sensitivity(counts, ax, total=TWO_D[0].size, threshold=threshold,
                             title="2-D kernels above a norm threshold, per group")


# ---------------------------------------------------------------------------------------
# What the kernels look like
# ---------------------------------------------------------------------------------------

def gallery(model: Model, group: Group, n: int = GALLERY_SIZE, columns: int = 12,
            fig: Figure | SubFigure | None = None
            ) -> tuple[Figure | SubFigure, np.ndarray, list[AxesImage], Colorbar]:
    """The group's largest non-trivial kernels, left to right and top to bottom by decreasing
    Frobenius norm, each divided by its norm so that all share one colour scale, which ends at
    the CLIP_PERCENTILE-th percentile of the drawn values (chapter 5).

    Returns the figure, the axes grid, one image per kernel drawn, and the shared colour bar.
    """
    units = ranked_units(model, group, n)
    count = nontrivial_in_group(model, group)
    if not units:
        raise ValueError(f"{model.name} has no non-trivial {group.name} kernel to draw")
    fig, axes, images, bar = plots.kernel_gallery(units, group.frames, fig, columns=columns,
                                                  clip_percentile=CLIP_PERCENTILE, row_label="band offset φ",
                                                  bar_label="K_i / ‖K_i‖_F")
    shown = "all" if len(units) == count.count else f"the {len(units)} largest"
    fig.suptitle(f"{model.name}, {group.name}: {shown} of the {count.count} non-trivial kernels "
                 f"({count.criterion}), by decreasing norm; titles give the unit (row of U) and ‖K_i‖_F",
                 fontsize=10)
    return fig, axes, images, bar


@dataclass(frozen=True)
class KernelShape:
    """Where one kernel's energy (its squared weights) lies, as shares of ‖K‖_F² (chapter 5)."""

    unit: str
    norm: float
    row_profile: np.ndarray  # share of energy in each kernel row φ (band offset); sums to 1
    time_profile: np.ndarray  # share of energy in each of the frames; sums to 1
    time_constant_share: float  # share of energy in the part of K that is constant over time

    @property
    def centroid_row(self) -> float:
        """Energy-weighted mean band offset φ."""
        return float(np.sum(self.row_profile * np.arange(self.row_profile.size)))

    @property
    def half_energy_rows(self) -> int:
        """Fewest kernel rows that together hold at least half of the energy."""
        return int(np.searchsorted(np.cumsum(np.sort(self.row_profile)[::-1]), 0.5) + 1)

    @property
    def central_share(self) -> float:
        """Share of energy in the CENTRAL_FRAMES frames around lag 0."""
        middle = self.time_profile.size // 2
        half = CENTRAL_FRAMES // 2
        return float(self.time_profile[middle - half : middle + half + 1].sum())


def kernel_shape(kernel: np.ndarray, unit: str = "") -> KernelShape:
    """Energy profiles of a kernel (rows × frames) over band offset and time lag (chapter 5).

    The time-constant part is the kernel averaged over its frames and repeated: a kernel that
    is all time-constant weighs every frame alike and only sees the spectral shape, a kernel
    with none of it answers to change over time only.
    """
    k = np.asarray(kernel, dtype=np.float64)
    energy = np.sum(k**2)
    constant = k.mean(axis=1, keepdims=True)
    return KernelShape(unit, float(np.sqrt(energy)), np.sum(k**2, axis=1) / energy,
                       np.sum(k**2, axis=0) / energy, float(np.sum(constant**2) * k.shape[1] / energy))


def kernel_shapes(model: Model, group: Group, threshold: float = NORM_THRESHOLD) -> list[KernelShape]:
    """:func:`kernel_shape` of every non-trivial kernel of a group, by decreasing norm."""
    return [kernel_shape(u.kernel, u.name) for u in ranked_units(model, group, threshold=threshold)]


def shapes_table(models: Sequence[Model]) -> str:
    """Medians of the energy measures over each group's non-trivial kernels (chapter 5)."""
    frames = TWO_D[0].frames
    head = ("| model | group | kernels | energy centroid φ (median) | rows holding half the energy (median) "
            f"| energy in the central {CENTRAL_FRAMES} frames (median; spread evenly: {CENTRAL_FRAMES / frames:.0%}) "
            f"| time-constant share of energy (median; constant over time: 100%, random: {1 / frames:.0%}) "
            f"| kernels with a share below 1/{frames} (these change sign along time) |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|")
    lines = []
    for model in models:
        for g in TWO_D:
            s = kernel_shapes(model, g)
            if not s:
                continue
            lines.append(f"| {model.name} | `{g.name}` | {len(s)} | "
                         f"{np.median([x.centroid_row for x in s]):.1f} of 0–{g.rows - 1} | "
                         f"{np.median([x.half_energy_rows for x in s]):.1f} of {g.rows} "
                         f"(spread evenly: {-(-g.rows // 2)}) | "
                         f"{np.median([x.central_share for x in s]):.0%} | "
                         f"{np.median([x.time_constant_share for x in s]):.0%} | "
                         f"{sum(x.time_constant_share < 1 / g.frames for x in s)} of {len(s)} |")
    return "\n".join([head, *lines])


def shapes_figure(models: Sequence[Model], fig: Figure | SubFigure | None = None):
    """What the non-trivial 2-D kernels look like, from their weights (chapter 5).

    One panel per group: each kernel as a dot at its energy centroid φ and its time-constant
    share (dot area ∝ ‖K_i‖_F), with the window's centre and the share 1/7 below which a kernel
    must change sign along time. Last panel: each model's and group's median share of energy
    per time lag. Returns the figure, the axes and the plotted collections and lines.
    """
    fig, axes = _subplots(fig, (13, 3.8), ncols=len(TWO_D) + 1, width_ratios=(1,) * len(TWO_D) + (1.1,))
    frames = TWO_D[0].frames
    lags = (np.arange(frames) - (frames - 1) // 2) * FRAME_SECONDS
    handles = []
    for ax, group in zip(axes, TWO_D):
        for i, model in enumerate(models):
            shapes = kernel_shapes(model, group)
            handles.append(ax.scatter([k.centroid_row for k in shapes], [k.time_constant_share for k in shapes],
                                      s=[40 * k.norm for k in shapes], color=f"C{i}", alpha=0.6,
                                      label=f"{model.name} ({len(shapes)} kernels)"))
        ax.axhline(1 / frames, color="gray", linestyle="--", linewidth=1, label=f"1/{frames}")
        ax.axvline((group.rows - 1) / 2, color="gray", linestyle=":", linewidth=1, label="window centre")
        ax.set(xlim=(-0.5, group.rows - 0.5), ylim=(0, 1), title=f"{group.name} kernels",
               xlabel=f"energy centroid φ (band offset, 0–{group.rows - 1})",
               ylabel="time-constant share of ‖K‖²")
        ax.legend(fontsize="small", loc="upper right")
    last = axes[-1]
    for i, model in enumerate(models):
        for group, style in zip(TWO_D, ("-o", "--s")):
            profile = np.median([k.time_profile for k in kernel_shapes(model, group)], axis=0)
            handles += last.plot(lags, profile, style, color=f"C{i}", label=f"{model.name} {group.name}")
    handles.append(last.axhline(1 / frames, color="gray", linestyle="--", linewidth=1, label="spread evenly"))
    last.set(xlabel="time lag (s)", ylabel="median share of ‖K‖² at the lag", ylim=(0, None),
             title="energy over time")
    last.legend(fontsize="small")
    return fig, axes, handles


# ---------------------------------------------------------------------------------------
# Outputs on M̂_dB
# ---------------------------------------------------------------------------------------

def outputs_figure(analysis: Analysis, segment: int, units: Sequence[Unit],
                   fig: Figure | SubFigure | None = None):
    """M̂_dB of one segment and, under it, K_i ⋆ M̂_dB + b_i of each unit next to its kernel
    (chapter 5). Output row f, which reads bands f … f+h−1, is drawn at its window's centre
    band f + (h−1)/2, so the map lines up with the spectrogram above it.

    Returns the figure, the axes by name ("M_hat", then each unit's name and "kernel <name>")
    and the images of the maps.
    """
    s = analysis.check_segment(segment)
    start = analysis.segment_start_s[s]
    layout = [["blank", "M_hat"], *([f"kernel {u.name}", u.name] for u in units)]
    if fig is None:
        fig = plt.figure(figsize=plots.column_size(13, 2.9 * (1 + len(units))), layout="constrained")
    axes = fig.subplot_mosaic(layout, width_ratios=(1.4, 5))
    axes["blank"].set_axis_off()
    plots.spectrogram(analysis.M_hat[s], axes["M_hat"], start_s=start, colorbar_label="normalised value",
                      title=f"M̂_dB ({analysis.model.name} input batch-norm), segment {s}")
    images = []
    for unit in units:
        maps = analysis.unit_maps(unit.name, s)
        g = unit.group
        bar = plots.kernel(unit.kernel, g.frames, axes[f"kernel {unit.name}"], title=f"$K_{{{unit.index}}}$")[3]
        bar.set_label("weight")
        axes[f"kernel {unit.name}"].set_ylabel("band offset φ")
        axes[f"kernel {unit.name}"].locator_params(axis="x", nbins=2)  # a narrow panel: few lag ticks
        centre = (g.rows - 1) / 2
        _, ax, image, _ = plots.matrix(maps.pre_activation, axes[unit.name], start_s=start,
                                       rows=(centre, centre + map_rows(g) - 1), colorbar_label="K ⋆ M̂_dB + b",
                                       title=(f"{unit.name}: K ⋆ M̂_dB + b with b = {unit.bias:.3g};\n"
                                              f"row f (bands f…f+{g.rows - 1}) drawn at band f+{centre:g}"))
        plots.mel_axis(ax)
        ax.set(ylim=(-0.5, N_MELS - 0.5), ylabel="window centre (mel band)")
        images.append(image)
    return fig, axes, images
