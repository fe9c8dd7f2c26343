"""Unit statistics over a whole collection of recordings, on one machine or a Dask cluster.

``collect(source, store, models)`` runs the network on every 3-s segment of every audio
file under ``source`` and keeps, per segment and per unit of CNN_1 (561) and CNN_2-4
(3 x 64), four numbers about the unit's row: its maximum and mean over the 187 frames,
the share of frames where its rectifier is open, and the frame of its maximum; plus the
segment's penultimate vector (200) and taggram (50).

The row of a unit is what the next stage reads from it: [U]_i for CNN_1 (the max over
frequency after the batch-norm), the unit's row of V̂_k for CNN_2-4. "Rectifier open"
means the unit's pre-activation is positive somewhere in the frame: for CNN_1 at some
frequency row (max_f (K_i ⋆ M̂_dB + b_i) > 0, so Y_i is not all zero at that frame), for
CNN_2-4 the one pre-activation of the frame (V_k > 0). A unit whose rectifier never opens
outputs its batch-norm's constant.

The store is a folder of Parquet files, one per (recording, model), each written to a
temporary name and renamed when complete. Parquet rather than Zarr because the unit of
work is a file: a part is immutable once renamed, so a killed run leaves either a finished
part or nothing, a resumed run skips what exists, and workers never write into a shared
array; the columns are what a reader asks for ("the maxima of every unit"), which
Parquet reads without touching the rest. Files that cannot be read are recorded in
``errors/`` with their message and skipped.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from musicnn_nb import __version__
from musicnn_nb.model import cache
from musicnn_nb.model.audio import file_digest, load_audio
from musicnn_nb.model.errors import MusicnnNbError
from musicnn_nb.model.files import atomic_write
from musicnn_nb.model.network import forward
from musicnn_nb.model.spectrogram import FRAME_SECONDS, SEGMENT_FRAMES, m_db, segments
from musicnn_nb.model.weights import GROUPS, load_model, unit_name

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".au", ".opus", ".m4a")
STATS = ("max", "mean", "open", "argmax")
VECTORS = {"penultimate": 200, "taggram": 50}
N_UNITS = 753
BATCH = 8  # segments per forward pass: bounds a worker's memory for long recordings
FORMAT = 1
COLLECTION_ENV = "MUSICNN_NB_COLLECTION"


class CollectionError(MusicnnNbError):
    """A source or store that cannot be used: says what is wrong and what to do."""


def unit_names() -> tuple[str, ...]:
    """The 753 units in store order: CNN_1's 561 (U's rows), then CNN_2, CNN_3, CNN_4."""
    return tuple(unit_name(g, i) for g in GROUPS for i in range(g.first_row, g.stop_row))


def summarise(model_name: str, m_db_segments: np.ndarray) -> dict[str, np.ndarray]:
    """Per-segment unit statistics, penultimate and taggram for M_dB segments (S, 96, 187).

    Returns ``max``, ``mean``, ``open`` (S, 753) float32, ``argmax`` (S, 753) int16,
    ``penultimate`` (S, 200) and ``taggram`` (S, 50).
    """
    model = load_model(model_name)
    parts = []
    for start in range(0, len(m_db_segments), BATCH):
        out = forward(model, m_db_segments[start : start + BATCH], peaks=True)
        rows = np.concatenate([out["U"], out["V1_hat"], out["V2_hat"], out["V3_hat"]], axis=1)
        opened = np.concatenate([out["cnn1_peak"], out["V1"], out["V2"], out["V3"]], axis=1) > 0
        parts.append({"max": rows.max(axis=2), "mean": rows.mean(axis=2, dtype=np.float32),
                      "open": opened.mean(axis=2, dtype=np.float32),
                      "argmax": rows.argmax(axis=2).astype(np.int16),
                      "penultimate": out["penultimate"], "taggram": out["taggram"]})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def summarise_file(path: str, models: tuple[str, ...], hop_frames: int) -> dict[str, object]:
    """Decode one file once and summarise it for each model; a failure is returned, not raised,
    so one unreadable file never stops a run (this is the task a worker runs)."""
    from threadpoolctl import threadpool_limits

    try:
        spectrogram = m_db(load_audio(path).samples)
        cut = segments(spectrogram, hop_frames)
        with threadpool_limits(1):  # one BLAS thread: the same sums, so the same floats, wherever it runs
            return {"ok": True, "results": {name: summarise(name, cut) for name in models}}
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}


# --- the source ----------------------------------------------------------------------------

def find_audio(source: str | Path) -> tuple[Path, list[Path]]:
    """The root and the audio files of ``source``: a folder (searched recursively) or a text
    file with one path per line (relative paths are relative to the list's folder)."""
    source = Path(source).expanduser()
    if source.is_dir():
        everything = sorted(p for p in source.rglob("*") if p.is_file())
        files = [p for p in everything if p.suffix.lower() in AUDIO_SUFFIXES]
        if not everything:
            raise CollectionError(f"{source} is empty: point collect at a folder of audio files "
                                  f"or a text file listing them.")
        if not files:
            raise CollectionError(f"{source} holds {len(everything)} files but no audio "
                                  f"({', '.join(AUDIO_SUFFIXES)}): point collect at a folder of audio files.")
        return source, files
    if source.is_file():
        lines = [line.strip() for line in source.read_text(errors="replace").splitlines()]
        files = [(source.parent / line) for line in lines if line and not line.startswith("#")]
        if not files:
            raise CollectionError(f"{source} lists no files: write one audio path per line.")
        return source.parent, files
    raise CollectionError(f"{source} does not exist: give a folder of audio files or a text file listing them.")


# --- the store -----------------------------------------------------------------------------

def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """:func:`musicnn_nb.model.files.atomic_write` into a folder of the store made on demand."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write)


def _part_table(relative: str, digest: str, model: str, hop_frames: int, result: dict[str, np.ndarray]):
    import pyarrow as pa

    n = len(result["max"])
    columns = {
        "file": pa.array([relative] * n, pa.string()),
        "digest": pa.array([digest] * n, pa.string()),
        "segment": pa.array(np.arange(n, dtype=np.int32)),
        "start_s": pa.array((np.arange(n) * hop_frames * FRAME_SECONDS).astype(np.float32)),
        "model": pa.array([model] * n, pa.string()),
        "version": pa.array([__version__] * n, pa.string()),
    }
    for name, values in result.items():
        flat = pa.array(np.ascontiguousarray(values).reshape(-1))
        columns[name] = pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
    return pa.table(columns)


@dataclass(frozen=True)
class Job:
    """One recording to summarise, and where its parts go."""

    path: Path
    relative: str
    digest: str
    models: tuple[str, ...]  # the models still missing for this file


class Store:
    """A collection store: ``parts/<model>/<key>.parquet``, ``errors/<key>.json``, ``store.json``."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()

    # writing

    def prepare(self, hop_frames: int, source: Path) -> None:
        """Create the store, or check that an existing one was made with the same settings."""
        meta = self.path / "store.json"
        for stale in self.path.glob("*/**/*.tmp"):  # left by a run killed while writing
            stale.unlink()
        if meta.exists():
            found = json.loads(meta.read_text())
            if found.get("hop_frames") != hop_frames or found.get("format") != FORMAT:
                raise CollectionError(f"{self.path} was made with hop {found.get('hop_frames')} frames "
                                      f"(format {found.get('format')}): choose another store folder.")
            return
        self.path.mkdir(parents=True, exist_ok=True)
        # the source relative to the store: a store moved together with its audio still finds it
        root = os.path.relpath(source.resolve(), self.path.resolve())
        text = json.dumps({"format": FORMAT, "hop_frames": hop_frames, "root": root,
                           "units": unit_names()}, indent=1)
        _atomic_write(meta, lambda file: file.write(text.encode()))

    def key(self, relative: str, digest: str, model: str, hop_frames: int) -> str:
        return cache.cache_key(file=relative, audio=digest, model=model, hop=hop_frames, version=__version__)

    def part_path(self, model: str, key: str) -> Path:
        return self.path / "parts" / model / f"{key}.parquet"

    def error_path(self, key: str) -> Path:
        return self.path / "errors" / f"{key}.json"

    def write_part(self, job: Job, model: str, hop_frames: int, result: dict[str, np.ndarray]) -> None:
        import pyarrow.parquet as pq

        table = _part_table(job.relative, job.digest, model, hop_frames, result)
        key = self.key(job.relative, job.digest, model, hop_frames)
        _atomic_write(self.part_path(model, key), lambda file: pq.write_table(table, file, compression="zstd"))

    def write_error(self, job: Job, hop_frames: int, error: str) -> None:
        key = self.key(job.relative, job.digest, "+".join(job.models), hop_frames)
        text = json.dumps({"file": job.relative, "digest": job.digest, "error": error})
        _atomic_write(self.error_path(key), lambda file: file.write(text.encode()))

    def pending(self, root: Path, files: Iterable[Path], models: tuple[str, ...], hop_frames: int) -> Iterator[Job]:
        """The files still to do, with the models each still lacks; finished and failed ones skipped."""
        for path in files:
            relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
            try:
                digest = file_digest(path)
            except MusicnnNbError:
                digest = "unreadable"  # summarise_file will record why
            missing = tuple(m for m in models
                            if not self.part_path(m, self.key(relative, digest, m, hop_frames)).exists())
            failed = self.error_path(self.key(relative, digest, "+".join(missing), hop_frames)).exists()
            if missing and not failed:
                yield Job(path, relative, digest, missing)

    # reading

    @property
    def meta(self) -> dict[str, Any]:
        meta = self.path / "store.json"
        if not meta.exists():
            raise CollectionError(f"{self.path} is not a collection store (no store.json): make one with "
                                  "`python -m musicnn_nb collect SOURCE -o STORE`.")
        return json.loads(meta.read_text())

    @property
    def hop_frames(self) -> int:
        return int(self.meta["hop_frames"])

    @property
    def root(self) -> Path:
        """The folder the store's file names are relative to (kept relative to the store; an
        absolute one, as earlier stores kept it, is taken as it is)."""
        return (self.path / str(self.meta["root"])).resolve()

    def models(self) -> tuple[str, ...]:
        folder = self.path / "parts"
        return tuple(sorted(p.name for p in folder.iterdir() if any(p.glob("*.parquet")))) if folder.exists() else ()

    def table(self, model: str, columns: list[str] | None = None):
        """Every segment of ``model`` as one Arrow table, sorted by file and segment."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = sorted((self.path / "parts" / model).glob("*.parquet"))
        if not parts:
            raise CollectionError(f"{self.path} holds no segments for {model}: run "
                                  f"`python -m musicnn_nb collect SOURCE -o {self.path.name} --model {model}`.")
        wanted = None if columns is None else list(dict.fromkeys(["file", "segment", *columns]))
        table = pa.concat_tables([pq.read_table(p, columns=wanted) for p in parts])
        return table.sort_by([("file", "ascending"), ("segment", "ascending")])

    def errors(self) -> list[dict[str, str]]:
        """The files that could not be read, with their error."""
        return sorted((json.loads(p.read_text()) for p in (self.path / "errors").glob("*.json")),
                      key=lambda e: e["file"])

    def matrix(self, model: str, column: str) -> np.ndarray:
        """One column as an array (segments, width), in :meth:`table` order."""
        values = self.table(model, [column]).column(column).combine_chunks()
        return values.flatten().to_numpy(zero_copy_only=False).reshape(len(values), -1)


# --- running -------------------------------------------------------------------------------

def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="file", disable=not enabled, file=sys.stderr, smoothing=0.1,
                desc="collect", dynamic_ncols=True)


# Dask's own bookkeeping, turned down on the local cluster: by default each worker samples its
# stack every 10 ms for the dashboard's profile (which this package never shows) and every
# event loop ticks every 20 ms. On 2 cores that took a fifth of the workers' CPU time and
# three quarters of the client's. A cluster of your own: see the README.
QUIET_DASK = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
              "distributed.admin.system-monitor.interval": "5s"}


def local_cluster(workers: int, silence_logs: int = 40):
    """A ``dask.distributed.LocalCluster`` of ``workers`` one-thread processes, with
    :data:`QUIET_DASK`; its HTTP endpoint on a free port (no clash with a running cluster)."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set(QUIET_DASK):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                            silence_logs=silence_logs)


def _client(scheduler: str | None, workers: int):
    from dask.distributed import Client

    if scheduler:
        return Client(scheduler), None
    cluster = local_cluster(workers)
    return Client(cluster), cluster


def collect(source: str | Path, store: str | Path, models: Iterable[str] = ("MSD",), *,
            hop_frames: int = SEGMENT_FRAMES, scheduler: str | None = None, workers: int | None = None,
            progress: bool = True) -> Store:
    """Summarise every segment of every audio file of ``source`` into ``store``; resumable.

    ``scheduler`` is the address of a running dask.distributed scheduler (its workers must
    see the same paths); without it, ``workers`` local processes (default: every core; 1
    runs in this process, without Dask). Returns the :class:`Store`.
    """
    models = tuple(dict.fromkeys(load_model(m).name for m in models))
    if not models:
        raise CollectionError("no model chosen: pass MSD, MTT or both.")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise CollectionError(f"workers must be at least 1, not {workers}.")
    root, files = find_audio(source)
    out = Store(store)
    out.prepare(hop_frames, root)
    jobs = list(out.pending(root, files, models, hop_frames))
    bar = _progress(len(files), progress and bool(jobs))  # nothing to do: no bar
    bar.update(len(files) - len(jobs))
    done_segments, started = 0, time.monotonic()

    def record(job: Job, outcome: dict[str, Any]) -> None:
        nonlocal done_segments
        if outcome["ok"]:
            for model, result in outcome["results"].items():
                out.write_part(job, model, hop_frames, result)
            done_segments += len(next(iter(outcome["results"].values()))["max"])
        else:
            out.write_error(job, hop_frames, str(outcome["error"]))
        rate = done_segments / max(time.monotonic() - started, 1e-9)
        bar.set_postfix(segments=done_segments, seg_per_s=f"{rate:.1f}", refresh=False)
        bar.update(1)

    try:
        if not jobs:
            pass
        elif scheduler is None and workers == 1:
            for job in jobs:
                record(job, summarise_file(str(job.path), job.models, hop_frames))
        else:
            _run_dask(jobs, hop_frames, scheduler, workers, record)
    finally:
        bar.close()
    return out


def _run_dask(jobs: list[Job], hop_frames: int, scheduler: str | None, workers: int,
              record: Callable[[Job, dict[str, object]], None]) -> None:
    """Submit at most two tasks per worker at a time, write each result as it arrives."""
    from dask.distributed import as_completed

    client, cluster = _client(scheduler, workers)
    try:
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values())
        window = 2 * max(threads, 1)
        todo = iter(jobs)
        futures = {}
        queue = as_completed()

        def submit() -> None:
            job = next(todo, None)
            if job is not None:
                future = client.submit(summarise_file, str(job.path), job.models, hop_frames, pure=False)
                futures[future] = job
                queue.add(future)

        for _ in range(window):
            submit()
        for future in queue:
            record(futures.pop(future), future.result())
            future.release()
            submit()
    finally:
        shut_down(client, cluster)


def shut_down(client, cluster) -> None:
    """Close the client and a local cluster; the store is complete by then, so a worker that is
    slow to exit on a loaded machine (distributed raises TimeoutError) does not fail the run."""
    try:
        client.close(timeout=60)
        if cluster is not None:
            cluster.close(timeout=60)
    except TimeoutError:
        pass


def default_store() -> Path:
    """The store chapter 14 reads: ``$MUSICNN_NB_COLLECTION`` or the default collection's."""
    override = os.environ.get(COLLECTION_ENV, "").strip()
    return Path(override).expanduser() if override else Path(__file__).resolve().parents[2] / "collection" / "store"
