"""The back end as facts: exact attribution of every tag's logit to the rows of W, and which of
the 200 hidden units are dead or constant (chapter 13, "The back end: from W to the tags").

For one segment the ReLU of the hidden layer is either open or closed for each of its 200
units, and for that pattern every step after pooling is affine, so the logits are

    z = c + p G,    G = diag(s) A_1 diag(m ⊙ s_2) A_2,

with p the 1,506 pooled values, s and s_2 the slopes of the two batch-norms, A_1 and A_2 the
dense kernels and m the 0/1 pattern of open units. Relative to a baseline b (by default the
running means μ the first batch-norm learned in training, which it maps to β), the logit of
tag k splits exactly into the constant ℓ_k(b) of that affine map and one contribution
[G]_{i,k} ([p]_i − b_i) per pooled value i. A row r of W owns two pooled values, its maximum
2r and its mean 2r+1, and a stage owns a block of rows.

The constant is the affine map of *this segment's* pattern evaluated at the baseline: it
equals the model's logit at the baseline only when the baseline opens the same units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicnn_nb.facts.units import NORM_THRESHOLD, nontrivial_units
from musicnn_nb.model.network import back_end_values
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import HOP, SAMPLE_RATE
from musicnn_nb.model.weights import (
    HIDDEN,
    LAYER_SIZES,
    OUTPUT,
    PENULTIMATE_BN,
    POOLED_BN,
    W_ROWS,
    Model,
    groups_of,
    unit_name,
)

BASELINE = "the running means μ of the batch-norm of p"  # the default baseline, in words
CONSTANT_TOLERANCE = 1e-6  # a hidden unit whose value ranges within this over a recording is constant on it


@dataclass(frozen=True)
class Stage:
    """A block of rows of W that one stage of the network produces."""

    key: str  # "cnn1/38x7" … for CNN_1's kernel groups, "V1_hat", "V12_hat", "V123_hat"
    label: str  # in words, for legends and tables
    first_row: int
    stop_row: int

    @property
    def rows(self) -> range:
        return range(self.first_row, self.stop_row)


def w_stages() -> tuple[Stage, ...]:
    """W's rows by stage, bottom to top: CNN_1's five kernel groups, then V̂_1, V̂_1+V̂_2, V̂_1+V̂_2+V̂_3."""
    stages = [Stage(f"cnn1/{g.name}", f"CNN_1 {g.name}", g.first_row, g.stop_row) for g in groups_of("cnn1")]
    start = LAYER_SIZES["cnn1"]
    for key, label, layer in (("V1_hat", "V̂_1", "cnn2"), ("V12_hat", "V̂_1+V̂_2", "cnn3"),
                              ("V123_hat", "V̂_1+V̂_2+V̂_3", "cnn4")):
        stages.append(Stage(key, label, start, start + LAYER_SIZES[layer]))
        start += LAYER_SIZES[layer]
    return tuple(stages)


def stage_of_rows() -> np.ndarray:
    """For every row of W, the position of its stage in :func:`w_stages`."""
    return np.concatenate([np.full(len(s.rows), i) for i, s in enumerate(w_stages())])


def w_row_unit(row: int) -> str:
    """The unit whose output is row ``row`` of W: a CNN_1 unit for U's rows, else the CNN_2-4
    unit of the same index whose batch-norm output is the last term of the block's sum (V̂_1's
    row i is cnn2 unit i; V̂_1+V̂_2's row i adds cnn3 unit i; V̂_1+V̂_2+V̂_3's adds cnn4 unit i)."""
    if not 0 <= row < W_ROWS:
        raise ValueError(f"W has rows 0 to {W_ROWS - 1}; {row} is out of range.")
    stage = w_stages()[stage_of_rows()[row]]
    if stage.key.startswith("cnn1/"):
        group = next(g for g in groups_of("cnn1") if g.first_row <= row < g.stop_row)
        return unit_name(group, row)
    layer = {"V1_hat": "cnn2", "V12_hat": "cnn3", "V123_hat": "cnn4"}[stage.key]
    return unit_name(groups_of(layer)[0], row - stage.first_row)


def affine_map(model: Model, pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(G, c, open): for one pooled vector p (1506,), the ReLU pattern ``open`` (200,) of the hidden
    layer and the affine map z = c + p G (G: 1506 x 50) that computes the logits exactly for every
    pooled vector with that pattern, in float64."""
    if pooled.shape != (POOLED_BN.inputs,):
        raise ValueError(f"one pooled vector of {POOLED_BN.inputs} values is needed, not shape {pooled.shape}.")
    bn1, bn2 = model.batch_norm(POOLED_BN.scope), model.batch_norm(PENULTIMATE_BN.scope)
    a1, bias1 = (x.astype(np.float64) for x in model.dense(HIDDEN.scope))
    a2, bias2 = (x.astype(np.float64) for x in model.dense(OUTPUT.scope))
    s1, t1 = bn1.scale.astype(np.float64), bn1.shift.astype(np.float64)
    s2, t2 = bn2.scale.astype(np.float64), bn2.shift.astype(np.float64)
    hidden_pre = (pooled.astype(np.float64) * s1 + t1) @ a1 + bias1
    open_ = hidden_pre > 0
    through = (open_ * s2)[:, None] * a2  # (200, 50): an open hidden unit's way to the logits
    gains = (s1[:, None] * a1) @ through
    constant = (t1 @ a1 + bias1) @ through + t2 @ a2 + bias2
    return gains, constant, open_


