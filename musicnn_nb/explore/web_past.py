"""Data for the explorers of chapters 13 and 14 in the built page ("Past the series").

Like the other explorers (see :mod:`musicnn_nb.explore.web`), these two are the one explorer
implementation: they compute their views in the reader's browser from data the build writes
once per book into ``_static/explore``, as classic scripts, and that a live kernel sends the
explorer widget (:func:`musicnn_nb.explore.widgets.own_parts`). What is cheaper to ship than
to compute is shipped, and quantised where the page only draws it:

* **Back end (chapter 13), one part per model, ``<recording>.backend-<model>.js``.** Every
  segment's split of every tag's logit over the 753 rows of W
  (:func:`musicnn_nb.facts.backend.attributions`), as int16 scaled by the largest magnitude of
  its (segment, tag) array: each value is off by at most that magnitude / 65,534
  (:data:`CONTRIBUTION_STEPS`). Computing it in the page would need the 1,506 x 200 dense
  kernel of each model, three times the size for the book's ten segments. The constant and
  the logit of each (segment, tag) ship as float64; the rows of W themselves (for the row's
  series and the frame that wins its maximum) the page builds from the model part it already
  loads for the other explorers, and the player plays the book's recording around that frame.
* **Collection (chapter 14), one file, ``collection.<key>.js``.** Per model and unit: its
  top segments (:data:`musicnn_nb.facts.collection.TOP`) with their maximum and its frame,
  the histogram of its per-segment maximum, its share of open frames, its ten strongest tag
  correlations. M_dB only for segments that are some unit's top example, mean-pooled over
  2 x 2 (band pairs, frame pairs: an example is drawn a few hundred pixels wide) and stored
  as uint8 over [0, :data:`M_DB_TOP`]: a pooled value is off by at most half a step,
  :data:`M_DB_ERROR`. Beside it, the folder ``collection-<key>/``: each of those examples'
  audio as its own small MP3, ``<k>.mp3`` for the k-th example of the meta (the meta's
  ``audio`` names them), each exactly one segment long (:data:`EXAMPLE_SAMPLES`), mono at the
  model's 16 kHz and a constant :data:`EXAMPLE_KBPS` kbps (the site's 40-MB budget allows
  it: the default collection's examples are 4.0 MB; at 16 kbps, 2.7 MB, LAME keeps 0.3 kHz
  less bandwidth and the signal-to-noise ratio below 5 kHz drops from 18.0 to 15.4 dB). One
  file per example rather than one long file: the player needs no seeking, which
  a server without range requests (``python -m http.server``) cannot give it. As the model
  hears it: not normalised, so examples keep their relative loudness. When the collection's
  recordings cannot be read any more (a store whose audio moved), neither the examples' M_dB nor their
  audio ships and the meta says why in one line (``audio_note``): the rest still works.

Typed arrays pack into one buffer (:class:`Packed`): each array's bytes regrouped by position
in the element, then deflated and base64-encoded, as :class:`musicnn_nb.explore.web.Blob` does
for float32.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.colors import to_hex

from musicnn_nb.explore.web import MODEL_NAMES, recording_key, write_part
from musicnn_nb.facts import backend as fb
from musicnn_nb.facts.collection import NAMES, TOP, Collection, load
from musicnn_nb.model import cache
from musicnn_nb.model.audio import default_audio, file_digest
from musicnn_nb.model.errors import AudioError
from musicnn_nb.model.pipeline import Analysis, analyse
from musicnn_nb.model.spectrogram import FRAME_SECONDS, HOP, SEGMENT_FRAMES, m_db, mel_center_hz
from musicnn_nb.model.weights import W_ROWS, load_model
from musicnn_nb.present.backend import stage_color
from musicnn_nb.present.sound import mp3_writer

PAST_KINDS = ("backend", "collection")
CONTRIBUTION_STEPS = 32767  # int16 steps from 0 to the largest magnitude of a (segment, tag) array
M_DB_TOP, M_DB_LEVELS, POOL = 7.0, 255, 2  # uint8 codes 0..255 over [0, M_DB_TOP]; 2 x 2 mean pooling
M_DB_ERROR = M_DB_TOP / M_DB_LEVELS / 2  # the largest quantisation error of a pooled M_dB value
HIST_BINS, N_TAGS = 40, 10
EXAMPLE_KBPS = 24  # an example's MP3: 9,288 bytes at 24 kbps; the default collection's 434 are 4.0 MB
EXAMPLE_SAMPLES = SEGMENT_FRAMES * HOP  # one example's audio: the samples of one segment's 187 hops


class Packed:
    """Typed arrays (float32/64, int16, int32, uint8) in one compressed buffer, with an index
    of name -> [dtype, byte offset, shape]."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.index: dict[str, list] = {}
        self.offset = 0  # in bytes

    def add(self, name: str, array: np.ndarray, dtype: str) -> None:
        data = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
        grouped = data.view(np.uint8).reshape(-1, data.itemsize).T.tobytes()
        self.index[name] = [np.dtype(dtype).str[1:], self.offset, list(data.shape)]
        self.parts.append(grouped)
        self.offset += len(grouped)

    def payload(self, meta: dict) -> dict:
        packed = zlib.compress(b"".join(self.parts), 9)
        return {"meta": meta, "index": self.index, "blob": base64.b64encode(packed).decode("ascii")}


