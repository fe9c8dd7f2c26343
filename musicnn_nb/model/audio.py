"""Audio in: read any file, make it mono 16 kHz exactly as musicnn's 2019 stack did.

musicnn 0.1.0 calls ``librosa.load(path, sr=16000)`` (librosa 0.7, 2019). Two things in
that call compute something else today, and both are decided here:

1. **Resampling.** librosa 0.7 resampled with resampy's ``kaiser_best`` filter and then cut
   or zero-padded to ``ceil(n · 16000 / sr)`` samples; librosa ≥ 0.10 uses soxr instead.
   Decision: resampy ``kaiser_best``, as 2019 did.
2. **MP3 decoding.** In 2019 libsndfile could not read MP3, so librosa fell back to
   audioread, whose decoders (ffmpeg, GStreamer, MAD, Core Audio) all hand out 16-bit
   integers. Today libsndfile decodes MP3 itself, to floating point. Decision: decode with
   libsndfile and round to the 16-bit grid, which is what reached the model in 2019.

Down-mixing (the mean of the channels, before resampling) is unchanged since 2019.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicnn_nb.model.errors import AudioError
from musicnn_nb.model.spectrogram import MIN_SAMPLES, SAMPLE_RATE

AUDIO_ENV = "MUSICNN_NB_AUDIO"
SILENCE_PEAK = 2.0**-15  # one 16-bit step: a file whose every sample is below it is silent
ERROR_HINT = "choose another file (WAV, FLAC, OGG or MP3)"
BLOCK_FRAMES = 2**18  # frames decoded at a time
LOUD_HINT = ("normalise the file to full scale (peak 1.0; a float file holding 16-bit integer values "
             "needs dividing by 32768), or pass --normalise (API: analyse(..., normalise=True)), "
             "which scales a recording louder than full scale down to peak 1.0")


@dataclass(frozen=True)
class Audio:
    """A decoded recording, mono at 16 kHz, as the model hears it."""

    samples: np.ndarray  # float32, mono, SAMPLE_RATE
    path: Path
    native_rate: int
    channels: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.size / SAMPLE_RATE


def file_digest(path: str | Path) -> str:
    """SHA-256 of the file's bytes: the audio part of every cache key."""
    return hashlib.sha256(_existing(path).read_bytes()).hexdigest()


def _existing(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise AudioError(f"no audio file at {path}: check the path ({'a folder' if path.is_dir() else 'missing'}).")
    return path


@contextmanager
def _c_stderr_silenced() -> Iterator[None]:
    """Mute the process's stderr: libmpg123 prints notes on damaged MP3 frames straight to it,
    and the one-line :class:`AudioError` (or a correct decode) already says what matters."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (some embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _decode(path: Path) -> tuple[np.ndarray, int, int, float]:
    """Mono samples (float32, the mean of the channels), sample rate, channels, loudest channel sample.

    libsndfile's output is read in blocks and mixed down block by block into one array, so
    memory holds one mono copy, not every channel; MP3 is rounded to the 16-bit grid first.
    """
    import soundfile

    try:
        with _c_stderr_silenced(), soundfile.SoundFile(os.fsencode(path)) as f:  # bytes: any name the OS allows
            is_mp3, rate, channels = f.format == "MP3", f.samplerate, f.channels
            mono, n, peak = np.empty(max(f.frames, 0), np.float32), 0, 0.0  # frames: exact, or MP3's estimate
            while (block := f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)).size:
                if not np.all(np.isfinite(block)):
                    raise AudioError(f"{path} contains NaN or infinite samples: repair or re-export the file.")
                if is_mp3:
                    block = to_16bit_grid(block)
                peak = max(peak, float(np.max(np.abs(block), initial=0.0)))
                if n + len(block) > mono.size:
                    mono = np.concatenate([mono[:n], np.empty(max(len(block), mono.size // 2), np.float32)])
                mono[n : n + len(block)] = _mix(block)
                n += len(block)
            return mono[:n], rate, channels, peak
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as sf_error:
        reason = str(getattr(sf_error, "error_string", sf_error)).rstrip(".")
    try:
        import audioread
    except ImportError:
        raise AudioError(f"could not read {path} as audio ({reason}): {ERROR_HINT}.") from None
    try:
        with audioread.audio_open(str(path)) as f:
            raw = b"".join(f)
            rate, channels = int(f.samplerate), int(f.channels)
    except Exception as ar_error:  # audioread raises many unrelated types
        detail = str(ar_error) or type(ar_error).__name__
        raise AudioError(f"could not read {path} as audio ({reason}; {detail}): {ERROR_HINT}.") from None
    if channels < 1 or rate < 1 or not raw or len(raw) % (2 * channels):
        raise AudioError(f"could not read {path} as audio ({reason}; the decoder found {channels} channels "
                         f"and {len(raw)} bytes): {ERROR_HINT}.")
    ints = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)
    data = (ints / np.float32(32768)).astype(np.float32)
    return _mix(data), rate, channels, float(np.max(np.abs(data)))


def _mix(data: np.ndarray) -> np.ndarray:
    """The mean of the channels (frames x channels), as librosa's ``to_mono``."""
    return data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]


