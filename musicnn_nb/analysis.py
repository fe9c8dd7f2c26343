"""Facts about the weights, each computed with its criterion stated (chapters 4-12).

The series makes claims such as "only 62 rows of U depend on the input" or "63 CNN_4
kernels are non-trivial". Here each is a function of the checkpoint and a threshold, so the
book can show the count, the criterion, and how the count moves with the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spectrogram import FLOAT16_MAX
from .weights import Model, groups_of, layer_size, unit_name

NORM_THRESHOLD = 1e-2  # a kernel with Frobenius norm at or below this is "numerically zero"
SENSITIVITY_THRESHOLDS = tuple(10.0**e for e in range(-8, 1))
M_DB_MAX = float(np.log10(10000 * FLOAT16_MAX + 1))  # largest value M_dB can take


@dataclass(frozen=True)
class UnitCount:
    """Which units of a layer pass a criterion, and the criterion in words."""

    model: str
    layer: str
    criterion: str
    threshold: float
    rows: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def total(self) -> int:
        return layer_size(self.layer)

    @property
    def names(self) -> list[str]:
        groups = groups_of(self.layer)
        return [unit_name(next(g for g in groups if g.first_row <= r < g.stop_row), r) for r in self.rows]

    def __str__(self) -> str:
        return f"{self.model} {self.layer}: {self.count} of {self.total} units ({self.criterion})"


def nontrivial_units(model: Model, layer: str, threshold: float = NORM_THRESHOLD) -> UnitCount:
    """Units whose kernel has Frobenius norm above ``threshold``.

    A unit with a numerically zero kernel outputs a constant whatever the audio, so for
    CNN_1 this is the count of rows of U that depend on the input.
    """
    rows = np.flatnonzero(model.norms(layer) > threshold)
    return UnitCount(model.name, layer, f"kernel Frobenius norm > {threshold:g}", threshold,
                     tuple(int(r) for r in rows))


def threshold_sensitivity(model: Model, layer: str,
                          thresholds: tuple[float, ...] = SENSITIVITY_THRESHOLDS) -> dict[float, int]:
    """How many units pass :func:`nontrivial_units` at each threshold."""
    norms = model.norms(layer)
    return {t: int(np.sum(norms > t)) for t in thresholds}


def max_preactivation(model: Model) -> np.ndarray:
    """Upper bound of every CNN_1 unit's pre-activation K_i ⋆ M̂_dB + b_i over all inputs.

    M_dB lies in [0, log10(10000 · 65504 + 1)] (float16 caps the mel power), so every entry
    of M̂_dB lies between the input batch-norm's images of those ends, and padding adds 0.
    A unit whose bound is ≤ 0 is silenced by the ReLU for every possible input.
    """
    bn = model.input_bn
    ends = np.array([bn(np.float32(0.0))[0], bn(np.float32(M_DB_MAX))[0], 0.0])
    bounds = []
    for group in groups_of("cnn1"):
        k = model.kernels(group).reshape(group.size, -1)
        bounds.append(np.sum(np.max(k[..., None] * ends, axis=-1), axis=1)
                      + model.variables[f"{group.conv}/bias"])
    return np.concatenate(bounds)


def input_dependent_units(model: Model, threshold: float = NORM_THRESHOLD) -> UnitCount:
    """CNN_1 units whose row of U can depend on the input: a kernel above the threshold
    and a pre-activation that some possible input makes positive."""
    live = (model.norms("cnn1") > threshold) & (max_preactivation(model) > 0)
    return UnitCount(model.name, "cnn1",
                     f"kernel Frobenius norm > {threshold:g} and ReLU can open for some input",
                     threshold, tuple(int(r) for r in np.flatnonzero(live)))


def varying_rows(layer_output: np.ndarray, tolerance: float = 1e-6) -> np.ndarray:
    """Rows whose value changes over time and segments in an observed output (S, rows, time).

    The empirical twin of :func:`nontrivial_units`: a row whose range stays within
    ``tolerance`` behaved as a constant on this audio.
    """
    spread = layer_output.max(axis=(0, 2)) - layer_output.min(axis=(0, 2))
    return np.flatnonzero(spread > tolerance)
