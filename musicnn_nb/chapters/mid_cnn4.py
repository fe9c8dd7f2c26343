"""CNN_4, its batch-norm, the last skip sum and W (chapter 12, "CNN_4, normalisation, and W").

CNN_4 reads the skip sum of the two layers before it and repeats their recipe:

    V_3 = ReLU(K ⋆ (V̂_1 + V̂_2) + b),   V̂_3 = γ (V_3 − μ)/√(σ² + ε) + β,

with 64 kernels of 64 input rows × 7 frames. The mid end then adds V̂_3 to the running sum
and stacks everything into W = [U; V̂_1; V̂_1+V̂_2; V̂_1+V̂_2+V̂_3] (753 × 187). This module
counts the non-trivial CNN_4 kernels, draws them, measures how each unit's V_3 behaves on a
recording (active, sparse, constantly high), summarises the batch-norm parameters, compares
the energies of V̂_1, V̂_2, V̂_3, and draws the sum and W. Every count comes with its
criterion, as in :mod:`musicnn_nb.analysis`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from musicnn_nb.facts.activity import ALWAYS_ON_SHARE, SERIES_UNITS, SPARSE_SHARE, STEADY_VARIATION
from musicnn_nb.facts.rows import by_activity, frames_of, sort_shift_scale, sorted_activity
from musicnn_nb.facts.units import NORM_THRESHOLD, UnitCount, nontrivial_units, ranked_units, trivial_units
from musicnn_nb.facts.units import explorer_unit as _explorer_unit
from musicnn_nb.model.network import PAD
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FRAME_SECONDS, N_MELS
from musicnn_nb.model.weights import Model, unit_name
from musicnn_nb.present import midend, plots
from musicnn_nb.present.notation import TEX, bn_parameters, mark_row_groups, robust_limit, u_row_groups, w_row_groups

LAYER = "cnn4"
GROUP = midend.group(LAYER)  # the one group: 64 kernels of 64 input rows × 7 frames
SERIES_NONTRIVIAL = {"MSD": 63, "MTT": 64}  # what part 12 of the series reports
SERIES_SEGMENTS = 4  # part 12 follows V_3 over four consecutive 3-s segments
PREFERRED_UNIT = unit_name(GROUP, SERIES_UNITS["active"][0])  # the explorer's default, if non-trivial

# Activity of a unit's V_3 over every frame of a recording: thresholds in facts.activity
CLASSES = ("active", "sparse", "constantly high", "silent")
CLASS_COLORS = {"active": "tab:red", "sparse": "tab:blue", "constantly high": "tab:orange", "silent": "0.5"}

BETA_TOLERANCE = 0.05  # |β_j| at or below this counts as "near zero"
SUMS = ("V1_hat", "V2_hat", "V3_hat")
SIDE_BY_SIDE_SCALE = (0.0, 10.0)  # the series' shared colour scale for V̂_1, V̂_2, V̂_3
SUM_SCALE = (-10.0, 10.0)  # the series' colour scale for V̂_1+V̂_2+V̂_3 and W
GALLERY_CLIP = 99.5  # the gallery's colour scale ends at this percentile of |K_j| / ‖K_j‖_F


def _math(key: str) -> str:
    return f"${TEX[key]}$"


def _bar_for(fig: Figure, image: AxesImage, axes, label: str, **options) -> Colorbar:
    """One colour bar for several axes (the bars plots.matrix attached are removed first)."""
    bar = fig.colorbar(image, ax=axes, pad=0.01, **options)
    bar.set_label(label)
    return bar


# ---------------------------------------------------------------------------------------
# Kernel norms
# ---------------------------------------------------------------------------------------

def counts_table(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Markdown: per model, the series' count of non-trivial CNN_4 kernels beside the recomputed
    one, with the criterion, the trivial units, and the norms on either side (chapter 12)."""
    lines = ["| model | the series reports | recomputed | criterion | trivial units | largest trivial norm "
             "| smallest non-trivial norm | largest norm |", "|---|---:|---:|---|---|---:|---:|---:|"]
    for model in models:
        live, dead = nontrivial_units(model, LAYER, threshold), trivial_units(model, LAYER, threshold)
        norms = model.norms(LAYER)
        dead_norm = f"{norms[list(dead.rows)].max():.3g}" if dead.count else "–"
        smallest = f"{norms[list(live.rows)].min():.3g}" if live.count else "–"
        claim = SERIES_NONTRIVIAL.get(model.name, "–")
        lines.append(f"| {model.name} | {claim} of {live.total} | {live.count} of {live.total} | {live.criterion} "
                     f"| {dead.listed} | {dead_norm} | {smallest} | {norms.max():.3g} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# The kernels
# ---------------------------------------------------------------------------------------

def gallery(model: Model, columns: int = 16, fig: Figure | None = None, threshold: float = NORM_THRESHOLD
            ) -> tuple[Figure, np.ndarray, list[AxesImage], Colorbar]:
    """Every non-trivial CNN_4 kernel (64 input rows × 7 frames), left to right and top to
    bottom by decreasing Frobenius norm, each divided by its norm so that all share one colour
    scale, which ends at the GALLERY_CLIP-th percentile of the drawn values (chapter 12).

    Returns the figure, the axes grid, one image per kernel drawn and the shared colour bar.
    """
    units = ranked_units(model, GROUP, threshold=threshold)
    if not units:
        raise ValueError(f"{model.name} has no non-trivial CNN_4 kernel to draw")
    fig, axes, images, bar = plots.kernel_gallery(units, GROUP.frames, fig, columns=columns,
                                                  clip_percentile=GALLERY_CLIP, row_height=2.3, row_label="input row",
                                                  bar_label=r"$\mathbf{K}_j / \|\mathbf{K}_j\|_F$")
    for ax in axes.flat[:len(units)]:
        ax.set_xticks([-PAD * FRAME_SECONDS, 0, PAD * FRAME_SECONDS], ["−.05", "0", ".05"])
        ax.tick_params(labelsize="small")
    count = nontrivial_units(model, LAYER, threshold)
    fig.suptitle(f"{model.name}: the {count.count} non-trivial CNN_4 kernels ({count.criterion}) by decreasing norm; "
                 f"rows are the input rows of {_math('V12_hat')}, titles give the unit j and $\\|K_j\\|_F$",
                 fontsize=10)
    return fig, axes, images, bar


# ---------------------------------------------------------------------------------------
# What single units do on a recording
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Activity:
    """How each unit's row of V_3 behaves over every frame of a recording (chapter 12)."""

    model: str
    share_on: np.ndarray  # share of frames with V_3 > 0 (the rectifier open)
    mean: np.ndarray  # mean of V_3 over all frames
    std: np.ndarray  # standard deviation of V_3 over all frames
    frames: int  # frames measured (segments × 187)

    @property
    def variation(self) -> np.ndarray:
        """std / mean (0 where the unit never opens)."""
        return np.divide(self.std, self.mean, out=np.zeros_like(self.std), where=self.mean > 0)


def activity_of(v3: np.ndarray, model: str) -> Activity:
    """:class:`Activity` of V_3 arrays (segments × units × frames)."""
    flat = np.moveaxis(np.asarray(v3, dtype=np.float64), 1, 0).reshape(v3.shape[1], -1)
    return Activity(model, (flat > 0).mean(axis=1), flat.mean(axis=1), flat.std(axis=1), flat.shape[1])


def activity(analysis: Analysis) -> Activity:
    """:class:`Activity` of every CNN_4 unit over all segments of the analysed recording."""
    return activity_of(analysis.V3, analysis.model.name)


def classify(act: Activity) -> dict[str, UnitCount]:
    """Each unit in one of CLASSES, with the criterion of each (chapter 12):

    silent: never open; sparse: open on fewer than SPARSE_SHARE of the frames; constantly
    high: open on at least ALWAYS_ON_SHARE of them with std/mean below STEADY_VARIATION;
    active: every other unit (open often, and varying).
    """
    silent = act.share_on == 0
    sparse = ~silent & (act.share_on < SPARSE_SHARE)
    steady = (act.share_on >= ALWAYS_ON_SHARE) & (act.variation < STEADY_VARIATION)
    active = ~(silent | sparse | steady)
    where = f"over the {act.frames:,} frames of the recording"
    criteria = {
        "silent": (silent, f"$V_3 > 0$ on no frame {where}", 0.0),
        "sparse": (sparse, f"$V_3 > 0$ on fewer than {SPARSE_SHARE:.0%} of the frames {where}, but on some",
                   SPARSE_SHARE),
        "constantly high": (steady, f"$V_3 > 0$ on at least {ALWAYS_ON_SHARE:.0%} of the frames {where}, "
                                    f"standard deviation below {STEADY_VARIATION:g} × mean", ALWAYS_ON_SHARE),
        "active": (active, f"every other unit: open often and varying {where}", SPARSE_SHARE),
    }
    return {name: UnitCount(act.model, LAYER, criterion, threshold, tuple(int(r) for r in np.flatnonzero(keep)))
            for name, (keep, criterion, threshold) in criteria.items()}


def class_of(classes: dict[str, UnitCount], unit: int) -> str:
    """The class :func:`classify` put ``unit`` in."""
    return next(name for name, count in classes.items() if unit in count.rows)


def _rank(values: np.ndarray, unit: int) -> int:
    """1 for the largest value."""
    return int(np.sum(values > values[unit])) + 1


def _rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (ties broken by order; enough for a description)."""
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def series_units_table(act: Activity, model: Model) -> str:
    """Markdown: the six units the series describes, what it says of them (on Disco Duck), and
    what they do on this recording, with their bias and kernel norm (chapter 12)."""
    classes = classify(act)
    b, norms = model.biases(LAYER), model.norms(LAYER)
    n = act.mean.size
    lines = ["| unit | the series (Disco Duck) | share of frames with $V_3 > 0$ | mean $V_3$ (rank) "
             "| std of $V_3$ (rank) | std / mean | class here | bias $b_j$ (rank) | $\\|\\mathbf{K}_j\\|_F$ (rank) |",
             "|---|---|---:|---:|---:|---:|---|---:|---:|"]
    for said, units in SERIES_UNITS.items():
        for j in units:
            lines.append(f"| `{unit_name(GROUP, j)}` | {said} | {act.share_on[j]:.0%} | {act.mean[j]:.3g} "
                         f"({_rank(act.mean, j)} of {n}) | {act.std[j]:.3g} ({_rank(act.std, j)}) "
                         f"| {act.variation[j]:.2f} | **{class_of(classes, j)}** | {b[j]:.3g} ({_rank(b, j)}) "
                         f"| {norms[j]:.3g} ({_rank(norms, j)}) |")
    return "\n".join(lines)


def classes_table(act: Activity) -> str:
    """Markdown: how many units fall in each class on this recording, which, and the criterion."""
    lines = ["| class | units | which | criterion |", "|---|---:|---|---|"]
    for name in CLASSES:
        c = classify(act)[name]
        which = ", ".join(str(r) for r in c.rows) if c.count <= 16 else f"{c.count} units (see the figure)"
        lines.append(f"| {name} | {c.count} of {c.total} | {which or '–'} | {c.criterion} |")
    return "\n".join(lines)


def agreement_sentence(act: Activity) -> str:
    """One sentence per class the series names: how many of its units land in that class here."""
    classes = classify(act)
    parts = []
    for said, units in SERIES_UNITS.items():
        here = [class_of(classes, j) for j in units]
        agree = sum(h == said for h in here)
        detail = ", ".join(f"{j} is {h}" for j, h in zip(units, here))
        parts.append(f"of the {len(units)} units it calls {said}, {agree} {'is' if agree == 1 else 'are'} "
                     f"{said} here ({detail})")
    return "Against the series' list: " + "; ".join(parts) + "."


def bias_sentence(act: Activity, model: Model) -> str:
    """What the biases say about the classes: rank correlation of b_j with the mean V_3, the
    constantly high units' biases against their mean V_3, and the silent units' biases."""
    classes = classify(act)
    b = model.biases(LAYER)
    parts = [f"Over the 64 units, the rank correlation between the bias $b_j$ and the mean of $V_3$ on this "
             f"recording is {_rank_correlation(b, act.mean):.2f}"]
    steady = classes["constantly high"].rows
    if steady:
        top = sorted(_rank(b, j) for j in steady)
        parts.append(f"the constantly high units ({', '.join(map(str, steady))}) have biases "
                     f"{', '.join(f'{b[j]:.3g}' for j in steady)} (ranks {', '.join(map(str, top))} of {b.size}) "
                     f"against mean outputs {', '.join(f'{act.mean[j]:.3g}' for j in steady)}")
    norms = model.norms(LAYER)
    for j in classes["silent"].rows:
        parts.append(f"the silent unit {j} has bias {b[j]:.3g} and kernel norm {norms[j]:.3g}")
    sparse = classes["sparse"].rows
    if sparse:
        parts.append(f"{sum(b[j] < 0 for j in sparse)} of the {len(sparse)} sparse units have a negative bias, "
                     f"against {int(np.sum(b < 0))} of all {b.size} units")
    return "; ".join(parts) + "."


def activity_figure(act: Activity, model: Model, fig: Figure | None = None):
    """Every unit as a dot, coloured by class, the series' six units labelled (chapter 12): left,
    share of frames with V_3 > 0 against mean V_3 (log); right, the unit's bias b_j against the
    same share. Returns figure, axes, handles."""
    fig = fig or plt.figure(figsize=plots.column_size(13, 5.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(1.4, 1))
    classes = classify(act)
    floor = max(float(act.mean[act.mean > 0].min()) / 2, 1e-6) if (act.mean > 0).any() else 1e-6
    b = model.biases(LAYER)
    handles = []
    for name in CLASSES:
        rows = list(classes[name].rows)
        label = f"{name} ({len(rows)})" + (": mean 0, drawn on the bottom edge" if name == "silent" else "")
        handles.append(left.scatter(act.share_on[rows], np.maximum(act.mean[rows], floor), s=28,
                                    marker="v" if name == "silent" else "o", color=CLASS_COLORS[name],
                                    label=label, clip_on=False))
        handles.append(right.scatter(b[rows], act.share_on[rows], s=28, color=CLASS_COLORS[name]))
    for said, units in SERIES_UNITS.items():
        for k, j in enumerate(units):
            late = act.share_on[j] > 0.8
            left.annotate(f"{j} (series: {said})", (act.share_on[j], max(act.mean[j], floor)), fontsize="small",
                          xytext=(-6 if late else 4, 4 - 10 * k * late), textcoords="offset points",
                          ha="right" if late else "left")
            right.annotate(str(j), (b[j], act.share_on[j]), fontsize="small", xytext=(3, 3), textcoords="offset points")
    for ax, x in ((left, "x"), (right, "y")):
        line = ax.axvline if x == "x" else ax.axhline
        line(SPARSE_SHARE, color="gray", linestyle="--", linewidth=0.8)
        line(ALWAYS_ON_SHARE, color="gray", linestyle=":", linewidth=0.8)
    left.set_yscale("log")
    left.set_ylim(bottom=floor)  # a silent unit's mean is 0, which a log axis cannot show: its marker sits on the edge
    left.set(xlabel="share of frames with $V_3 > 0$ (rectifier open)", ylabel="mean of $V_3$ over all frames",
             title=f"{act.model}: the 64 CNN_4 units\nover {act.frames:,} frames", xlim=(-0.03, 1.03))
    # the legend goes below the panels: they are narrow
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize="small",
               title="class here (dashed, dotted: share limits)", title_fontsize="small")
    right.axvline(0, color="gray", linewidth=0.5)
    right.set(xlabel="bias $b_j$", ylabel="share of frames with $V_3 > 0$", ylim=(-0.03, 1.03),
              title="the bias against\nthe share of open frames")
    return fig, (left, right), handles


def units_figure(analysis: Analysis, segment: int, units: dict[str, Sequence[int]] = SERIES_UNITS,
                 fig: Figure | None = None):
    """M_dB of one segment above the rows of V_3 of the given units, one panel per group
    (by default the series' active, sparse and constantly high units), on one time axis
    (chapter 12). Returns the figure and the axes (spectrogram first)."""
    s = analysis.check_segment(segment)
    start = analysis.segment_start_s[s]
    fig = fig or plt.figure(figsize=plots.column_size(12, 2.6 + 1.9 * len(units)), layout="constrained")
    axes = fig.subplots(1 + len(units), 2, sharex="col", width_ratios=(60, 1),
                        height_ratios=(1.5,) + (1,) * len(units))
    _, top, image, bar = plots.spectrogram(analysis.M_dB[s], axes[0, 0], start_s=start,
                                           title=f"$M_{{dB}}$, segment {s}")
    bar.remove()
    fig.colorbar(image, cax=axes[0, 1]).set_label("log10(10000·mel power + 1)")
    for ax, (label, rows) in zip(axes[1:, 0], units.items()):
        for j in rows:
            plots.series(analysis.V3[s, j], ax, start_s=start, ylabel="$V_3$",
                         title=f"units the series calls {label}")
            ax.lines[-1].set_label(f"unit {j}")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize="small", loc="upper right")
    for ax in axes[1:, 1]:
        ax.set_axis_off()
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    fig.suptitle(f"{analysis.path.name}, {analysis.model.name}: rows of $V_3$ (after the ReLU) under the "
                 "spectrogram", fontsize=10)
    return fig, axes[:, 0]


def consecutive_segments(analysis: Analysis, n: int = SERIES_SEGMENTS, first: int = 0) -> list[int]:
    """``n`` consecutive segments from ``first``, or as many as the recording has."""
    first = analysis.check_segment(first)
    return list(range(first, min(first + n, analysis.n_segments)))


def segments_figure(analysis: Analysis, key: str = "V3", n: int = SERIES_SEGMENTS, first: int = 0,
                    fig: Figure | None = None, percentile: float = 99.5):
    """An array (default V_3) over consecutive segments, side by side on one colour scale
    ending at ``percentile`` of its values there (chapter 12). Returns figure, axes, images."""
    segments = consecutive_segments(analysis, n, first)
    data = analysis.arrays[key][segments]
    signed = data.min() < 0
    limit = robust_limit(data, percentile)
    fig = fig or plt.figure(figsize=plots.column_size(13, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(segments), sharey=True))
    images = []
    for ax, s in zip(axes, segments):
        _, _, image, bar = plots.matrix(analysis.arrays[key][s], ax, start_s=analysis.segment_start_s[s],
                                        row_label="CNN_4 unit j" if ax is axes[0] else "", title=f"segment {s}",
                                        vmin=-limit if signed else 0.0, vmax=limit,
                                        cmap=plots.DIVERGING if signed else plots.SEQUENTIAL)
        bar.remove()
        images.append(image)
    _bar_for(fig, images[0], axes, f"{_math(key) if key in TEX else key} (clipped at {limit:.3g})", extend="max")
    fig.suptitle(f"{_math(key) if key in TEX else key} over {len(segments)} consecutive segments "
                 f"({analysis.path.name}, {analysis.model.name})", fontsize=10)
    return fig, axes, images


# ---------------------------------------------------------------------------------------
# The batch-norm of CNN_4
# ---------------------------------------------------------------------------------------

PARAMETERS = bn_parameters("j")


def beta_near_zero(model: Model, tolerance: float = BETA_TOLERANCE) -> UnitCount:
    """CNN_4 units whose batch-norm offset β_j is within ``tolerance`` of zero (chapter 12)."""
    beta = model.batch_norm(GROUP.bn).beta
    return UnitCount(model.name, LAYER, f"|β_j| ≤ {tolerance:g}", tolerance,
                     tuple(int(r) for r in np.flatnonzero(np.abs(beta) <= tolerance)))


def beta_sentence(models: Sequence[Model], tolerance: float = BETA_TOLERANCE,
                  threshold: float = NORM_THRESHOLD) -> str:
    """Per model: how many β_j are near zero, the largest |β_j|, and the non-trivial units'
    largest |β_j| / γ_j, the offset in units of the scale it is added to (chapter 12)."""
    parts = []
    for model in models:
        bn = model.batch_norm(GROUP.bn)
        live = list(nontrivial_units(model, LAYER, threshold).rows)
        near = beta_near_zero(model, tolerance)
        j = int(np.argmax(np.abs(bn.beta)))
        ratio = np.abs(bn.beta[live]) / np.abs(bn.gamma[live])
        parts.append(f"{model.name}: {near.count} of {near.total} units have $|\\beta_j| \\le {tolerance:g}$; the "
                     f"largest is $|\\beta_{{{j}}}| = {abs(bn.beta[j]):.3g}$, and over the non-trivial units "
                     f"$|\\beta_j| / |\\gamma_j|$ is at most {ratio.max():.3g} (median {np.median(ratio):.2g})")
    return "; ".join(parts) + "."


def levels_table(analysis: Analysis) -> str:
    """Markdown: for the series' units and every unit constantly high on this recording, the mean
    of V_3, the running mean μ_j the batch-norm subtracts, and the mean and std of V̂_3 over all
    frames (chapter 12): what the normalisation leaves of a steady output."""
    act, bn = activity(analysis), analysis.model.batch_norm(GROUP.bn)
    steady = classify(act)["constantly high"].rows
    units = list(dict.fromkeys([j for rows in SERIES_UNITS.values() for j in rows] + list(steady)))
    v_hat = np.moveaxis(analysis.V3_hat.astype(np.float64), 1, 0).reshape(act.mean.size, -1)
    lines = [r"| unit | class here | mean $V_3$ | $\mu_j$ | $\gamma_j/\sqrt{\sigma_j^2+\epsilon}$ | mean $\hat{V}_3$ "
             r"| std $\hat{V}_3$ |", "|---|---|---:|---:|---:|---:|---:|"]
    classes = classify(act)
    for j in units:
        lines.append(f"| `{unit_name(GROUP, j)}` | {class_of(classes, j)} | {act.mean[j]:.3g} | {bn.mean[j]:.3g} "
                     f"| {bn.scale[j]:.3g} | {v_hat[j].mean():.3g} | {v_hat[j].std():.3g} |")
    return "\n".join(lines)


def strongest_after_bn_sentence(analysis: Analysis, n: int = 10) -> str:
    """Which classes (of :func:`classify`, on V_3) the ``n`` units with the largest standard
    deviation of V̂_3 over the recording belong to (chapter 12)."""
    act = activity(analysis)
    classes = classify(act)
    std = np.moveaxis(analysis.V3_hat.astype(np.float64), 1, 0).reshape(act.mean.size, -1).std(axis=1)
    top = [int(j) for j in np.argsort(-std, kind="stable")[:n]]
    counts = {name: sum(class_of(classes, j) == name for j in top) for name in CLASSES}
    listed = ", ".join(f"{counts[name]} {name}" for name in CLASSES if counts[name])
    return (f"The {n} units whose $\\hat{{V}}_3$ has the largest standard deviation over the recording are "
            f"{', '.join(map(str, top))}; by their class on $V_3$: {listed}. For comparison, sparse units are "
            f"{len(classes['sparse'].rows)} of the layer's {act.mean.size}.")


def norm_rank_sentence(act: Activity, model: Model, threshold: float = NORM_THRESHOLD) -> str:
    """Where the constantly high units' kernel norms rank among the non-trivial kernels."""
    steady = classify(act)["constantly high"].rows
    live = nontrivial_units(model, LAYER, threshold)
    norms = model.norms(LAYER)[list(live.rows)]
    if not steady:
        return "No unit is constantly high on this recording."
    ranks = sorted(int(np.sum(norms > model.norms(LAYER)[j])) + 1 for j in steady)
    smallest = ranks == list(range(live.count - len(steady) + 1, live.count + 1))
    return (f"The constantly high units' kernel norms rank {', '.join(map(str, ranks))} among the {live.count} "
            f"non-trivial kernels (1 = largest)" + (f": they are the {len(steady)} smallest." if smallest else "."))


# ---------------------------------------------------------------------------------------
# V̂_3, and V̂_3 next to V̂_1 and V̂_2
# ---------------------------------------------------------------------------------------

def v3_hat_figure(analysis: Analysis, segment: int, fig: Figure | None = None, percentile: float = 99.5,
                  alpha: float = 0.6):
    """V̂_3 of one segment alone (top) and laid over M_dB (bottom): the spectrogram in grey,
    V̂_3's 64 rows stretched over the 96 mel bands in a translucent diverging map, units on
    the right axis (chapter 12). Returns figure, axes and the three images."""
    s = analysis.check_segment(segment)
    start = analysis.segment_start_s[s]
    v = analysis.V3_hat[s]
    limit = robust_limit(v, percentile)
    fig = fig or plt.figure(figsize=plots.column_size(12, 6.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    _, _, alone, _ = plots.matrix(v, top, start_s=start, row_label="CNN_4 unit j", vmin=-limit, vmax=limit,
                                  cmap=plots.DIVERGING, colorbar_label=f"{_math('V3_hat')} (clipped at ±{limit:.3g})",
                                  title=f"{_math('V3_hat')}, segment {s}")
    top.set_xlabel("")
    _, _, grey, _ = plots.spectrogram(analysis.M_dB[s], bottom, start_s=start, cmap="gray_r",
                                      title=f"{_math('V3_hat')} laid over $M_{{dB}}$ (grey)")
    units = v.shape[0]
    per_band = N_MELS / units
    over = bottom.imshow(v, origin="lower", aspect="auto", cmap=plots.DIVERGING, vmin=-limit, vmax=limit, alpha=alpha,
                         interpolation="nearest", extent=(*grey.get_extent()[:2], -0.5, N_MELS - 0.5))
    right = bottom.secondary_yaxis("right", functions=(lambda b: (b + 0.5) / per_band - 0.5,
                                                       lambda j: (j + 0.5) * per_band - 0.5))
    right.set_ylabel("CNN_4 unit j")
    _bar_for(fig, over, bottom, f"{_math('V3_hat')} (translucent)")
    return fig, (top, bottom), (alone, grey, over)


def scale_table(analysis: Analysis, segment: int, limits: tuple[float, float] = SIDE_BY_SIDE_SCALE) -> str:
    """Markdown: for V̂_1, V̂_2, V̂_3 on one segment, the range and the shares of cells below and
    above the colour scale ``limits`` (chapter 12)."""
    s = analysis.check_segment(segment)
    lo, hi = limits
    lines = [f"| array | smallest | largest | cells below {lo:g} | cells above {hi:g} |", "|---|---:|---:|---:|---:|"]
    for key in SUMS:
        v = analysis.arrays[key][s]
        lines.append(f"| {_math(key)} | {v.min():.3g} | {v.max():.3g} | {(v < lo).mean():.0%} "
                     f"| {(v > hi).mean():.1%} |")
    return "\n".join(lines)


def side_by_side_figure(analysis: Analysis, segment: int, limits: tuple[float, float] = SIDE_BY_SIDE_SCALE,
                        fig: Figure | None = None, cmap: str = plots.SEQUENTIAL):
    """V̂_1, V̂_2, V̂_3 of one segment side by side on one colour scale (default [0, 10], the
    series' choice; values outside it saturate) (chapter 12). Returns figure, axes, images."""
    s = analysis.check_segment(segment)
    fig = fig or plt.figure(figsize=plots.column_size(13, 3.8), layout="constrained")
    axes = fig.subplots(1, len(SUMS), sharey=True)
    images = []
    for ax, key in zip(axes, SUMS):
        _, _, image, bar = plots.matrix(analysis.arrays[key][s], ax, start_s=analysis.segment_start_s[s],
                                        row_label="unit j" if ax is axes[0] else "", title=_math(key),
                                        vmin=limits[0], vmax=limits[1], cmap=cmap)
        bar.remove()
        images.append(image)
    _bar_for(fig, images[0], axes, f"value on [{limits[0]:g}, {limits[1]:g}]", extend="both")
    fig.suptitle(f"Segment {s} ({analysis.model.name}): the three batch-normalised\nmid-end outputs on one scale",
                 fontsize=10)
    return fig, axes, images


def row_energies(analysis: Analysis, segment: int) -> dict[str, np.ndarray]:
    """Σ_t [V̂_k]_{j,t}² of every row of V̂_1, V̂_2, V̂_3 on one segment, divided by the largest
    row energy of V̂_1 (chapter 12)."""
    s = analysis.check_segment(segment)
    energy = {key: np.sum(analysis.arrays[key][s].astype(np.float64) ** 2, axis=1) for key in SUMS}
    reference = energy[SUMS[0]].max()
    return {key: e / reference for key, e in energy.items()}


def energy_table(analysis: Analysis, segment: int) -> str:
    """Markdown: per array, the largest and median relative row energy and how many rows exceed
    V̂_1's largest (chapter 12)."""
    rel = row_energies(analysis, segment)
    lines = ["| array | largest (its row) | median | rows above the largest row of $\\hat{\\mathbf{V}}_1$ |",
             "|---|---:|---:|---:|"]
    for key, e in rel.items():
        lines.append(f"| {_math(key)} | {e.max():.3g} (row {int(np.argmax(e))}) | {np.median(e):.3g} "
                     f"| {int(np.sum(e > 1))} of {e.size} |")
    return "\n".join(lines)


def energy_figure(analysis: Analysis, segment: int, ax: Axes | None = None):
    """Row energies of V̂_1, V̂_2, V̂_3 relative to the largest of V̂_1, against row, on a log
    axis (chapter 12). Returns figure, axes, line handles."""
    fig, ax = plots.figure_axes(ax, (11, 3.4))
    rel = row_energies(analysis, segment)
    floor = min(float(e[e > 0].min()) for e in rel.values()) / 2
    handles = []
    for i, (key, e) in enumerate(rel.items()):
        handles += ax.plot(np.arange(e.size), np.maximum(e, floor), "o-", color=f"C{i}", markersize=3, linewidth=0.8,
                           label=_math(key))
    handles.append(ax.axhline(1, color="gray", linestyle="--", linewidth=0.8,
                              label=f"largest row of {_math('V1_hat')}"))
    ax.set_yscale("log")
    ax.set(xlabel="row j (unit)", ylabel="row energy / largest row energy of $\\hat{V}_1$", xlim=(-1, GROUP.size),
           title=f"Segment {analysis.check_segment(segment)} ({analysis.model.name}): "
                 r"row energies $\sum_t [\cdot]_{j,t}^2$")
    ax.legend(fontsize="small", ncols=4, loc="lower right")
    return fig, ax, handles


# ---------------------------------------------------------------------------------------
# The last skip sum, and W
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowCount:
    """Rows of a matrix that pass a criterion, and the criterion in words."""

    criterion: str
    rows: tuple[int, ...]
    total: int

    @property
    def count(self) -> int:
        return len(self.rows)


def half_variance_rows(matrix: np.ndarray) -> RowCount:
    """The fewest rows of ``matrix`` (rows × frames), taken by decreasing variance over time,
    that hold at least half of the summed variance (chapter 12)."""
    variance = np.asarray(matrix, dtype=np.float64).var(axis=1)
    order = np.argsort(-variance, kind="stable")
    needed = int(np.searchsorted(np.cumsum(variance[order]), 0.5 * variance.sum()) + 1)
    return RowCount("the fewest rows, by decreasing variance over time, holding half of the summed variance",
                    tuple(int(r) for r in order[:needed]), matrix.shape[0])


def sum_sentence(analysis: Analysis, segment: int) -> str:
    """How the variance of V̂_1+V̂_2+V̂_3 over time spreads over its rows on one segment."""
    s = analysis.check_segment(segment)
    half = half_variance_rows(analysis.V123_hat[s])
    std = analysis.V123_hat[s].std(axis=1)
    return (f"On segment {s}, {half.count} of the {half.total} rows hold half of the summed variance over time "
            f"({half.criterion}): rows {', '.join(map(str, half.rows))}. The rows' standard deviations over time "
            f"range from {std.min():.3g} to {std.max():.3g}.")


def sum_figure(analysis: Analysis, segment: int, limits: tuple[float, float] = SUM_SCALE, fig: Figure | None = None,
               label_every: int = 4):
    """V̂_1+V̂_2+V̂_3 of one segment on ``limits`` (left), and its rows as traces (right), sorted by
    standard deviation over time (largest at the top), each shifted by its own mean and scaled by
    one common factor (twice the largest std), so that an active row swings and a quiet one is
    flat (chapter 12). Returns figure, axes, and the image and traces."""
    s = analysis.check_segment(segment)
    start = analysis.segment_start_s[s]
    v = analysis.V123_hat[s].astype(np.float64)
    fig = fig or plt.figure(figsize=plots.column_size(13, 7), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(1.2, 1))
    _, _, image, _ = plots.matrix(v, left, start_s=start, row_label="row j", vmin=limits[0], vmax=limits[1],
                                  cmap=plots.DIVERGING, colorbar_label=f"value on [{limits[0]:g}, {limits[1]:g}]",
                                  title=f"{_math('V123_hat')}, segment {s}")
    std = v.std(axis=1)
    order = np.argsort(std, kind="stable")  # quietest at the bottom
    half = set(half_variance_rows(v).rows)
    scale = 2 * std.max()
    t = start + np.arange(v.shape[1]) * FRAME_SECONDS
    traces = [right.plot(t, rank + (v[j] - v[j].mean()) / scale, linewidth=0.7,
                         color="tab:red" if j in half else ("black" if rank % 2 else "0.55"))[0]
              for rank, j in enumerate(order)]
    right.set_yticks(range(v.shape[0] - 1, -1, -label_every),
                     [str(j) for j in order[::-1][::label_every]], fontsize="small")
    right.set(xlabel="time (s)", ylabel="row j, sorted by\nstandard deviation over time", ylim=(-1, v.shape[0]),
              xlim=(t[0], t[-1]), title=f"(row − its mean) ÷ {scale:.3g};\nred: {len(half)} rows, half the variance")
    fig.suptitle(f"{analysis.path.name}, {analysis.model.name}: the last skip sum, as an image and as one "
                 "trace per row\n(most active at the top, every row on one common scale)", fontsize=10)
    return fig, (left, right), (image, traces)


def w_figure(analysis: Analysis, segment: int, limits: tuple[float, float] = SUM_SCALE, ax: Axes | None = None):
    """W of one segment (753 × 187) on ``limits``, solid lines between its four blocks, dotted
    between CNN_1's kernel groups inside U (chapter 12). Returns the plots.matrix handles."""
    s = analysis.check_segment(segment)
    fig, ax = plots.figure_axes(ax, (12, 7))
    w = analysis.W[s]
    handles = plots.matrix(w, ax, start_s=analysis.segment_start_s[s], row_label="row of W", vmin=limits[0],
                           vmax=limits[1], cmap=plots.DIVERGING,
                           colorbar_label=f"value on [{limits[0]:g}, {limits[1]:g}]",
                           title=f"W of segment {s} ({analysis.model.name}): {w.shape[0]} rows × {w.shape[1]} frames")
    mark_row_groups(ax, u_row_groups(), labels=False, linestyle=":", linewidth=0.6)
    mark_row_groups(ax, w_row_groups())
    return handles


def w_summary_table(analysis: Analysis, segment: int, tolerance: float = 1e-6) -> str:
    """Markdown: per block of W on one segment, its rows, how many vary over time by more than
    ``tolerance``, and its range (chapter 12)."""
    s = analysis.check_segment(segment)
    w = analysis.W[s]
    lines = [f"| block | rows | rows that vary (range over time > {tolerance:g}) | smallest | largest |",
             "|---|---|---:|---:|---:|"]
    for key, first, stop in w_row_groups():
        block = w[first:stop]
        varying = int(np.sum(block.max(axis=1) - block.min(axis=1) > tolerance))
        lines.append(f"| {_math(key)} | {first}–{stop - 1} | {varying} of {stop - first} | {block.min():.3g} "
                     f"| {block.max():.3g} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# The explorer
# ---------------------------------------------------------------------------------------

def explorer_unit(model: Model, preferred: str = PREFERRED_UNIT, threshold: float = NORM_THRESHOLD) -> str:
    """``preferred`` if its kernel is non-trivial for ``model``, else the largest-norm CNN_4 unit
    (:func:`musicnn_nb.facts.units.explorer_unit`)."""
    return _explorer_unit(model, (GROUP,), preferred, threshold)


# ---------------------------------------------------------------------------------------
# Part 12's claims, one by one
# ---------------------------------------------------------------------------------------

SERIES_SPARSE_ON_SCALE = (4, 5, 52, 53)  # part 12: sparse in the [0, 10] side-by-side of V̂_2 and V̂_3
SERIES_ENERGY_ROW = 34  # part 12: active in V̂_2's row energies, inactive in V̂_1's and V̂_3's
SERIES_SORTED = {"much activity": (5, 33, 59), "very little": (3, 29, 53)}  # part 12's sort-shift-scale
SORTED_TOP = 10  # a row "shows much activity" if among this many top rows of a measure (little: bottom)
VISIBLE = 1.0  # on the [0, 10] scale a cell is visible above a tenth of the scale
ACTIVE_ENERGY_SHARE = 0.1  # a row is "active" in an array if its energy is at least this share of the array's largest
NOT_SPARSE_SHARE = 0.5  # a matrix is not sparse if more than half its cells have |value| > VISIBLE


def _join(units: Sequence[int]) -> str:
    return ", ".join(str(u) for u in units)


@dataclass(frozen=True)
class Finding:
    """What one part-12 claim comes to on one recording, model and span of segments."""

    value: str  # the book's value, as printed in the table
    agree: int  # how many of the claim's parts hold here
    parts: int  # how many parts the claim has (e.g. six units, each put in a class)

    @property
    def verdict(self) -> str:
        if self.agree == self.parts:
            return "holds"
        return "does not hold" if self.agree == 0 else f"{self.agree} of {self.parts} hold"


def _span(analysis: Analysis, segments: Sequence[int], key: str) -> np.ndarray:
    """rows × frames of ``key`` over ``segments``, joined in time, in float64."""
    return frames_of(analysis.arrays[key][list(segments)]).astype(np.float64)


def _rank_of(values: np.ndarray, row: int) -> int:
    """1 for the largest value (ties share the better rank)."""
    return int(np.sum(values > values[row])) + 1


def claim_nontrivial(analysis: Analysis, segments: Sequence[int]) -> Finding:
    live = nontrivial_units(analysis.model, LAYER)
    said = SERIES_NONTRIVIAL[analysis.model.name]
    return Finding(f"{live.count} of {live.total}", int(live.count == said), 1)


def input_row_weights(model: Model, threshold: float = NORM_THRESHOLD) -> np.ndarray:
    """For each input row r of CNN_4 (row r of V̂_1+V̂_2), the largest norm of that row over the
    non-trivial CNN_4 kernels, max_j ‖[K_j]_{r,*}‖: how strongly some kernel weights it."""
    live = list(nontrivial_units(model, LAYER, threshold).rows)
    return np.linalg.norm(model.kernels(GROUP)[live].astype(np.float64), axis=2).max(axis=0)


def claim_none_ignored(analysis: Analysis, segments: Sequence[int]) -> Finding:
    weights = input_row_weights(analysis.model)
    weighted = int(np.sum(weights > NORM_THRESHOLD))
    return Finding(f"{weighted} of {weights.size} input rows (weakest: {weights.min():.2g})",
                   int(weighted == weights.size), 1)


def claim_unit_classes(analysis: Analysis, segments: Sequence[int]) -> Finding:
    classes = classify(activity_of(analysis.V3[list(segments)], analysis.model.name))
    here = {j: class_of(classes, j) for units in SERIES_UNITS.values() for j in units}
    agree = sum(here[j] == said for said, units in SERIES_UNITS.items() for j in units)
    grouped = {c: [j for j, k in here.items() if k == c] for c in CLASSES}
    return Finding("; ".join(f"{c} {', '.join(map(str, js))}" for c, js in grouped.items() if js), agree, len(here))


def claim_beta(analysis: Analysis, segments: Sequence[int]) -> Finding:
    near = beta_near_zero(analysis.model)
    beta = np.abs(analysis.model.batch_norm(GROUP.bn).beta)
    return Finding(f"{near.count} of {near.total} within ±{BETA_TOLERANCE:g} (largest size {beta.max():.2g})",
                   int(near.count == near.total), 1)


def claim_v3_range(analysis: Analysis, segments: Sequence[int]) -> Finding:
    v3, v3_hat = _span(analysis, segments, "V3"), _span(analysis, segments, "V3_hat")
    grows, negative = v3_hat.max() > v3.max(), v3_hat.min() < 0
    return Finding(f"max $V_3$ {v3.max():.3g}; $\\hat{{V}}_3$ from {v3_hat.min():.3g} to {v3_hat.max():.3g}",
                   int(grows) + int(negative), 2)


def brightness(matrix: np.ndarray, limits: tuple[float, float] = SIDE_BY_SIDE_SCALE) -> float:
    """Mean of the matrix clipped to ``limits`` and mapped to [0, 1]: how bright it looks on that scale."""
    lo, hi = limits
    return float(np.mean((np.clip(matrix, lo, hi) - lo) / (hi - lo)))


def claim_v3_brightest(analysis: Analysis, segments: Sequence[int]) -> Finding:
    light = {key: brightness(_span(analysis, segments, key)) for key in SUMS}
    brightest = max(light, key=light.get)
    return Finding(" / ".join(f"{light[key]:.2f}" for key in SUMS), int(brightest == "V3_hat"), 1)


def visible_share(matrix: np.ndarray, level: float = VISIBLE) -> np.ndarray:
    """Per row, the share of frames above ``level`` (visible on the [0, 10] scale)."""
    return (np.asarray(matrix) > level).mean(axis=1)


def claim_sparse_on_scale(analysis: Analysis, segments: Sequence[int]) -> Finding:
    shares = {key: visible_share(_span(analysis, segments, key)) for key in ("V2_hat", "V3_hat")}
    sparse = {j: all(s[j] < SPARSE_SHARE for s in shares.values()) for j in SERIES_SPARSE_ON_SCALE}
    value = ", ".join(f"{j}: {shares['V2_hat'][j]:.0%}/{shares['V3_hat'][j]:.0%}" for j in SERIES_SPARSE_ON_SCALE)
    return Finding(value, sum(sparse.values()), len(sparse))


def span_row_energies(analysis: Analysis, segments: Sequence[int]) -> dict[str, np.ndarray]:
    """Row energies of V̂_1, V̂_2, V̂_3 summed over ``segments``, relative to V̂_1's largest."""
    energy = {key: np.sum(_span(analysis, segments, key) ** 2, axis=1) for key in SUMS}
    reference = energy[SUMS[0]].max()
    return {key: e / reference for key, e in energy.items()}


def claim_row_34(analysis: Analysis, segments: Sequence[int]) -> Finding:
    rel, j = span_row_energies(analysis, segments), SERIES_ENERGY_ROW
    own = {key: e[j] / e.max() for key, e in rel.items()}  # share of the array's own largest row energy
    agree = (int(own["V2_hat"] >= ACTIVE_ENERGY_SHARE) + int(own["V1_hat"] < ACTIVE_ENERGY_SHARE)
             + int(own["V3_hat"] < ACTIVE_ENERGY_SHARE))
    return Finding(" / ".join(f"{rel[key][j]:.2g} ({own[key]:.0%})" for key in SUMS), agree, 3)


def claim_sum(analysis: Analysis, segments: Sequence[int]) -> Finding:
    v = _span(analysis, segments, "V123_hat")
    share = float(np.mean(np.abs(v) > VISIBLE))
    return Finding(f"{v.min():.3g} to {v.max():.3g}; {share:.0%} of cells beyond ±{VISIBLE:g}",
                   int(share > NOT_SPARSE_SHARE), 1)


def _sorted_claim(which: str, analysis: Analysis, segments: Sequence[int]) -> Finding:
    order = list(by_activity(sorted_activity(_span(analysis, segments, "V123_hat"))))
    rows, n = SERIES_SORTED[which], len(order)
    ranks = {j: order.index(j) + 1 for j in rows}
    near = [order[:SORTED_TOP], order[-SORTED_TOP:]][which == "very little"]
    return Finding(", ".join(f"{j}: rank {r}" for j, r in ranks.items()) + f" of {n}",
                   sum(j in near for j in rows), len(rows))


def claim_sorted_much(analysis: Analysis, segments: Sequence[int]) -> Finding:
    return _sorted_claim("much activity", analysis, segments)


def claim_sorted_little(analysis: Analysis, segments: Sequence[int]) -> Finding:
    return _sorted_claim("very little", analysis, segments)


def claim_w(analysis: Analysis, segments: Sequence[int]) -> Finding:
    rows, frames = analysis.W.shape[1:]
    return Finding(f"{rows} × {frames}", int((rows, frames) == (753, 187)), 1)


@dataclass(frozen=True)
class Claim:
    """One claim of part 12: what the series says (in this book's words), and how it is checked."""

    key: str
    said: str
    check: str  # the book's criterion, in words
    measure: Callable[[Analysis, Sequence[int]], Finding]
    audio: bool  # whether the check reads the recording (False: the weights alone decide)


CLAIMS = (
    Claim("nontrivial", "all 64 CNN_4 kernels are non-trivial for MTT, 63 for MSD",
          f"kernel norm above {NORM_THRESHOLD:g}", claim_nontrivial, False),
    Claim("none ignored", "every output of CNN_2 and CNN_3 is weighted by some CNN_4 kernel",
          f"each input row r has max_j ‖[K_j]_r‖ above {NORM_THRESHOLD:g}", claim_none_ignored, False),
    Claim("units", "units " + "; ".join(f"{_join(units)} {said}" for said, units in SERIES_UNITS.items()),
          "the classes of the activity table above, on the span", claim_unit_classes, True),
    Claim("beta", "all CNN_4 β are near zero", f"β_j within ±{BETA_TOLERANCE:g}", claim_beta, False),
    Claim("range", "max of $V_3$ about 10, yet $\\hat{V}_3$ runs from about −17 to about 111",
          "the batch-norm enlarges (max $\\hat{V}_3$ > max $V_3$) and goes negative", claim_v3_range, True),
    Claim("brightest", "on the [0, 10] scale $\\hat{V}_3$ is much more active than $\\hat{V}_1$, $\\hat{V}_2$",
          "brightness (mean of the clipped, scaled value) of $\\hat{V}_1$ / $\\hat{V}_2$ / $\\hat{V}_3$; "
          "$\\hat{V}_3$ the largest", claim_v3_brightest, True),
    Claim("sparse on scale", f"units {_join(SERIES_SPARSE_ON_SCALE)} look sparse in $\\hat{{V}}_2$ and $\\hat{{V}}_3$",
          f"share of frames above {VISIBLE:g} in $\\hat{{V}}_2$ / $\\hat{{V}}_3$, both below {SPARSE_SHARE:.0%}",
          claim_sparse_on_scale, True),
    Claim("row 34", f"row {SERIES_ENERGY_ROW} is active in $\\hat{{V}}_2$'s row energies, inactive in "
          "$\\hat{V}_1$'s and $\\hat{V}_3$'s",
          f"energy relative to $\\hat{{V}}_1$'s largest row (and to its own array's largest) in $\\hat{{V}}_1$ / "
          f"$\\hat{{V}}_2$ / $\\hat{{V}}_3$; active: at least {ACTIVE_ENERGY_SHARE:.0%} of its array's largest",
          claim_row_34, True),
    Claim("sum", "$\\hat{V}_1+\\hat{V}_2+\\hat{V}_3$ reaches almost 125, goes down to −17: not sparse",
          f"range; not sparse if more than {NOT_SPARSE_SHARE:.0%} of cells lie beyond ±{VISIBLE:g}",
          claim_sum, True),
    Claim("sorted much", f"sorted, shifted and scaled, rows {_join(SERIES_SORTED['much activity'])} of the sum show "
          "much activity",
          f"the series' procedure, rows ranked by the area under their curve; much: among the top {SORTED_TOP}",
          claim_sorted_much, True),
    Claim("sorted little", f"sorted, shifted and scaled, rows {_join(SERIES_SORTED['very little'])} of the sum "
          "show very little activity",
          f"the same ranking; very little: among the bottom {SORTED_TOP}", claim_sorted_little, True),
    Claim("W", "W is 753 × 187", "shape of W per segment", claim_w, False),
)


def spans(analysis: Analysis, n: int = SERIES_SEGMENTS) -> dict[str, list[int]]:
    """The two spans every claim is checked on: the series' ``n`` consecutive segments, and all."""
    first = consecutive_segments(analysis, n)
    return {f"{len(first)} segments": first, "all segments": list(range(analysis.n_segments))}


def findings(analyses: Sequence[Analysis], n: int = SERIES_SEGMENTS) -> dict[str, dict[tuple[str, str], Finding]]:
    """Every claim measured on every analysis (by model name) and span: claim key → (model, span) → Finding."""
    return {claim.key: {(a.model.name, label): claim.measure(a, segments)
                        for a in analyses for label, segments in spans(a, n).items()}
            for claim in CLAIMS}


def claims_table(analyses: Sequence[Analysis], n: int = SERIES_SEGMENTS) -> str:
    """Markdown: each part-12 claim and its value and verdict on each model and span of the
    analysed recording (chapter 12); :func:`criteria_list` says how each is measured."""
    found = findings(analyses, n)
    columns = [(a.model.name, label) for a in analyses for label in spans(a, n)]
    head = "| # | part 12 says (Disco Duck, MSD) | " + " | ".join(f"{m}, {label}" for m, label in columns) + " |"
    lines = [head, "|---|---|" + "---|" * len(columns)]
    for i, claim in enumerate(CLAIMS, start=1):
        cells = [f"{found[claim.key][c].value} (**{found[claim.key][c].verdict}**)" for c in columns]
        lines.append(f"| {i} | {claim.said} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def criteria_list() -> str:
    """Markdown list: how the book checks each claim of :data:`CLAIMS`, and whether it reads the audio."""
    return "\n".join(f"{i}. {claim.check} ({'the recording' if claim.audio else 'the weights alone'})"
                     for i, claim in enumerate(CLAIMS, start=1))


def _summary(verdicts: dict[tuple[str, str], str]) -> str:
    """'holds on every recording and span' or the verdict per recording and span."""
    if len(set(verdicts.values())) == 1:
        return f"{next(iter(verdicts.values()))}, on every recording and span"
    return ", ".join(f"{v} on {name} ({label})" for (name, label), v in verdicts.items())


def claims_sentences(recordings: dict[str, Sequence[Analysis]], n: int = SERIES_SEGMENTS) -> str:
    """Markdown list: per claim, whether it holds here for each model (on each recording and span)
    and why: the weights alone decide it; or its verdict is the same on every recording, so the
    weights fix it; or the verdict changes with the recording or the span: the music decides
    (chapter 12)."""
    found = {name: findings(analyses, n) for name, analyses in recordings.items()}
    models = list(dict.fromkeys(model for per in found.values() for (model, _) in next(iter(per.values()))))
    lines = []
    for i, claim in enumerate(CLAIMS, start=1):
        per_model = {m: {(name, label): f.verdict for name, per in found.items()
                         for (model, label), f in per[claim.key].items() if model == m} for m in models}
        said = "; ".join(f"{m}: {_summary(v)}" for m, v in per_model.items())
        if not claim.audio:
            why = "the weights alone decide it, so no recording can change it"
        elif all(len(set(v.values())) == 1 for v in per_model.values()):
            why = ("it reads the audio, yet its verdict is the same on every recording and span measured: on the "
                   "evidence of these recordings the weights, not the music, decide it")
        else:
            changes = [m for m, v in per_model.items() if len(set(v.values())) > 1]
            why = f"its verdict changes with the recording or the span for {' and '.join(changes)}: the music decides"
        lines.append(f"{i}. *{claim.said}*. {said}. Why: {why}.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Why V̂_3 is so large: slopes and pre-normalisation ranges
# ---------------------------------------------------------------------------------------

PRE = {"cnn2": "V1", "cnn3": "V2", "cnn4": "V3"}  # each mid-end layer's output before its batch-norm
POST = {"cnn2": "V1_hat", "cnn3": "V2_hat", "cnn4": "V3_hat"}


def range_table(analysis: Analysis, segments: Sequence[int]) -> str:
    """Markdown: per mid-end layer, the median and largest batch-norm slope γ_j/√(σ_j²+ε), the
    largest value before the batch-norm, the range after it, and the unit where the maximum after
    it is reached with its value before and its slope, over ``segments`` (chapter 12)."""
    lines = [r"| layer | median slope | largest slope | max before ($V$) | range after ($\hat{V}$) "
             r"| unit of the max after | its $V$ there | its slope |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for layer in midend.LAYERS:
        slope = midend.batch_norm(analysis.model, layer).scale
        pre, post = _span(analysis, segments, PRE[layer]), _span(analysis, segments, POST[layer])
        j, t = np.unravel_index(np.argmax(post), post.shape)
        lines.append(f"| {midend.label(layer)} | {np.median(slope):.3g} | {slope.max():.3g} | {pre.max():.3g} "
                     f"| {post.min():.3g} to {post.max():.3g} | {j} | {pre[j, t]:.3g} | {slope[j]:.3g} |")
    return "\n".join(lines)


def range_sentence(analysis: Analysis, segments: Sequence[int]) -> str:
    """Why V̂_3 reaches its maximum: V_3's value there times the unit's slope, minus the slope
    times the running mean, plus β, compared with CNN_3's slopes (chapter 12)."""
    bn = midend.batch_norm(analysis.model, "cnn4")
    pre, post = _span(analysis, segments, "V3"), _span(analysis, segments, "V3_hat")
    j, t = np.unravel_index(np.argmax(post), post.shape)
    slopes = {layer: float(np.median(midend.batch_norm(analysis.model, layer).scale)) for layer in midend.LAYERS}
    above = int(np.sum(bn.scale > slopes["cnn4"] * 2))
    v2 = _span(analysis, segments, "V2").max()
    return (f"On {analysis.model.name}'s {len(segments)} segments here, $\\hat{{V}}_3$ peaks at {post[j, t]:.3g} in "
            f"unit {j}: $V_3 = {pre[j, t]:.3g}$ there, times its slope {bn.scale[j]:.3g}, minus slope × running mean "
            f"({bn.scale[j] * bn.mean[j]:.3g}), plus $\\beta_{{{j}}} = {bn.beta[j]:.2g}$. The median slopes are "
            f"{', '.join(f'{slopes[k]:.3g} ({midend.label(k)})' for k in midend.LAYERS)}. "
            + ("CNN_4's median slope is smaller than CNN_3's, so the slopes do not grow from layer to layer; "
               if slopes["cnn4"] < slopes["cnn3"] else "CNN_4's median slope is larger than CNN_3's; ")
            + f"what makes $\\hat{{V}}_3$ large is $V_3$ itself (its maximum {pre.max():.3g}, against "
            f"{v2:.3g} for $V_2$) and the {above} units whose slope is more than twice the median.")


def sorted_figure(analysis: Analysis, segments: Sequence[int], fig: Figure | None = None):
    """The series' sort-shift-scale picture of V̂_1+V̂_2+V̂_3 over ``segments`` (left: every row
    sorted, minus its minimum, divided by its maximum; row 0 at the bottom), beside the book's own
    measure (right: each row's area under that curve against its standard deviation over time,
    the rows the series names labelled) (chapter 12). Returns figure, axes and the image."""
    v = _span(analysis, segments, "V123_hat")
    curves, area, std = sort_shift_scale(v), sorted_activity(v), v.std(axis=1)
    fig = fig or plt.figure(figsize=plots.column_size(10, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    image = left.imshow(curves, origin="lower", aspect="auto", cmap=plots.SEQUENTIAL, vmin=0, vmax=1,
                        extent=(0, 1, -0.5, v.shape[0] - 0.5), interpolation="nearest")
    _bar_for(fig, image, left, "sorted, shifted, scaled value")
    left.set(xlabel="share of the frames (sorted, lowest first)", ylabel="row j",
             title=f"the series' procedure over {len(segments)} segments")
    right.scatter(std, area, s=14, color="0.5")
    for which, rows in SERIES_SORTED.items():
        color = "tab:red" if which == "much activity" else "tab:blue"
        right.scatter(std[list(rows)], area[list(rows)], s=30, color=color, label=f"series: {which}")
        for j in rows:
            right.annotate(str(j), (std[j], area[j]), fontsize=9, xytext=(3, 3), textcoords="offset points")
    right.set(xscale="log", xlabel="standard deviation over time (log)", ylabel="area under the sorted curve",
              title="the two measures of a row's activity")
    right.legend(fontsize=9, loc="upper right")
    fig.suptitle(f"{analysis.path.name}, {analysis.model.name}: which rows of "
                 f"{_math('V123_hat')} are active?", fontsize=11)
    return fig, (left, right), image
