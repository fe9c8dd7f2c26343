"""CNN_2, the first layer of the mid end, and its batch-norm (chapter 10, "CNN_2 and its
normalisation").

CNN_2 reads all 561 rows of U at once. Unit j (j = 0 … 63) has a kernel K_j of 561 rows by
7 frames and a bias b_j; with U padded by three zero frames on each side of time,

    [V_1]_{j,t} = ReLU( Σ_r Σ_τ [K_j]_{r,τ} [U]_{r,t+τ−3} + b_j ),
    [V̂_1]_{j,t} = γ_j ([V_1]_{j,t} − μ_j) / √(σ_j² + ε) + β_j.

This module counts the dead units by two criteria (a trivial kernel; a row of V_1
that is zero on a whole recording), measures where the non-trivial kernels put their weight among
the rows of U (non-trivial and trivial CNN_1 rows, per kernel group), turns the weight on
trivial rows, which are constants, into the bias it amounts to, and draws V_1, V̂_1 and the
batch-norm parameters. Every count comes with its criterion, as in :mod:`musicnn_nb.analysis`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from musicnn_nb.facts import units
from musicnn_nb.facts.batchnorm import BN_MOMENTUM, ZERO_VARIANCE, variance_floor
from musicnn_nb.facts.bias import BiasCheck
from musicnn_nb.facts.units import NORM_THRESHOLD, never_active_units, nontrivial_units, trivial_units
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.weights import BatchNorm, Model, groups_of
from musicnn_nb.present import midend, plots

LAYER = "cnn2"
GROUP = midend.group(LAYER)
U_GROUPS = groups_of("cnn1")
TRIVIAL_COLOR = "0.55"
SENSITIVITY_THRESHOLDS = tuple(10.0 ** e for e in range(-32, 2))  # wide enough to show both gaps of CNN_2's norms




# ---------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------

def kernels(model: Model) -> np.ndarray:
    """K_j of every CNN_2 unit in float64: (64 units, 561 rows of U, 7 frames)."""
    return model.kernels(GROUP).astype(np.float64)


def batch_norm(model: Model) -> BatchNorm:
    """The batch-norm of CNN_2 (γ_j, β_j, μ_j, σ_j² of its 64 channels)."""
    return midend.batch_norm(model, LAYER)


def largest_norm_unit(model: Model, threshold: float = NORM_THRESHOLD) -> str:
    """The explorer's default: :func:`musicnn_nb.facts.units.explorer_unit` among CNN_2's units."""
    return units.explorer_unit(model, (GROUP,), threshold=threshold)


# ---------------------------------------------------------------------------------------
# Dead units: two criteria
# ---------------------------------------------------------------------------------------

def silent_per_segment(analysis: Analysis) -> np.ndarray:
    """Per segment, how many CNN_2 units have a row of V_1 that is zero at every frame of it."""
    return np.sum(analysis.V1.max(axis=2) <= 0, axis=1)


def opening_level(model: Model, threshold: float = NORM_THRESHOLD) -> np.ndarray:
    """For each trivial unit (kernel norm ≤ threshold) with b_j < 0: the smallest max |U| that
    could open its rectifier, −b_j / ‖K_j‖_1, since |Σ K U| ≤ ‖K_j‖_1 · max |U| (Hölder).

    Units with b_j ≥ 0 are left out (their rectifier is open with any kernel).
    """
    dead = trivial_units(model, LAYER, threshold).mask
    b = model.biases(LAYER)[dead]
    l1 = np.abs(kernels(model)[dead]).sum(axis=(1, 2))
    keep = b < 0
    return -b[keep] / l1[keep]


def dead_table(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD) -> str:
    """Markdown: per model, the trivial units by each criterion, whether they are the same units,
    and how far apart the two populations of kernel norms are."""
    lines = [f"| model | (a) kernel norm ≤ {threshold:g} | (b) $\\mathbf{{V}}_1$ row zero on the whole recording | "
             "same units? | (b) per segment, fewest … most | largest norm in (a) | smallest norm of the others |",
             "|---|---:|---:|---|---:|---:|---:|"]
    for a in analyses:
        norms = a.model.norms(LAYER)
        live = nontrivial_units(a.model, LAYER, threshold).mask
        dead = trivial_units(a.model, LAYER, threshold)
        never = never_active_units(a, LAYER)
        per_segment = silent_per_segment(a)
        same = "yes" if dead.rows == never.rows else "no"
        lines.append(f"| {a.model.name} | {dead.count} of {norms.size} | {never.count} of {norms.size} | {same} | "
                     f"{per_segment.min()} … {per_segment.max()} | {norms[~live].max():.3g} | "
                     f"{norms[live].min():.3g} |")
    return "\n".join(lines)


def closed_table(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD) -> str:
    """Markdown: why the trivial units stay shut for any input: their biases are negative and
    their kernels so small that U would need astronomically large values to open them."""
    lines = ["| model | trivial units | with $b_j < 0$ | largest $b_j$ | largest weight magnitude | "
             "largest $\\lVert K_j\\rVert_1$ | "
             "smallest max $\\lvert U\\rvert$ that could open one | largest $\\lvert U\\rvert$ on this recording |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for a in analyses:
        dead = trivial_units(a.model, LAYER, threshold).mask
        b = a.model.biases(LAYER)[dead]
        l1 = np.abs(kernels(a.model)[dead]).sum(axis=(1, 2))
        level = opening_level(a.model, threshold)
        largest = np.abs(kernels(a.model)[dead]).max()
        lines.append(f"| {a.model.name} | {dead.sum()} | {(b < 0).sum()} | {b.max():.3g} | {largest:.2g} | "
                     f"{l1.max():.3g} | "
                     f"{level.min():.3g} | {np.abs(a.U).max():.3g} |")
    return "\n".join(lines)


def norms_figure(models: Sequence[Model], threshold: float = NORM_THRESHOLD, fig: Figure | None = None):
    """The Frobenius norms of the 64 CNN_2 kernels for each model (linear axis, the threshold
    dashed), and how many units pass a threshold as it sweeps over :data:`SENSITIVITY_THRESHOLDS`
    (a log axis: the trivial kernels' norms lie far below the range a norm axis could show)."""
    return midend.norms_figure(models, LAYER, threshold, log=False, thresholds=SENSITIVITY_THRESHOLDS, fig=fig)


def units_sentence(model: Model, threshold: float = NORM_THRESHOLD) -> str:
    """The non-trivial CNN_2 units of a model, by name."""
    count = nontrivial_units(model, LAYER, threshold)
    return f"{model.name}, {count.count} non-trivial units: {count.listed}"


# ---------------------------------------------------------------------------------------
# Where the live kernels put their weight among the rows of U
# ---------------------------------------------------------------------------------------

def row_energy(model: Model) -> np.ndarray:
    """Σ_τ [K_j]_{r,τ}²: each kernel's energy on each row of U, (64, 561)."""
    return np.sum(kernels(model) ** 2, axis=2)


@dataclass(frozen=True)
class EnergyShares:
    """For each non-trivial CNN_2 unit, the share of ‖K_j‖_F² on each CNN_1 kernel group's
    non-trivial and trivial rows of U."""

    model: str
    units: tuple[int, ...]  # live CNN_2 units, by decreasing kernel norm
    groups: tuple[str, ...]  # CNN_1 kernel groups, in U's row order
    nontrivial: np.ndarray  # (units, groups): share on the group's non-trivial rows
    trivial: np.ndarray  # (units, groups): share on the group's trivial rows
    rows_nontrivial: tuple[int, ...]  # non-trivial rows of U per group
    rows_total: tuple[int, ...]  # rows of U per group

    @property
    def on_trivial(self) -> np.ndarray:
        """Per non-trivial unit, the share of its energy on all trivial rows of U."""
        return self.trivial.sum(axis=1)


def energy_shares(model: Model, threshold: float = NORM_THRESHOLD) -> EnergyShares:
    """:class:`EnergyShares` of ``model``: a row of U is non-trivial when its CNN_1 kernel norm
    exceeds ``threshold`` (the same criterion as the non-trivial CNN_2 units)."""
    norms = model.norms(LAYER)
    units = [int(j) for j in np.flatnonzero(norms > threshold)]
    units.sort(key=lambda j: -norms[j])
    energy = row_energy(model)[units]
    total = energy.sum(axis=1, keepdims=True)
    u_live = nontrivial_units(model, "cnn1", threshold).mask
    nontrivial, trivial = [], []
    for g in U_GROUPS:
        rows = np.arange(g.first_row, g.stop_row)
        nontrivial.append(energy[:, rows[u_live[rows]]].sum(axis=1))
        trivial.append(energy[:, rows[~u_live[rows]]].sum(axis=1))
    return EnergyShares(model.name, tuple(units), tuple(g.name for g in U_GROUPS),
                        np.stack(nontrivial, axis=1) / total, np.stack(trivial, axis=1) / total,
                        tuple(int(u_live[g.first_row:g.stop_row].sum()) for g in U_GROUPS),
                        tuple(g.size for g in U_GROUPS))


def energy_table(all_shares: Sequence[EnergyShares]) -> str:
    """Markdown: per model and CNN_1 kernel group, how many rows of U are non-trivial and what
    share of the non-trivial CNN_2 kernels' energy falls on them and on the trivial rows."""
    lines = ["| model | rows of U from | rows (non-trivial) | share of U's non-trivial rows | "
             "energy on non-trivial rows: median (min … max) | energy on trivial rows: median (max) |",
             "|---|---|---:|---:|---:|---:|"]
    for s in all_shares:
        n_live = sum(s.rows_nontrivial)
        columns = [(g, s.rows_total[i], s.rows_nontrivial[i], s.nontrivial[:, i], s.trivial[:, i])
                   for i, g in enumerate(s.groups)]
        columns.append(("**all**", sum(s.rows_total), n_live, s.nontrivial.sum(axis=1), s.on_trivial))
        for name, total, live, on_live, on_trivial in columns:
            lines.append(f"| {s.model} | {name} | {total} ({live}) | {100 * live / n_live:.1f} % | "
                         f"{100 * np.median(on_live):.1f} % "
                         f"({100 * on_live.min():.1f} … {100 * on_live.max():.1f} %) | "
                         f"{np.median(on_trivial):.2g} ({on_trivial.max():.2g}) |")
    return "\n".join(lines)


def energy_figure(all_shares: Sequence[EnergyShares], fig: Figure | None = None) -> tuple[Figure, np.ndarray]:
    """Per model (one above the other): stacked bars of each non-trivial kernel's energy share on the non-trivial
    rows of each CNN_1 kernel group (top), and its share on all trivial rows, on a log axis
    (bottom). Units are ordered by decreasing kernel norm."""
    fig = fig or plt.figure(figsize=plots.column_size(6.5, 4.6 * len(all_shares)), layout="constrained")
    axes = fig.subplots(2 * len(all_shares), 1, height_ratios=(2, 1) * len(all_shares)).reshape(len(all_shares), 2).T
    for col, s in enumerate(all_shares):
        top, bottom = axes[:, col]
        x = np.arange(len(s.units))
        base = np.zeros(len(s.units))
        for i, g in enumerate(s.groups):
            top.bar(x, 100 * s.nontrivial[:, i], bottom=base, color=f"C{i}", width=0.8,
                    label=f"{g} ({s.rows_nontrivial[i]} rows)")
            base += 100 * s.nontrivial[:, i]
        top.set(ylabel="share of ‖K_j‖² (%)", ylim=(0, 100), xlim=(-0.6, x.size - 0.4),
                title=f"{s.model}: on the non-trivial rows of U, by CNN_1 kernel group")
        top.set_xticks(x, [])
        top.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0), title="rows of U from",
                   title_fontsize="small")
        bottom.scatter(x, s.on_trivial, color=TRIVIAL_COLOR, edgecolors="black", linewidths=0.5, zorder=3)
        bottom.set_yscale("log")
        bottom.set(ylabel="share on trivial rows", xlim=top.get_xlim(), xlabel="CNN_2 unit (by decreasing norm)",
                   title=f"{s.model}: on the {sum(s.rows_total) - sum(s.rows_nontrivial)} trivial rows of U")
        bottom.set_xticks(x, [str(j) for j in s.units], fontsize="small")
        bottom.grid(axis="y", linewidth=0.4, alpha=0.5)
    return fig, axes


