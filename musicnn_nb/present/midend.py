"""What the three mid-end layers CNN_2, CNN_3 and CNN_4 share (chapters 10-12): each has one
group of 64 kernels, one batch-norm, and the same kernel-norm figure."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from musicnn_nb.facts.units import NORM_THRESHOLD, SENSITIVITY_THRESHOLDS, threshold_sensitivity
from musicnn_nb.model.weights import BatchNorm, Group, Model, groups_of, layer_size
from musicnn_nb.present import plots

LAYERS = ("cnn2", "cnn3", "cnn4")


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
