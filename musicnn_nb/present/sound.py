"""Audio players for the pages: the samples as MP3 inside the page.

IPython's ``Audio`` embeds 16-bit WAV, which made audio most of the book's page weight (a
30-s clip is 1.3 MB of base64 in every page that plays it). MP3 at libsndfile's best quality
is about a fifth of that and plays in every current browser; the players are for listening,
while every figure and number is computed from the decoded input, never from this copy.

Where many clips ship together (chapter 14's collection explorer, one file per example),
:func:`mp3_writer` encodes at a constant bit rate instead, so that every clip of a given
length has the same, known size: libsndfile asks LAME for 160 - 152 c kbps at compression
level c for 16-kHz audio (MPEG-2 Layer III). libsndfile writes no gapless header, so every
decoder (libmpg123, FFmpeg, the browsers') hands out LAME's delay first: 1,105 samples
(69 ms) of silence before the clip.
"""

from __future__ import annotations

import base64
import io
from typing import BinaryIO

import numpy as np
import soundfile
from IPython.display import HTML

from musicnn_nb.model.spectrogram import SAMPLE_RATE

CBR_KBPS = (16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)  # MPEG-2 Layer III rates (16 kHz)


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


def mp3_writer(target: BinaryIO, kbps: int, rate: int = SAMPLE_RATE) -> soundfile.SoundFile:
    """A mono MP3 open for writing into ``target`` at a constant ``kbps`` (one of :data:`CBR_KBPS`)."""
    if kbps not in CBR_KBPS:
        raise ValueError(f"an MP3 at {rate} Hz has a constant rate of one of {CBR_KBPS} kbps, not {kbps}")
    return soundfile.SoundFile(target, "w", rate, 1, format="MP3", bitrate_mode="CONSTANT",
                               compression_level=(CBR_KBPS[-1] - kbps) / (CBR_KBPS[-1] - 8))


def player(samples: np.ndarray, rate: int = SAMPLE_RATE) -> HTML:
    """An audio player for ``samples`` that needs no file beside the page."""
    data = base64.b64encode(mp3_bytes(samples, rate)).decode("ascii")
    return HTML(f'<audio controls src="data:audio/mpeg;base64,{data}"></audio>')
