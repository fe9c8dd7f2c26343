"""One pipeline from an audio file to every intermediate, computed once and cached.

``analyse(path, model)`` is what chapters, widgets and the command line call; everything
they show is read from the :class:`Analysis` it returns.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from musicnn_nb.model import cache
from musicnn_nb.model.audio import LOUD_HINT, Audio, default_audio, file_digest, load_audio
from musicnn_nb.model.errors import AudioError, SelectionError, SizeWarning
from musicnn_nb.model.network import (
    CHUNK,
    SEGMENT_NAMES,
    VECTOR_NAMES,
    MidendUnit,
    UnitMaps,
    forward,
    midend_input,
    midend_unit,
    unit_maps,
)
from musicnn_nb.model.spectrogram import (
    FLOAT16_MAX,
    FRAME_SECONDS,
    HOP,
    N_MELS,
    SEGMENT_FRAMES,
    frame_power,
    frames_signal,
    log_compress,
    m_db,
    mel_project,
    n_frames,
    segment_starts,
    segments,
)
from musicnn_nb.model.weights import Model, load_model

DERIVED_LIMIT = 256  # results derived from one analysis kept on it (unit maps are ~0.2 MB each)
T = TypeVar("T")


class _Array:
    """A declared array of :class:`Analysis`, read from its ``arrays`` by the attribute's name,
    so that editors and mypy know ``a.U`` is an array and a misspelt name is an error."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, analysis: Analysis | None, owner: type | None = None) -> np.ndarray:
        if analysis is None:
            raise AttributeError(f"{self.name} is an array of an Analysis instance")
        return analysis.arrays[self.name]


