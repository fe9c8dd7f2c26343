"""Audio players for the pages: the samples as MP3 inside the page.

IPython's ``Audio`` embeds 16-bit WAV, which made audio most of the book's page weight (a
30-s clip is 1.3 MB of base64 in every page that plays it). MP3 at libsndfile's best quality
is about a fifth of that and plays in every current browser; the players are for listening,
while every figure and number is computed from the decoded input, never from this copy.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import soundfile
from IPython.display import HTML

from musicnn_nb.model.spectrogram import SAMPLE_RATE


def mp3_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """``samples`` (mono) encoded as MP3, scaled to peak 1 as IPython's player does (silence stays silent)."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1 or not x.size:
        raise ValueError(f"a player needs a non-empty mono signal, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("a player needs finite samples: this signal has NaN or infinite values")
    peak = float(np.abs(x).max())
    buffer = io.BytesIO()
    soundfile.write(buffer, x / peak if peak > 0 else x, rate, format="MP3", compression_level=0.0)
    return buffer.getvalue()


def player(samples: np.ndarray, rate: int = SAMPLE_RATE) -> HTML:
    """An audio player for ``samples`` that needs no file beside the page."""
    data = base64.b64encode(mp3_bytes(samples, rate)).decode("ascii")
    return HTML(f'<audio controls src="data:audio/mpeg;base64,{data}"></audio>')