def quantised_contributions(a: Analysis) -> tuple[np.ndarray, np.ndarray]:
    """(codes, scales): every segment's per-row split of every tag's logit as int16 codes
    (segments x tags x 753) and the value of one code step per (segment, tag)."""
    per_row = np.stack([att.per_row for att in fb.attributions(a)])  # (S, 50, 753), float64
    largest = np.abs(per_row).max(axis=2)
    steps = np.where(largest > 0, largest, 1.0) / CONTRIBUTION_STEPS
    return np.round(per_row / steps[..., None]).astype(np.int16), steps


def _stage_label(stage: fb.Stage) -> str:
    """A stage's name with Unicode subscripts (CNN₁ 38x7, V̂₁+V̂₂), as the figures' mathtext shows it."""
    return stage.label.replace("_1", "₁").replace("_2", "₂").replace("_3", "₃")


def backend_part(a: Analysis) -> dict:
    """One model's data for the back-end explorer (see the module docstring)."""
    atts = fb.attributions(a)
    codes, steps = quantised_contributions(a)
    packed = Packed()
    packed.add("contributions", codes, "i2")
    packed.add("step", steps, "f8")
    packed.add("constant", np.stack([att.constant for att in atts]), "f8")
    packed.add("logit", np.stack([att.logits for att in atts]), "f8")
    stages = [{"key": s.key, "label": _stage_label(s), "first_row": s.first_row, "stop_row": s.stop_row,
               "color": to_hex(stage_color(s.key))} for s in fb.w_stages()]
    meta = {"model": a.model.name, "tags": list(a.tags), "stages": stages, "baseline": fb.BASELINE,
            "row_units": [fb.w_row_unit(r) for r in range(W_ROWS)]}
    return packed.payload(meta)


def collection_key(c: Collection) -> str:
    """A short name for a collection's segments (its files and starts, never a path)."""
    digest = hashlib.sha256(json.dumps([c.files.tolist(), c.starts.round(3).tolist()]).encode())
    return digest.hexdigest()[:16]


def pooled_m_db(m: np.ndarray) -> np.ndarray:
    """M_dB (96 x 187) mean-pooled over 2 x 2 (48 band pairs x 93 frame pairs; the last frame dropped)."""
    bands, frames = m.shape[0] // POOL, m.shape[1] // POOL
    return m[: bands * POOL, : frames * POOL].reshape(bands, POOL, frames, POOL).mean(axis=(1, 3))