@dataclass(frozen=True)
class Attribution:
    """One segment's logits split exactly into a constant and one term per pooled value."""

    model: str
    tags: tuple[str, ...]
    pooled: np.ndarray  # p (1506,)
    baseline: np.ndarray  # b (1506,)
    baseline_name: str
    open_units: np.ndarray  # (200,) bool: the hidden units the ReLU lets through on this segment
    gains: np.ndarray  # G (1506, 50): d logit / d p for this pattern
    constant: np.ndarray  # (50,): the affine map at the baseline
    per_value: np.ndarray  # (50, 1506): G[i, k] (p_i − b_i)

    @property
    def logits(self) -> np.ndarray:
        """Constant plus contributions: the logits, exactly (float64)."""
        return self.constant + self.per_value.sum(axis=1)

    @property
    def per_row(self) -> np.ndarray:
        """(50, 753): each row of W's maximum and mean together."""
        return self.per_value[:, 0::2] + self.per_value[:, 1::2]

    @property
    def per_stage(self) -> np.ndarray:
        """(50, stages): the rows of each stage of :func:`w_stages` together."""
        rows = self.per_row
        return np.stack([rows[:, s.first_row:s.stop_row].sum(axis=1) for s in w_stages()], axis=1)

    def tag_index(self, tag: str | int) -> int:
        if isinstance(tag, (int, np.integer)):
            if not 0 <= tag < len(self.tags):
                raise ValueError(f"tag index {tag} is out of range: {self.model} has tags 0 to {len(self.tags) - 1}.")
            return int(tag)
        if tag not in self.tags:
            raise ValueError(f"{tag!r} is not a {self.model} tag; its tags are: {', '.join(self.tags)}.")
        return self.tags.index(tag)

    def top_rows(self, tag: str | int, n: int = 5) -> np.ndarray:
        """The ``n`` rows of W with the largest |contribution| to the tag, largest first."""
        row = self.per_row[self.tag_index(tag)]
        return np.argsort(-np.abs(row), kind="stable")[:n]


def attribute(model: Model, pooled: np.ndarray, baseline: np.ndarray | None = None,
              baseline_name: str = BASELINE) -> Attribution:
    """The exact decomposition of one pooled vector's logits relative to ``baseline`` (default:
    the running means of the batch-norm of p, which it maps to β)."""
    gains, constant_at_zero, open_ = affine_map(model, pooled)
    if baseline is None:
        baseline = model.batch_norm(POOLED_BN.scope).mean
    baseline = np.asarray(baseline, dtype=np.float64)
    if baseline.shape != pooled.shape:
        raise ValueError(f"the baseline needs {pooled.shape[0]} values, one per pooled value, not {baseline.shape}.")
    per_value = (gains * (pooled.astype(np.float64) - baseline)[:, None]).T
    return Attribution(model.name, model.tags, pooled, baseline, baseline_name, open_, gains,
                       constant_at_zero + baseline @ gains, per_value)


def attribute_segment(analysis: Analysis, segment: int, baseline: np.ndarray | None = None) -> Attribution:
    """:func:`attribute` for one segment of an analysis (from :func:`attributions` for the default
    baseline)."""
    segment = analysis.check_segment(segment)
    if baseline is None:
        return attributions(analysis)[segment]
    return attribute(analysis.model, analysis.pooled[segment], baseline)


def attributions(analysis: Analysis) -> tuple[Attribution, ...]:
    """Every segment's :func:`attribute` with the default baseline, computed once per analysis
    and kept on it (a chapter and its explorer ask for them again and again)."""
    return analysis.derived("facts.backend.attributions",
                            lambda: tuple(attribute(analysis.model, p) for p in analysis.pooled))


def stage_matrix(analysis: Analysis) -> np.ndarray:
    """(tags, stages): each stage's contribution to each tag's logit, averaged over the segments."""
    return np.mean([att.per_stage for att in attributions(analysis)], axis=0)


def winning_frames(analysis: Analysis, segment: int, rows: np.ndarray) -> np.ndarray:
    """The frame at which each row of W reaches its maximum over the segment (the first on a tie)."""
    return np.argmax(analysis.W[analysis.check_segment(segment)][np.asarray(rows)], axis=1)


