"""The MusiCNN forward pass in NumPy, returning every intermediate by the blog's names.

Chapters 2-12 read from here. The computation follows ``musicnn/models.py`` layer by layer
(TensorFlow's cross-correlation, its padding, its batch-norm at inference) on the weights
of :mod:`musicnn_nb.model.weights`; ``tests/model/test_parity.py`` proves it equals the original graph.

Internally arrays are TensorFlow's layout, segments x time x rows; everything returned is
in the blog's orientation, segments x rows x time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicnn_nb.model.errors import SelectionError
from musicnn_nb.model.weights import HIDDEN, OUTPUT, PENULTIMATE_BN, POOLED_BN, Group, Model, groups_of, locate_unit

PAD = 3  # frames of zeros on each side of time before every 7-frame kernel
KERNEL_FRAMES = 2 * PAD + 1  # frames of every CNN_1 2-D kernel and every mid-end kernel
CHUNK = 4  # segments per batch: bounds memory for long files
SEGMENT_NAMES = ("M_dB", "M_hat", "U", "V1", "V1_hat", "V2", "V2_hat", "V3", "V3_hat",
                 "V12_hat", "V123_hat", "W")
VECTOR_NAMES = ("max_pool", "mean_pool", "pooled", "penultimate", "logits", "taggram")


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0, out=x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)


def _patches(x: np.ndarray, group: Group) -> np.ndarray:
    """im2col: every kernel-sized window of x (segments, time, rows), one per output cell.

    The windows are flattened in the checkpoint kernel's (time, rows) order.
    """
    if group.layer == "cnn1" and group.frames > KERNEL_FRAMES:  # 1-D temporal kernels, TF "same" padding
        before = (group.frames - 1) // 2
        padded = np.pad(x, ((0, 0), (before, group.frames - 1 - before), (0, 0)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, group.frames, axis=1)
        return windows.reshape(-1, group.frames)  # (segments*time*bands, frames)
    padded = np.pad(x, ((0, 0), (PAD, PAD), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (KERNEL_FRAMES, group.rows), axis=(1, 2))
    return windows.reshape(-1, KERNEL_FRAMES * group.rows)  # (segments*time*out_rows, 7*rows)


def convolve(model: Model, group: Group, x: np.ndarray) -> np.ndarray:
    """Pre-activation K ⋆ x + b of every unit of a group: (segments, time, out_rows, units)."""
    kernel = model.conv_kernel(group).reshape(-1, group.size)
    z = _patches(x, group) @ kernel
    z += model.variables[f"{group.conv}/bias"]
    n_seg, n_time, n_rows = x.shape
    out_rows = n_rows - group.rows + 1 if group.layer == "cnn1" else 1
    return z.reshape(n_seg, n_time, out_rows, group.size)


def conv_block(model: Model, group: Group, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Y, Ŷ): the rectified and the batch-normalised maps, (segments, time, out_rows, units)."""
    y = _relu(convolve(model, group, x))
    return y, model.batch_norm(group.bn)(y)