def group_sentence(all_shares: Sequence[EnergyShares]) -> str:
    """Per model, the CNN_1 kernel groups whose non-trivial rows get a larger median share of
    the non-trivial kernels' energy than their share of U's non-trivial rows, and those that get less."""
    parts = []
    for s in all_shares:
        row_share = np.array(s.rows_nontrivial) / sum(s.rows_nontrivial)
        median = np.median(s.nontrivial, axis=0)
        more = [g for g, m, r in zip(s.groups, median, row_share) if m > r]
        less = [g for g, m, r in zip(s.groups, median, row_share) if m <= r]
        parts.append(f"for {s.model}, the rows from {', '.join(more) or 'no group'} get more than their share and "
                     f"those from {', '.join(less) or 'no group'} get less")
    return "Measured against how many of U's non-trivial rows each kernel group holds, " + "; ".join(parts) + "."


def glorot_std(model: Model) -> float:
    """Standard deviation of a Glorot-uniform initial weight of the CNN_2 kernel, TensorFlow 1's
    default initialiser for a ``conv2d`` layer that names none (musicnn's does not):
    √(2 / (fan_in + fan_out)), fans computed from the checkpoint's kernel shape."""
    frames, rows, channels, units = model.conv_kernel(GROUP).shape
    return float(np.sqrt(2 / (frames * rows * channels + frames * rows * units)))


