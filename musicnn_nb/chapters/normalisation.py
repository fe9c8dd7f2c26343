"""The batch-norm of every CNN_1 unit (chapter 7, "CNN_1: normalisation").

At inference, unit i's batch-norm is the affine map

    Ŷ_i = γ_i (Y_i − μ_i) / √(σ_i² + ε) + β_i = a_i Y_i + c_i,
    a_i = γ_i / √(σ_i² + ε),   c_i = β_i − a_i μ_i,

applied to every cell of Y_i. This module gathers the 561 maps, counts the units whose map
turns over (γ_i < 0), shows what that does to the maximum over frequency that follows, and
computes the constant each trivial unit (numerically zero kernel) puts into its row of U.
Every count is returned with its criterion, as in :mod:`musicnn_nb.analysis`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from musicnn_nb.facts.batchnorm import (
    ZERO_VARIANCE,
    cnn1_batch_norm,
    negative_gamma_units,
    trivial_constants,
)
from musicnn_nb.facts.units import NORM_THRESHOLD, UnitCount, nontrivial_units, trivial_units
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FRAME_SECONDS
from musicnn_nb.model.weights import Model, group_of_rows, groups_of
from musicnn_nb.present import plots
from musicnn_nb.present.notation import PARAMETERS, mark_row_groups, number, u_row_groups

CONSTANT_TOLERANCES = (0.0, 1e-4, 1e-3, 1e-2)
MATCH_TOLERANCE = 1e-6  # an observed row "is" its predicted constant if it never strays further
TRIVIAL_COLOR, NONTRIVIAL_COLOR = "0.6", "tab:red"








# ---------------------------------------------------------------------------------------
# Negative γ: the map turns over
# ---------------------------------------------------------------------------------------



def negative_gamma_table(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Markdown: per model and kernel group, how many units have γ_i < 0, trivial and not."""
    lines = ["| model | kernels | units | non-trivial | non-trivial with γ < 0 | trivial | trivial with γ < 0 |",
             "|---|---|---:|---:|---:|---:|---:|"]
    groups = group_of_rows("cnn1")
    for model in models:
        live = nontrivial_units(model, "cnn1", threshold).mask
        neg = {flag: negative_gamma_units(model, flag, threshold).mask for flag in (True, False)}
        for i, g in enumerate([*groups_of("cnn1"), None]):
            rows = groups == i if g is not None else np.ones(live.size, bool)
            name = g.name if g is not None else "**all**"
            lines.append(f"| {model.name} | {name} | {rows.sum()} | {(live & rows).sum()} | {(neg[True] & rows).sum()} "
                         f"| {(~live & rows).sum()} | {(neg[False] & rows).sum()} |")
    return "\n".join(lines)


def flip_unit(model: Model, threshold: float = NORM_THRESHOLD) -> str | None:
    """The non-trivial unit with the most negative γ_i, or None if no non-trivial γ_i < 0."""
    rows = negative_gamma_units(model, True, threshold).rows
    if not rows:
        return None
    gamma = cnn1_batch_norm(model).gamma
    return model.unit(min(rows, key=lambda r: gamma[r]), "cnn1").name


def flip_example(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD) -> tuple[Analysis, str]:
    """The first analysis whose model has a non-trivial unit with γ_i < 0, and that unit
    (:func:`flip_unit`); chapter 7 demonstrates the turned-over map on it."""
    for analysis in analyses:
        unit = flip_unit(analysis.model, threshold)
        if unit is not None:
            return analysis, unit
    raise ValueError("no model has a non-trivial CNN_1 unit with a negative γ")


def explorer_unit(model: Model, threshold: float = NORM_THRESHOLD) -> str:
    """The explorer's default for chapter 7: :func:`flip_unit`, else the non-trivial unit with
    the largest |γ_i|."""
    flipped = flip_unit(model, threshold)
    if flipped is not None:
        return flipped
    live = np.flatnonzero(nontrivial_units(model, "cnn1", threshold).mask)
    gamma = np.abs(cnn1_batch_norm(model).gamma[live])
    return model.unit(int(live[np.argmax(gamma)]), "cnn1").name