def cnn1_rows(model: Model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """U and every CNN_1 unit's peak pre-activation max_f (K_i ⋆ M̂_dB + b_i), both
    (segments, time, 561), from M̂_dB (segments, time, 96).

    The batch-norm is an affine map per unit and the ReLU is monotone, so the max over
    frequency is taken before them: [U]_{i,t} = s_i·ReLU(max_f z) + t_i where the slope s_i ≥ 0,
    and s_i·ReLU(min_f z) + t_i where it is negative: the same float the full maps give
    (bit for bit), without materialising Y_i and Ŷ_i. The peak is positive exactly at the
    frames where some frequency row of Y_i is non-zero ("the rectifier is open").
    """
    rows, peaks = [], []
    for group in groups_of("cnn1"):
        z = convolve(model, group, x)
        peak, low = z.max(axis=2), z.min(axis=2)
        bn = model.batch_norm(group.bn)
        rows.append(np.maximum(np.where(bn.scale >= 0, peak, low), 0) * bn.scale + bn.shift)
        peaks.append(peak)
    return np.concatenate(rows, axis=2), np.concatenate(peaks, axis=2)


def _front_and_mid(model: Model, m_db: np.ndarray) -> dict[str, np.ndarray]:
    """Everything from M_dB to W for a batch of segments, in TensorFlow's layout, and the
    CNN_1 peak pre-activations (``cnn1_peak``)."""
    x = model.input_bn(m_db)
    u, peak = cnn1_rows(model, x)
    out = {"M_dB": m_db, "M_hat": x, "U": u, "cnn1_peak": peak}
    previous = u
    skip = None
    for i, group in enumerate(groups_of("cnn2") + groups_of("cnn3") + groups_of("cnn4"), start=1):
        v, v_hat = (a[:, :, 0, :] for a in conv_block(model, group, previous))
        out[f"V{i}"], out[f"V{i}_hat"] = v, v_hat
        skip = v_hat if skip is None else skip + v_hat
        previous = skip
    out["V12_hat"] = out["V1_hat"] + out["V2_hat"]
    out["V123_hat"] = out["V12_hat"] + out["V3_hat"]
    out["W"] = np.concatenate([u, out["V1_hat"], out["V12_hat"], out["V123_hat"]], axis=2)
    return out


@dataclass(frozen=True)
class BackEndValues:
    """Every step of the back end after pooling, for pooled vectors p (segments, 1506).

    In this book's symbols (chapter 13): p̃ = BN(p); the hidden layer's pre-activation
    p̃ A_1 + a_1 and its rectified value; h = BN(ReLU(…)) ("penultimate"); z = h A_2 + a_2
    (logits); y = σ(z) (taggram).
    """

    pooled: np.ndarray  # p, max_0, mean_0, max_1, mean_1, … (segments, 1506)
    normalised: np.ndarray  # p̃ (segments, 1506)
    hidden_pre: np.ndarray  # p̃ A_1 + a_1 (segments, 200)
    hidden: np.ndarray  # ReLU of the above, before its batch-norm (segments, 200)
    penultimate: np.ndarray  # h (segments, 200)
    logits: np.ndarray  # z (segments, 50)
    taggram: np.ndarray  # y (segments, 50)


def back_end_values(model: Model, pooled: np.ndarray) -> BackEndValues:
    """The back end's steps after pooling, layer by layer (:data:`BACK_END`)."""
    normalised = model.batch_norm(POOLED_BN.scope)(pooled)
    kernel, bias = model.dense(HIDDEN.scope)
    hidden_pre = normalised @ kernel + bias
    hidden = np.maximum(hidden_pre, 0)
    penultimate = model.batch_norm(PENULTIMATE_BN.scope)(hidden)
    kernel, bias = model.dense(OUTPUT.scope)
    logits = penultimate @ kernel + bias
    return BackEndValues(pooled, normalised, hidden_pre, hidden, penultimate, logits, _sigmoid(logits))


def dense_head(model: Model, pooled: np.ndarray) -> dict[str, np.ndarray]:
    """The back end after pooling, as the forward pass stores it: ``penultimate``, ``logits``
    and ``taggram`` for pooled vectors (segments, 1506)."""
    values = back_end_values(model, pooled)
    return {"penultimate": values.penultimate, "logits": values.logits, "taggram": values.taggram}


def interleave(max_pool: np.ndarray, mean_pool: np.ndarray) -> np.ndarray:
    """The pooled vector p (segments, 1506) = max_0, mean_0, max_1, mean_1, …: musicnn
    concatenates the two poolings on a last axis of size 1, and flattening interleaves them."""
    return np.stack([max_pool, mean_pool], axis=2).reshape(len(max_pool), -1)


def back_end(model: Model, w: np.ndarray) -> dict[str, np.ndarray]:
    """Temporal pooling and the dense layers, from W (segments, time, 753) to tag weights."""
    max_pool, mean_pool = w.max(axis=1), w.mean(axis=1)
    pooled = interleave(max_pool, mean_pool)
    return {"max_pool": max_pool, "mean_pool": mean_pool, "pooled": pooled, **dense_head(model, pooled)}


def forward(model: Model, m_db: np.ndarray, peaks: bool = False) -> dict[str, np.ndarray]:
    """Every intermediate for M_dB segments (segments, 96, 187), in the blog's orientation.

    Keys: ``M_dB``, ``M_hat``, ``U``, ``V1``, ``V1_hat``, ``V2``, ``V2_hat``, ``V3``, ``V3_hat``,
    ``V12_hat`` (= V̂_1+V̂_2), ``V123_hat`` (= V̂_1+V̂_2+V̂_3), ``W`` (segments x rows x
    time); ``max_pool``, ``mean_pool``, ``pooled`` (the interleaved 1506 values),
    ``penultimate``, ``logits``, ``taggram`` (segments x values). With ``peaks``, also
    ``cnn1_peak`` (segments x 561 x time), see :func:`cnn1_rows`.
    """
    m_db = np.ascontiguousarray(np.transpose(m_db, (0, 2, 1)), dtype=np.float32)
    parts = []
    for start in range(0, len(m_db), CHUNK):
        out = _front_and_mid(model, m_db[start : start + CHUNK])
        if not peaks:
            del out["cnn1_peak"]
        out.update(back_end(model, out["W"]))
        parts.append({k: (np.transpose(v, (0, 2, 1)) if v.ndim == 3 else v) for k, v in out.items()})
    return {k: np.ascontiguousarray(np.concatenate([p[k] for p in parts])) for k in parts[0]}


@dataclass(frozen=True)
class UnitMaps:
    """One CNN_1 unit's maps on one segment, rows x time (blog orientation).

    Rows are output frequency positions: row f of a 38x7 unit sees mel bands f … f+37;
    a 1-D unit has one row per mel band.
    """

    pre_activation: np.ndarray  # K_i ⋆ M̂_dB + b_i
    Y: np.ndarray  # ReLU of the above
    Y_hat: np.ndarray  # after the unit's batch-norm
    row_of_max: np.ndarray  # (time,) which row wins the max over frequency, giving [U]_{i,t}


def cnn1_group_maps(model: Model, group: Group, m_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pre-activation, Y, Ŷ) of every unit of a CNN_1 group on one M̂_dB segment (96, 187).

    Each is (units, out_rows, time). These are large, so they are computed on demand.
    """
    z = convolve(model, group, np.ascontiguousarray(m_hat.T)[np.newaxis])[0]
    y = np.maximum(z, 0)
    y_hat = model.batch_norm(group.bn)(y)
    return np.transpose(z, (2, 1, 0)), np.transpose(y, (2, 1, 0)), np.transpose(y_hat, (2, 1, 0))


def unit_maps(model: Model, unit: str | int, m_hat: np.ndarray) -> UnitMaps:
    """The maps of one CNN_1 unit (name like ``cnn1/38x7/12`` or U row) on one M̂_dB segment.

    Computed with its whole group's matrix product, so they equal :func:`cnn1_group_maps`
    and the forward pass bit for bit: a one-column product rounds differently in float32, and
    cells within rounding of zero would change sides of the rectifier.
    """
    group, index = locate_unit(unit, "cnn1")
    z, y, y_hat = (a[index - group.first_row] for a in cnn1_group_maps(model, group, m_hat))
    return UnitMaps(z, y, y_hat, np.argmax(y_hat, axis=0))


LAYER_INPUT = {"cnn2": "U", "cnn3": "V1_hat", "cnn4": "V12_hat"}  # what each mid-end layer convolves
LAYER_OUTPUT = {"cnn2": ("V1", "V1_hat"), "cnn3": ("V2", "V2_hat"), "cnn4": ("V3", "V3_hat")}


@dataclass(frozen=True)
class MidendUnit:
    """One CNN_2-4 unit on one segment: three time series of 187 frames."""

    pre_activation: np.ndarray  # sum over input rows of K ⋆ input, plus b
    V: np.ndarray  # after ReLU: the unit's row of V_k
    V_hat: np.ndarray  # after the batch-norm: the unit's row of V̂_k


def _midend_unit(unit: str) -> tuple[Group, int]:
    """The group and row of a CNN_2-4 unit; a CNN_1 unit is refused."""
    group, index = locate_unit(unit)
    if group.layer not in LAYER_INPUT:
        raise SelectionError(f"{unit!r} is not a CNN_2-4 unit: use unit_maps for CNN_1 units.")
    return group, index


def correlate(x: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Σ_r Σ_τ [K_j]_{r,τ} x_{r,t+τ−PAD} for every kernel j and frame t, time padded with PAD zero
    frames on each side (TensorFlow's "same"): x (..., rows, time), kernels (units, rows,
    KERNEL_FRAMES) in the blog's orientation; returns (..., units, time), without the bias."""
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(PAD, PAD)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, KERNEL_FRAMES, axis=-1)  # (..., rows, time, taps)
    return np.einsum("...rtk,urk->...ut", windows, kernels)


def midend_input(unit: str) -> str:
    """The name of the array a CNN_2-4 unit convolves (``U``, ``V1_hat`` or ``V12_hat``)."""
    return LAYER_INPUT[_midend_unit(unit)[0].layer]


def midend_unit(model: Model, unit: str, layer_input: np.ndarray) -> MidendUnit:
    """A mid-end unit's series from its layer's input (the :func:`midend_input` array of one
    segment: rows x 187, blog orientation)."""
    group, index = _midend_unit(unit)
    kernel = model.conv_kernel(group)[:, :, 0, index]  # (frames, input rows)
    z = correlate(layer_input, kernel.T[None])[0] + model.variables[f"{group.conv}/bias"][index]
    v = np.maximum(z, 0)
    bn = model.batch_norm(group.bn)
    return MidendUnit(z, v, v * bn.scale[index] + bn.shift[index])