def moment_window(analysis: Analysis, segment: int, frame: int, seconds: float = 1.0) -> tuple[int, int]:
    """First and stop sample of ``seconds`` of the recording centred on a frame of a segment (the
    moment a row of W "heard" when that frame wins its maximum)."""
    centre = (analysis.check_segment(segment) * analysis.hop_frames + int(frame)) * HOP
    half = int(seconds * SAMPLE_RATE / 2)
    first = max(centre - half, 0)
    return first, min(first + 2 * half, analysis.audio.samples.size)


def pooled_values(rows: np.ndarray | range) -> np.ndarray:
    """The entries of p that rows of W own: 2r (its maximum) and 2r+1 (its mean)."""
    rows = np.asarray(rows, dtype=int)
    return np.sort(np.concatenate([2 * rows, 2 * rows + 1]))


@dataclass(frozen=True)
class Removal:
    """Chapter 9's experiment for some rows of W: their pooled values set to the baseline."""

    change: np.ndarray  # (segments, tags): logit with the real values minus logit with the baseline
    flipped: np.ndarray  # (segments,): hidden units whose ReLU opens or closes when the rows are set


def removal(analysis: Analysis, rows: np.ndarray | range, baseline: np.ndarray | None = None) -> Removal:
    """Set the pooled values of ``rows`` of W to the baseline (default: the running means of the
    batch-norm of p), run the back end, and compare every tag's logit with the real one. When no
    hidden unit flips, the change equals the rows' summed :class:`Attribution` exactly."""
    model = analysis.model
    if baseline is None:
        baseline = model.batch_norm(POOLED_BN.scope).mean
    entries = pooled_values(rows)
    replaced = analysis.pooled.copy()
    replaced[:, entries] = np.asarray(baseline)[entries]
    real, other = back_end_values(model, analysis.pooled), back_end_values(model, replaced)
    flipped = ((real.hidden_pre > 0) != (other.hidden_pre > 0)).sum(axis=1)
    return Removal(real.logits.astype(np.float64) - other.logits, flipped)


@dataclass(frozen=True)
class HiddenUnits:
    """Which of the 200 hidden units are dead or constant, and by which criterion."""

    model: str
    dead_on_recording: tuple[int, ...]  # pre-activation ≤ 0 on every segment
    always_open: tuple[int, ...]  # pre-activation > 0 on every segment
    constant_on_recording: tuple[int, ...]  # ReLU output ranges within CONSTANT_TOLERANCE
    constant_any_input: tuple[int, ...]  # norm of the weights from input-dependent p̃ ≤ threshold
    smallest_live_norm: float  # the smallest such weight norm, to compare with the threshold
    threshold: float
    n_segments: int


def hidden_units(analysis: Analysis, threshold: float = NORM_THRESHOLD,
                 tolerance: float = CONSTANT_TOLERANCE) -> HiddenUnits:
    """Dead and constant hidden units of the first dense layer.

    On the recording: a unit whose pre-activation p̃ A_1 + a_1 is ≤ 0 on every segment is dead
    there (its ReLU output is 0, its penultimate value the constant of its batch-norm). For any
    input: the unit's pre-activation can only change through the normalised pooled values p̃ of
    rows of W that depend on the input, so a unit whose weights from those values (its column of
    A_1 restricted to them) have norm ≤ ``threshold`` is constant for every input. Rows of W that
    cannot depend on the input are U's rows whose kernel norm is ≤ ``threshold`` (chapter 9's
    criterion); every mid-end row is counted as live.
    """
    model = analysis.model
    values = back_end_values(model, analysis.pooled)
    live_rows = np.concatenate([np.asarray(nontrivial_units(model, "cnn1", threshold).rows, dtype=int),
                                np.arange(LAYER_SIZES["cnn1"], W_ROWS)])
    live_values = np.sort(np.concatenate([2 * live_rows, 2 * live_rows + 1]))
    norms = np.linalg.norm(model.dense(HIDDEN.scope)[0][live_values].astype(np.float64), axis=0)
    closed = values.hidden_pre <= 0
    return HiddenUnits(model.name, tuple(np.flatnonzero(closed.all(axis=0)).tolist()),
                       tuple(np.flatnonzero((~closed).all(axis=0)).tolist()),
                       tuple(np.flatnonzero(np.ptp(values.hidden, axis=0) <= tolerance).tolist()),
                       tuple(np.flatnonzero(norms <= threshold).tolist()), float(norms.min()), threshold,
                       analysis.n_segments)


__all__ = [
    "BASELINE",
    "Attribution",
    "HiddenUnits",
    "Removal",
    "Stage",
    "affine_map",
    "attribute",
    "attribute_segment",
    "attributions",
    "hidden_units",
    "moment_window",
    "pooled_values",
    "removal",
    "stage_matrix",
    "stage_of_rows",
    "w_row_unit",
    "w_stages",
    "winning_frames",
]
