"""What the bias and the rectifier of CNN_1 keep and discard, per unit (chapter 6,
"CNN_1: bias and activation").

Each CNN_1 unit computes Y_i = ReLU(K_i ⋆ M̂_dB + b_i). The bias b_i moves the threshold
the filtered spectrogram has to cross, and the rectifier sets every cell below it to zero.
:func:`activation_stats` measures, for every unit on every segment of a recording, how many
cells the rectifier keeps, the largest pre-activation reached, and the range of Y_i; the
count functions turn those into counts of units, each with its criterion stated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from musicnn_nb.facts.units import M_DB_MAX, NORM_THRESHOLD, UnitCount, max_preactivation
from musicnn_nb.model.network import cnn1_group_maps
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.weights import Model, group_of_rows, layer_size, load_model, locate_unit
from musicnn_nb.present import plots
from musicnn_nb.present.notation import CNN1_GROUPS, GROUP_COLORS

VANISHING_WEIGHT = 1e-20  # a kernel whose weights are all smaller adds nothing a float32 bias can register


def largest_weights(model: Model) -> np.ndarray:
    """max |[K_i]_{φ,τ}| of every CNN_1 kernel, in row order of U.

    Kernels whose weights are all around 1e-30 have a Frobenius norm that underflows to 0 in
    float32, so this is the measure that tells them apart from merely small kernels.
    """
    return np.concatenate([np.abs(model.kernels(g)).max(axis=(1, 2)) for g in CNN1_GROUPS])


def _group_names() -> np.ndarray:
    """The kernel-group name of every CNN_1 row."""
    return np.array([g.name for g in CNN1_GROUPS])[group_of_rows("cnn1")]


@dataclass(frozen=True, eq=False)
class ActivationStats:
    """What the rectifier did to every CNN_1 unit over all segments of one recording.

    Arrays have one entry per unit, in row order of U. A "cell" is one entry of a unit's
    map: one output row (frequency position) at one frame of one segment.
    """

    model: str
    audio: str  # file name of the recording
    n_segments: int
    threshold: float  # kernel norm at or below which a unit is trivial
    norms: np.ndarray  # ‖K_i‖_F
    largest_weight: np.ndarray  # max |weight| of K_i
    bias: np.ndarray  # b_i
    kept: np.ndarray  # share of cells with K_i ⋆ M̂_dB + b_i > 0: what the ReLU keeps
    max_pre: np.ndarray  # largest pre-activation over all cells
    y_min: np.ndarray  # smallest Y_i over all cells
    y_max: np.ndarray  # largest Y_i over all cells
    bound: np.ndarray  # analysis.max_preactivation: the largest value any input can give

    @property
    def trivial(self) -> np.ndarray:
        """Units whose kernel norm is at or below the threshold."""
        return self.norms <= self.threshold

    @property
    def vanishing(self) -> np.ndarray:
        """Units whose every kernel weight is below :data:`VANISHING_WEIGHT` in magnitude."""
        return self.largest_weight < VANISHING_WEIGHT

    def families(self) -> dict[str, np.ndarray]:
        """Masks of the trivial units with vanishing kernels, the other trivial units, and the rest."""
        return {"trivial, vanishing kernel": self.vanishing, "trivial, other": self.trivial & ~self.vanishing,
                "non-trivial": ~self.trivial}

    @property
    def scope(self) -> str:
        """Where the observations come from, for criteria."""
        return f"all {self.n_segments} segments of {self.audio}"

    def _count(self, criterion: str, mask: np.ndarray) -> UnitCount:
        return UnitCount.from_mask(self.model, "cnn1", criterion, self.threshold, mask)


def activation_stats(analysis: Analysis, threshold: float = NORM_THRESHOLD) -> ActivationStats:
    """Measure the rectifier of every CNN_1 unit on every segment of ``analysis`` (chapter 6),
    once per analysis and threshold (kept on the analysis)."""
    return analysis.derived(("activation_stats", threshold), lambda: _activation_stats(analysis, threshold))


def _activation_stats(analysis: Analysis, threshold: float) -> ActivationStats:
    model = analysis.model
    n = layer_size("cnn1")
    positive, cells = np.zeros(n), np.zeros(n)
    max_pre, y_max = np.full(n, -np.inf), np.full(n, -np.inf)
    y_min = np.full(n, np.inf)
    for segment in range(analysis.n_segments):
        for group in CNN1_GROUPS:
            rows = slice(group.first_row, group.stop_row)
            z, y, _ = cnn1_group_maps(model, group, analysis.M_hat[segment])
            positive[rows] += np.count_nonzero(z > 0, axis=(1, 2))
            cells[rows] += z[0].size
            max_pre[rows] = np.maximum(max_pre[rows], z.max(axis=(1, 2)))
            y_min[rows] = np.minimum(y_min[rows], y.min(axis=(1, 2)))
            y_max[rows] = np.maximum(y_max[rows], y.max(axis=(1, 2)))
    return ActivationStats(model.name, analysis.path.name, analysis.n_segments, threshold,
                           model.norms("cnn1"), largest_weights(model), model.biases("cnn1"), positive / cells,
                           max_pre, y_min, y_max, max_preactivation(model))


# -- counts, each with its criterion -------------------------------------------------------

def vanishing_kernel_units(stats: ActivationStats) -> UnitCount:
    """Units whose every kernel weight is below :data:`VANISHING_WEIGHT` in magnitude."""
    return stats._count(f"every kernel weight below {VANISHING_WEIGHT:g} in magnitude", stats.vanishing)


def zero_output_units(stats: ActivationStats) -> UnitCount:
    """Trivial units whose Y_i is 0 in every cell of the recording."""
    return stats._count(f"kernel norm ≤ {stats.threshold:g} and Y_i = 0 in every cell of {stats.scope}",
                        stats.trivial & (stats.y_max == 0))


def constant_positive_units(stats: ActivationStats) -> UnitCount:
    """Trivial units whose Y_i is positive in every cell of the recording."""
    return stats._count(f"kernel norm ≤ {stats.threshold:g} and Y_i > 0 in every cell of {stats.scope}",
                        stats.trivial & (stats.y_min > 0))


def never_active_units(stats: ActivationStats) -> UnitCount:
    """Non-trivial units the rectifier silences everywhere on this recording."""
    return stats._count(f"kernel norm > {stats.threshold:g} and K_i ⋆ M̂_dB + b_i ≤ 0 in every cell of "
                        f"{stats.scope}", ~stats.trivial & (stats.kept == 0))


def always_kept_units(stats: ActivationStats) -> UnitCount:
    """Non-trivial units whose rectifier passes every cell: on this recording it is the identity."""
    return stats._count(f"kernel norm > {stats.threshold:g} and K_i ⋆ M̂_dB + b_i > 0 in every cell of "
                        f"{stats.scope}", ~stats.trivial & (stats.kept == 1))


def choose_units(stats: ActivationStats, targets: Sequence[float]) -> list[str]:
    """Names of the non-trivial units whose kept share is closest to each target, all different."""
    model = load_model(stats.model)
    candidates = list(np.flatnonzero(~stats.trivial))
    chosen = []
    for target in targets:
        best = min(candidates, key=lambda r: (abs(stats.kept[r] - target), r))
        candidates.remove(best)
        chosen.append(model.unit(int(best), "cnn1").name)
    return chosen


# -- tables (Markdown) ---------------------------------------------------------------------

def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def group_table(all_stats: Sequence[ActivationStats]) -> str:
    """Per model and kernel group: how many units are trivial (and what they output), how many
    are live, and how much of the map their rectifier keeps."""
    lines = ["| model | kernels | units | trivial, Y_i = 0 | trivial, Y_i > 0 constant | non-trivial | "
             "never active | always kept | median kept share (non-trivial) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for stats in all_stats:
        sets = [set(c.rows) for c in (zero_output_units(stats), constant_positive_units(stats),
                                      never_active_units(stats), always_kept_units(stats))]
        for g in CNN1_GROUPS:
            rows = set(range(g.first_row, g.stop_row))
            live = [r for r in rows if not stats.trivial[r]]
            median = _pct(float(np.median(stats.kept[live]))) if live else "–"
            lines.append(f"| {stats.model} | {g.name} | {g.size} | " + " | ".join(
                str(len(s & rows)) for s in sets[:2]) + f" | {len(live)} | " + " | ".join(
                str(len(s & rows)) for s in sets[2:]) + f" | {median} |")
    return "\n".join(lines)


def trivial_check_table(all_stats: Sequence[ActivationStats]) -> str:
    """The trivial units' observed Y_i against the constant ReLU(b_i), per model and family."""
    lines = ["| model | trivial units | count | b_i from … to | largest weight magnitude, from … to | "
             "largest distance of Y_i from ReLU(b_i) | Y_i = 0 in every cell | Y_i > 0 in every cell |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for s in all_stats:
        relu_b = np.maximum(s.bias, 0)
        deviation = np.maximum(np.abs(s.y_max - relu_b), np.abs(s.y_min - relu_b))
        for family, mask in list(s.families().items())[:2]:
            lines.append(f"| {s.model} | {family.removeprefix('trivial, ')} | {int(mask.sum())} | "
                         f"{s.bias[mask].min():.3g} … {s.bias[mask].max():.3g} | "
                         f"{s.largest_weight[mask].min():.2g} … {s.largest_weight[mask].max():.2g} | "
                         f"{deviation[mask].max():.3g} | {int(np.sum(mask & (s.y_max == 0)))} | "
                         f"{int(np.sum(mask & (s.y_min > 0)))} |")
    return "\n".join(lines)


def optimizer_table(all_stats: Sequence[ActivationStats]) -> str:
    """Adam's running mean of the squared gradient (``kernel/Adam_1`` in the checkpoint), the
    largest over each unit's kernel, summarised per model and family of units."""
    lines = ["| model | units | count | largest second moment per unit: median | largest |",
             "|---|---|---:|---:|---:|"]
    for s in all_stats:
        model = load_model(s.model)
        second = np.concatenate([np.abs(model.variables[f"{g.conv}/kernel/Adam_1"]).max(axis=(0, 1, 2))
                                 for g in CNN1_GROUPS])
        for family, mask in s.families().items():
            lines.append(f"| {s.model} | {family} | {int(mask.sum())} | {np.median(second[mask]):.2g} | "
                         f"{second[mask].max():.2g} |")
    return "\n".join(lines)


def never_active_table(all_stats: Sequence[ActivationStats]) -> str:
    """Every never-active non-trivial unit: its bias, norm, bound and what the audio reached."""
    lines = ["| model | unit | b_i | ‖K_i‖_F | largest pre-activation any input allows | largest on this audio |",
             "|---|---|---:|---:|---:|---:|"]
    for s in all_stats:
        count = never_active_units(s)
        for row, name in zip(count.rows, count.names):
            lines.append(f"| {s.model} | `{name}` | {s.bias[row]:.3f} | {s.norms[row]:.3f} | {s.bound[row]:.3f} | "
                         f"{s.max_pre[row]:.3f} |")
        if not count.rows:
            lines.append(f"| {s.model} | none | | | | |")
    return "\n".join(lines)


def bound_table(all_stats: Sequence[ActivationStats]) -> str:
    """How close the recording comes to each non-trivial unit's pre-activation bound."""
    lines = ["| model | non-trivial units | bound ≤ 0 (silent for every input) | largest pre-activation ÷ bound: "
             "median | largest | units above half their bound |", "|---|---:|---:|---:|---:|---:|"]
    for s in all_stats:
        live = ~s.trivial
        ratio = s.max_pre[live] / s.bound[live]
        lines.append(f"| {s.model} | {int(live.sum())} | {int(np.sum(live & (s.bound <= 0)))} | "
                     f"{np.median(ratio):.2f} | {ratio.max():.2f} | {int(np.sum(ratio > 0.5))} |")
    return "\n".join(lines)


def unit_sentence(stats: ActivationStats, name: str) -> str:
    """One unit's bias, norm and kept share, in words."""
    _, row = locate_unit(name, "cnn1")
    return (f"`{name}` ({stats.model}): $b_i$ = {stats.bias[row]:.3f}, $\\|K_i\\|_F$ = {stats.norms[row]:.3f}, "
            f"the rectifier keeps {_pct(stats.kept[row])} of its cells over {stats.scope}")


def input_range_sentence(analysis: Analysis) -> str:
    """The loudest M_dB cell of the recording against the largest value the bound allows."""
    return (f"The loudest cell of {analysis.path.name} has $M_{{\\mathrm{{dB}}}}$ = {analysis.M_dB.max():.2f}; "
            f"the bound allows up to {M_DB_MAX:.2f}, the value of the largest float16 mel power.")


# -- figures -------------------------------------------------------------------------------

def _strip(ax: Axes, values: np.ndarray, groups: np.ndarray, *, color: str | None = None, label: str | None = None,
           marker: str = "o", seed: int = 0):
    """One jittered column of points per kernel group."""
    rng = np.random.default_rng(seed)
    names = [g.name for g in CNN1_GROUPS]
    x = np.array([names.index(g) for g in groups], dtype=float) + rng.uniform(-0.3, 0.3, len(groups))
    colors = color or [GROUP_COLORS[g] for g in groups]
    handle = ax.scatter(x, values, s=12 if marker == "x" else 10, c=colors, marker=marker, alpha=0.6,
                        linewidths=0.8 if marker == "x" else 0, label=label)
    ax.set_xticks(range(len(names)), names)
    ax.set_xlabel("kernel group (rows × frames)")
    return handle


def bias_panel(stats: ActivationStats, ax: Axes | None = None):
    """Every CNN_1 bias of one model by kernel group, trivial units grey, non-trivial coloured."""
    fig, ax = plots.figure_axes(ax, (6, 3.5))
    groups = _group_names()
    t = stats.trivial
    handles = [_strip(ax, stats.bias[t], groups[t], color="0.6", label=f"trivial (‖K‖_F ≤ {stats.threshold:g})",
                      marker="x"),
               _strip(ax, stats.bias[~t], groups[~t], color="C3", label="non-trivial", seed=1)]
    handles.append(ax.axhline(0, color="black", linewidth=0.6))
    ax.set(ylabel="bias b_i", title=f"{stats.model}: CNN_1 biases")
    ax.legend(fontsize="small", loc="upper right")
    return fig, ax, handles


def kept_panel(stats: ActivationStats, ax: Axes | None = None):
    """Share of cells the rectifier keeps, per non-trivial unit, by kernel group."""
    fig, ax = plots.figure_axes(ax, (6, 3.5))
    groups = _group_names()
    live = ~stats.trivial
    handles = [_strip(ax, 100 * stats.kept[live], groups[live])]
    for i, g in enumerate(CNN1_GROUPS):
        rows = np.arange(g.first_row, g.stop_row)
        values = stats.kept[rows[live[rows]]]
        if values.size:
            handles.append(ax.hlines(100 * np.median(values), i - 0.4, i + 0.4, color="black", linewidth=1.5))
        ax.text(i, 104, f"n = {values.size}", ha="center", fontsize="small")
    ax.set(ylabel="cells kept by the ReLU (%)", ylim=(-3, 110),
           title=f"{stats.model}: non-trivial units (bar: median)")
    return fig, ax, handles


def kept_vs_bias_panel(stats: ActivationStats, ax: Axes | None = None):
    """Share of cells kept against b_i, per non-trivial unit, with their correlation."""
    fig, ax = plots.figure_axes(ax, (5, 3.5))
    live = np.flatnonzero(~stats.trivial)
    groups = _group_names()[live]
    handles = [ax.scatter(stats.bias[live], 100 * stats.kept[live], s=12, c=[GROUP_COLORS[g] for g in groups],
                          linewidths=0)]
    handles.append(ax.axvline(0, color="black", linewidth=0.6))
    for g in CNN1_GROUPS:
        if np.any(groups == g.name):
            ax.scatter([], [], s=12, c=GROUP_COLORS[g.name], label=g.name)
    r = np.corrcoef(stats.bias[live], stats.kept[live])[0, 1]
    ax.set(xlabel="bias b_i", ylabel="cells kept by the ReLU (%)", ylim=(-3, 103),
           title=f"{stats.model}: non-trivial units (Pearson r = {r:.2f})")
    ax.legend(fontsize="small", loc="lower right")
    return fig, ax, handles


def trivial_panel(stats: ActivationStats, ax: Axes | None = None):
    """Observed Y_i of every trivial unit (its range over the recording) against b_i, on top of
    the line ReLU(b)."""
    fig, ax = plots.figure_axes(ax, (5, 3.5))
    t = np.flatnonzero(stats.trivial)
    b = stats.bias[t]
    line = np.linspace(min(b.min(), 0), max(b.max(), 0), 100)
    handles = [ax.plot(line, np.maximum(line, 0), color="gray", linewidth=3, alpha=0.5, label="ReLU(b_i)")[0]]
    colors = [GROUP_COLORS[g] for g in _group_names()[t]]
    mid = (stats.y_min[t] + stats.y_max[t]) / 2
    handles.append(ax.errorbar(b, mid, yerr=(mid - stats.y_min[t], stats.y_max[t] - mid), fmt="none",
                               ecolor=colors, elinewidth=1))
    handles.append(ax.scatter(b, mid, s=8, c=colors, linewidths=0))
    for g in CNN1_GROUPS:
        ax.scatter([], [], s=8, c=GROUP_COLORS[g.name], label=g.name)
    ax.set(xlabel="bias b_i", ylabel="observed Y_i (min to max)",
           title=f"{stats.model}: the {t.size} trivial units")
    ax.legend(fontsize="small", loc="upper left")
    return fig, ax, handles


def bound_panel(stats: ActivationStats, ax: Axes | None = None):
    """Largest pre-activation the recording reached against the bound any input allows, per
    non-trivial unit."""
    fig, ax = plots.figure_axes(ax, (5, 4))
    live = np.flatnonzero(~stats.trivial)
    groups = _group_names()[live]
    handles = [ax.scatter(stats.bound[live], stats.max_pre[live], s=12, c=[GROUP_COLORS[g] for g in groups],
                          linewidths=0)]
    top = float(stats.bound[live].max()) * 1.05
    handles += ax.plot([0, top], [0, top], color="gray", linestyle="--", linewidth=1, label="reached = bound")
    handles += ax.plot([0, top], [0, top / 2], color="gray", linestyle=":", linewidth=1, label="half the bound")
    handles.append(ax.axhline(0, color="black", linewidth=0.6))
    for g in CNN1_GROUPS:
        if np.any(groups == g.name):
            ax.scatter([], [], s=12, c=GROUP_COLORS[g.name], label=g.name)
    ax.set(xlabel="bound: largest K_i ⋆ M̂_dB + b_i any input allows", ylabel="largest on this audio",
           title=f"{stats.model}: non-trivial units", xlim=(0, top))
    ax.legend(fontsize="small", loc="upper left")
    return fig, ax, handles


def panels_figure(panel, all_stats: Sequence[ActivationStats], figsize: tuple[float, float] = (11, 3.8),
                  sharey: bool = True):
    """One ``panel`` (e.g. :func:`bias_panel`) per model, side by side, sharing the value axis
    unless ``sharey`` is false."""
    fig, axes = plt.subplots(1, len(all_stats), figsize=plots.column_size(*figsize), layout="constrained",
                             sharey=sharey,
                             squeeze=False)
    handles = [panel(s, ax) for s, ax in zip(all_stats, axes[0])]
    return fig, axes[0], handles


def maps_figure(analysis: Analysis, units: Sequence[str], segment: int) -> tuple[Figure, np.ndarray]:
    """Pre-activation K_i ⋆ M̂_dB + b_i and Y_i side by side for each unit, on one segment.

    Both maps of a unit share one diverging colour scale, so a cell the rectifier keeps has the
    same colour in both, and a discarded cell turns white (zero).
    """
    fig, axes = plt.subplots(len(units), 2, figsize=plots.column_size(11, 2.8 * len(units)),
                             layout="constrained", squeeze=False)
    start = analysis.segment_start_s[segment]
    for (left, right), name in zip(axes, units):
        unit = analysis.model.unit(name, "cnn1")
        maps = analysis.unit_maps(name, segment)
        bound = float(np.abs(maps.pre_activation).max())
        one_d = unit.group.rows == 1
        label = "mel band" if one_d else f"output row (bands f…f+{unit.group.rows - 1})"
        kept = np.mean(maps.pre_activation > 0)
        plots.matrix(maps.pre_activation, left, start_s=start, row_label=label, vmin=-bound, vmax=bound,
                     cmap=plots.DIVERGING, colorbar_label="K ⋆ M̂_dB + b",
                     title=f"{name}:\nK ⋆ M̂_dB + b  (b = {unit.bias:.3f})")
        plots.matrix(maps.Y, right, start_s=start, row_label=label, vmin=-bound, vmax=bound,
                     cmap=plots.DIVERGING, colorbar_label="Y",
                     title=f"{name}: Y = ReLU(·),\nkeeps {100 * kept:.1f} % of this segment's cells")
        if one_d:  # two-line tick labels reach above the axes: lift the titles
            for ax in (left, right):
                plots.mel_axis(ax, n_ticks=4)
                ax.set_title(ax.get_title(), pad=14)
    fig.suptitle(f"{analysis.model.name}, segment {segment} of {analysis.path.name}", fontsize=10)
    return fig, axes


__all__ = [
    "ActivationStats",
    "activation_stats",
    "always_kept_units",
    "bias_panel",
    "bound_panel",
    "bound_table",
    "choose_units",
    "constant_positive_units",
    "group_table",
    "input_range_sentence",
    "kept_panel",
    "kept_vs_bias_panel",
    "largest_weights",
    "maps_figure",
    "never_active_table",
    "never_active_units",
    "optimizer_table",
    "panels_figure",
    "trivial_check_table",
    "trivial_panel",
    "unit_sentence",
    "vanishing_kernel_units",
    "zero_output_units",
]