@dataclass(frozen=True)
class FlipStats:
    """What a unit's batch-norm slope does to the max over frequency, over every frame of a
    recording."""

    model: str
    unit: str
    norm: float
    gamma: float
    slope: float  # a_i
    intercept: float  # c_i
    frames: int
    at_smallest_y: int  # frames where max_f Ŷ_i is reached at the row of smallest Y_i
    closed: int  # frames where some row of Y_i is 0, so [U]_{i,t} = c_i when a_i < 0
    u_min: float
    u_max: float
    max_error: float  # largest |[U]_{i,t} − (a_i min_f Y_i + c_i)|


def flip_stats(analysis: Analysis, unit: str) -> FlipStats:
    """:class:`FlipStats` of one CNN_1 unit on every segment of ``analysis``."""
    u = analysis.model.unit(unit, "cnn1")
    bn = cnn1_batch_norm(analysis.model)
    a, c = float(bn.scale[u.index]), float(bn.shift[u.index])
    at_smallest = closed = 0
    error = 0.0
    for s in range(analysis.n_segments):
        maps = analysis.unit_maps(u.name, s)
        smallest = np.argmin(maps.Y, axis=0)
        columns = np.arange(maps.Y.shape[1])
        at_smallest += int(np.sum(maps.Y_hat[smallest, columns] == maps.Y_hat.max(axis=0)))
        closed += int(np.sum(maps.Y.min(axis=0) == 0))
        error = max(error, float(np.max(np.abs(analysis.U[s, u.index] - (a * maps.Y.min(axis=0) + c)))))
    row = analysis.U[:, u.index]
    return FlipStats(analysis.model.name, u.name, u.norm, u.gamma, a, c, row.size, at_smallest, closed,
                     float(row.min()), float(row.max()), error)


