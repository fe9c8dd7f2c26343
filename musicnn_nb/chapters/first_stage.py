"""The first stage as a whole: U, its input-dependent rows, and their way to the tags (chapter 9,
"The first stage, together").

U stacks one row per CNN_1 unit. The series reports that for the MSD model only a few rows
depend on the input, the rest being (nearly) zero constants. This module recounts that from
the weights (kernel norms, with the threshold stated and varied), confirms it on observed
U (rows that move against rows that do not, with the tolerance stated), and follows the rows
through the back end: U is the top of W, the back end pools each row of W over time, and the
first dense layer weighs the pooled values. Every count comes with its criterion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from musicnn_nb.facts.backend import pooled_values, removal
from musicnn_nb.facts.batchnorm import cnn1_batch_norm
from musicnn_nb.facts.units import (
    NORM_THRESHOLD,
    UnitCount,
    input_dependent_units,
    nontrivial_in_group,
    nontrivial_units,
    norm_gap,
    threshold_sensitivity,
    varying_rows,
)
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FRAME_SECONDS
from musicnn_nb.model.weights import HIDDEN, POOLED_BN, Model, groups_of, layer_size
from musicnn_nb.present import plots
from musicnn_nb.present.notation import GROUP_COLORS, robust_limit, tex, w_row_groups

SERIES_CLAIMS = {  # what part 9 of the series reports for the MSD model (quoted, then recomputed)
    "input_dependent": 62,  # rows of U that depend on the input
    "zero": 499,  # rows of U that are effectively zero
    "first_row": 12,  # the first non-trivial row counting from the bottom of U
}
VARYING_TOLERANCE = 1e-6  # a row of U whose range over the recording stays within this is "constant"
TOLERANCES = (0.0, 1e-6, 1e-4, 1e-2)  # tolerances of the varying-rows table
ZERO_TOLERANCE = 1e-3  # a constant row of U with |value| below this is "effectively zero"
FLOOR = 1e-12  # log-scale figures draw smaller values (and zeros) at this floor
BLOCKS = ("non-trivial rows of U", "trivial rows of U", "mid-end rows of W")


# ---------------------------------------------------------------------------------------
# Counting the rows of U that depend on the input
# ---------------------------------------------------------------------------------------

def first_nontrivial(model: Model, threshold: float = NORM_THRESHOLD) -> str:
    """Name of the lowest row of U (the first from the bottom) whose kernel norm exceeds ``threshold``."""
    return nontrivial_units(model, "cnn1", threshold).names[0]


def row_ranges(layer_output: np.ndarray) -> np.ndarray:
    """max − min of every row of an observed output (segments, rows, time), over segments and time."""
    return layer_output.max(axis=(0, 2)) - layer_output.min(axis=(0, 2))


def constant_zero_rows(analysis: Analysis, tolerance: float = VARYING_TOLERANCE,
                       zero: float = ZERO_TOLERANCE) -> UnitCount:
    """Rows of U that are constant on the recording (range ≤ ``tolerance``) and whose value stays
    within ±``zero``: the empirical meaning of "effectively zero"."""
    u = analysis.U
    mask = (row_ranges(u) <= tolerance) & (np.abs(u).max(axis=(0, 2)) < zero)
    return UnitCount.from_mask(analysis.model.name, "cnn1",
                               f"range over all {analysis.n_segments} segments ≤ {tolerance:g} and largest absolute "
                               f"value < {zero:g}", tolerance, mask)


def claims_table(analysis: Analysis, threshold: float = NORM_THRESHOLD) -> str:
    """The series' three claims about U (MSD) next to the values recomputed for ``analysis``'s model."""
    model = analysis.model
    live = nontrivial_units(model, "cnn1", threshold)
    dependent = input_dependent_units(model, threshold)
    zero = constant_zero_rows(analysis)
    first = first_nontrivial(model, threshold)
    lines = ["| the series reports (part 9, MSD) | recomputed here | criterion |", "|---|---|---|",
             f"| {SERIES_CLAIMS['input_dependent']} rows of U depend on the input | {live.count} | {live.criterion} |",
             f"| | {dependent.count} | {dependent.criterion} |",
             f"| {SERIES_CLAIMS['zero']} rows are effectively zero | {live.total - live.count} | kernel Frobenius "
             f"norm ≤ {threshold:g} |",
             f"| | {zero.count} | on this recording: {zero.criterion} |",
             f"| the first non-trivial row from the bottom is unit {SERIES_CLAIMS['first_row']} | `{first}` | lowest "
             f"row with {live.criterion} |"]
    return "\n".join(lines)


def counts_table(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Per model: non-trivial rows of U by kernel group, the lowest one, the trivial rest, the
    input-dependent count, and the range of thresholds that give the same count."""
    header = "| | " + " | ".join(m.name for m in models) + " |"
    lines = [header, "|---|" + "---:|" * len(models)]
    for g in groups_of("cnn1"):
        lines.append(f"| non-trivial {g.name} units (rows {g.first_row}–{g.stop_row - 1}) | "
                     + " | ".join(f"{nontrivial_in_group(m, g, threshold).count} of {g.size}" for m in models) + " |")
    counts = [nontrivial_units(m, "cnn1", threshold) for m in models]
    dependent = [input_dependent_units(m, threshold) for m in models]
    intervals = [norm_gap(m, "cnn1", threshold) for m in models]
    rows = (
        (f"**non-trivial rows of U** (kernel norm > {threshold:g})", [f"**{c.count}**" for c in counts]),
        ("trivial rows (kernel norm ≤ threshold)", [f"{c.total - c.count}" for c in counts]),
        ("… of the non-trivial rows, those whose ReLU some input can open", [f"{d.count}" for d in dependent]),
        ("lowest non-trivial row", [f"`{first_nontrivial(m, threshold)}`" for m in models]),
        ("the same count for every threshold in", [f"[{lo:.3g}, {hi:.3g})" for lo, hi in intervals]),
    )
    lines += [f"| {label} | " + " | ".join(values) + " |" for label, values in rows]
    return "\n".join(lines)


