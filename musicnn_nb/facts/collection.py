"""Facts about units over a collection, read from a :mod:`musicnn_nb.model.collect` store.

Per unit: its dataset examples (the segments where its row reaches its largest maxima), the
distribution of its activation, the tags its activity goes with; per layer, which units vary
anywhere in the collection; for CNN_4, chapter 12's activity classes by recording.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from musicnn_nb.facts.activity import ALWAYS_ON_SHARE, SPARSE_SHARE
from musicnn_nb.model.audio import load_audio
from musicnn_nb.model.collect import COLLECTION_ENV, CollectionError, Store, collect, default_store, unit_names
from musicnn_nb.model.errors import SelectionError
from musicnn_nb.model.spectrogram import FRAME_SECONDS, HOP, SEGMENT_FRAMES, m_db
from musicnn_nb.model.weights import load_model

MODELS = ("MSD", "MTT")
TOP = 6  # dataset examples per unit
NAMES = unit_names()
INDEX = {name: i for i, name in enumerate(NAMES)}


def default_collection_audio() -> Path:
    """Where ``make collection`` puts the default collection's excerpts."""
    return default_store().parent / "audio"


def open_store() -> Store:
    """``$MUSICNN_NB_COLLECTION`` as it is, or the default collection's store, computed (with a
    progress bar) for whatever is not in it yet."""
    store = Store(default_store())
    if os.environ.get(COLLECTION_ENV, "").strip():
        store.meta  # noqa: B018 - raises a clear error if it is not a store
        return store
    audio = default_collection_audio()
    if not audio.is_dir():
        raise CollectionError("the default collection is not there: run `make collection` (it fetches pinned "
                              f"Debian packages), or set {COLLECTION_ENV} to a store made by `collect`.")
    return collect(audio, store.path, MODELS)


@dataclass(frozen=True)
class Collection:
    """Every segment of one model in a store: unit statistics (segments x 753), tag weights."""

    model: str
    store: Store
    files: np.ndarray  # (S,) file of each segment, relative to the store's root
    starts: np.ndarray  # (S,) segment start in seconds
    max: np.ndarray
    mean: np.ndarray
    open: np.ndarray
    argmax: np.ndarray
    taggram: np.ndarray
    credits: dict[str, dict[str, str]]

    @property
    def n_files(self) -> int:
        return len(set(self.files))

    def column(self, unit: str) -> int:
        if unit not in INDEX:
            raise SelectionError(f"unknown unit {unit!r}: use a name like cnn1/38x7/12 or cnn4/64x7/44.")
        return INDEX[unit]

    def label(self, i: int) -> str:
        """The title of segment ``i``'s recording when credited, else its file name."""
        credit = self.credits.get(self.files[i])
        return credit["title"] if credit else Path(self.files[i]).stem

    def track(self, i: int) -> str:
        """Who and what segment ``i`` is, for a caption (title and author when credited)."""
        credit = self.credits.get(self.files[i])
        name = f"“{credit['title']}” ({credit['author']})" if credit else f"`{self.files[i]}`"
        return f"{name} at {self.starts[i]:.1f} s"

    def top(self, unit: str, n: int = TOP) -> np.ndarray:
        """The segments where the unit's maximum is largest, largest first (ties: store order)."""
        return np.argsort(-self.max[:, self.column(unit)], kind="stable")[:n]

    def tag_association(self, unit: str) -> np.ndarray:
        """Pearson correlation, over all segments, of the unit's mean with each tag's weight
        (0 where the unit's mean does not vary)."""
        x = self.mean[:, self.column(unit)].astype(np.float64)
        y = self.taggram.astype(np.float64)
        x, y = x - x.mean(), y - y.mean(axis=0)
        denominator = np.sqrt((x**2).sum() * (y**2).sum(axis=0))
        return np.divide(x @ y, denominator, out=np.zeros(y.shape[1]), where=denominator > 0)

    def segment_audio(self, i: int) -> np.ndarray:
        """The 16-kHz samples of segment ``i`` (decoded from the collection's file)."""
        return next(self.segments_audio([i]))

    def segments_audio(self, segments: Iterable[int]) -> Iterator[np.ndarray]:
        """The samples of each of ``segments`` in turn, as :meth:`segment_audio`, a recording
        decoded once for each run of its segments (one recording in memory at a time).
        Raises :class:`~musicnn_nb.model.errors.AudioError` when a file cannot be read."""
        name, samples = None, np.empty(0, np.float32)
        for i in segments:
            if self.files[i] != name:
                name, samples = self.files[i], load_audio(self.store.root / self.files[i]).samples
            start = round(self.starts[i] / FRAME_SECONDS) * HOP
            yield samples[start : start + SEGMENT_FRAMES * HOP]

    def segment_m_db(self, i: int) -> np.ndarray:
        """M_dB (96 x 187) of segment ``i``."""
        return m_db(self.segment_audio(i))[:, :SEGMENT_FRAMES]


@lru_cache(maxsize=4)
def load(model: str, store_path: str | None = None) -> Collection:
    """One model's part of a store (by default :func:`open_store`'s)."""
    store = Store(store_path) if store_path else open_store()
    name = load_model(model).name
    table = store.table(name, ["start_s"])
    credits_file = store.root.parent / "credits.json"
    credits = {c["file"]: c for c in json.loads(credits_file.read_text())} if credits_file.exists() else {}
    def column(key: str) -> np.ndarray:
        return store.matrix(name, key)

    return Collection(name, store, np.array(table.column("file").to_pylist()), table.column("start_s").to_numpy(),
                      max=column("max"), mean=column("mean"), open=column("open"), argmax=column("argmax"),
                      taggram=column("taggram"), credits=credits)


def varying_units(c: Collection) -> np.ndarray:
    """Units whose row is not constant on some segment of the collection (max above mean)."""
    return (c.max - c.mean > 1e-5 * np.maximum(1, np.abs(c.max))).any(axis=0)


def cnn4_share(c: Collection) -> np.ndarray:
    """(segments, 64): each CNN_4 unit's share of frames with V_3 > 0, per segment."""
    return c.open[:, INDEX["cnn4/64x7/0"] :]


def classes_over(share: np.ndarray) -> dict[str, np.ndarray]:
    """Chapter 12's classes by the share of frames with V_3 > 0 alone (silent, sparse, open on
    almost every frame, other), each a boolean mask over units."""
    silent = share == 0
    sparse = ~silent & (share < SPARSE_SHARE)
    always = share >= ALWAYS_ON_SHARE
    return {"silent": silent, "sparse": sparse, f"open on ≥ {ALWAYS_ON_SHARE:.0%} of frames": always,
            "other": ~(silent | sparse | always)}


def classes_by_recording(c: Collection) -> tuple[list[str], np.ndarray]:
    """The recordings, and each CNN_4 unit's class on each of them (recordings x 64)."""
    share = cnn4_share(c)
    files = sorted(set(c.files))
    labels = []
    for f in files:
        classes = classes_over(share[c.files == f].mean(axis=0))
        labels.append([next(n for n, mask in classes.items() if mask[u]) for u in range(share.shape[1])])
    return files, np.array(labels)
