"""CNN_3, its batch-norm and the first skip connection (chapter 11, "CNN_3, normalisation
and skip connection").

CNN_3 has 64 units. Unit j correlates a kernel K_j of 64 rows × 7 frames with V̂_1 (the
output of CNN_2, time padded with 3 zero frames on each side), adds a bias and rectifies:

    [V_2]_{j,t} = ReLU( Σ_r Σ_τ [K_j]_{r,τ} [V̂_1]_{r,t+τ−3} + b_j ),
    V̂_2 = BN(V_2)  (row j: a_j V_2 + c_j, a_j = γ_j / √(σ_j² + ε), c_j = β_j − a_j μ_j),

and the skip connection adds V̂_1 + V̂_2, which CNN_4 reads and which is a block of W.

This module counts the trivial and the never-active units (each count with its criterion),
measures where the kernels put their weight among the rows of V̂_1, shows that weight on a
constant row of V̂_1 (a trivial CNN_2 unit) acts as a bias, and compares the skip sum with its
two parts. The count functions take ``layer`` and work for any mid-end layer; the functions
about constant input rows are CNN_3's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from musicnn_nb.facts.bias import (
    bias_check,
    constant_contribution,
    constant_input_rows,
    effective_bias,
    input_constants,
    pre_activation,
)
from musicnn_nb.facts.units import (
    NORM_THRESHOLD,
    UnitCount,
    never_active_units,
    nontrivial_units,
    norm_gap,
    stable_thresholds,
    trivial_units,
)
from musicnn_nb.facts.units import (
    explorer_unit as _explorer_unit,
)
from musicnn_nb.model.network import LAYER_INPUT, LAYER_OUTPUT
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FRAME_SECONDS
from musicnn_nb.model.weights import Model, layer_size, unit_name
from musicnn_nb.present import plots
from musicnn_nb.present.midend import batch_norm, group
from musicnn_nb.present.notation import TEX, bn_parameters, number, robust_limit, tex, w_row_groups

LAYER = "cnn3"
GROUP = group(LAYER)
CONSTANT_TOLERANCE = 1e-6  # a row whose range (max − min) stays within this is constant
BN_PARAMETERS = bn_parameters("j", affine=True)


def _count(model: Model, layer: str, criterion: str, rows: np.ndarray, threshold: float = NORM_THRESHOLD) -> UnitCount:
    return UnitCount(model.name, layer, criterion, threshold, tuple(int(r) for r in rows))




# ---------------------------------------------------------------------------------------
# The layer's place: W's rows
# ---------------------------------------------------------------------------------------

def w_rows(key: str = "V12_hat") -> tuple[int, int]:
    """First and last row of W that hold ``key`` (V̂_1 + V̂_2 by default)."""
    start, stop = next((start, stop) for k, start, stop in w_row_groups() if k == key)
    return start, stop - 1


def skip_sentence(analyses: Sequence[Analysis]) -> str:
    """Where V̂_1 + V̂_2 goes (CNN_4's input, a block of W), checked on each analysis's arrays."""
    first, last = w_rows()
    checks = []
    for a in analyses:
        summed = np.array_equal(a.V1_hat + a.V2_hat, a.V12_hat)
        in_w = np.array_equal(a.W[:, first:last + 1], a.V12_hat)
        checks.append(f"{a.model.name}: the stored sum {'equals' if summed else 'does NOT equal'} "
                      f"$\\hat{{\\mathbf{{V}}}}_1 + \\hat{{\\mathbf{{V}}}}_2$ and "
                      f"{'equals' if in_w else 'does NOT equal'} those rows of $\\mathbf{{W}}$, exactly, on all "
                      f"{a.n_segments} segments")
    return (f"The sum is what CNN_4 convolves (`network.LAYER_INPUT['cnn4']` is `{LAYER_INPUT['cnn4']}`), and it is "
            f"rows {first}–{last} of $\\mathbf{{W}}$. Checked on the running example: " + "; ".join(checks) + ".")


# ---------------------------------------------------------------------------------------
# Kernel norms and dead units
# ---------------------------------------------------------------------------------------

def constant_rows(values: np.ndarray, tolerance: float = CONSTANT_TOLERANCE) -> np.ndarray:
    """Rows of a (segments, rows, time) array whose range stays within ``tolerance``."""
    return np.flatnonzero(values.max(axis=(0, 2)) - values.min(axis=(0, 2)) <= tolerance)


def counts_table(analyses: Sequence[Analysis], layer: str = LAYER, threshold: float = NORM_THRESHOLD) -> str:
    """Per model: the non-trivial kernels, how stable that count is, the gap in norms, and the
    dead units by both criteria, as Markdown."""
    lines = ["| model | units | non-trivial (norm > threshold) | same count for thresholds | "
             "largest trivial norm | smallest non-trivial norm | trivial kernel | "
             "never active on this recording | both |",
             "|---|---:|---:|---|---:|---:|---|---|---|"]
    for a in analyses:
        m = a.model
        live = nontrivial_units(m, layer, threshold)
        lo, hi = stable_thresholds(m, layer, threshold)
        small, large = norm_gap(m, layer, threshold)
        zero, never = trivial_units(m, layer, threshold), never_active_units(a, layer)
        both = sorted(set(zero.rows) & set(never.rows))
        lines.append(f"| {m.name} | {layer_size(layer)} | {live.count} | {lo:g} to {hi:g} | {number(small)} | "
                     f"{number(large)} | {zero.count}: {zero.listed} | {never.count}: {never.listed} | "
                     f"{len(both)} |")
    return "\n".join(lines)


def dead_units_table(analyses: Sequence[Analysis], layer: str = LAYER, threshold: float = NORM_THRESHOLD) -> str:
    """Every unit that is dead by either criterion: its norm, bias, largest pre-activation on
    the recording, and the constant its row of V̂ then holds, as Markdown."""
    lines = ["| model | unit | kernel norm | bias $b_j$ | largest pre-activation on the recording | "
             "trivial kernel | never active | constant $c_j$ in $\\hat{\\mathbf{V}}$ |",
             "|---|---|---:|---:|---:|:-:|:-:|---:|"]
    for a in analyses:
        m = a.model
        zero, never = set(trivial_units(m, layer, threshold).rows), set(never_active_units(a, layer).rows)
        z = pre_activation(a, layer).max(axis=(0, 2))
        bn, b, norms = batch_norm(m, layer), m.biases(layer), m.norms(layer)
        for j in sorted(zero | never):
            constant = bn(np.float32(max(b[j], 0)))[j] if j in zero else bn.shift[j]
            lines.append(f"| {m.name} | `{unit_name(group(layer), j)}` | {number(norms[j])} | {number(b[j])} | "
                         f"{number(z[j])} | {'yes' if j in zero else 'no'} | {'yes' if j in never else 'no'} | "
                         f"{number(constant)} |")
    return "\n".join(lines)


def agreement_sentence(analyses: Sequence[Analysis], layer: str = LAYER, threshold: float = NORM_THRESHOLD) -> str:
    """Per model: whether the two criteria for a dead unit agree, and by how much the units
    that are silent despite a non-trivial kernel missed opening their rectifier."""
    parts = []
    for a in analyses:
        zero, never = trivial_units(a.model, layer, threshold), never_active_units(a, layer)
        silent = sorted(set(never.rows) - set(zero.rows))
        if not silent and set(zero.rows) <= set(never.rows):
            parts.append(f"for {a.model.name} the two criteria name the same {zero.count} units")
            continue
        z = pre_activation(a, layer).max(axis=(0, 2))
        names = ", ".join(f"`{unit_name(group(layer), j)}` (largest pre-activation {z[j]:.3g})" for j in silent)
        text = (f"for {a.model.name}, {len(silent)} unit(s) with a non-trivial kernel never open their rectifier "
                f"on this recording: {names or 'none'}")
        open_zero = sorted(set(zero.rows) - set(never.rows))
        if open_zero:
            text += (", and the trivial kernels of " + ", ".join(f"`{unit_name(group(layer), j)}`" for j in open_zero)
                     + " output the positive constant ReLU(b_j)")
        parts.append(text)
    return "On this recording, " + "; ".join(parts) + "."


# ---------------------------------------------------------------------------------------
# Where the kernels put their weight, and constant input rows
# ---------------------------------------------------------------------------------------

def row_weights(model: Model, layer: str = LAYER) -> np.ndarray:
    """‖[K_j]_{r,·}‖: the norm of each kernel's row r over its 7 frames, (units, input rows)."""
    k = model.kernels(group(layer)).astype(np.float64)
    return np.sqrt((k**2).sum(axis=2))


def weight_table(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Per model: how many input rows are constant, and what share of the non-trivial kernels'
    weight they get, as Markdown."""
    lines = ["| model | constant rows of the input (trivial CNN_2 units) | their share of the rows | "
             "share of kernel energy on them: median | largest | mean row norm, non-trivial rows | "
             "mean row norm, constant rows | ratio |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for m in models:
        rows = np.array(constant_input_rows(m, LAYER, threshold).rows, dtype=int)
        weights = row_weights(m)[list(nontrivial_units(m, LAYER, threshold).rows)]
        dead = np.zeros(weights.shape[1], dtype=bool)
        dead[rows] = True
        share = (weights[:, dead] ** 2).sum(axis=1) / (weights**2).sum(axis=1)
        lines.append(f"| {m.name} | {dead.sum()} of {dead.size} | {dead.mean():.0%} | {np.median(share):.2%} | "
                     f"{share.max():.2%} | {number(weights[:, ~dead].mean())} | {number(weights[:, dead].mean())} | "
                     f"{weights[:, ~dead].mean() / weights[:, dead].mean():.0f} |")
    return "\n".join(lines)


def bias_table(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD) -> str:
    """Per model: the range of the constant rows' values, of the effective biases δ_j and their
    size relative to b_j (non-trivial units), and the check against the network, as Markdown."""
    lines = ["| model | constants $c_r$ of the trivial rows | effective bias $\\delta_j$: range | "
             "largest $\\lvert\\cdot\\rvert / \\lvert b_j \\rvert$ (unit) | median ratio | "
             "check inside: largest error | at the edges, as a bias | "
             "at the edges, tap by tap |", "|---|---|---|---|---:|---:|---:|---:|"]
    for a in analyses:
        m = a.model
        rows = list(constant_input_rows(m, LAYER, threshold).rows)
        c = input_constants(m, LAYER)[rows]
        live = list(nontrivial_units(m, LAYER, threshold).rows)
        eq = effective_bias(m, LAYER, threshold)
        ratio = np.abs(eq[live]) / np.abs(m.biases(LAYER)[live])
        worst = live[int(np.argmax(ratio))]
        check = bias_check(a, LAYER, threshold)
        lines.append(f"| {m.name} | {number(c.min())} to {number(c.max())} | "
                     f"{number(eq[live].min())} to {number(eq[live].max())} | "
                     f"{number(ratio.max())} (`{unit_name(GROUP, worst)}`) | {np.median(ratio):.3f} | "
                     f"{check.interior:.1e} | {check.edges:.1e} | {check.edges_corrected:.1e} |")
    return "\n".join(lines)


def largest_relative_bias(model: Model, threshold: float = NORM_THRESHOLD) -> int:
    """The non-trivial unit whose effective bias δ_j is largest relative to its own bias b_j."""
    live = np.array(nontrivial_units(model, LAYER, threshold).rows, dtype=int)
    ratio = np.abs(effective_bias(model, LAYER, threshold)[live]) / np.abs(model.biases(LAYER)[live])
    return int(live[np.argmax(ratio)])


def weight_figure(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> tuple[Figure, np.ndarray]:
    """Per model: the norm of every kernel row (units × input rows, log colours) and, below,
    its mean over the non-trivial kernels, coloured by whether the input row is constant."""
    fig, axes = plt.subplots(2, len(models), figsize=plots.column_size(6.5 * len(models), 7.2), height_ratios=(2.2, 1),
                             sharex=True, squeeze=False, layout="constrained")
    source = TEX[LAYER_INPUT[LAYER]]
    for (top, bottom), m in zip(axes.T, models):
        weights = row_weights(m)
        rows = np.array(constant_input_rows(m, LAYER, threshold).rows, dtype=int)
        shown = np.where(weights > 0, weights, np.nan)
        image = top.imshow(shown, origin="lower", aspect="auto", cmap=plots.SEQUENTIAL, interpolation="nearest",
                           norm=LogNorm(vmin=max(np.nanmin(shown), 1e-6), vmax=np.nanmax(shown)),
                           extent=(-0.5, weights.shape[1] - 0.5, -0.5, weights.shape[0] - 0.5))
        top.set(ylabel="CNN_3 unit $j$", title=f"{m.name}: norm of each kernel row over its 7 frames")
        bar = fig.colorbar(image, ax=top, pad=0.01)
        bar.set_label(r"$\|[\mathbf{K}_j]_{r,\cdot}\|$ (below 1e-6 drawn at 1e-6)")
        live = list(nontrivial_units(m, LAYER, threshold).rows)
        mean = weights[live].mean(axis=0)
        dead = np.zeros(mean.size, dtype=bool)
        dead[rows] = True
        x = np.arange(mean.size)
        bottom.bar(x[~dead], mean[~dead], color="tab:red", label="non-trivial row: CNN_2 kernel non-zero")
        bottom.bar(x[dead], mean[dead], color="tab:cyan", label="constant row: CNN_2 kernel numerically zero")
        bottom.set(yscale="log", xlabel=f"input row $r$ of ${source}$ (= CNN_2 unit)",
                   ylabel="mean over non-trivial kernels", xlim=(-0.5, mean.size - 0.5),
                   title=f"{mean.size - rows.size} non-trivial rows, {rows.size} constant rows")
    fig.legend(*axes[1, 0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize="small")
    return fig, axes


def bias_figure(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD) -> tuple[Figure, np.ndarray]:
    """Left: each non-trivial unit's effective bias |δ_j| against its |b_j|, per model. Right: the
    constant rows' contribution over a segment's frames for each model's unit with the largest
    relative effective bias (flat inside, changing at the padded edges)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=plots.column_size(12, 3.8), layout="constrained")
    for i, a in enumerate(analyses):
        m = a.model
        live = list(nontrivial_units(m, LAYER, threshold).rows)
        eq, b = effective_bias(m, LAYER, threshold), m.biases(LAYER)
        left.scatter(np.abs(b[live]), np.abs(eq[live]), s=12, color=f"C{i}", label=m.name)
        j = largest_relative_bias(m, threshold)
        frames = a.arrays[LAYER_INPUT[LAYER]].shape[2]
        t = np.arange(frames) * FRAME_SECONDS
        right.plot(t, constant_contribution(m, LAYER, j, frames, threshold), ".-", color=f"C{i}", markersize=3,
                   linewidth=0.8, label=f"{m.name}: {unit_name(GROUP, j)}")
        right.axhline(eq[j], color=f"C{i}", linestyle="--", linewidth=0.8)
    bounds = np.array(left.get_xlim())
    for share, style in ((1.0, "-"), (0.1, "--"), (0.01, ":")):
        left.plot(bounds, share * bounds, color="gray", linestyle=style, linewidth=0.8, label=f"{share:g} × |b_j|")
    left.set(xscale="log", yscale="log", xlabel=r"$|b_j|$ (the unit's bias)",
             ylabel=r"$|\delta_j|$ (the effective bias)", title="what the constant rows add, per non-trivial unit")
    left.legend(fontsize="small")
    right.set(xlabel="time in the segment (s)", ylabel="contribution to the pre-activation",
              title="the largest relative case, frame by frame (dashed: the bias)")
    right.legend(fontsize="small")
    return fig, np.array([left, right])


# ---------------------------------------------------------------------------------------
# V_2, V̂_2 and the skip sum
# ---------------------------------------------------------------------------------------

def _scale(data: np.ndarray, percentile: float) -> tuple[dict, str]:
    """Colour options for one matrix: sequential from 0 for non-negative data, symmetric
    diverging otherwise; clipped at ``percentile`` of |values|."""
    if data.min() >= 0:
        limit = float(np.percentile(data, percentile)) or float(data.max()) or 1.0
        return {"vmin": 0.0, "vmax": limit, "cmap": plots.SEQUENTIAL}, f"value, clipped at {limit:.3g}"
    limit = robust_limit(data, percentile)
    return {"vmin": -limit, "vmax": limit, "cmap": plots.DIVERGING}, f"value, clipped at ±{limit:.3g}"


def featured_row(analysis: Analysis, segment: int) -> int:
    """A row where both parts of the skip sum move on ``segment``: the largest smaller energy
    of the two, among rows that vary in both V̂_1 and V̂_2."""
    stats = skip_stats(analysis, [segment])
    both = np.minimum(stats.energy_1, stats.energy_2).astype(np.float64)
    both[np.union1d(stats.constant["V1_hat"], stats.constant["V2_hat"])] = -np.inf
    return int(np.argmax(both))


def outputs_figure(analysis: Analysis, segment: int, percentile: float = 99.5) -> tuple[Figure, dict[str, Axes]]:
    """One segment, 64 × 187 each: V̂_1 (CNN_3's input), V_2 and V̂_2 on their own colour scales;
    V̂_1 + V̂_2 on its own scale and on V̂_1's; and one row of V̂_1, V̂_2 and their sum over time
    (:func:`featured_row`). Signed matrices are symmetric and clipped at ``percentile`` of |values|."""
    s = analysis.check_segment(segment)
    fig = plt.figure(figsize=plots.column_size(7, 10.5), layout="constrained")
    axes = fig.subplot_mosaic([["V1_hat", "V2"], ["V2_hat", "V12_hat"], ["shared", "row"]])  # two by three: the column
    start = analysis.segment_start_s[s]
    first_scale = None
    for key in ("V1_hat", "V2", "V2_hat", "V12_hat"):
        data = analysis.arrays[key][s]
        scale, label = _scale(data, percentile)
        first_scale = first_scale or (scale, label)
        plots.matrix(data, axes[key], start_s=start, row_label="row (unit $j$)", colorbar_label=label,
                     title=f"{tex(key)}\n(largest |value| {np.abs(data).max():.3g})", **scale)
    scale, label = first_scale
    plots.matrix(analysis.V12_hat[s], axes["shared"], start_s=start, row_label="row (unit $j$)", colorbar_label=label,
                 title=f"{tex('V12_hat')}\non the colour scale of {tex('V1_hat')}", **scale)
    j = featured_row(analysis, s)
    for key, style in (("V1_hat", "-"), ("V2_hat", "-"), ("V12_hat", ":")):
        plots.series(analysis.arrays[key][s, j], axes["row"], start_s=start, ylabel="value",
                     title=f"row {j} over time")
        axes["row"].lines[-1].set(label=tex(key), linestyle=style, linewidth=1.4 if style == ":" else 1)
    axes["row"].axhline(0, color="gray", linewidth=0.5)
    axes["row"].legend(fontsize="small")
    for key in ("V1_hat", "shared", "V12_hat"):
        axes[key].axhline(j, color="black", linewidth=0.5, linestyle="--")
    fig.suptitle(f"{analysis.path.name}, {analysis.model.name}, segment {s}: CNN_3's input, its output "
                 f"before and after the batch-norm,\nand the skip sum (dashed: row {j}, drawn at the bottom right)",
                 fontsize=10)
    return fig, axes


def silent_share(analysis: Analysis, layer: str = LAYER) -> float:
    """Share of all cells of V_k (every unit, frame and segment) where the rectifier is closed."""
    return float(np.mean(analysis.arrays[LAYER_OUTPUT[layer][0]] == 0))


def silence_sentence(analyses: Sequence[Analysis]) -> str:
    """How often V_2 is zero, hence V̂_2 equals c_j, per model."""
    parts = ", ".join(f"{silent_share(a):.1%} for {a.model.name}" for a in analyses)
    return (f"Over every unit, frame and segment of the running example, the rectifier is closed in {parts}: in "
            "those cells $[\\hat{\\mathbf{V}}_2]_{j,t} = c_j$ exactly, and the row of the skip sum is the row of "
            "$\\hat{\\mathbf{V}}_1$ shifted by that constant.")


@dataclass(frozen=True)
class SkipStats:
    """How the skip sum S = V̂_1 + V̂_2 compares with its two parts, on some segments."""

    model: str
    segments: tuple[int, ...]
    energy_1: np.ndarray  # Σ_t [V̂_1]_{j,t}² per row (summed over the segments)
    energy_2: np.ndarray  # the same for V̂_2
    energy_sum: np.ndarray  # the same for S
    cross: np.ndarray  # 2 Σ_t [V̂_1]_{j,t} [V̂_2]_{j,t} per row
    correlation: np.ndarray  # per row: Pearson correlation over time of V̂_1 and V̂_2 (NaN if one is constant)
    constant: dict[str, np.ndarray]  # constant rows of V̂_1, V̂_2 and S on these segments

    @property
    def distance_to(self) -> dict[str, float]:
        """‖S − part‖_F / ‖S‖_F for each part: how much of the sum the other part is."""
        total = np.sqrt(self.energy_sum.sum())
        return {"V1_hat": float(np.sqrt(self.energy_2.sum()) / total),
                "V2_hat": float(np.sqrt(self.energy_1.sum()) / total)}


def skip_stats(analysis: Analysis, segments: Sequence[int] | None = None) -> SkipStats:
    """:class:`SkipStats` over ``segments`` (all by default)."""
    chosen = (tuple(range(analysis.n_segments)) if segments is None
              else tuple(analysis.check_segment(s) for s in segments))
    v1, v2 = (analysis.arrays[k][list(chosen)].astype(np.float64) for k in ("V1_hat", "V2_hat"))
    total = v1 + v2
    a, b = (x.transpose(1, 0, 2).reshape(x.shape[1], -1) for x in (v1, v2))
    a, b = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    norm = np.sqrt((a**2).sum(axis=1) * (b**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.where(norm > 0, (a * b).sum(axis=1) / norm, np.nan)
    constant = {k: constant_rows(x) for k, x in (("V1_hat", v1), ("V2_hat", v2), ("V12_hat", total))}
    return SkipStats(analysis.model.name, chosen, (v1**2).sum(axis=(0, 2)), (v2**2).sum(axis=(0, 2)),
                     (total**2).sum(axis=(0, 2)), 2 * (v1 * v2).sum(axis=(0, 2)), correlation, constant)


def skip_table(stats: Sequence[SkipStats]) -> str:
    """The comparison of the skip sum with its parts, one line per model and segment set, as Markdown."""
    lines = ["| model | segments | $\\|\\hat{\\mathbf{V}}_1\\|_F^2$ | $\\|\\hat{\\mathbf{V}}_2\\|_F^2$ | "
             "$\\|\\hat{\\mathbf{V}}_1+\\hat{\\mathbf{V}}_2\\|_F^2$ | cross term | rows where $\\hat{\\mathbf{V}}_2$ "
             "has more energy | $\\|S-\\hat{\\mathbf{V}}_2\\|_F / \\|S\\|_F$ | "
             "$\\|S-\\hat{\\mathbf{V}}_1\\|_F / \\|S\\|_F$ | "
             "row correlation: median, largest $\\lvert r \\rvert$ | constant rows: $\\hat{\\mathbf{V}}_1$, "
             "$\\hat{\\mathbf{V}}_2$, sum |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for s in stats:
        segments = f"{s.segments[0]}" if len(s.segments) == 1 else f"all {len(s.segments)}"
        r = s.correlation[np.isfinite(s.correlation)]
        varying = np.setdiff1d(np.arange(s.energy_1.size), np.union1d(s.constant["V1_hat"], s.constant["V2_hat"]))
        more = int(np.sum(s.energy_2[varying] > s.energy_1[varying]))
        d = s.distance_to
        lines.append(f"| {s.model} | {segments} | {s.energy_1.sum():.4g} | {s.energy_2.sum():.4g} | "
                     f"{s.energy_sum.sum():.4g} | {s.cross.sum():.3g} | {more} of {varying.size} | "
                     f"{d['V2_hat']:.3f} | {d['V1_hat']:.3f} | {np.median(r):.2f}, {np.abs(r).max():.2f} "
                     f"({r.size} rows) | {s.constant['V1_hat'].size}, {s.constant['V2_hat'].size}, "
                     f"{s.constant['V12_hat'].size} |")
    return "\n".join(lines)


def dominance_sentence(stats: Sequence[SkipStats]) -> str:
    """Which part of the skip sum the sum is closer to, per model, with the distances."""
    parts = []
    for s in stats:
        d = s.distance_to
        closer = "V2_hat" if d["V2_hat"] < d["V1_hat"] else "V1_hat"
        parts.append(f"for {s.model} the sum is closer to {tex(closer)} (relative distance "
                     f"{d[closer]:.3f}, against {d['V1_hat' if closer == 'V2_hat' else 'V2_hat']:.3f})")
    return "Over all segments, " + "; ".join(parts) + "."


def revived_sentence(stats: Sequence[SkipStats]) -> str:
    """Which rows are constant in one part of the sum but not in the sum, per model."""
    parts = []
    for s in stats:
        c = s.constant
        revived = np.setdiff1d(np.union1d(c["V1_hat"], c["V2_hat"]), c["V12_hat"])
        rows = ", ".join(str(r) for r in c["V12_hat"]) or "none"
        parts.append(f"for {s.model}, {revived.size} rows that are constant in $\\hat{{\\mathbf{{V}}}}_1$ or in "
                     f"$\\hat{{\\mathbf{{V}}}}_2$ vary in the sum, and the rows constant in both are: {rows}")
    return "On the whole recording, " + "; ".join(parts) + "."


def energy_figure(stats: Sequence[SkipStats]) -> tuple[Figure, np.ndarray]:
    """Per model: the energy of every row of V̂_1, V̂_2 and their sum (log scale), and the
    correlation over time of V̂_1's and V̂_2's rows."""
    fig, axes = plt.subplots(2, len(stats), figsize=plots.column_size(6.5 * len(stats), 6),
                             height_ratios=(2, 1), sharex=True,
                             squeeze=False, layout="constrained")
    for (top, bottom), s in zip(axes.T, stats):
        rows = np.arange(s.energy_1.size)
        for values, key, marker in ((s.energy_1, "V1_hat", "o"), (s.energy_2, "V2_hat", "s"),
                                    (s.energy_sum, "V12_hat", "x")):
            top.plot(rows, np.maximum(values, 1e-12), marker, markersize=4, linestyle="none",
                     markerfacecolor="none" if marker != "x" else None, label=tex(key))
        segments = f"segment {s.segments[0]}" if len(s.segments) == 1 else f"all {len(s.segments)} segments"
        top.set(yscale="log", ylabel=r"row energy $\sum_t x_{j,t}^2$", title=f"{s.model}, {segments}")
        top.legend(fontsize="small", ncols=3, loc="lower right")
        bottom.bar(rows, np.nan_to_num(s.correlation), color="tab:gray")
        blank = rows[~np.isfinite(s.correlation)]
        bottom.plot(blank, np.zeros(blank.size), "|", color="tab:cyan", markersize=6,
                    label="a part is constant: no correlation")
        bottom.axhline(0, color="black", linewidth=0.5)
        bottom.set(xlabel="row $j$ (unit of CNN_2 and of CNN_3)", ylabel="correlation over time",
                   ylim=(-1, 1), xlim=(-0.5, rows.size - 0.5))
        bottom.legend(fontsize="small", loc="lower right")
    return fig, axes


# ---------------------------------------------------------------------------------------
# The batch-norm parameters
# ---------------------------------------------------------------------------------------

def bn_values(model: Model, layer: str = LAYER) -> dict[str, np.ndarray]:
    """γ, β, μ, σ², and the slope a_j and intercept c_j of the batch-norm as an affine map."""
    bn = batch_norm(model, layer)
    return {k: np.asarray(getattr(bn, k), dtype=np.float64) for k, _ in BN_PARAMETERS}


def steepest_sentence(analyses: Sequence[Analysis], layer: str = LAYER) -> str:
    """The steepest batch-norm slope per model, its parameters, and the largest V̂ it produces."""
    parts = []
    for a in analyses:
        v = bn_values(a.model, layer)
        j = int(np.argmax(v["scale"]))
        largest = a.arrays[LAYER_OUTPUT[layer][1]][:, j].max()
        parts.append(f"for {a.model.name}, `{unit_name(group(layer), j)}` has $a_j = {v['scale'][j]:.3g}$ "
                     f"($\\gamma_j = {v['gamma'][j]:.3g}$, $\\sigma_j^2 = {v['variance'][j]:.3g}$) and reaches "
                     f"{largest:.3g} on the recording")
    return "The steepest slopes: " + "; ".join(parts) + "."


def explorer_unit(model: Model, layer: str = LAYER) -> str:
    """The explorer's default: :func:`musicnn_nb.facts.units.explorer_unit` among ``layer``'s units."""
    return _explorer_unit(model, (group(layer),))
