"""One pipeline from an audio file to every intermediate, computed once and cached.

``analyse(path, model)`` is what chapters, widgets and the command line call; everything
they show is read from the :class:`Analysis` it returns.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from musicnn_nb import __version__
from musicnn_nb.model import cache
from musicnn_nb.model.audio import Audio, default_audio, file_digest, load_audio
from musicnn_nb.model.errors import SelectionError
from musicnn_nb.model.network import MidendUnit, UnitMaps, forward, midend_input, midend_unit, unit_maps
from musicnn_nb.model.spectrogram import FRAME_SECONDS, HOP, SEGMENT_FRAMES, m_db, segments
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
    _derived: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict, init=False, repr=False)

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
        if key in self._derived:
            self._derived.move_to_end(key)
            return self._derived[key]
        value = compute()
        self._derived[key] = value
        if len(self._derived) > DERIVED_LIMIT:
            self._derived.popitem(last=False)
        return value

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
        mean = self.arrays["taggram"].mean(axis=0)
        order = mean.argsort()[::-1][:n]
        return [(self.tags[i], float(mean[i])) for i in order]

    def __hash__(self) -> int:
        return id(self)


def _check_hop(hop_frames: int) -> int:
    if not isinstance(hop_frames, (int, np.integer)) or hop_frames < 1:
        raise SelectionError(f"segment hop must be a whole number of frames >= 1, not {hop_frames!r}.")
    return int(hop_frames)


def analyse(path: str | Path | None = None, model: str = "MSD", hop_frames: int = SEGMENT_FRAMES) -> Analysis:
    """Every intermediate of ``model`` ('MSD' or 'MTT') on the audio file at ``path``.

    ``path`` defaults to the book's audio (``$MUSICNN_NB_AUDIO`` or the shipped example);
    ``hop_frames`` is the distance between segment starts (187: no overlap, as musicnn).
    Served from the cache when this (audio content, model, hop, version) was seen before.
    """
    path = Path(path).expanduser() if path is not None else default_audio()
    hop_frames = _check_hop(hop_frames)
    weights = load_model(model)
    key = cache.cache_key(audio=file_digest(path), model=weights.name, hop=hop_frames,
                          checkpoint=weights.digest, version=__version__)
    arrays = cache.load(key)
    audio = None
    if arrays is None:
        audio = load_audio(path)
        spectrogram = m_db(audio.samples)
        arrays = forward(weights, segments(spectrogram, hop_frames))
        cache.store(key, arrays)
    return Analysis(path, weights, hop_frames, arrays, audio)


__all__ = ["Analysis", "analyse"]
