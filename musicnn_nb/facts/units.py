"""Facts about the weights, each computed with its criterion stated (chapters 4-12).

The series makes claims such as "only 62 rows of U depend on the input" or "63 CNN_4
kernels are non-trivial". Here each is a function of the checkpoint and a threshold, so the
book can show the count, the criterion, and how the count moves with the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from musicnn_nb.model.network import LAYER_OUTPUT
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FLOAT16_MAX, N_MELS
from musicnn_nb.model.weights import Group, Model, Unit, groups_of, layer_size, unit_name

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

    @property
    def listed(self) -> str:
        """The names as Markdown code, comma-separated, for prose and tables ("none" if empty)."""
        return ", ".join(f"`{n}`" for n in self.names) or "none"

    @property
    def mask(self) -> np.ndarray:
        """True for the units counted: one entry per unit of the layer, in row order."""
        mask = np.zeros(self.total, dtype=bool)
        mask[np.asarray(self.rows, dtype=int)] = True
        return mask

    def __str__(self) -> str:
        return f"{self.model} {self.layer}: {self.count} of {self.total} units ({self.criterion})"

    @classmethod
    def from_mask(cls, model: str, layer: str, criterion: str, threshold: float, mask: np.ndarray) -> UnitCount:
        """The units where ``mask`` (one entry per unit of the layer, in row order) is true."""
        return cls(model, layer, criterion, threshold, tuple(int(r) for r in np.flatnonzero(mask)))


@dataclass(frozen=True)
class GroupCount:
    """Which units of one kernel group pass a criterion, and the criterion in words."""

    model: str
    group: Group
    criterion: str
    rows: tuple[int, ...]  # rows of the layer's output (for CNN_1, of U): the blog's unit numbers

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def total(self) -> int:
        return self.group.size

    @property
    def names(self) -> list[str]:
        return [unit_name(self.group, r) for r in self.rows]

    def __str__(self) -> str:
        return f"{self.model} {self.group.name}: {self.count} of {self.total} units ({self.criterion})"


def group_count(model: Model, group: Group, criterion: str, rows) -> GroupCount:
    """The :class:`GroupCount` of those of ``rows`` (rows of the group's layer) that lie in ``group``."""
    return GroupCount(model.name, group, criterion,
                      tuple(sorted(int(r) for r in rows if group.first_row <= r < group.stop_row)))


def nontrivial_units(model: Model, layer: str, threshold: float = NORM_THRESHOLD) -> UnitCount:
    """Units whose kernel has Frobenius norm above ``threshold``.

    A unit with a numerically zero kernel outputs a constant whatever the audio, so for
    CNN_1 this is the count of rows of U that depend on the input.
    """
    return UnitCount.from_mask(model.name, layer, f"kernel Frobenius norm > {threshold:g}", threshold,
                               model.norms(layer) > threshold)


def trivial_units(model: Model, layer: str, threshold: float = NORM_THRESHOLD) -> UnitCount:
    """Units whose kernel is trivial: Frobenius norm at or below ``threshold``, the complement
    of :func:`nontrivial_units`. Such a unit's pre-activation is its bias at every frame."""
    return UnitCount.from_mask(model.name, layer, f"kernel Frobenius norm ≤ {threshold:g}", threshold,
                               model.norms(layer) <= threshold)


def norm_gap(model: Model, layer: str, threshold: float = NORM_THRESHOLD) -> tuple[float, float]:
    """(largest kernel norm at or below ``threshold``, smallest above it): every threshold t with
    lo ≤ t < hi gives the same :func:`nontrivial_units` (0 or inf where a side is empty)."""
    norms = model.norms(layer)
    below, above = norms[norms <= threshold], norms[norms > threshold]
    return (float(below.max()) if below.size else 0.0, float(above.min()) if above.size else np.inf)


def stable_thresholds(model: Model, layer: str, threshold: float = NORM_THRESHOLD) -> tuple[float, float]:
    """The smallest and largest threshold of :func:`threshold_sensitivity`'s grid that give the
    same count as ``threshold`` does, in the contiguous run around it."""
    counts = threshold_sensitivity(model, layer)
    grid = sorted(counts)
    target = nontrivial_units(model, layer, threshold).count
    i = int(np.argmin(np.abs(np.log10(grid) - np.log10(threshold))))
    lo = hi = i
    while lo > 0 and counts[grid[lo - 1]] == target:
        lo -= 1
    while hi < len(grid) - 1 and counts[grid[hi + 1]] == target:
        hi += 1
    return grid[lo], grid[hi]


def nontrivial_in_group(model: Model, group: Group, threshold: float = NORM_THRESHOLD) -> GroupCount:
    """The units of ``group`` that :func:`nontrivial_units` keeps."""
    layer = nontrivial_units(model, group.layer, threshold)
    return group_count(model, group, layer.criterion, layer.rows)


def _counts_above(norms: np.ndarray, thresholds: Sequence[float]) -> dict[float, int]:
    return {t: int(np.sum(norms > t)) for t in thresholds}


def threshold_sensitivity(model: Model, layer: str,
                          thresholds: tuple[float, ...] = SENSITIVITY_THRESHOLDS) -> dict[float, int]:
    """How many units pass :func:`nontrivial_units` at each threshold."""
    return _counts_above(model.norms(layer), thresholds)


def group_sensitivity(model: Model, group: Group,
                      thresholds: Sequence[float] = SENSITIVITY_THRESHOLDS) -> dict[float, int]:
    """How many kernels of ``group`` have a Frobenius norm above each threshold."""
    return _counts_above(model.norms(group.layer)[group.first_row:group.stop_row], thresholds)


def ranked_units(model: Model, group: Group, n: int | None = None,
                 threshold: float = NORM_THRESHOLD) -> list[Unit]:
    """The group's non-trivial units by decreasing kernel norm (the lower row first on a tie),
    at most ``n``."""
    rows = np.array(nontrivial_in_group(model, group, threshold).rows, dtype=int)
    norms = model.norms(group.layer)[rows]
    order = rows[np.argsort(-norms, kind="stable")]
    return [model.unit(int(r), group.layer) for r in order[:n]]


def largest_norm_unit(model: Model, groups: Sequence[Group], threshold: float = NORM_THRESHOLD) -> Unit:
    """The non-trivial unit with the largest kernel norm among ``groups``: the largest of each
    group's first :func:`ranked_units` (the earlier group on a tie)."""
    firsts = [u for g in groups for u in ranked_units(model, g, 1, threshold)]
    if not firsts:
        raise ValueError(f"{model.name} has no non-trivial unit in {', '.join(g.name for g in groups)}")
    return max(firsts, key=lambda u: u.norm)


def explorer_unit(model: Model, groups: Sequence[Group], preferred: str | None = None,
                  threshold: float = NORM_THRESHOLD) -> str:
    """The unit an explorer opens on: ``preferred`` if it is a non-trivial unit of ``groups``,
    else :func:`largest_norm_unit` among them."""
    if preferred is not None and any(preferred in nontrivial_in_group(model, g, threshold).names for g in groups):
        return preferred
    return largest_norm_unit(model, groups, threshold).name


def never_active_units(analysis: Analysis, layer: str) -> UnitCount:
    """Units of a mid-end layer whose rectified output (V_1, V_2 or V_3) is zero at every frame
    of every segment of ``analysis``: the rectifier kept nothing of them on this recording."""
    name = LAYER_OUTPUT[layer][0]
    v = analysis.arrays[name]
    return UnitCount.from_mask(analysis.model.name, layer,
                               f"[V_{name[1:]}]_(j,t) = 0 at every frame of all {analysis.n_segments} segments of "
                               f"{analysis.path.name}", NORM_THRESHOLD, v.max(axis=(0, 2)) <= 0)


def map_rows(group: Group) -> int:
    """Rows of a CNN_1 unit's map K_i ⋆ M̂_dB: the positions where a kernel h bands tall fits in
    the 96 mel bands without padding (59 for 38x7, 30 for 67x7, 96 for the 1-D groups)."""
    return N_MELS - group.rows + 1


def max_preactivation(model: Model) -> np.ndarray:
    """Upper bound of every CNN_1 unit's pre-activation K_i ⋆ M̂_dB + b_i over all inputs.

    M_dB lies in [0, log10(10000 · 65504 + 1)] (float16 caps the mel power), so every entry
    of M̂_dB lies between the input batch-norm's images of those ends, and padding adds 0.
    A unit whose bound is ≤ 0 is silenced by the ReLU for every possible input.
    """
    bn = model.input_bn
    ends = np.array([bn(np.array(0.0, dtype=np.float32))[0], bn(np.array(M_DB_MAX, dtype=np.float32))[0], 0.0])
    bounds = []
    for group in groups_of("cnn1"):
        k = model.kernels(group).reshape(group.size, -1)
        bounds.append(np.sum(np.max(k[..., None] * ends, axis=-1), axis=1))
    return np.concatenate(bounds) + model.biases("cnn1")


def input_dependent_units(model: Model, threshold: float = NORM_THRESHOLD) -> UnitCount:
    """CNN_1 units whose row of U can depend on the input: a kernel above the threshold
    and a pre-activation that some possible input makes positive."""
    live = nontrivial_units(model, "cnn1", threshold).mask & (max_preactivation(model) > 0)
    return UnitCount.from_mask(model.name, "cnn1",
                               f"kernel Frobenius norm > {threshold:g} and ReLU can open for some input",
                               threshold, live)


def varying_rows(layer_output: np.ndarray, tolerance: float = 1e-6) -> np.ndarray:
    """Rows whose value changes over time and segments in an observed output (S, rows, time).

    The empirical twin of :func:`nontrivial_units`: a row whose range stays within
    ``tolerance`` behaved as a constant on this audio.
    """
    spread = layer_output.max(axis=(0, 2)) - layer_output.min(axis=(0, 2))
    return np.flatnonzero(spread > tolerance)