def quantise_m_db(pooled: np.ndarray) -> np.ndarray:
    """uint8 codes of pooled M_dB over [0, M_DB_TOP] (values outside are clipped)."""
    return np.round(np.clip(pooled, 0, M_DB_TOP) / M_DB_TOP * M_DB_LEVELS).astype(np.uint8)


def example_mp3(samples: np.ndarray) -> bytes:
    """One example's audio as its MP3: ``samples`` zero-padded to :data:`EXAMPLE_SAMPLES` (where
    a recording ends first), at :data:`EXAMPLE_KBPS` kbps."""
    buffer = io.BytesIO()
    with mp3_writer(buffer, EXAMPLE_KBPS) as mp3:
        mp3.write(np.clip(np.pad(samples, (0, EXAMPLE_SAMPLES - samples.size)), -1.0, 1.0))
    return buffer.getvalue()


def _examples_key(c: Collection, segments: list[int]) -> str | None:
    """The disk-cache key of the examples' M_dB and MP3s: the recordings' bytes, the segments
    and the code that computes them (package and explorer data); None if a recording is unreadable."""
    package = Path(__file__).resolve().parents[1]
    try:
        recordings = {name: file_digest(c.store.root / name) for name in sorted({str(c.files[i]) for i in segments})}
    except (AudioError, OSError):
        return None
    return cache.cache_key(kind="collection examples", recordings=recordings, kbps=EXAMPLE_KBPS,
                           segments=[(str(c.files[i]), round(float(c.starts[i]), 3)) for i in segments],
                           code=[cache.code_digest(package / layer)
                                 for layer in ("model", "facts", "present", "explore")])


def examples_m_db_and_audio(c: Collection, segments: list[int]) -> tuple[np.ndarray, tuple[bytes, ...]]:
    """Pooled M_dB of the given segments and each one's MP3 (:func:`example_mp3`), in that
    order; one pass, so memory holds one recording and the MP3s, never every example's samples.
    Kept in the package's disk cache (:mod:`musicnn_nb.model.cache`): decoding the recordings
    and encoding the default collection's 434 MP3s takes some 20 s of every book build."""
    key = _examples_key(c, segments)
    hit = cache.load(key, ("pooled", "mp3", "sizes")) if key else None
    if hit is not None:
        ends = np.cumsum(hit["sizes"])
        return hit["pooled"], tuple(hit["mp3"][end - size : end].tobytes() for end, size in zip(ends, hit["sizes"]))
    pooled, audio = [], []
    for x in c.segments_audio(segments):
        pooled.append(pooled_m_db(m_db(x)[:, :SEGMENT_FRAMES]))
        audio.append(example_mp3(x))
    if key:
        cache.store(key, {"pooled": np.stack(pooled), "mp3": np.frombuffer(b"".join(audio), np.uint8),
                          "sizes": np.array([len(a) for a in audio], np.int64)})
    return np.stack(pooled), tuple(audio)


def unit_summaries(c: Collection, shipped: dict[int, int]) -> dict[str, np.ndarray]:
    """Per unit (753): top segments (as positions among the shipped examples), their maxima and
    frames, histogram of the per-segment maximum and its range, share of open frames, and the
    ten strongest tag correlations (tag index and r, strongest first)."""
    top = np.stack([c.top(u) for u in NAMES])  # (753, TOP), store indices
    columns = np.arange(len(NAMES))[:, None]
    hist, ranges, tags, r = [], [], [], []
    for j, unit in enumerate(NAMES):
        counts, edges = np.histogram(c.max[:, j].astype(np.float64), bins=HIST_BINS)
        hist.append(counts)
        ranges.append([edges[0], edges[-1]])
        assoc = c.tag_association(unit)
        order = np.argsort(-np.abs(assoc), kind="stable")[:N_TAGS]
        tags.append(order)
        r.append(assoc[order])
    return {"top": np.vectorize(shipped.__getitem__)(top), "top_max": c.max[top, columns],
            "top_frame": c.argmax[top, columns], "hist": np.array(hist), "hist_range": np.array(ranges),
            "open": c.open.mean(axis=0), "tags": np.array(tags), "tag_r": np.array(r)}


