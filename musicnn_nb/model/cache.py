"""Compute once per (audio content, model, settings): intermediates cached in memory and on disk.

The key hashes the audio file's bytes (not its name), the model, the segment hop, the
checkpoint's index and this package's version, so a changed file, weight or pipeline
never serves stale numbers. The disk cache lives in ``$MUSICNN_NB_CACHE`` or
``~/.cache/musicnn_nb``; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

CACHE_ENV = "MUSICNN_NB_CACHE"
_memory: dict[str, dict[str, np.ndarray]] = {}


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "musicnn_nb").expanduser()


def cache_key(**parts: object) -> str:
    """A stable digest of the named parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def load(key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key`` (memory first, then disk), or None."""
    if key in _memory:
        return _memory[key]
    path = cache_dir() / f"{key}.npz"
    try:
        with np.load(path) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError):  # absent, or a partial file from a killed run
        return None
    _memory[key] = arrays
    return arrays


def store(key: str, arrays: dict[str, np.ndarray]) -> None:
    """Keep ``arrays`` in memory and write them to disk atomically (best effort)."""
    _memory[key] = arrays
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
            np.savez(tmp, **arrays)
        os.replace(tmp.name, folder / f"{key}.npz")
    except OSError:
        pass  # a read-only home still gets the in-memory cache


def clear_memory() -> None:
    _memory.clear()
