"""Constant input rows act as a bias (chapters 10 and 11).

A mid-end layer correlates every row of its input with its kernels. The rows that belong to
trivial units one layer down hold a constant c_r whatever the audio, so their weight adds
δ_j = Σ_{r constant} c_r Σ_τ [K_j]_{r,τ} to unit j's pre-activation wherever all the kernel's
taps fall inside the segment: a bias in all but name. Here for CNN_2 (constant rows of U) and
CNN_3 (constant rows of V̂_1), with a check of the claim on a recording.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicnn_nb.facts.batchnorm import trivial_constants
from musicnn_nb.facts.units import NORM_THRESHOLD, UnitCount, nontrivial_units, trivial_units
from musicnn_nb.model.network import LAYER_INPUT, PAD, convolve, correlate
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.weights import Group, Model, groups_of

INPUT_UNITS = {"cnn2": "cnn1", "cnn3": "cnn2"}  # the layer whose units are the rows of each layer's input
_INPUT_NAMES = {"cnn2": "U", "cnn3": "V̂_1"}


def _group(layer: str) -> Group:
    if layer not in INPUT_UNITS:
        raise ValueError(f"constant input rows are worked out for {', '.join(INPUT_UNITS)}, not {layer!r}")
    return groups_of(layer)[0]


def constant_input_rows(model: Model, layer: str, threshold: float = NORM_THRESHOLD) -> UnitCount:
    """Rows of ``layer``'s input that are constant for every input: those of the trivial units
    of the layer below (counted as units of that layer)."""
    _group(layer)
    below = INPUT_UNITS[layer]
    rows = trivial_units(model, below, threshold).mask
    return UnitCount.from_mask(model.name, below, f"rows of {_INPUT_NAMES[layer]} whose CNN_{below[-1]} kernel "
                               f"has norm ≤ {threshold:g}", threshold, rows)


def input_constants(model: Model, layer: str) -> np.ndarray:
    """c_r for every row of ``layer``'s input (float64), the value the row holds if its unit's
    kernel is exactly zero (meaningful on :func:`constant_input_rows`): for CNN_2, the constant
    row of U of :func:`~musicnn_nb.facts.batchnorm.trivial_constants`; for CNN_3, BN(ReLU(b_r))
    of the CNN_2 unit, in the network's float32."""
    _group(layer)
    if layer == "cnn2":
        return trivial_constants(model)
    below = groups_of("cnn2")[0]
    return model.batch_norm(below.bn)(np.maximum(model.biases("cnn2"), 0)).astype(np.float64)


def effective_bias(model: Model, layer: str, threshold: float = NORM_THRESHOLD) -> np.ndarray:
    """δ_j = Σ_{r constant} c_r Σ_τ [K_j]_{r,τ} for every unit of ``layer``: what the constant
    input rows add to its pre-activation at every frame whose taps all fall inside the segment."""
    rows = list(constant_input_rows(model, layer, threshold).rows)
    k = model.kernels(_group(layer)).astype(np.float64)
    return k[:, rows, :].sum(axis=2) @ input_constants(model, layer)[rows]


def constant_contribution(model: Model, layer: str, unit: int, frames: int,
                          threshold: float = NORM_THRESHOLD) -> np.ndarray:
    """The constant rows' contribution to one unit's pre-activation at each of ``frames`` frames:
    δ_j inside, fewer kernel taps near the edges (zero padding)."""
    rows = list(constant_input_rows(model, layer, threshold).rows)
    k = model.kernels(_group(layer))[unit][rows].astype(np.float64)
    taps = k.T @ input_constants(model, layer)[rows]  # one value per kernel frame
    padded = np.pad(np.ones(frames), PAD)
    return np.lib.stride_tricks.sliding_window_view(padded, taps.size) @ taps


def pre_activation(analysis: Analysis, layer: str) -> np.ndarray:
    """K_j ⋆ input + b_j of every unit of a mid-end layer on every segment: (segments, units, 187)."""
    x = np.ascontiguousarray(np.transpose(analysis.arrays[LAYER_INPUT[layer]], (0, 2, 1)))
    return np.transpose(convolve(analysis.model, groups_of(layer)[0], x)[:, :, 0, :], (0, 2, 1))


@dataclass(frozen=True)
class BiasCheck:
    """The constant input rows of one layer as a bias, measured on one recording: δ_j beside b_j
    and what those rows actually contributed (non-trivial units), and how well 'other rows +
    b_j + δ_j' reproduces the network's pre-activation (every unit)."""

    model: str
    layer: str
    units: tuple[int, ...]  # the layer's non-trivial units
    bias: np.ndarray  # b_j of those units
    delta: np.ndarray  # δ_j of those units
    observed_min: np.ndarray  # the constant rows' contribution at inner frames, smallest over all segments
    observed_max: np.ndarray
    live_std: np.ndarray  # standard deviation of the other rows' contribution over all frames
    interior: float  # largest |network − (other rows + b_j + δ_j)| over frames whose taps all fall inside
    edges: float  # the same over the first and last PAD frames
    edges_corrected: float  # the same at the edges, with :func:`constant_contribution` instead of δ_j


def bias_check(analysis: Analysis, layer: str, threshold: float = NORM_THRESHOLD) -> BiasCheck:
    """:class:`BiasCheck` of ``layer`` over every segment of ``analysis``."""
    model = analysis.model
    k = model.kernels(_group(layer)).astype(np.float64)
    constant = constant_input_rows(model, layer, threshold).mask
    units = np.flatnonzero(nontrivial_units(model, layer, threshold).mask)
    delta = effective_bias(model, layer, threshold)
    x = analysis.arrays[LAYER_INPUT[layer]]
    live_parts, constant_parts = [], []
    for s in range(analysis.n_segments):
        x_s = x[s].astype(np.float64)
        live_parts.append(correlate(x_s[~constant], k[:, ~constant])[units])
        constant_parts.append(correlate(x_s[constant], k[:, constant])[units, PAD:-PAD])
    observed = np.stack(constant_parts, axis=1)
    others = x.astype(np.float64)
    others[:, constant, :] = 0
    reconstructed = correlate(others, k) + model.biases(layer)[None, :, None]
    network = pre_activation(analysis, layer).astype(np.float64)
    difference = np.abs(network - reconstructed - delta[None, :, None])
    frames = x.shape[2]
    contribution = np.stack([constant_contribution(model, layer, j, frames, threshold) for j in range(k.shape[0])])
    corrected = np.abs(network - reconstructed - contribution[None])
    edge = np.r_[0:PAD, frames - PAD:frames]
    return BiasCheck(model.name, layer, tuple(int(j) for j in units), model.biases(layer)[units], delta[units],
                     observed.min(axis=(1, 2)), observed.max(axis=(1, 2)),
                     np.concatenate(live_parts, axis=1).std(axis=1),
                     float(difference[:, :, PAD:frames - PAD].max()), float(difference[:, :, edge].max()),
                     float(corrected[:, :, edge].max()))