def flips_table(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD) -> tuple[str, list[FlipStats]]:
    """Markdown table of :class:`FlipStats` for every non-trivial unit with γ_i < 0, and the stats."""
    stats = [flip_stats(a, a.model.unit(r, "cnn1").name) for a in analyses
             for r in negative_gamma_units(a.model, True, threshold).rows]
    lines = [r"| model | unit | $\lVert\mathbf{K}_i\rVert_F$ | $\gamma_i$ | $a_i$ | $c_i$ "
             r"| frames where $\max_f \hat{Y}_i$ sits in the row of the smallest $Y_i$ "
             r"| frames with a zero in $\mathbf{Y}_i$, so that $[\mathbf{U}]_{i,t} = c_i$ "
             r"| $[\mathbf{U}]_{i,t}$ from | to |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for f in stats:
        lines.append(f"| {f.model} | `{f.unit}` | {number(f.norm)} | {number(f.gamma)} | {number(f.slope)} | "
                     f"{number(f.intercept)} | {f.at_smallest_y} of {f.frames} | {f.closed} of {f.frames} | "
                     f"{number(f.u_min)} | {number(f.u_max)} |")
    return "\n".join(lines), stats


def flip_summary(stats: Sequence[FlipStats]) -> str:
    """Sentences: on how many frames the max of Ŷ_i sat at the smallest Y_i, and which units
    had a zero in Y_i on every frame, so that their row of U was the constant c_i."""
    frames = sum(f.frames for f in stats)
    at_smallest = sum(f.at_smallest_y for f in stats)
    constant = [f for f in stats if f.closed == f.frames]
    text = (f"Over these {len(stats)} units and every frame of the recording, the largest value of "
            rf"$\hat{{\mathbf{{Y}}}}_i$ sat in the row of the smallest $Y_i$ on {at_smallest} of {frames} unit-frames, "
            rf"and $[\mathbf{{U}}]_{{i,t}}$ differed from $a_i \min_f [\mathbf{{Y}}_i]_{{f,t}} + c_i$ by at most "
            f"{number(max(f.max_error for f in stats))}. ")
    if not constant:
        return text + r"No unit had a zero in its $\mathbf{Y}_i$ on every frame."
    names = ", ".join(f"`{f.unit}` ({f.model}, $c_i$ = {number(f.intercept)})" for f in constant)
    return text + (rf"{len(constant)} of them had a zero somewhere in $\mathbf{{Y}}_i$ on every frame, so their row "
                   rf"of $\mathbf{{U}}$ is the constant $c_i$ throughout this recording: {names}.")


def flip_figure(analysis: Analysis, unit: str, segment: int,
                frame: int | None = None) -> tuple[Figure, dict[str, Axes]]:
    """One unit's Y_i and Ŷ_i on a segment with the row of smallest Y_i and the row of largest
    Ŷ_i marked at every frame; their profiles over frequency at ``frame`` (default: the frame
    of the segment's largest [U]_{i,t}); and the row of U against a_i min_f Y_i + c_i and
    a_i max_f Y_i + c_i."""
    u = analysis.model.unit(unit, "cnn1")
    maps = analysis.unit_maps(u.name, segment)
    bn = cnn1_batch_norm(analysis.model)
    a, c = float(bn.scale[u.index]), float(bn.shift[u.index])
    start = analysis.segment_start_s[segment]
    row = analysis.U[segment, u.index]
    frame = int(np.argmax(row)) if frame is None else frame
    t = start + np.arange(row.size) * FRAME_SECONDS
    one_d = u.group.rows == 1
    row_label = "mel band" if one_d else f"output row (bands f…f+{u.group.rows - 1})"
    fig = plt.figure(figsize=plots.column_size(12, 9), layout="constrained")
    axes = fig.subplot_mosaic([["Y", "Y_hat"], ["profile", "U"]])
    smallest, largest = np.argmin(maps.Y, axis=0), np.argmax(maps.Y_hat, axis=0)
    for key, data, marks, label, title in (
            ("Y", maps.Y, smallest, "row of smallest $Y_i$", r"$\mathbf{Y}_i$ (after ReLU)"),
            ("Y_hat", maps.Y_hat, largest, r"row of largest $\hat{Y}_i$",
             rf"$\hat{{\mathbf{{Y}}}}_i = {a:.3g}\,\mathbf{{Y}}_i + {c:.3g}$")):
        plots.matrix(data, axes[key], start_s=start, row_label=row_label, title=title,
                     colorbar_label=r"$Y_i$" if key == "Y" else r"$\hat{Y}_i$")
        axes[key].plot(t, marks, ".", color="cyan", markersize=3, label=label)
        axes[key].axvline(t[frame], color="0.3", linestyle=":", linewidth=1)
        axes[key].legend(loc="upper right", fontsize="small", markerscale=3)
        if one_d:
            plots.mel_axis(axes[key], n_ticks=5)
    profile = axes["profile"]
    rows = np.arange(maps.Y.shape[0])
    profile.plot(rows, maps.Y[:, frame], color="tab:blue", label=r"$Y_i$ (left axis)")
    profile.set(xlabel=row_label, ylabel=r"$[\mathbf{Y}_i]_{f,t}$",
                title=f"over frequency at t = {t[frame]:.2f} s")
    profile.plot(smallest[frame], maps.Y[smallest[frame], frame], "o", color="tab:blue", mfc="none", markersize=9)
    twin = profile.twinx()
    twin.plot(rows, maps.Y_hat[:, frame], color="tab:red", label=r"$\hat{Y}_i$ (right axis)")
    twin.plot(largest[frame], maps.Y_hat[largest[frame], frame], "x", color="tab:red", markersize=9)
    twin.set_ylabel(r"$[\hat{\mathbf{Y}}_i]_{f,t}$", color="tab:red")
    profile.legend(handles=profile.lines[:1] + twin.lines[:1], fontsize="small", loc="upper center",
                   bbox_to_anchor=(0.5, -0.2))  # below the panel: it is narrow
    axes["U"].plot(t, row, color="black", linewidth=1.5, label=r"$[\mathbf{U}]_{i,t} = \max_f\, \hat{Y}_i$")
    axes["U"].plot(t, a * maps.Y.min(axis=0) + c, ".", color="tab:orange", markersize=4,
                   label=r"$a_i \min_f Y_i + c_i$")
    axes["U"].plot(t, a * maps.Y.max(axis=0) + c, "--", color="gray", linewidth=1,
                   label=r"$a_i \max_f Y_i + c_i = \min_f\, \hat{Y}_i$")
    axes["U"].axvline(t[frame], color="gray", linestyle=":", linewidth=1)
    axes["U"].set(xlabel="time (s)", ylabel="value", title=f"row {u.index} of U", xlim=(t[0], t[-1]))
    axes["U"].legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2))
    fig.suptitle(f"{u.name} ({analysis.model.name}, segment {segment}): γ = {u.gamma:.3g} < 0,\n"
                 f"so a = {a:.3g} and the largest Ŷ is where Y is smallest", fontsize=11)
    axes["twin"] = twin
    return fig, axes


# ---------------------------------------------------------------------------------------
# The parameters, and the maps they make
# ---------------------------------------------------------------------------------------

