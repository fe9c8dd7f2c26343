"""Batch-norm facts shared by chapters: CNN_1's five batch-norms as one, the constants of
trivial units, negative γ, and the running-variance floor (chapters 7, 8, 10)."""

from __future__ import annotations

import numpy as np

from musicnn_nb.facts.units import NORM_THRESHOLD, UnitCount, nontrivial_units
from musicnn_nb.model.weights import BatchNorm, Model, groups_of

BN_MOMENTUM = 0.99  # tf.compat.v1.layers.batch_normalization's default, which musicnn keeps
ZERO_VARIANCE = 1e-30  # a running variance below this is zero for every purpose (ε is 1e-3)


def cnn1_batch_norm(model: Model) -> BatchNorm:
    """The five CNN_1 batch-norms as one of 561 channels, in U's row order."""
    parts = [model.batch_norm(g.bn) for g in groups_of("cnn1")]
    gamma, beta, mean, variance = (np.concatenate([getattr(p, k) for p in parts])
                                   for k in ("gamma", "beta", "mean", "variance"))
    return BatchNorm(gamma, beta, mean, variance)


def negative_gamma_units(model: Model, nontrivial: bool = True, threshold: float = NORM_THRESHOLD) -> UnitCount:
    """CNN_1 units with γ_i < 0 among the non-trivial units (or, with ``nontrivial=False``,
    among the trivial ones, whose kernel norm is at or below ``threshold``)."""
    live = nontrivial_units(model, "cnn1", threshold).mask
    keep = (cnn1_batch_norm(model).gamma < 0) & (live if nontrivial else ~live)
    which = f"kernel Frobenius norm {'>' if nontrivial else '≤'} {threshold:g}"
    return UnitCount.from_mask(model.name, "cnn1", f"γ_i < 0 and {which}", threshold, keep)


def trivial_constants(model: Model) -> np.ndarray:
    """γ_i (ReLU(b_i) − μ_i)/√(σ_i² + ε) + β_i for every CNN_1 unit (float64), the constant
    Ŷ_i a unit with a zero kernel outputs everywhere, hence the constant [U]_{i,t}."""
    bn = cnn1_batch_norm(model)
    gamma, beta, mean, variance = (np.asarray(getattr(bn, k), dtype=np.float64)
                                   for k in ("gamma", "beta", "mean", "variance"))
    relu_b = np.maximum(model.biases("cnn1").astype(np.float64), 0)
    return gamma * (relu_b - mean) / np.sqrt(variance + bn.epsilon) + beta


def variance_floor(momentum: float = BN_MOMENTUM) -> float:
    """The smallest float32 x for which the moving-average step (1 − momentum)·x is still a
    normal number: below it, a flush-to-zero update leaves x unchanged."""
    return float(np.finfo(np.float32).tiny) / (1 - momentum)