@dataclass(frozen=True)
class CollectionPart:
    """The collection explorer's data: its key, its payload, and each shipped example's MP3 in
    the order of the meta's examples (None when the collection's recordings cannot be read)."""

    key: str
    payload: dict
    audio: tuple[bytes, ...] | None

    def media(self) -> dict[str, bytes]:
        """The examples' MP3s by the name the page gives each (the meta's ``audio`` with its
        ``{k}`` filled in), relative to ``collection.<key>.js``; empty without audio."""
        if self.audio is None:
            return {}
        return {self.payload["meta"]["audio"].replace("{k}", str(k)): data for k, data in enumerate(self.audio)}


def collection_part(store: str | None = None) -> CollectionPart:
    """The collection explorer's data for both models."""
    models = {m: load(m, store) for m in MODEL_NAMES}
    first = models[MODEL_NAMES[0]]
    for m, c in models.items():
        if not (np.array_equal(c.files, first.files) and np.array_equal(c.starts, first.starts)):
            raise ValueError(f"the store's {m} segments differ from its {MODEL_NAMES[0]} ones: recollect it.")
    examples = sorted({int(i) for c in models.values() for u in NAMES for i in c.top(u)})
    shipped = {i: k for k, i in enumerate(examples)}
    files = sorted(set(first.files.tolist()))
    packed, key = Packed(), collection_key(first)
    try:
        pooled, audio = examples_m_db_and_audio(first, examples)
        packed.add("M_dB", quantise_m_db(pooled), "u1")
        sound = f"collection-{key}/{{k}}.mp3"  # the k-th example's file, as CollectionPart.media names it
        note = ""
    except AudioError:  # the recordings moved: everything but the examples' sound and spectrograms
        audio, sound = None, None
        note = ("The collection's audio is not available: a recording cannot be read where its store says it "
                "is, so the examples have no player and no M_dB.")
    types = {"top": "i4", "top_max": "f4", "top_frame": "i2", "hist": "i4", "hist_range": "f4", "open": "f4",
             "tags": "i2", "tag_r": "f4"}
    for m, c in models.items():
        for name, values in unit_summaries(c, shipped).items():
            packed.add(f"{name}/{m}", values, types[name])
    meta = {"units": list(NAMES), "top": TOP, "n_segments": len(first.files), "n_files": len(files),
            "audio": sound, "audio_note": note,
            "tags": {m: list(load_model(m).tags) for m in models},
            "examples": [{"label": first.label(i), "track": first.track(i), "start_s": float(first.starts[i])}
                         for i in examples],
            "m_db": {"top": M_DB_TOP, "levels": M_DB_LEVELS, "pool": POOL, "error": M_DB_ERROR,
                     "mel_hz": mel_center_hz().tolist(), "frame_seconds": FRAME_SECONDS}}
    return CollectionPart(key, packed.payload(meta), audio)


def write_past(folder: str | Path, kinds: tuple[str, ...] = PAST_KINDS, path: str | Path | None = None,
               store: str | None = None) -> list[Path]:
    """Write the data of the explorers ``kinds`` (of :data:`PAST_KINDS`) into ``folder``, for the
    recording at ``path`` (default: the book's) and the collection ``store`` (default: the
    book's). Returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if "backend" in kinds:
        path = Path(path) if path is not None else default_audio()
        key = recording_key(path)
        written += [write_part(folder, key, f"backend-{m}", backend_part(analyse(path, m))) for m in MODEL_NAMES]
    if "collection" in kinds:
        part = collection_part(store)
        written.append(write_part(folder, "collection", part.key, part.payload))
        for name, data in part.media().items():
            target = folder / name
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(data)
            written.append(target)
    return written
