"""What the three mid-end layers CNN_2, CNN_3 and CNN_4 share (chapters 10-12): each has one
group of 64 kernels, one batch-norm, and the same kernel-norm figure."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from musicnn_nb.facts.units import NORM_THRESHOLD, SENSITIVITY_THRESHOLDS, nontrivial_units, threshold_sensitivity
from musicnn_nb.model.weights import BatchNorm, Group, Model, groups_of, layer_size
from musicnn_nb.present import plots
from musicnn_nb.present.notation import bn_parameters, number

LAYERS = ("cnn2", "cnn3", "cnn4")
LOG_SPAN = 100  # a positive parameter spanning more than this ratio gets a log axis
LINEAR_AROUND_ZERO = 1e-2  # a signed parameter reaching beyond 100 times this: symlog, linear within ±this


def group(layer: str) -> Group:
    """The single kernel group of a mid-end layer."""
    if layer not in LAYERS:
        raise ValueError(f"unknown mid-end layer {layer!r}: choose one of {', '.join(LAYERS)}")
    return groups_of(layer)[0]


def label(layer: str) -> str:
    """The series' name of a layer: ``cnn3`` → CNN_3."""
    return f"CNN_{layer[-1]}"


def batch_norm(model: Model, layer: str) -> BatchNorm:
    """The batch-norm that follows a mid-end layer (one channel per unit)."""
    return model.batch_norm(group(layer).bn)


