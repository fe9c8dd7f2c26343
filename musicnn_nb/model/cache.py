"""Compute once per (audio content, model, settings, code): intermediates in memory and on disk.

The key hashes the audio file's bytes (not its name), the model, the segment hop, the
checkpoint, a digest of the sources of ``musicnn_nb/model/`` (the code that computes the
arrays: any change to the forward pass changes every key) and the BLAS thread count (the
last digits of a matrix product depend on it), so a cache never serves stale numbers.

* Disk: ``$MUSICNN_NB_CACHE`` or ``~/.cache/musicnn_nb``; deleting it is always safe.
  Entries are written atomically; a corrupt entry (truncated, bit-flipped, incomplete) is a
  miss: recomputed and replaced, with one :class:`CacheWarning`. A read-only folder gives one
  warning, then the memory cache only. The folder is kept under ``$MUSICNN_NB_CACHE_MAX``
  (default 2G; ``500M``, ``0`` = no disk cache) by removing the least recently used entries.
* Memory: the last :data:`MEMORY_MAX_ANALYSES` analyses (and at most
  :data:`MEMORY_MAX_BYTES` of them), least recently used dropped first, so a long session
  does not grow without bound.
* Derived results (anything computed from an analysis or a model: unit maps, attributions,
  a model's kernel responses): kept on the object they come from, in a bounded
  :class:`Derived` store, so they live exactly as long as it and never outlive a change of it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import warnings
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from musicnn_nb.model.errors import CacheWarning, SettingError
from musicnn_nb.model.files import atomic_write, clean_stale_temps, describe_os_error

CACHE_ENV = "MUSICNN_NB_CACHE"
CACHE_MAX_ENV = "MUSICNN_NB_CACHE_MAX"
CACHE_MAX_DEFAULT = "2G"
MEMORY_MAX_ANALYSES = 4
MEMORY_MAX_BYTES = 3 * 2**30
MODEL_SOURCES = Path(__file__).parent
T = TypeVar("T")
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_memory: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()
_reported: set[str] = set()  # folders already warned about (read-only), once per process
_cleaned: set[Path] = set()


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "musicnn_nb").expanduser()


def cache_max_bytes() -> int:
    """The disk cache's size limit in bytes, from ``$MUSICNN_NB_CACHE_MAX`` (default 2G)."""
    text = os.environ.get(CACHE_MAX_ENV, "").strip() or CACHE_MAX_DEFAULT
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", text, flags=re.IGNORECASE)
    if not match:
        raise SettingError(f"{CACHE_MAX_ENV}={text!r} is not a size: use bytes or a number with K, M, G "
                           f"or T, such as 500M or 2G (0 turns the disk cache off).")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


@functools.lru_cache(maxsize=4)
def code_digest(folder: Path = MODEL_SOURCES) -> str:
    """SHA-256 of the Python sources in ``folder`` (names and bytes): the code part of the key."""
    digest = hashlib.sha256()
    for source in sorted(folder.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def blas_threads() -> int:
    """The number of threads OpenBLAS (NumPy's BLAS) uses in this process, as it decides at start."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cache_key(**parts: object) -> str:
    """A stable digest of the named parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _warn_once(topic: str, message: str) -> None:
    if topic not in _reported:
        _reported.add(topic)
        warnings.warn(message, CacheWarning, stacklevel=3)


def _remember(key: str, arrays: dict[str, np.ndarray]) -> None:
    """Keep ``arrays`` in the bounded memory cache as the most recently used."""
    _memory[key] = arrays
    _memory.move_to_end(key)
    total = sum(a.nbytes for entry in _memory.values() for a in entry.values())
    while len(_memory) > 1 and (len(_memory) > MEMORY_MAX_ANALYSES or total > MEMORY_MAX_BYTES):
        _, dropped = _memory.popitem(last=False)
        total -= sum(a.nbytes for a in dropped.values())


def _entry(key: str) -> Path:
    return cache_dir() / f"{key}.npz"


def _start(folder: Path) -> None:
    """Once per process and folder: remove temporary files of killed stores."""
    if folder not in _cleaned:
        _cleaned.add(folder)
        clean_stale_temps(folder)


def load(key: str, names: Iterable[str] = ()) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key`` (memory first, then disk), or None.

    An entry that cannot be read whole, or lacks one of ``names``, is corrupt: it is removed,
    reported once, and treated as absent so that the caller recomputes and replaces it.
    """
    if key in _memory:
        _memory.move_to_end(key)
        return _memory[key]
    path = _entry(key)
    _start(path.parent)
    try:
        with np.load(path) as stored:
            arrays = {name: stored[name] for name in stored.files}
        missing = [name for name in names if name not in arrays]
        if missing:
            raise ValueError(f"{len(missing)} arrays missing, {missing[0]} first")
    except (FileNotFoundError, PermissionError):  # absent, or a folder we may not read: a plain miss
        return None
    except (OSError, ValueError, EOFError, KeyError, SyntaxError, zipfile.BadZipFile, zlib.error) as error:
        if path.exists():
            _warn_once(f"corrupt {key}", f"cache entry {path} was corrupt ({error}); recomputing and replacing it.")
            with suppress(OSError):
                path.unlink()
        return None
    with suppress(OSError):
        os.utime(path)  # marks it recently used, for the size limit's eviction
    _remember(key, arrays)
    return arrays


def evict(folder: Path, limit: int, keep: Path | None = None) -> list[Path]:
    """Remove the least recently used entries until ``folder`` holds at most ``limit`` bytes."""
    entries = []
    for path in folder.glob("*.npz"):
        try:
            stat = path.stat()
        except OSError:
            continue
        entries.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in entries)
    removed = []
    for _, size, path in sorted(entries):
        if total <= limit:
            break
        if path == keep:
            continue
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        removed.append(path)
    return removed


def store(key: str, arrays: dict[str, np.ndarray]) -> None:
    """Keep ``arrays`` in memory and on disk (atomically, within the size limit; best effort)."""
    _remember(key, arrays)
    limit = cache_max_bytes()
    size = sum(a.nbytes for a in arrays.values())
    if size > limit:
        return  # larger than the whole disk cache (0 turns it off): memory only
    folder = cache_dir()
    path = _entry(key)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _start(folder)
        evict(folder, limit - size)
        atomic_write(path, lambda file: np.savez(file, **arrays))  # type: ignore[arg-type]  # numpy stub: allow_pickle
    except OSError as error:
        cause = error.__cause__ if isinstance(error.__cause__, OSError) else error
        _warn_once(f"store {folder}", f"the disk cache {folder} cannot be written ({describe_os_error(cause)}): "
                                      f"results are kept in memory only and recomputed in each new session; "
                                      f"make it writable or set {CACHE_ENV} to a writable folder.")


def clear_memory() -> None:
    _memory.clear()


class Derived:
    """Results derived from one object (an :class:`~musicnn_nb.model.pipeline.Analysis` or a
    :class:`~musicnn_nb.model.weights.Model`), each computed once per key and kept on it: at
    most ``limit`` of them, the least recently used dropped first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, or what it returned the last time for ``key``."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = compute()
        self._items[key] = value
        if len(self._items) > self.limit:
            self._items.popitem(last=False)
        return value

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)