@dataclass(eq=False)
class Analysis:
    """Every intermediate of one model on one recording, segment axis first.

    The arrays are stored in ``arrays`` by the blog's names (rows x time) and declared below,
    one attribute each.
    """

    path: Path
    model: Model
    hop_frames: int
    arrays: dict[str, np.ndarray]
    _audio: Audio | None = field(default=None, repr=False)
    _derived: cache.Derived = field(default_factory=lambda: cache.Derived(DERIVED_LIMIT), init=False, repr=False)

    M_dB = _Array("Log-compressed mel spectrogram of each segment, (S, 96, 187).")
    M_hat = _Array("M_dB after the input batch-norm, (S, 96, 187).")
    U = _Array("CNN_1's output: the five groups' max-pooled, normalised maps stacked, (S, 561, 187).")
    V1 = _Array("CNN_2's rectified output, (S, 64, 187).")
    V1_hat = _Array("V1 after CNN_2's batch-norm, (S, 64, 187).")
    V2 = _Array("CNN_3's rectified output, (S, 64, 187).")
    V2_hat = _Array("V2 after CNN_3's batch-norm, (S, 64, 187).")
    V3 = _Array("CNN_4's rectified output, (S, 64, 187).")
    V3_hat = _Array("V3 after CNN_4's batch-norm, (S, 64, 187).")
    V12_hat = _Array("V1_hat + V2_hat, CNN_4's input, (S, 64, 187).")
    V123_hat = _Array("V1_hat + V2_hat + V3_hat, (S, 64, 187).")
    W = _Array("The back end's input: U, V1_hat, V12_hat and V123_hat stacked, (S, 753, 187).")
    max_pool = _Array("W's maximum over time, (S, 753).")
    mean_pool = _Array("W's mean over time, (S, 753).")
    pooled = _Array("max_pool and mean_pool interleaved (max_0, mean_0, max_1 …), (S, 1506).")
    penultimate = _Array("The dense layer before the output, (S, 200).")
    logits = _Array("The output layer before the sigmoid, (S, 50).")
    taggram = _Array("The tag weights (sigmoid of the logits), (S, 50).")

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, computed once per ``key`` and kept on this analysis: the one place
        results derived from an analysis are cached (at most :data:`DERIVED_LIMIT`, least
        recently used dropped first), so they live exactly as long as the analysis."""
        return self._derived.get(key, compute)

    @property
    def n_segments(self) -> int:
        return len(self.arrays["M_dB"])

    @property
    def tags(self) -> tuple[str, ...]:
        return self.model.tags

    @property
    def segment_start_s(self) -> np.ndarray:
        """Start time (s) of every segment in the recording."""
        return np.arange(self.n_segments) * self.hop_frames * FRAME_SECONDS

    def check_segment(self, segment: int) -> int:
        """``segment`` if it exists, else a :class:`SelectionError` saying which do."""
        if not isinstance(segment, (int, np.integer)) or not 0 <= segment < self.n_segments:
            raise SelectionError(f"segment {segment!r} does not exist: {self.path.name} has segments "
                                 f"0 to {self.n_segments - 1} ({self.model.name}, hop {self.hop_frames} frames).")
        return int(segment)

    def unit_maps(self, unit: str | int, segment: int) -> UnitMaps:
        """A CNN_1 unit's maps (pre-activation, Y_i, Ŷ_i) on one segment, computed on demand."""
        segment = self.check_segment(segment)
        return self.derived(("unit_maps", unit, segment),
                            lambda: unit_maps(self.model, unit, self.arrays["M_hat"][segment]))

    def midend_unit(self, unit: str, segment: int) -> MidendUnit:
        """A CNN_2-4 unit's pre-activation, V and V̂ rows on one segment, computed on demand."""
        return midend_unit(self.model, unit, self.arrays[midend_input(unit)][self.check_segment(segment)])

    @property
    def audio(self) -> Audio:
        """The decoded recording (decoded on first use: a cached analysis does not need it)."""
        if self._audio is None:
            self._audio = load_audio(self.path)
        return self._audio

    def segment_samples(self, segment: int) -> np.ndarray:
        """The 16-kHz samples the segment's 187 frames are centred on, for a player."""
        start = self.check_segment(segment) * self.hop_frames * HOP
        return self.audio.samples[start : start + SEGMENT_FRAMES * HOP]

    def spectrogram(self) -> np.ndarray:
        """M_dB of the whole recording, 96 x frames (segments are cut from it)."""
        return m_db(self.audio.samples)

    def top_tags(self, n: int = 10) -> list[tuple[str, float]]:
        """The n tags with the largest mean tag weight over segments, like musicnn's top_tags."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise SelectionError(f"the number of top tags must be a whole number >= 1, not {n!r}.")
        mean = self.arrays["taggram"].mean(axis=0)
        order = mean.argsort()[::-1][:n]
        return [(self.tags[i], float(mean[i])) for i in order]

    def __hash__(self) -> int:
        return id(self)


def _check_hop(hop_frames: int) -> int:
    if isinstance(hop_frames, bool) or not isinstance(hop_frames, (int, np.integer)) or hop_frames < 1:
        raise SelectionError(f"segment hop must be a whole number of frames >= 1, not {hop_frames!r}.")
    return int(hop_frames)


BATCH_SEGMENTS = 4 * CHUNK  # segments computed at a time, from samples to tag weights
LARGE_ANALYSIS_BYTES = 2 * 2**30  # above this, analyse() warns before computing
ARRAY_NAMES = SEGMENT_NAMES + VECTOR_NAMES
_SEGMENT_BYTES = 4 * (SEGMENT_FRAMES * (2 * N_MELS + 561 + 8 * 64 + 753) + 2 * 753 + 1506 + 200 + 2 * 50)


def analysis_bytes(n_segments: int) -> int:
    """Memory taken by the arrays of an analysis of ``n_segments`` segments (float32)."""
    return n_segments * _SEGMENT_BYTES


def _too_loud(audio: Audio, mel: np.ndarray) -> AudioError:
    peak = float(np.max(np.abs(audio.samples)))
    return AudioError(f"{audio.path} is too loud for musicnn's 2019 pre-processing: its peak is {peak:.4g} x full "
                      f"scale ({20 * np.log10(peak):+.1f} dBFS) and its mel power reaches {float(mel.max()):.4g}, "
                      f"above the float16 limit {FLOAT16_MAX:.0f} that the 2019 code rounds it to (every tag weight "
                      f"would be NaN); {LOUD_HINT}.")


def compute(weights: Model, audio: Audio, hop_frames: int) -> dict[str, np.ndarray]:
    """Every intermediate of ``weights`` on ``audio``, :data:`BATCH_SEGMENTS` segments at a time.

    Memory holds the returned arrays, the signal, and one batch's work, however long the
    recording. Each batch equals the same segments of a whole-recording computation bit for
    bit (frames are independent; batches are whole multiples of the network's chunk).
    Raises :class:`AudioError` where the mel power overflows float16 (far above full scale).
    """
    starts = segment_starts(n_frames(audio.samples.size), hop_frames)
    size = analysis_bytes(len(starts))
    if size > LARGE_ANALYSIS_BYTES:
        warnings.warn(f"{audio.path.name} at a hop of {hop_frames} frames gives {len(starts)} segments, whose arrays "
                      f"take {size / 2**30:.1f} GB of memory (and as much in the disk cache if it fits); a larger "
                      f"hop (187: no overlap) makes them smaller.", SizeWarning, stacklevel=3)
    out: dict[str, np.ndarray] = {}
    for first in range(0, len(starts), BATCH_SEGMENTS):
        batch = starts[first : first + BATCH_SEGMENTS]
        mel = mel_project(frame_power(frames_signal(audio.samples, batch[0], batch[-1] + SEGMENT_FRAMES)))
        with np.errstate(over="ignore"):  # checked on the next line, with a message that says what to do
            spectrogram = log_compress(mel)
        if not np.all(np.isfinite(spectrogram)):
            raise _too_loud(audio, mel)
        part = forward(weights, segments(spectrogram, hop_frames))
        if not out:
            out = {k: np.empty((len(starts), *v.shape[1:]), v.dtype) for k, v in part.items()}
        for name, values in part.items():
            out[name][first : first + len(batch)] = values
    return out


def analyse(path: str | Path | None = None, model: str = "MSD", hop_frames: int = SEGMENT_FRAMES,
            normalise: bool = False) -> Analysis:
    """Every intermediate of ``model`` ('MSD' or 'MTT') on the audio file at ``path``.

    ``path`` defaults to the book's audio (``$MUSICNN_NB_AUDIO`` or the shipped example);
    ``hop_frames`` is the distance between segment starts (187: no overlap, as musicnn);
    ``normalise=True`` scales a recording louder than full scale down to peak 1.0 (without
    it such a file raises :class:`AudioError` where the 2019 pre-processing would overflow).
    Served from the cache when this (audio content, model, hop, code, BLAS threads) was seen.
    Warns (:class:`SizeWarning`) before computing arrays larger than :data:`LARGE_ANALYSIS_BYTES`.
    """
    path = Path(path).expanduser() if path is not None else default_audio()
    hop_frames = _check_hop(hop_frames)
    weights = load_model(model)
    key = cache.cache_key(audio=file_digest(path), model=weights.name, hop=hop_frames, checkpoint=weights.digest,
                          code=cache.code_digest(), blas_threads=cache.blas_threads(), normalise=bool(normalise))
    arrays = cache.load(key, ARRAY_NAMES)
    audio = load_audio(path, normalise=True) if normalise else None  # Analysis.audio must be the scaled one
    if arrays is None:
        audio = audio or load_audio(path)
        arrays = compute(weights, audio, hop_frames)
        cache.store(key, arrays)
    return Analysis(path, weights, hop_frames, arrays, audio)


__all__ = ["Analysis", "analyse"]