def parameter_figure(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> tuple[Figure, np.ndarray]:
    """γ, β, μ, σ² of all 561 CNN_1 units (rows of panels), one column per model, one strip
    per kernel group; non-trivial units in colour, trivial ones in grey."""
    groups = groups_of("cnn1")
    fig, axes = plt.subplots(len(PARAMETERS), len(models), figsize=plots.column_size(5.5 * len(models), 11),
                             sharey="row",
                             squeeze=False, layout="constrained")
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, 561)
    x = group_of_rows("cnn1") + jitter
    for col, model in enumerate(models):
        bn, live = cnn1_batch_norm(model), nontrivial_units(model, "cnn1", threshold).mask
        for row, (key, label) in enumerate(PARAMETERS):
            ax = axes[row, col]
            values = getattr(bn, key)
            ax.scatter(x[~live], values[~live], s=8, facecolors="none", edgecolors=TRIVIAL_COLOR, linewidths=0.6,
                       label=f"trivial ({(~live).sum()}): ‖K‖_F ≤ {threshold:g}")
            ax.scatter(x[live], values[live], s=12, color=NONTRIVIAL_COLOR, label=f"non-trivial ({live.sum()})")
            if key in ("gamma", "beta"):
                ax.set_yscale("symlog", linthresh=1e-3)
                ax.axhline(0, color="black", linewidth=0.6)
            else:
                ax.set_yscale("log")
            if key == "variance":
                ax.axhline(bn.epsilon, color="tab:blue", linestyle="--", linewidth=1, label=f"ε = {bn.epsilon:g}")
            ax.set_xticks(range(len(groups)), [g.name for g in groups])
            ax.set(ylabel=label if col == 0 else "", xlabel="kernel group" if row == len(PARAMETERS) - 1 else "")
            if row == 0:
                ax.set_title(f"{model.name}: batch-norm parameters of the 561 CNN_1 units")
            if key == "mean":
                ax.legend(fontsize="small", loc="center")
            if key == "variance":
                ax.legend(handles=ax.lines[-1:], fontsize="small", loc="center right")
    return fig, axes