def norms_figure(models: Sequence[Model], layer: str, threshold: float = NORM_THRESHOLD, *, log: bool = True,
                 thresholds: Sequence[float] = SENSITIVITY_THRESHOLDS, fig: Figure | None = None):
    """Left, the Frobenius norm of each kernel of a mid-end layer for every model (threshold
    dashed; on a log axis norms below 1e-12 are drawn at 1e-12); right, how many kernels pass
    a norm threshold as it sweeps over ``thresholds``. Returns figure, axes and handles."""
    g = group(layer)
    fig = fig or plt.figure(figsize=plots.column_size(13, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(2.6, 1))
    scale = "\n(log scale; norms below 1e-12 drawn at 1e-12)" if log else ""
    handles = plots.norms({m.name: m.norms(layer) for m in models}, left, threshold=threshold, log=log,
                          title=f"{label(layer)}: Frobenius norm of each {g.name} kernel{scale}")[2]
    left.set(xlim=(-1, layer_size(layer)), xlabel=f"{label(layer)} unit $j$", ylabel=r"$\|\mathbf{K}_j\|_F$")
    handles += plots.sensitivity({m.name: threshold_sensitivity(m, layer, thresholds) for m in models}, right,
                                 total=layer_size(layer), threshold=threshold,
                                 title=f"{label(layer)} kernels\nabove a threshold")[2]
    return fig, (left, right), handles


def _bn_values(model: Model, layer: str, key: str) -> np.ndarray:
    return np.asarray(getattr(batch_norm(model, layer), key), dtype=np.float64)


def _bn_scale(ax, values: np.ndarray) -> str:
    """Set a batch-norm panel's y scale from its values (see :func:`bn_figure`); returns it."""
    if values.min() > 0 and values.max() / values.min() > LOG_SPAN:
        ax.set_yscale("log")
        return "log"
    ax.axhline(0, color="gray", linewidth=0.5)
    if np.abs(values).max() > LOG_SPAN * LINEAR_AROUND_ZERO:
        ax.set_yscale("symlog", linthresh=LINEAR_AROUND_ZERO)
        return "symlog"
    return "linear"


def bn_figure(models: Sequence[Model], layer: str, threshold: float = NORM_THRESHOLD, *, affine: bool = False,
              beta_tolerance: float | None = None, fig: Figure | None = None):
    """The batch-norm parameters γ_j, β_j, μ_j, σ_j² (and, with ``affine``, the slope a_j and the
    intercept c_j of chapter 7's line) of a mid-end layer's 64 units against j, one colour per
    model: units with a non-trivial kernel filled, trivial ones open (chapters 10-12).

    A panel whose values are all positive and span more than :data:`LOG_SPAN` has a log axis; a
    signed one reaching beyond ±1 is logarithmic on both sides of a linear stretch
    ±:data:`LINEAR_AROUND_ZERO`. σ_j²'s panel marks ε; ``beta_tolerance`` shades a band on β_j's.
    Returns figure, axes and the scatter collections."""
    parameters = bn_parameters("j", described=True, affine=affine)
    fig = fig or plt.figure(figsize=plots.column_size(13, 6), layout="constrained")
    axes = fig.subplots(2, len(parameters) // 2, sharex=True).ravel()
    x = np.arange(layer_size(layer))
    handles = []
    for i, model in enumerate(models):
        live = nontrivial_units(model, layer, threshold).mask
        offset = (i - (len(models) - 1) / 2) * 0.3
        for ax, (key, _) in zip(axes, parameters):
            values = _bn_values(model, layer, key)
            handles.append(ax.scatter(x[live] + offset, values[live], s=14, color=f"C{i}",
                                      label=f"{model.name}, non-trivial kernel ({live.sum()})"))
            handles.append(ax.scatter(x[~live] + offset, values[~live], s=30, facecolors="none",
                                      edgecolors=f"C{i}", linewidths=0.9,
                                      label=f"{model.name}, trivial kernel ({(~live).sum()})"))
    for ax, (key, title) in zip(axes, parameters):
        _bn_scale(ax, np.concatenate([_bn_values(m, layer, key) for m in models]))
        ax.set_title(title, fontsize="medium")
        ax.grid(axis="y", linewidth=0.4, alpha=0.5)
        if key == "variance":
            epsilon = batch_norm(models[0], layer).epsilon
            line = ax.axhline(epsilon, color="gray", linestyle="--", linewidth=1, label=f"ε = {epsilon:g}")
            ax.legend(handles=[line], fontsize="small", loc="center right")
        if key == "beta" and beta_tolerance is not None:
            band = ax.axhspan(-beta_tolerance, beta_tolerance, color="0.88", zorder=0,
                              label=f"|β_j| ≤ {beta_tolerance:g}")
            ax.legend(handles=[band], fontsize="small", loc="upper right")
    for ax in axes[len(axes) // 2:]:
        ax.set_xlabel(f"{label(layer)} unit $j$")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize="small")
    fig.suptitle(f"Batch-norm parameters of {label(layer)} ({group(layer).bn})", fontsize="medium")
    return fig, axes, handles


def _cell(values: np.ndarray) -> str:
    """A table cell: the one value, or the range, the median and how many are negative."""
    if values.size == 1:
        return number(float(values[0]))
    negative = int(np.sum(values < 0))
    return (f"{number(values.min())} to {number(values.max())} (median {number(float(np.median(values)))}"
            + (f"; {negative} < 0" if negative else "") + ")")


def bn_table(models: Sequence[Model], layer: str, threshold: float = NORM_THRESHOLD, *, affine: bool = False) -> str:
    """Markdown: for each model, the batch-norm parameters of :func:`bn_figure` over the units
    with a non-trivial kernel and over the trivial ones (a lone trivial unit named)."""
    parameters = bn_parameters("j", affine=affine)
    lines = ["| model | units | " + " | ".join(lab for _, lab in parameters) + " |",
             "|---|---|" + "---:|" * len(parameters)]
    for model in models:
        live = nontrivial_units(model, layer, threshold).mask
        for name, keep in (("non-trivial", live), ("trivial", ~live)):
            if not keep.any():
                continue
            units = f"unit {int(np.flatnonzero(keep)[0])}" if keep.sum() == 1 else str(int(keep.sum()))
            cells = " | ".join(_cell(_bn_values(model, layer, key)[keep]) for key, _ in parameters)
            lines.append(f"| {model.name} | {name} ({units}) | {cells} |")
    return "\n".join(lines)