def weight_scale_table(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Markdown: the root-mean-square weight of the non-trivial CNN_2 kernels on the non-trivial and on
    the trivial rows of U, next to the standard deviation of the initial weights."""
    lines = ["| model | non-trivial kernels | RMS weight on non-trivial rows | RMS weight on trivial rows | ratio | "
             "std of a Glorot-uniform initial weight |", "|---|---:|---:|---:|---:|---:|"]
    for model in models:
        k = kernels(model)[nontrivial_units(model, LAYER, threshold).mask]
        u_live = nontrivial_units(model, "cnn1", threshold).mask
        on_live, on_trivial = (float(np.sqrt(np.mean(k[:, rows] ** 2))) for rows in (u_live, ~u_live))
        lines.append(f"| {model.name} | {len(k)} | {on_live:.3g} | {on_trivial:.3g} | {on_live / on_trivial:.0f} | "
                     f"{glorot_std(model):.3g} |")
    return "\n".join(lines)


def row_energy_figure(models: Sequence[Model], threshold: float = NORM_THRESHOLD,
                      fig: Figure | None = None) -> tuple[Figure, np.ndarray]:
    """Per model: the energy of each non-trivial CNN_2 kernel on each of U's 561 rows (log colour
    scale), units by decreasing norm, with a strip above marking the non-trivial rows of U and
    lines between CNN_1's kernel groups."""
    fig = fig or plt.figure(figsize=plots.column_size(13, 3.3 * len(models)), layout="constrained")
    axes = fig.subplots(2 * len(models), 1, squeeze=False, height_ratios=[0.12, 1] * len(models))[:, 0]
    for i, model in enumerate(models):
        strip, ax = axes[2 * i], axes[2 * i + 1]
        shares = energy_shares(model, threshold)
        energy = row_energy(model)[list(shares.units)]
        u_live = nontrivial_units(model, "cnn1", threshold).mask
        strip.imshow(u_live[None, :], aspect="auto", cmap="Greys", vmin=0, vmax=1.4, interpolation="nearest",
                     extent=(-0.5, u_live.size - 0.5, 0, 1))
        strip.set(yticks=[], xlim=(-0.5, u_live.size - 0.5),
                  title=f"{model.name}: non-trivial rows of U ({u_live.sum()}, dark) and the energy of each\n"
                        f"non-trivial CNN_2 kernel on each row")
        strip.tick_params(labelbottom=False)
        positive = energy[energy > 0]
        image = ax.imshow(np.where(energy > 0, energy, np.nan), aspect="auto", origin="lower",
                          interpolation="nearest",
                          norm=LogNorm(vmin=max(positive.min(), positive.max() * 1e-10), vmax=positive.max()),
                          cmap=plots.SEQUENTIAL, extent=(-0.5, energy.shape[1] - 0.5, -0.5, energy.shape[0] - 0.5))
        ax.set_yticks(range(len(shares.units)), [str(j) for j in shares.units], fontsize="small")
        ax.set(xlabel="row of U (CNN_1 unit)", ylabel="non-trivial CNN_2 unit\n(largest norm at the bottom)")
        for g in U_GROUPS[1:]:
            for a_ in (ax, strip):
                a_.axvline(g.first_row - 0.5, color="cyan", linewidth=0.8)
        for g in U_GROUPS:
            ax.text((g.first_row + g.stop_row - 1) / 2, 1.0, g.name, transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize="small", color="black")
        bar = fig.colorbar(image, ax=[strip, ax], pad=0.01)
        bar.set_label(r"$\sum_\tau [K_j]_{r,\tau}^2$")
    return fig, axes