def to_16bit_grid(samples: np.ndarray) -> np.ndarray:
    """Round to 16-bit PCM the way audioread's decoders delivered MP3 audio in 2019."""
    return (np.clip(np.rint(samples * 32768), -32768, 32767) / np.float32(32768)).astype(np.float32)


def resample_2019(samples: np.ndarray, rate: int) -> np.ndarray:
    """librosa 0.7's ``resample(..., res_type='kaiser_best')`` to 16 kHz, fixed length."""
    if rate == SAMPLE_RATE:
        return samples
    import resampy

    n_out = int(np.ceil(samples.size * SAMPLE_RATE / rate))
    out = resampy.resample(samples, rate, SAMPLE_RATE, filter="kaiser_best", axis=-1)
    out = out[:n_out] if out.size >= n_out else np.pad(out, (0, n_out - out.size))
    return np.ascontiguousarray(out, dtype=np.float32)


def _seconds(n_samples: int) -> str:
    """A duration in seconds, rounded down to the millisecond so that it never reads as enough."""
    return f"{n_samples * 1000 // SAMPLE_RATE / 1000:.3f} s"


def load_audio(path: str | Path, normalise: bool = False) -> Audio:
    """Read a file as musicnn did: mono (mean of channels), 16 kHz, float32; checked.

    ``normalise=True`` scales a recording whose peak exceeds full scale (1.0) down to peak
    1.0 (see :data:`LOUD_HINT`); a recording within full scale is left as it is.
    Raises :class:`AudioError` for a missing, unreadable, non-finite, silent or too short file.
    """
    path = _existing(path)
    mono, rate, channels, channel_peak = _decode(path)
    if mono.size == 0:
        raise AudioError(f"{path} holds no audio samples: {ERROR_HINT}.")
    samples = resample_2019(np.ascontiguousarray(mono), rate)
    del mono
    if samples.size < MIN_SAMPLES:
        raise AudioError(f"{path} lasts {_seconds(samples.size)} ({samples.size} samples at 16 kHz), shorter than "
                         f"one segment: 187 frames, one every 16 ms, need {_seconds(MIN_SAMPLES)} "
                         f"({MIN_SAMPLES} samples) because the first and last frames are centred on the "
                         "signal's ends; use a longer file.")
    peak = float(np.max(np.abs(samples)))
    if peak < SILENCE_PEAK:
        if channel_peak >= SILENCE_PEAK:
            raise AudioError(f"the mono mix of {path} is silent: its {channels} channels cancel out (one is the "
                             "other inverted), and musicnn hears their mean; choose another file or undo the "
                             "phase inversion of one channel.")
        raise AudioError(f"{path} is silent (no sample reaches one 16-bit step): the network's "
                         "response to silence is a constant; choose a file with sound.")
    if normalise and peak > 1.0:
        samples = samples * np.float32(1 / peak)
    return Audio(samples, path, rate, channels)


def shipped_example() -> Path:
    """The book's default recording, shipped inside the package."""
    return Path(__file__).parents[1] / "data" / "example.flac"


def default_audio() -> Path:
    """The file every chapter analyses: ``$MUSICNN_NB_AUDIO`` if set, else the shipped example."""
    override = os.environ.get(AUDIO_ENV, "").strip()
    return Path(override).expanduser() if override else shipped_example()