def affine_figure(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> tuple[Figure, np.ndarray]:
    """The affine map (slope a_i, intercept c_i) of every non-trivial CNN_1 unit, one panel per
    model, coloured by kernel group; slopes left of zero turn the map over."""
    fig, axes = plt.subplots(1, len(models), figsize=plots.column_size(5.5 * len(models), 3.8), squeeze=False,
                             layout="constrained")
    groups = group_of_rows("cnn1")
    for ax, model in zip(axes[0], models):
        bn, live = cnn1_batch_norm(model), nontrivial_units(model, "cnn1", threshold).mask
        for i, g in enumerate(groups_of("cnn1")):
            keep = live & (groups == i)
            ax.scatter(bn.scale[keep], bn.shift[keep], s=14, color=f"C{i}", label=f"{g.name} ({keep.sum()})")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.set_xscale("symlog", linthresh=0.1)
        ax.set(xlabel=r"slope $a_i = \gamma_i/\sqrt{\sigma_i^2+\epsilon}$",
               ylabel=r"intercept $c_i = \beta_i - a_i\mu_i$",
               title=f"{model.name}: the {live.sum()} non-trivial units (left of 0: γ < 0)")
        ax.legend(fontsize="small", title="kernels", title_fontsize="small")
    return fig, axes


def parameter_table(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Markdown: for each model, how the trivial and the non-trivial units' parameters compare."""
    lines = ["| model | units | σ² < ε | σ² < 1e-30 | γ from | to | β from | to | μ from | to |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for model in models:
        bn, live = cnn1_batch_norm(model), nontrivial_units(model, "cnn1", threshold).mask
        for name, keep in (("non-trivial", live), ("trivial", ~live)):
            cells = [f"{(bn.variance[keep] < bn.epsilon).sum()}", f"{(bn.variance[keep] < ZERO_VARIANCE).sum()}"]
            for key in ("gamma", "beta", "mean"):
                v = getattr(bn, key)[keep]
                cells += [number(v.min()), number(v.max())]
            lines.append(f"| {model.name} | {name} ({keep.sum()}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Trivial units: constants after the batch-norm
# ---------------------------------------------------------------------------------------



def nonzero_constants(model: Model, tolerance: float = 0.0, threshold: float = NORM_THRESHOLD) -> UnitCount:
    """Trivial units whose constant (:func:`trivial_constants`) exceeds ``tolerance`` in size."""
    keep = trivial_units(model, "cnn1", threshold).mask & (np.abs(trivial_constants(model)) > tolerance)
    return UnitCount.from_mask(model.name, "cnn1",
                               f"kernel Frobenius norm ≤ {threshold:g} and |constant| > {tolerance:g}", threshold, keep)


@dataclass(frozen=True)
class ConstantCheck:
    """The predicted constants of a model's trivial units against the rows of U observed on a
    recording (every segment and frame)."""

    model: str
    rows: np.ndarray  # the trivial units' rows of U
    predicted: np.ndarray
    observed_min: np.ndarray
    observed_max: np.ndarray
    observed_mean: np.ndarray

    @property
    def deviation(self) -> np.ndarray:
        """Per unit, the largest |observed − predicted| over every segment and frame."""
        return np.maximum(np.abs(self.observed_max - self.predicted), np.abs(self.observed_min - self.predicted))


def check_constants(analysis: Analysis, threshold: float = NORM_THRESHOLD) -> ConstantCheck:
    """:class:`ConstantCheck` for the trivial units of ``analysis.model`` on its recording."""
    rows = np.flatnonzero(trivial_units(analysis.model, "cnn1", threshold).mask)
    observed = analysis.U[:, rows, :]
    return ConstantCheck(analysis.model.name, rows, trivial_constants(analysis.model)[rows],
                         observed.min(axis=(0, 2)), observed.max(axis=(0, 2)), observed.mean(axis=(0, 2)))


def constants_table(checks: Sequence[ConstantCheck], tolerances: Sequence[float] = CONSTANT_TOLERANCES) -> str:
    """Markdown: per model, how many trivial-unit constants exceed each tolerance, their range,
    and how far the observed rows of U stray from them."""
    head = ("| model | trivial units | " + " | ".join(f"\\|constant\\| > {t:g}" for t in tolerances)
            + f" | smallest constant | largest constant | rows within {MATCH_TOLERANCE:g} of it on every frame "
            "| largest \\|observed − predicted\\| |")
    lines = [head, "|---|---:|" + "---:|" * (len(tolerances) + 4)]
    for c in checks:
        counts = " | ".join(str(int(np.sum(np.abs(c.predicted) > t))) for t in tolerances)
        lines.append(f"| {c.model} | {c.rows.size} | {counts} | {number(c.predicted.min())} | "
                     f"{number(c.predicted.max())} "
                     f"| {int(np.sum(c.deviation <= MATCH_TOLERANCE))} | {number(c.deviation.max())} |")
    return "\n".join(lines)


def departures(check: ConstantCheck, model: Model, tolerance: float = MATCH_TOLERANCE, n: int = 4) -> str:
    """One sentence: which trivial rows of U stray from their constant by more than
    ``tolerance`` somewhere, the largest first, with their kernel norms."""
    stray = np.flatnonzero(check.deviation > tolerance)
    stray = stray[np.argsort(check.deviation[stray])[::-1]]
    head = (f"{check.model}: {stray.size} of {check.rows.size} trivial rows stray from their constant "
            f"by more than {tolerance:g}")
    if not stray.size:
        return head + "."
    norms = model.norms("cnn1")
    listed = ", ".join(f"`{model.unit(int(check.rows[k]), 'cnn1').name}` "
                       rf"($\lVert\mathbf{{K}}_i\rVert_F$ = {number(norms[check.rows[k]])}, "
                       f"by up to {number(check.deviation[k])})" for k in stray[:n])
    more = f", and {stray.size - n} more" if stray.size > n else ""
    return f"{head}: {listed}{more}."




def floor_table(models: Sequence[Model], below: float = ZERO_VARIANCE) -> str:
    """Markdown: the running means and variances stuck near 1e-36, against :func:`variance_floor`."""
    lines = [rf"| model | $\mu_i$ < {below:g} | $\sigma_i^2$ < {below:g} | smallest of them | largest of them |",
             "|---|---:|---:|---:|---:|"]
    for model in models:
        bn = cnn1_batch_norm(model)
        stuck = np.concatenate([bn.mean[bn.mean < below], bn.variance[bn.variance < below]])
        lines.append(f"| {model.name} | {(bn.mean < below).sum()} | {(bn.variance < below).sum()} | "
                     f"{stuck.min():.5g} | {stuck.max():.5g} |")
    return "\n".join(lines)


def live_range_sentence(analyses: Sequence[Analysis], threshold: float = NORM_THRESHOLD) -> str:
    """One sentence: the range the non-trivial rows of U take on the recording, per model, as
    the yardstick for the trivial units' constants."""
    parts = []
    for a in analyses:
        live = a.U[:, nontrivial_units(a.model, "cnn1", threshold).mask]
        parts.append(f"from {number(live.min())} to {number(live.max())} for {a.model.name}")
    return "For comparison, the non-trivial rows of U range " + " and ".join(parts) + " on this recording."


def trivial_table(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Markdown: why the trivial units' constants are small — their running mean sits on the
    constant ReLU(b_i) they output, and their β_i is near zero."""
    lines = [r"| model | trivial units | with $b_i > 0$ | largest $\lvert\mathrm{ReLU}(b_i) - \mu_i\rvert$ "
             r"| largest $\sigma_i^2$ | largest $\lvert\beta_i\rvert$ | largest $\lvert\gamma_i\rvert$ |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for model in models:
        bn, trivial = cnn1_batch_norm(model), trivial_units(model, "cnn1", threshold).mask
        b = model.biases("cnn1")[trivial]
        lines.append(f"| {model.name} | {trivial.sum()} | {(b > 0).sum()} | "
                     f"{number(np.abs(np.maximum(b, 0) - bn.mean[trivial]).max())} | "
                     f"{number(bn.variance[trivial].max())} | "
                     f"{number(np.abs(bn.beta[trivial]).max())} | {number(np.abs(bn.gamma[trivial]).max())} |")
    return "\n".join(lines)


def constants_figure(analyses: Sequence[Analysis], segment: int,
                     threshold: float = NORM_THRESHOLD) -> tuple[Figure, np.ndarray]:
    """Per model: the trivial rows of U on one segment (non-trivial rows blanked), on a colour
    scale as wide as the largest constant; and each trivial unit's predicted constant against
    the values its row takes on the whole recording (mean, with min–max bars)."""
    fig, axes = plt.subplots(len(analyses), 2, figsize=plots.column_size(12, 4.2 * len(analyses)),
                             width_ratios=(1.5, 1),
                             squeeze=False, layout="constrained")
    groups = group_of_rows("cnn1")
    for (left, right), a in zip(axes, analyses):
        check = check_constants(a, threshold)
        u = np.full(a.U.shape[1:], np.nan)
        u[check.rows] = a.U[segment, check.rows]
        bound = float(np.max(np.abs(check.predicted)))
        _, _, image, _ = plots.matrix(u, left, start_s=a.segment_start_s[segment], row_label="row of U (unit)",
                                      vmin=-bound, vmax=bound, cmap=plots.DIVERGING,
                                      colorbar_label=r"$[\mathbf{U}]_{i,t}$",
                                      title=f"{a.model.name}, segment {segment}: the {check.rows.size} trivial rows "
                                            "of U (dark grey: non-trivial)")
        image.set_cmap(image.cmap.with_extremes(bad="0.35"))
        mark_row_groups(left, u_row_groups(), fontsize="small")
        milli = {k: 1e3 * getattr(check, k) for k in ("predicted", "observed_mean", "observed_min", "observed_max")}
        for i, g in enumerate(groups_of("cnn1")):
            keep = groups[check.rows] == i
            mean = milli["observed_mean"][keep]
            right.errorbar(milli["predicted"][keep], mean,
                           yerr=(np.maximum(mean - milli["observed_min"][keep], 0),
                                 np.maximum(milli["observed_max"][keep] - mean, 0)),
                           fmt=".", color=f"C{i}", markersize=4, elinewidth=0.6, label=g.name)
        lims = [min(milli["predicted"].min(), milli["observed_min"].min()),
                max(milli["predicted"].max(), milli["observed_max"].max())]
        right.plot(lims, lims, color="gray", linewidth=0.8, linestyle="--", label="observed = predicted")
        right.set(xlabel="predicted constant (×10⁻³)", ylabel=r"observed $[\mathbf{U}]_{i,t}$  (×10⁻³)",
                  title=f"{a.model.name}, all {a.n_segments} segments: mean, min–max")
        right.legend(fontsize="small", title="kernels", title_fontsize="small")
    return fig, axes
