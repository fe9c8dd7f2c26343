"""Facts about the rows of a layer's output over time (units × frames): how active each row is.

Two measures of a row's activity, both chapter-neutral:

- the series' own (part 12): sort the row's values, subtract the smallest and divide by the
  largest of the result, so every row becomes a rising curve from 0 to 1; a row that sits near
  its maximum most of the time has a curve that rises early and a large area under it, a row
  that is low except for a few spikes has a small one;
- the standard deviation over time, which measures how far a row swings, in the layer's units.
"""

from __future__ import annotations

import numpy as np


def sort_shift_scale(matrix: np.ndarray) -> np.ndarray:
    """Every row of ``matrix`` (rows × frames) sorted ascending, minus its minimum, divided by
    the maximum of the result (the series' procedure in part 12). A constant row, which has no
    maximum to divide by, becomes all zeros rather than NaN."""
    x = np.sort(np.asarray(matrix, dtype=np.float64), axis=1)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"expected a rows × frames matrix with at least one frame, got shape {x.shape}")
    x -= x[:, :1]
    top = x[:, -1:]
    return np.divide(x, top, out=np.zeros_like(x), where=top > 0)


def sorted_activity(matrix: np.ndarray) -> np.ndarray:
    """Area under each row's sort-shift-scale curve (its mean, from 0 to 1): the share of the
    time the row spends near its own maximum. 0 for a constant row."""
    return sort_shift_scale(matrix).mean(axis=1)


def by_activity(score: np.ndarray) -> np.ndarray:
    """Row indices ordered by decreasing ``score`` (ties by row index)."""
    return np.argsort(-np.asarray(score), kind="stable")


def frames_of(segments: np.ndarray) -> np.ndarray:
    """Consecutive segments (segments × rows × frames) joined in time into rows × all frames."""
    segments = np.asarray(segments)
    return np.moveaxis(segments, 0, 1).reshape(segments.shape[1], -1)