def interval_sentence(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """How far the threshold can move, for each model, before the non-trivial count changes."""
    parts = []
    for m in models:
        lo, hi = norm_gap(m, "cnn1", threshold)
        count = nontrivial_units(m, "cnn1", threshold).count
        parts.append(f"for {m.name}, every threshold from {lo:.3g} (the largest norm at or below {threshold:g}) up "
                     f"to, but excluding, {hi:.3g} (the smallest norm above it) gives the same {count} rows, an "
                     f"interval spanning a factor of {hi / lo:.3g}")
    return "Between the norms on either side of the threshold, the count cannot change: " + "; ".join(parts) + "."


def row_status_sentence(model: Model, unit: str, threshold: float = NORM_THRESHOLD) -> str:
    """Whether a row of U is non-trivial for ``model``, with its kernel norm."""
    u = model.unit(unit, "cnn1")
    verdict = "non-trivial" if u.norm > threshold else "trivial"
    return f"For {model.name}, `{u.name}` has kernel norm {u.norm:.3g}: it is {verdict} (threshold {threshold:g})."


def threshold_figure(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> tuple[Figure, list[Axes]]:
    """Kernel norms of the 561 CNN_1 units for each model with the threshold, and the non-trivial
    count as the threshold varies, with the series' MSD count as a dotted line."""
    fig = plt.figure(figsize=plots.column_size(12, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    for i, m in enumerate(models):
        norms = np.sort(np.maximum(m.norms("cnn1"), FLOOR))[::-1]
        count = nontrivial_units(m, "cnn1", threshold).count
        left.plot(np.arange(1, norms.size + 1), norms, ".", markersize=3, color=f"C{i}",
                  label=f"{m.name}: {count} above the threshold")
        left.axvline(count + 0.5, color=f"C{i}", linestyle=":", linewidth=1)
    left.axhline(threshold, color="gray", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    left.set(yscale="log", xlabel="rank of the kernel (largest norm first)", ylabel="Frobenius norm of kernel",
             xlim=(0, layer_size("cnn1") + 1),
             title=f"The {layer_size('cnn1')} CNN_1 kernels sorted by norm\n(below 1e-12 drawn at 1e-12)")
    left.legend(fontsize="small")
    plots.sensitivity({m.name: threshold_sensitivity(m, "cnn1") for m in models}, right, total=layer_size("cnn1"),
                      threshold=threshold, title="non-trivial rows of U\nagainst the threshold")
    right.axhline(SERIES_CLAIMS["input_dependent"], color="black", linestyle=":", linewidth=1,
                  label=f"the series' count (MSD): {SERIES_CLAIMS['input_dependent']}")
    right.set_yscale("log")
    right.legend(fontsize="small")
    return fig, [left, right]


# ---------------------------------------------------------------------------------------
# U of one segment, group by group
# ---------------------------------------------------------------------------------------

def u_figure(analysis: Analysis, segment: int, ax: Axes | None = None, threshold: float = NORM_THRESHOLD,
             percentile: float = 99.5):
    """U of one segment (561 × 187) with a strip on its left that colours the five kernel groups
    (bottom to top) and ticks the non-trivial rows. Symmetric colour scale clipped at
    ``percentile`` of |U|. Returns (figure, axes, image, colour bar, strip axes, group patches, ticks)."""
    segment = analysis.check_segment(segment)
    u = analysis.U[segment]
    limit = robust_limit(u, percentile)
    fig, ax, image, bar = plots.matrix(u, plots.figure_axes(ax, (6, 7))[1], start_s=analysis.segment_start_s[segment],
                                       title=f"U, segment {segment} ({analysis.model.name})", vmin=-limit, vmax=limit,
                                       colorbar_label=f"$[U]_{{i,t}}$, clipped at ±{limit:.2g}", row_label="")
    strip = ax.inset_axes((-0.16, 0, 0.13, 1), sharey=ax)
    patches = []
    for g in groups_of("cnn1"):
        patches.append(strip.axhspan(g.first_row - 0.5, g.stop_row - 0.5, xmin=0, xmax=0.5,
                                     color=GROUP_COLORS[g.name]))
        strip.text(0.25, (g.first_row + g.stop_row - 1) / 2, g.name, rotation=90, ha="center", va="center",
                   fontsize="small", color="white", fontweight="bold")
        if g.first_row:
            ax.axhline(g.first_row - 0.5, color="black", linewidth=0.8)
    live = nontrivial_units(analysis.model, "cnn1", threshold)
    ticks = strip.hlines(live.rows, 0.55, 1.0, color="black", linewidth=0.6)
    strip.set(xlim=(0, 1), ylabel="row of U (unit index)")
    strip.set_xticks([0.25, 0.78], ["kernel group", "non-trivial"], fontsize="small", rotation=90)
    ax.set_title(f"U, segment {segment} ({analysis.model.name}): {live.count} of {live.total} rows non-trivial")
    for side in ("top", "right", "bottom"):
        strip.spines[side].set_visible(False)
    ax.tick_params(labelleft=False)
    return fig, ax, image, bar, strip, patches, ticks


def u_figures(analyses: Sequence[Analysis], segment: int, threshold: float = NORM_THRESHOLD) -> tuple[Figure, list]:
    """:func:`u_figure` for several models side by side."""
    fig = plt.figure(figsize=plots.column_size(6.2 * len(analyses), 7), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(analyses)))
    return fig, [u_figure(a, segment, ax, threshold) for ax, a in zip(axes, analyses)]


# ---------------------------------------------------------------------------------------
# The claim checked on observed U: rows that move, rows that do not
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Varying:
    """Rows of U that moved on one recording against the rows the weights call non-trivial."""

    model: str
    tolerance: float
    varying: tuple[int, ...]  # rows whose range over the recording exceeds the tolerance
    nontrivial: tuple[int, ...]  # rows with kernel norm above the threshold

    @property
    def moving_nontrivial(self) -> int:
        return len(set(self.varying) & set(self.nontrivial))

    @property
    def moving_trivial(self) -> tuple[int, ...]:
        """Trivial rows that moved anyway."""
        return tuple(sorted(set(self.varying) - set(self.nontrivial)))

    @property
    def still_nontrivial(self) -> tuple[int, ...]:
        """Non-trivial rows that stayed constant on this recording."""
        return tuple(sorted(set(self.nontrivial) - set(self.varying)))


def varying(analysis: Analysis, tolerance: float = VARYING_TOLERANCE, threshold: float = NORM_THRESHOLD) -> Varying:
    """Compare :func:`analysis.varying_rows` of observed U with :func:`analysis.nontrivial_units`."""
    return Varying(analysis.model.name, tolerance, tuple(int(r) for r in varying_rows(analysis.U, tolerance)),
                   nontrivial_units(analysis.model, "cnn1", threshold).rows)


def varying_table(analyses: Sequence[Analysis], tolerances: Sequence[float] = TOLERANCES) -> str:
    """For each model and tolerance: rows that moved, split by the weights' verdict."""
    lines = ["| model | tolerance on the range | rows that move | … non-trivial | … trivial | non-trivial rows "
             "that stay constant |", "|---|---:|---:|---:|---:|---:|"]
    for a in analyses:
        for t in tolerances:
            v = varying(a, t)
            lines.append(f"| {a.model.name} | {t:g} | {len(v.varying)} | {v.moving_nontrivial} | "
                         f"{len(v.moving_trivial)} | {len(v.still_nontrivial)} |")
    return "\n".join(lines)


def _names(model: Model, rows: Sequence[int], limit: int = 6) -> str:
    names = [f"`{model.unit(int(r), 'cnn1').name}`" for r in rows[:limit]]
    return ", ".join(names) + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def mismatch_sentence(analysis: Analysis, tolerance: float = VARYING_TOLERANCE,
                      threshold: float = NORM_THRESHOLD) -> str:
    """Where weights and observation disagree at ``tolerance``, and why, in one paragraph."""
    model, v = analysis.model, varying(analysis, tolerance, threshold)
    norms, ranges, u = model.norms("cnn1"), row_ranges(analysis.U), analysis.U
    parts = [f"**{model.name}**, tolerance {tolerance:g}:"]
    if v.moving_trivial:
        trivial = np.array(v.moving_trivial)
        parts.append(f"{len(trivial)} trivial rows move ({_names(model, trivial)}); their kernel norms lie between "
                     f"{norms[trivial].min():.2g} and {norms[trivial].max():.2g}, and the largest of their "
                     f"ranges is {ranges[trivial].max():.2g}.")
    else:
        parts.append("No trivial row moves.")
    if v.still_nontrivial:
        still = np.array(v.still_nontrivial)
        scale, shift = _cnn1_affine(model)
        at_offset = np.all(np.abs(u[:, still] - shift[still, None]) <= max(tolerance, 1e-6), axis=(0, 2))
        positive = at_offset & (scale[still] > 0)
        negative = at_offset & (scale[still] < 0)
        parts.append(f"{len(still)} non-trivial rows stay constant ({_names(model, still)}). "
                     f"{int(positive.sum())} of them sit at their offset $c_i$ with a positive slope $a_i$: "
                     "the rectifier never opened anywhere in the recording. "
                     f"{int(negative.sum())} sit at $c_i$ with a negative slope: "
                     "at every frame at least one frequency position stayed closed, and with $a_i < 0$ that position "
                     f"wins the max. {int((~at_offset).sum())} are constant for another reason.")
    else:
        parts.append("Every non-trivial row moves.")
    return " ".join(parts)


def _cnn1_affine(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Slope a_i and offset c_i of every CNN_1 unit's batch-norm, in row order of U."""
    bn = cnn1_batch_norm(model)
    return bn.scale, bn.shift


def norm_range_figure(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD,
                      tolerance: float = VARYING_TOLERANCE) -> tuple[Figure, list[Axes]]:
    """For each model, every row of U as a point: its kernel norm against how far the row moved
    over the recording, coloured by kernel group, with the threshold and the tolerance drawn."""
    fig = plt.figure(figsize=plots.column_size(5.6 * len(analyses), 4.2), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(1, len(analyses), sharey=True)))
    for ax, a in zip(axes, analyses):
        norms, ranges = np.maximum(a.model.norms("cnn1"), FLOOR), np.maximum(row_ranges(a.U), FLOOR)
        for g in groups_of("cnn1"):
            rows = slice(g.first_row, g.stop_row)
            ax.scatter(norms[rows], ranges[rows], s=10, color=GROUP_COLORS[g.name], alpha=0.75, label=g.name)
        ax.axvline(threshold, color="gray", linestyle="--", linewidth=1, label=f"norm threshold {threshold:g}")
        ax.axhline(tolerance, color="black", linestyle=":", linewidth=1, label=f"range tolerance {tolerance:g}")
        ax.set(xscale="log", yscale="log", xlabel="Frobenius norm of the unit's kernel",
               title=f"{a.model.name}: {a.n_segments} segments of {a.path.name}")
        ax.grid(linewidth=0.3, alpha=0.5)
    axes[0].set_ylabel("range of the row of U over the recording\n(max − min; zeros drawn at 1e-12)")
    axes[-1].legend(fontsize="small", loc="upper left")
    return fig, axes


# ---------------------------------------------------------------------------------------
# One row of U at 16-ms resolution
# ---------------------------------------------------------------------------------------

def stem_figure(analysis: Analysis, unit: str, segment: int, fig: Figure | None = None) -> tuple[Figure, list[Axes]]:
    """One CNN_1 unit on one segment: its rectified map Y_i, and its row of U as a stem plot (one
    stem per 16-ms frame) with the offset c_i drawn and a second axis giving max_f [Y_i]_{f,t}
    (min_f for a negative slope), since [U]_{i,t} = a_i · that + c_i."""
    unit = analysis.model.unit(unit, "cnn1")
    segment = analysis.check_segment(segment)
    maps, start = analysis.unit_maps(unit.name, segment), analysis.segment_start_s[segment]
    scale, shift = (v[unit.index] for v in _cnn1_affine(analysis.model))
    if fig is None:
        fig = plt.figure(figsize=plots.column_size(10, 6), layout="constrained")
    grid = fig.subplots(2, 2, width_ratios=(40, 1), height_ratios=(1.2, 1))
    top, bottom = grid[:, 0]
    bottom.sharex(top)
    grid[1, 1].axis("off")  # the colour bar's column stays empty below, so both panels share one time axis
    one_d = unit.group.rows == 1
    *_, image, bar = plots.matrix(maps.Y, top, start_s=start,
                                  row_label="mel band" if one_d else f"map row f (bands f…f+{unit.group.rows - 1})",
                                  title=f"$Y_{{{unit.index}}}$ = ReLU($K_{{{unit.index}}} \\star \\hat M_{{dB}} "
                                        f"+ b_{{{unit.index}}}$)")
    bar.remove()
    fig.colorbar(image, cax=grid[0, 1]).set_label(f"$[Y_{{{unit.index}}}]_{{f,t}}$")
    if one_d:
        plots.mel_axis(top, n_ticks=5)
    top.set_xlabel("")
    top.tick_params(labelbottom=False)
    row = analysis.U[segment, unit.index]
    plots.series(row, bottom, start_s=start, stem=True, ylabel=f"$[U]_{{{unit.index},t}}$",
                 title=f"row {unit.index} of U, one value every 16 ms; red dashes: $c_{{{unit.index}}}$ = {shift:.3g}, "
                       "its value where $Y$ is 0")
    bottom.axhline(shift, color="tab:red", linestyle="--", linewidth=0.9)
    which = "max" if scale > 0 else "min"
    second = bottom.secondary_yaxis("right", functions=(lambda v: (v - shift) / scale, lambda y: y * scale + shift))
    second.set_ylabel(f"{which}$_f\\,[Y_{{{unit.index}}}]_{{f,t}}$")
    fig.suptitle(f"{unit.name} ({analysis.model.name}, segment {segment})", fontsize=11)
    return fig, [top, bottom]


def stem_sentence(analysis: Analysis, unit: str, segment: int) -> str:
    """The numbers of :func:`stem_figure`: slope, offset, and how often the row sits at its offset."""
    unit = analysis.model.unit(unit, "cnn1")
    segment = analysis.check_segment(segment)
    scale, shift = (float(v[unit.index]) for v in _cnn1_affine(analysis.model))
    row = analysis.U[segment, unit.index]
    floor = np.isclose(row, shift, rtol=0, atol=1e-6)
    maps = analysis.unit_maps(unit.name, segment)
    silent = (maps.Y.max(axis=0) == 0) if scale > 0 else (maps.Y.min(axis=0) == 0)
    i = unit.index
    which = "every" if scale > 0 else "some"
    if floor.any():
        at_floor = (f"sits at $c_{{{i}}}$ in {int(floor.sum())} of its {row.size} frames; {which} position of "
                    f"$\\mathbf{{Y}}_{{{i}}}$ is zero in {int(silent.sum())} of them")
    else:
        at_floor = (f"never sits at $c_{{{i}}}$: there is no frame in which {which} position of "
                    f"$\\mathbf{{Y}}_{{{i}}}$ is zero ({int(silent.sum())} of {row.size})")
    return (f"For `{unit.name}` ({analysis.model.name}): $a_{{{i}}} = {scale:.4g}$ and $c_{{{i}}} = {shift:.4g}$. "
            f"On segment {segment}, the row {at_floor}. It ranges from {row.min():.3g} to {row.max():.3g}; its "
            f"largest value falls at {analysis.segment_start_s[segment] + row.argmax() * FRAME_SECONDS:.3f} s.")


# ---------------------------------------------------------------------------------------
# From the rows of U to the tags: the back end
# ---------------------------------------------------------------------------------------

def w_blocks(model: Model, threshold: float = NORM_THRESHOLD) -> dict[str, np.ndarray]:
    """Rows of W in each of :data:`BLOCKS`: the non-trivial and the trivial rows of U, and the
    192 rows the mid end adds (V̂_1, V̂_1+V̂_2, V̂_1+V̂_2+V̂_3)."""
    live = np.array(nontrivial_units(model, "cnn1", threshold).rows, dtype=int)
    n_u = layer_size("cnn1")
    n_w = n_u + sum(layer_size(layer) for layer in ("cnn2", "cnn3", "cnn4"))
    return dict(zip(BLOCKS, (live, np.setdiff1d(np.arange(n_u), live), np.arange(n_u, n_w))))


def u_in_w_sentence(analyses: Sequence[Analysis]) -> str:
    """Check, on every segment, that the first 561 rows of W are U and that p interleaves the
    maxima and the means of W's rows over time."""
    n_u = layer_size("cnn1")
    parts = []
    for a in analyses:
        top = np.array_equal(a.W[:, :n_u], a.U)
        pooled = (np.array_equal(a.pooled[:, 0::2], a.W.max(axis=2))
                  and np.allclose(a.pooled[:, 1::2], a.W.mean(axis=2), rtol=0, atol=1e-5))
        parts.append(f"{a.model.name}: rows 0–{n_u - 1} of W {'equal' if top else '**differ from**'} U, and p "
                     f"{'holds' if pooled else '**does not hold**'} the maximum and the mean over time of every row "
                     f"of W at its even and odd entries")
    return f"Checked on all {analyses[0].n_segments} segments of the recording: " + "; ".join(parts) + "."


@dataclass(frozen=True)
class BlockShare:
    """One block of W's rows and its shares of the first dense layer (chapter 9)."""

    block: str
    rows: int
    median_norm: float  # median over the block's pooled entries k of ‖A_1[k, :]‖
    weight: float  # share of Σ A_1[k, j]² over the block's pooled entries k
    contribution: float  # share of Σ |p̃_k A_1[k, j]| over segments, entries and hidden units
    variation: float  # share of Σ_j std over segments of the block's summed contribution to hidden unit j


def backend_shares(analysis: Analysis, threshold: float = NORM_THRESHOLD) -> list[BlockShare]:
    """How much of the first dense layer's weight and of its input on this recording comes from each
    block of W (:data:`BLOCKS`). p̃ is the pooled vector after its batch-norm."""
    model = analysis.model
    kernel, _ = model.dense(HIDDEN.scope)
    bn = model.batch_norm(POOLED_BN.scope)
    normalised = bn(analysis.pooled).astype(np.float64)
    blocks = {name: pooled_values(rows) for name, rows in w_blocks(model, threshold).items()}
    measures, medians = {}, {}
    for name, k in blocks.items():
        medians[name] = float(np.median(np.linalg.norm(kernel[k].astype(np.float64), axis=1)))
        weight = kernel[k].astype(np.float64)
        part = normalised[:, k] @ weight  # (segments, hidden): the block's summed contribution
        measures[name] = (np.sum(weight**2), np.sum(np.abs(normalised[:, k, None] * weight[None])),
                          np.sum(part.std(axis=0)))
    totals = np.sum(list(measures.values()), axis=0)
    return [BlockShare(name, len(blocks[name]) // 2, medians[name], *(float(v) for v in np.array(values) / totals))
            for name, values in measures.items()]


def shares_table(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD) -> str:
    """:func:`backend_shares` for several models as one Markdown table."""
    lines = ["| model | block of W | rows | median ‖row of $A_1$‖ | share of the weight | share of the contribution "
             "on this recording | share of the segment-to-segment variation |", "|---|---|---:|---:|---:|---:|---:|"]
    for a in analyses:
        for s in backend_shares(a, threshold):
            lines.append(f"| {a.model.name} | {s.block} | {s.rows} | {s.median_norm:.3f} | {s.weight:.1%} | "
                         f"{s.contribution:.1%} | "
                         f"{s.variation:.2%} |")
    return "\n".join(lines)


def trivial_bias_sentence(analysis: Analysis, threshold: float = NORM_THRESHOLD) -> str:
    """How close the trivial rows' pooled values are to the back end's training means, and the
    constant they add to the first dense layer, on this recording."""
    model = analysis.model
    k = pooled_values(w_blocks(model, threshold)[BLOCKS[1]])
    bn = model.batch_norm(POOLED_BN.scope)
    kernel, bias = model.dense(HIDDEN.scope)
    gap = np.abs(analysis.pooled[:, k] - bn.mean[k])
    shift = np.abs(bn(analysis.pooled)[:, k] - bn.beta[k])
    added = bn(analysis.pooled)[:, k].astype(np.float64) @ kernel[k]
    return (f"**{model.name}**: over the {len(k)} pooled entries of the trivial rows and all {analysis.n_segments} "
            f"segments, $p_k$ differs from the running mean $\\mu_k$ by at most {gap.max():.2g}, so $\\tilde p_k$ "
            f"stays within {shift.max():.2g} of $\\beta_k$. Together these entries add to each hidden unit's "
            f"pre-activation a term that changes from segment to segment by at most "
            f"{np.ptp(added, axis=0).max():.2g} and whose size is up to {np.abs(added).max():.2g}, "
            "while the layer's own "
            f"biases $[\\mathbf{{a}}_1]_j$ reach {np.abs(bias).max():.2g} in size: an effective bias "
            "(chapter 10 meets the same effect in CNN_2).")


def push_magnitude_table(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD) -> str:
    """Mean |change of logit| over tags and segments when each block is set to its training means."""
    lines = ["| block of W | " + " | ".join(a.model.name for a in analyses) + " |",
             "|---|" + "---:|" * len(analyses)]
    for block in BLOCKS:
        values = [f"{np.abs(removal(a, w_blocks(a.model, threshold)[block]).change).mean():.3g}" for a in analyses]
        lines.append(f"| {block} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def pushed_tags(analysis: Analysis, n: int = 5, block: str = BLOCKS[0],
                threshold: float = NORM_THRESHOLD) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """The ``n`` tags whose logit ``block`` raises most and lowers most, averaged over segments."""
    push = removal(analysis, w_blocks(analysis.model, threshold)[block]).change.mean(axis=0)
    order = np.argsort(push)
    tags = analysis.tags
    return ([(tags[i], float(push[i])) for i in order[::-1][:n]], [(tags[i], float(push[i])) for i in order[:n]])


def pushed_table(analyses: Sequence[Analysis], n: int = 5, threshold: float = NORM_THRESHOLD) -> str:
    """:func:`pushed_tags` of the non-trivial rows of U for several models, as Markdown."""
    lines = ["| model | raised most (mean change of logit) | lowered most |", "|---|---|---|"]
    for a in analyses:
        up, down = pushed_tags(a, n, BLOCKS[0], threshold)
        lines.append(f"| {a.model.name} | " + ", ".join(f"{t} ({v:+.2f})" for t, v in up) + " | "
                     + ", ".join(f"{t} ({v:+.2f})" for t, v in down) + " |")
    return "\n".join(lines)


def push_figure(analyses: Sequence[Analysis], n: int = 8, threshold: float = NORM_THRESHOLD) -> tuple[Figure, list]:
    """Bars of the mean change of logit that the non-trivial rows of U cause, for the ``n`` tags
    raised most and the ``n`` lowered most, one panel per model."""
    fig = plt.figure(figsize=plots.column_size(5.2 * len(analyses), 0.3 * 2 * n + 1.4), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(1, len(analyses))))
    handles = []
    for ax, a in zip(axes, analyses):
        up, down = pushed_tags(a, n, BLOCKS[0], threshold)
        pairs = up + down[::-1]
        values = [v for _, v in pairs]
        y = np.arange(len(pairs))[::-1]
        handles.append(ax.barh(y, values, color=["tab:red" if v > 0 else "tab:blue" for v in values]))
        ax.set_yticks(y, [t for t, _ in pairs], fontsize="small")
        ax.axvline(0, color="gray", linewidth=0.6)
        ax.set(xlabel="mean change of the tag's logit", title=f"{a.model.name}: non-trivial rows of U, "
               f"{a.n_segments} segments")
    return fig, handles


def dense_weights_figure(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> tuple[Figure, list[Axes]]:
    """For each model, the norm of the first dense layer's weights from each pooled entry (the max
    and the mean of each row of W), against the row of W, coloured by block."""
    fig = plt.figure(figsize=plots.column_size(12, 3.2 * len(models)), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(len(models), 1, sharex=True)))
    colours = dict(zip(BLOCKS, ("tab:red", "tab:gray", "tab:green")))
    for ax, model in zip(axes, models):
        kernel, _ = model.dense(HIDDEN.scope)
        norms = np.linalg.norm(kernel.astype(np.float64), axis=1)
        for block, rows in w_blocks(model, threshold).items():
            ax.scatter(rows, norms[2 * rows], s=9, marker="^", color=colours[block], alpha=0.8,
                       label=f"{block}: max over time")
            ax.scatter(rows, norms[2 * rows + 1], s=9, marker="v", facecolor="none", edgecolor=colours[block],
                       alpha=0.8, label=f"{block}: mean over time")
        for key, first, stop in w_row_groups():
            if first:
                ax.axvline(first - 0.5, color="black", linewidth=0.8 if key == "V1_hat" else 0.5,
                           linestyle="-" if key == "V1_hat" else ":")
            ax.text((first + stop - 1) / 2, 1.01, tex(key) if key != "V123_hat" else r"$\hat{\mathbf{V}}_{1+2+3}$",
                    transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize="small")
        ax.set(ylabel="‖row of $A_1$‖")
        ax.set_title(f"{model.name}: weights of the first dense layer from each pooled value", pad=14)
        ax.grid(axis="y", linewidth=0.3, alpha=0.5)
    axes[0].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    axes[-1].set(xlabel="row of W (0–560: U, 561–752: the mid end)", xlim=(-5, 757))
    return fig, axes


__all__ = [
    "BLOCKS",
    "SERIES_CLAIMS",
    "BlockShare",
    "Varying",
    "backend_shares",
    "claims_table",
    "constant_zero_rows",
    "counts_table",
    "dense_weights_figure",
    "first_nontrivial",
    "interval_sentence",
    "mismatch_sentence",
    "norm_range_figure",
    "push_figure",
    "push_magnitude_table",
    "pushed_table",
    "pushed_tags",
    "row_ranges",
    "row_status_sentence",
    "shares_table",
    "stem_figure",
    "stem_sentence",
    "threshold_figure",
    "trivial_bias_sentence",
    "u_figure",
    "u_figures",
    "u_in_w_sentence",
    "varying",
    "varying_table",
    "w_blocks",
]