# ---------------------------------------------------------------------------------------
# Trivial rows of U are constants: their weight acts as a bias
# ---------------------------------------------------------------------------------------

def bias_table(checks: Sequence[BiasCheck]) -> str:
    """Markdown: per model, how the effective bias of the trivial rows compares with b_j and with
    the swing of the non-trivial rows' contribution, and how well it predicts what those rows
    contributed on the recording."""
    lines = ["| model | non-trivial units | $\\lvert b_j\\rvert$: median | largest $\\lvert\\delta_j\\rvert$ | "
             "largest $\\lvert\\delta_j\\rvert / \\lvert b_j\\rvert$ | "
             "largest $\\lvert\\delta_j\\rvert$ / std of the non-trivial rows' part | "
             "trivial rows' part on the recording, from … to | largest distance from $\\delta_j$ |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in checks:
        distance = np.maximum(np.abs(c.observed_max - c.delta), np.abs(c.observed_min - c.delta))
        lines.append(f"| {c.model} | {len(c.units)} | {np.median(np.abs(c.bias)):.3g} | "
                     f"{np.abs(c.delta).max():.2g} | "
                     f"{np.max(np.abs(c.delta) / np.abs(c.bias)):.2g} | {np.max(np.abs(c.delta) / c.live_std):.2g} | "
                     f"{c.observed_min.min():.2g} … {c.observed_max.max():.2g} | {distance.max():.2g} |")
    return "\n".join(lines)


def bias_figure(checks: Sequence[BiasCheck], fig: Figure | None = None) -> tuple[Figure, np.ndarray]:
    """Per model: |b_j|, |δ_j| and the standard deviation of the non-trivial rows' contribution
    for every non-trivial CNN_2 unit, on one logarithmic axis."""
    fig = fig or plt.figure(figsize=plots.column_size(13, 3.6), layout="constrained")
    axes = fig.subplots(1, len(checks), squeeze=False, sharey=True, width_ratios=[len(c.units) for c in checks])[0]
    for ax, c in zip(axes, checks):
        x = np.arange(len(c.units))
        ax.scatter(x, c.live_std, marker="s", color="C0", label="std of non-trivial rows' part of $K_j \\star U$")
        ax.scatter(x, np.abs(c.bias), marker="o", color="C3", label="$|b_j|$")
        ax.scatter(x, np.abs(c.delta), marker="v", color=TRIVIAL_COLOR, edgecolors="black", linewidths=0.5,
                   label="$|\\delta_j|$: bias added by the trivial rows")
        ax.set_yscale("log")
        ax.set_xticks(x, [str(j) for j in c.units], fontsize="small")
        ax.set(xlabel="non-trivial CNN_2 unit", title=f"{c.model}: the non-trivial units")
        ax.grid(axis="y", linewidth=0.4, alpha=0.5)
    axes[0].set_ylabel("magnitude")
    axes[-1].legend(fontsize="small", loc="lower left")
    return fig, axes


# ---------------------------------------------------------------------------------------
# V_1 and V̂_1
# ---------------------------------------------------------------------------------------

def v_figure(analyses: Sequence[Analysis], segment: int, fig: Figure | None = None) -> tuple[Figure, np.ndarray]:
    """One row per model: V_1 (after the rectifier) and V̂_1 (after the batch-norm) of one
    segment, 64 units × 187 frames; V̂_1 on a symmetric diverging scale."""
    fig = fig or plt.figure(figsize=plots.column_size(13, 3.4 * len(analyses)), layout="constrained")
    axes = fig.subplots(len(analyses), 2, squeeze=False)
    for (left, right), a in zip(axes, analyses):
        s = a.check_segment(segment)
        start = a.segment_start_s[s]
        zero = int(np.sum(a.V1[s].max(axis=1) <= 0))
        plots.matrix(a.V1[s], left, start_s=start, row_label="CNN_2 unit j", colorbar_label="$[V_1]_{j,t}$",
                     title=f"{a.model.name}, segment {s}: $V_1$ ({zero} of {a.V1.shape[1]} rows zero throughout)")
        plots.matrix(a.V1_hat[s], right, start_s=start, row_label="CNN_2 unit j",
                     colorbar_label="$[\\hat V_1]_{j,t}$",
                     title=f"{a.model.name}, segment {s}: $\\hat V_1$ after the batch-norm")
    return fig, axes


def live_rows_figure(analyses: Sequence[Analysis], segment: int, threshold: float = NORM_THRESHOLD,
                     fig: Figure | None = None) -> tuple[Figure, np.ndarray]:
    """One panel per model: the rows of V̂_1 of the non-trivial units only, on one segment, in unit
    order, with the unit indices on the row axis."""
    fig = fig or plt.figure(figsize=plots.column_size(13, 3.6), layout="constrained")
    axes = fig.subplots(1, len(analyses), squeeze=False)[0]
    for ax, a in zip(axes, analyses):
        s = a.check_segment(segment)
        units = np.flatnonzero(nontrivial_units(a.model, LAYER, threshold).mask)
        plots.matrix(a.V1_hat[s, units], ax, start_s=a.segment_start_s[s], row_label="non-trivial CNN_2 unit j",
                     colorbar_label="$[\\hat V_1]_{j,t}$",
                     title=f"{a.model.name}, segment {s}: $\\hat V_1$, the {units.size} non-trivial units")
        ax.set_yticks(range(units.size), [str(j) for j in units], fontsize="small")
    return fig, axes


# ---------------------------------------------------------------------------------------
# The batch-norm of CNN_2
# ---------------------------------------------------------------------------------------

def floor_sentence(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """The trivial units' running statistics against the float32 floor of chapter 7."""
    parts = []
    for model in models:
        bn, dead = batch_norm(model), trivial_units(model, LAYER, threshold).mask
        stuck = np.concatenate([bn.mean[dead], bn.variance[dead]])
        below = int(np.sum(stuck < ZERO_VARIANCE))
        parts.append(f"{model.name}: {below} of the {stuck.size} running means and variances of trivial units "
                     f"are below {ZERO_VARIANCE:g}, from {stuck.min():.5g} to {stuck.max():.5g}")
    return ("; ".join(parts) + f". The floor of chapter 7 (smallest normal float32 ÷ (1 − {BN_MOMENTUM})) is "
            f"{variance_floor():.5g}.")


def statistics_figure(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD,
                      fig: Figure | None = None) -> tuple[Figure, np.ndarray]:
    """For the non-trivial CNN_2 units: the running mean μ_j and variance σ_j² stored in the checkpoint
    (the training data's statistics of V_1) against the mean and variance of V_1's row over
    every frame of the recording, one colour per model, with the diagonal."""
    fig = fig or plt.figure(figsize=plots.column_size(11, 4), layout="constrained")
    axes = fig.subplots(1, 2)
    for i, a in enumerate(analyses):
        live = nontrivial_units(a.model, LAYER, threshold).mask
        bn = batch_norm(a.model)
        rows = a.V1[:, live].transpose(1, 0, 2).reshape(live.sum(), -1).astype(np.float64)
        for ax, stored, seen in ((axes[0], bn.mean[live], rows.mean(axis=1)),
                                 (axes[1], bn.variance[live], rows.var(axis=1))):
            ax.scatter(stored, seen, s=18, color=f"C{i}", label=f"{a.model.name} ({live.sum()} non-trivial units)")
    for ax, what in zip(axes, ("mean", "variance")):
        values = np.concatenate([c.get_offsets() for c in ax.collections]).ravel()
        values = values[values > 0]
        lo, hi = values.min() / 1.5, values.max() * 1.5
        ax.plot([lo, hi], [lo, hi], color="gray", linestyle="--", linewidth=1, label="equal")
        ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi),
               xlabel=f"running {what} in the checkpoint ({'μ_j' if what == 'mean' else 'σ_j²'})",
               ylabel=f"{what} of $[V_1]_{{j,t}}$ on this recording", title=f"{what} of $V_1$, per non-trivial unit")
        ax.legend(fontsize="small")
    return fig, axes


__all__ = [
    "GROUP",
    "LAYER",
    "SENSITIVITY_THRESHOLDS",
    "EnergyShares",
    "batch_norm",
    "bias_figure",
    "bias_table",
    "closed_table",
    "dead_table",
    "energy_figure",
    "energy_shares",
    "energy_table",
    "floor_sentence",
    "glorot_std",
    "group_sentence",
    "kernels",
    "largest_norm_unit",
    "live_rows_figure",
    "norms_figure",
    "opening_level",
    "row_energy",
    "row_energy_figure",
    "silent_per_segment",
    "statistics_figure",
    "units_sentence",
    "v_figure",
    "weight_scale_table",
]
