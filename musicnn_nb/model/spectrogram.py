"""M_dB exactly as musicnn computed it in 2019 (chapter 3, "The input").

musicnn 0.1.0 calls ``librosa.feature.melspectrogram`` (librosa 0.7) and then
``np.log10(10000 * mel.astype(np.float16) + 1)`` under NumPy < 1.17. Run today, the same
lines compute something else; each difference is decided here, not inherited.

Two differences change the numbers today; three more places were checked and still agree.

1. **Float16 promotion (NumPy 2, NEP 50) — changes the result.** In 2019
   ``10000 * float16_array`` promoted to float32, because the Python integer 10000 counted
   as a ``uint16`` and float16 cannot hold every uint16. NumPy 2 keeps float16, so the
   product overflows to ``inf`` wherever the mel power exceeds 65504 / 10000 ≈ 6.55 (the
   network then returns NaN) and is rounded to float16 everywhere else. Decision: round the
   mel power to float16 (the model was trained on that), then compute the compression in
   float32, as 2019 did. See :func:`log_compress`.
2. **STFT edge padding (librosa 0.10) — changes the first and last frames.** librosa 0.7
   padded the signal by reflection before framing; librosa ≥ 0.10 pads with zeros by
   default. Decision: reflect, as 2019 did.
3. **Mel filterbank — checked, identical.** librosa 0.7 placed the FFT bin centres with
   ``linspace`` where today's librosa uses ``rfftfreq``; the float32 filterbank comes out
   bit-identical. This module keeps the 2019 formula (:func:`mel_filterbank`).
4. **FFT precision — checked, unchanged.** NumPy 2 can compute an FFT in float32, but the
   float64 Hann window makes the windowed frames float64, as in 2019; kept explicitly.
5. **Mel projection — checked, equal to float32 precision.** 0.7 used ``np.dot``, today's
   librosa ``einsum``; this module uses ``np.dot``.

Resampling and MP3 decoding, the two differences on the audio side, are in
:mod:`musicnn_nb.audio`.
"""

from __future__ import annotations

import functools

import numpy as np

SAMPLE_RATE = 16000  # Hz
N_FFT = 512  # samples: 32 ms
HOP = 256  # samples: one frame every 16 ms
N_MELS = 96
SEGMENT_FRAMES = 187  # librosa.time_to_frames(3 s, sr, n_fft, hop) + 1, as in musicnn
FRAME_SECONDS = HOP / SAMPLE_RATE
MIN_SAMPLES = (SEGMENT_FRAMES - 1) * HOP  # the shortest signal that yields 187 frames
FLOAT16_MAX = float(np.finfo(np.float16).max)


def _hz_to_mel(hz: float | np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above (librosa 0.7, htk=False)."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz) / logstep,
                    hz / f_sp)


def _mel_to_hz(mel: float | np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


def mel_band_edges_hz() -> np.ndarray:
    """The N_MELS + 2 frequencies (Hz) that bound and centre the triangular mel filters."""
    return _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))


def mel_center_hz() -> np.ndarray:
    """Centre frequency (Hz) of each of the 96 mel bands: the physical axis of M_dB."""
    return mel_band_edges_hz()[1:-1]


@functools.lru_cache(maxsize=1)
def mel_filterbank() -> np.ndarray:
    """The 96 x 257 float32 Slaney-normalised mel filterbank of librosa 0.7."""
    fft_hz = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2, endpoint=True)
    edges = mel_band_edges_hz()
    ramps = np.subtract.outer(edges, fft_hz)
    widths = np.diff(edges)
    weights = np.zeros((N_MELS, fft_hz.size), dtype=np.float32)
    for i in range(N_MELS):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / widths[i], ramps[i + 2] / widths[i + 1]))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, np.newaxis]
    weights.flags.writeable = False
    return weights


def n_frames(n_samples: int) -> int:
    """How many STFT frames a signal of ``n_samples`` gives (centred frames, one per hop)."""
    return 1 + n_samples // HOP


def reflect_pad(samples: np.ndarray) -> np.ndarray:
    """The signal padded by reflection on both sides, so that frame t is centred on sample t·HOP."""
    return np.pad(samples, N_FFT // 2, mode="reflect")


def frames_signal(samples: np.ndarray, first: int, stop: int) -> np.ndarray:
    """The part of :func:`reflect_pad` (samples) that frames ``first`` to ``stop`` - 1 read,
    without padding (copying) the whole signal: a view, except at the signal's ends."""
    lo, hi = first * HOP, (stop - 1) * HOP + N_FFT  # in padded coordinates
    pad = N_FFT // 2
    inner = samples[max(lo - pad, 0) : min(hi - pad, samples.size)]
    before, after = max(pad - lo, 0), max(hi - pad - samples.size, 0)
    return np.pad(inner, (before, after), mode="reflect") if before or after else inner


def power_spectrogram(samples: np.ndarray) -> np.ndarray:
    """|STFT|² (257 x frames, float32): Hann 512, hop 256, reflect-padded, FFT in float64."""
    return frame_power(reflect_pad(samples))


def frame_power(padded: np.ndarray) -> np.ndarray:
    """|STFT|² of every frame of a reflect-padded signal (:func:`reflect_pad`, :func:`frames_signal`).

    Each frame is computed on its own, so part of a signal gives the same columns bit for bit.
    """
    from scipy.signal import get_window

    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = get_window("hann", N_FFT, fftbins=True)
    spectrum = np.fft.rfft(frames * window, axis=1).astype(np.complex64)
    return (np.abs(spectrum) ** 2).T


def mel_power(samples: np.ndarray) -> np.ndarray:
    """Mel power spectrogram, 96 x frames, float32 (librosa 0.7's melspectrogram)."""
    return mel_project(power_spectrogram(samples))


def mel_project(power: np.ndarray) -> np.ndarray:
    """Mel power of a power spectrogram (257 x frames) through the 96 filters."""
    return np.dot(mel_filterbank(), power)


def log_compress(mel: np.ndarray) -> np.ndarray:
    """log10(10000 x + 1) with x rounded to float16 and the rest in float32, as in 2019."""
    return np.log10(np.float32(10000) * mel.astype(np.float16).astype(np.float32) + np.float32(1))


def m_db(samples: np.ndarray) -> np.ndarray:
    """M_dB of a 16-kHz mono signal: 96 mel bands x frames, float32 (blog orientation)."""
    return log_compress(mel_power(samples))


def segment_starts(n_frames: int, hop_frames: int = SEGMENT_FRAMES) -> np.ndarray:
    """First frame of every whole 187-frame segment; a trailing partial segment is dropped."""
    return np.arange(0, n_frames - SEGMENT_FRAMES + 1, hop_frames)


def segments(spectrogram: np.ndarray, hop_frames: int = SEGMENT_FRAMES) -> np.ndarray:
    """Cut a 96 x frames spectrogram into (segments, 96, 187), like musicnn's batch_data."""
    starts = segment_starts(spectrogram.shape[1], hop_frames)
    return np.stack([spectrogram[:, s : s + SEGMENT_FRAMES] for s in starts])
