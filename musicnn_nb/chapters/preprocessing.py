"""From waveform to M̂_dB, step by step, and the traps of running the 2019 code today (chapter 3).

:mod:`musicnn_nb.spectrogram` and :mod:`musicnn_nb.audio` compute M_dB as musicnn did in
2019. This module shows the steps one by one and measures, on real audio, what each
decision changes: it runs musicnn's own pre-processing lines on today's NumPy and librosa
(:func:`todays_m_db`) and compares.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from musicnn_nb.model.audio import load_audio, resample_2019, to_16bit_grid
from musicnn_nb.model.network import forward
from musicnn_nb.model.spectrogram import (
    FRAME_SECONDS,
    HOP,
    N_FFT,
    N_MELS,
    SAMPLE_RATE,
    SEGMENT_FRAMES,
    log_compress,
    m_db,
    mel_filterbank,
    mel_power,
    power_spectrogram,
    segments,
)
from musicnn_nb.model.weights import Model
from musicnn_nb.present import plots

GTZAN_RATE = 22050  # Hz: GTZAN's sample rate, where resampling matters


def todays_m_db(path: str | Path) -> np.ndarray:
    """musicnn 0.1.0's ``batch_data`` lines run on today's librosa and NumPy (96 x frames).

    Overflowed cells are ``inf``: this is what the original package feeds its network today.
    """
    import librosa

    audio, sr = librosa.load(path, sr=SAMPLE_RATE)
    mel = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=HOP, n_fft=N_FFT, n_mels=N_MELS)
    with np.errstate(over="ignore"):
        return np.log10(10000 * mel.astype(np.float16) + 1).astype(np.float32)


@dataclass(frozen=True)
class Difference:
    """One way today's libraries change the 2019 pre-processing, measured."""

    step: str
    then: str  # what musicnn's stack did in 2019 (and this package does)
    now: str  # what the same code does on today's libraries
    measure: str  # what was measured
    value: float

    def row(self) -> str:
        return f"| {self.step} | {self.then} | {self.now} | {self.measure} | {self.value:.3g} |"


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    finite = np.isfinite(a) & np.isfinite(b)
    return float(np.max(np.abs(a[finite] - b[finite]))) if finite.any() else float("nan")


def differences(path: str | Path, mp3: str | Path | None = None) -> list[Difference]:
    """Measure every pre-processing decision on the recording at ``path``.

    ``mp3`` is an MP3 file for the decoding difference (the running example may not be one).
    """
    import librosa

    samples = load_audio(path).samples
    ours = m_db(samples)
    today = todays_m_db(path)
    n = min(ours.shape[1], today.shape[1])
    overflow = np.isinf(today[:, :n])
    mel = mel_power(samples)
    with np.errstate(over="ignore"):
        float16_today = np.log10(10000 * mel.astype(np.float16) + 1)
    zero_padded = np.abs(librosa.stft(samples, n_fft=N_FFT, hop_length=HOP, pad_mode="constant")) ** 2
    padding_change = _max_abs(log_compress(mel_filterbank() @ zero_padded)[:, 0], ours[:, 0])
    at_gtzan_rate = librosa.resample(samples, orig_sr=SAMPLE_RATE, target_sr=GTZAN_RATE, res_type="kaiser_best")
    by_resampy = resample_2019(at_gtzan_rate.astype(np.float32), GTZAN_RATE)
    by_soxr = librosa.resample(at_gtzan_rate, orig_sr=GTZAN_RATE, target_sr=SAMPLE_RATE)[: by_resampy.size]
    rows = [
        Difference("log compression", "10000 · float16 promoted to float32", "stays float16, overflows above 6.55",
                   "share of M_dB cells that become inf", float(overflow.mean())),
        Difference("log compression", "10000 · float16 promoted to float32", "float16 rounding of the product",
                   "largest change of M_dB among finite cells", _max_abs(float16_today, ours)),
        Difference("STFT edges", "reflect padding (librosa 0.7)", "zero padding (librosa ≥ 0.10)",
                   "largest change of M_dB in the first frame", padding_change),
        Difference("resampling", "resampy kaiser_best", "soxr_hq (librosa ≥ 0.10)",
                   f"largest change of M_dB, this audio taken to {GTZAN_RATE} Hz and back",
                   _max_abs(m_db(by_soxr.astype(np.float32)), m_db(by_resampy))),
        Difference("mel filterbank", "bin centres by linspace", "bin centres by rfftfreq",
                   "largest change of a weight",
                   _max_abs(librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS), mel_filterbank())),
        Difference("STFT and mel projection", "float64 FFT, np.dot", "einsum",
                   "largest change of mel power, relative to its maximum",
                   float(np.max(np.abs(librosa.feature.melspectrogram(y=samples, sr=SAMPLE_RATE, n_fft=N_FFT,
                                                                        hop_length=HOP, n_mels=N_MELS,
                                                                        pad_mode="reflect") - mel))
                         / mel.max())),
    ]
    if mp3 is not None:
        import soundfile

        decoded, _ = soundfile.read(mp3, dtype="float32")
        decoded = decoded if decoded.ndim == 1 else decoded.mean(axis=1)
        rows.append(Difference("MP3 decoding", "audioread: 16-bit integers", "libsndfile: floating point",
                               f"largest change of M_dB on {Path(mp3).name}",
                               _max_abs(m_db(decoded), m_db(to_16bit_grid(decoded)))))
    return rows


def differences_table(rows: list[Difference]) -> str:
    """The measured differences as a Markdown table."""
    head = "| step | 2019 (this package) | today | measured | value |\n|---|---|---|---|---|"
    return "\n".join([head, *(r.row() for r in rows)])


def tags_both_ways(path: str | Path, model: Model, n: int = 5) -> tuple[list[str], list[str]]:
    """Top-n tags from the 2019 pre-processing and from musicnn's code run today.

    Today's M_dB holds inf wherever the float16 product overflows; the network turns it into
    NaN, which is what the original package ranks.
    """
    def top(m: np.ndarray) -> list[str]:
        with np.errstate(invalid="ignore", over="ignore"):
            mean = forward(model, segments(m))["taggram"].mean(axis=0)
        return [model.tags[i] for i in mean.argsort()[::-1][:n]]

    return top(m_db(load_audio(path).samples)), top(todays_m_db(path))


def tags_table(cases: list[tuple[str | Path, Model]], n: int = 5) -> str:
    """Markdown table of :func:`tags_both_ways` for (audio, model) pairs."""
    rows = ["| audio | model | 2019 pre-processing | musicnn's code today |", "|---|---|---|---|"]
    for path, model in cases:
        then, now = tags_both_ways(path, model, n)
        rows.append(f"| {Path(path).name} | {model.name} | {', '.join(then)} | {', '.join(now)} |")
    return "\n".join(rows)


def steps_figure(samples: np.ndarray, start_frame: int = 0) -> Figure:
    """Waveform → |STFT|² → mel power → M_dB for one 187-frame stretch, one panel per step."""
    stop = start_frame + SEGMENT_FRAMES
    power = power_spectrogram(samples)[:, start_frame:stop]
    mel = mel_power(samples)[:, start_frame:stop]
    start_s = start_frame * FRAME_SECONDS
    fig = plt.figure(figsize=plots.column_size(11, 9), layout="constrained")
    wave_ax, stft_ax, mel_ax, db_ax = fig.subplots(4, 1)
    chunk = samples[start_frame * HOP : (stop - 1) * HOP]
    wave_ax.plot(start_s + np.arange(chunk.size) / SAMPLE_RATE, chunk, linewidth=0.4)
    wave_ax.set(xlabel="time (s)", ylabel="amplitude", title="waveform, 16 kHz",
                xlim=(start_s, start_s + SEGMENT_FRAMES * FRAME_SECONDS))
    freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    plots.matrix(10 * np.log10(power + 1e-10), stft_ax, start_s=start_s, rows=(freqs[0], freqs[-1]),
                 row_label="frequency (Hz)", title="power spectrogram |STFT|² (512-sample Hann, hop 256)",
                 colorbar_label="dB", cmap=plots.SEQUENTIAL)
    plots.spectrogram(10 * np.log10(mel + 1e-10), mel_ax, start_s=start_s, title="mel power (96 bands)",
                      colorbar_label="dB", cmap=plots.SEQUENTIAL)
    plots.spectrogram(log_compress(mel), db_ax, start_s=start_s, title="M_dB = log10(10000 · float16(mel) + 1)")
    return fig


def overflow_figure(path: str | Path, ax=None):
    """Where the 2019 line overflows on today's NumPy: inf cells of today's M_dB marked."""
    today = todays_m_db(path)
    ours = m_db(load_audio(path).samples)[:, : today.shape[1]]
    fig, ax, image, bar = plots.spectrogram(ours, ax, title="M_dB (2019), with cells that overflow today in cyan")
    rows, cols = np.nonzero(np.isinf(today))
    marks = ax.scatter(cols * FRAME_SECONDS, rows, s=4, c="cyan", marker="s", linewidths=0)
    return fig, ax, image, bar, marks


def input_bn_figure(models: list[Model], m_db_values: np.ndarray, ax=None):
    """The input batch-norm as the affine map it is, one line per model, over M_dB's range."""
    fig, ax = plots.figure_axes(ax, (6, 4))
    x = np.linspace(0, float(m_db_values.max()), 100)
    lines = []
    for model in models:
        bn = model.input_bn
        label = f"{model.name}: M̂ = {bn.scale[0]:.3f} · M + ({bn.shift[0]:.3f})"
        lines += ax.plot(x, bn(x.astype(np.float32)), label=label)
    ax.axhline(0, color="gray", linewidth=0.5)
    counts, edges = np.histogram(m_db_values, bins=60)
    twin = ax.twinx()
    twin.stairs(counts / counts.sum(), edges, color="gray", alpha=0.5, label="M_dB values of this audio")
    twin.set_ylabel("share of M_dB cells")
    ax.set(xlabel="M_dB", ylabel="M̂_dB", title="input batch-norm: one affine map per model")
    ax.legend(loc="upper left", fontsize="small")
    return fig, ax, lines, twin


def input_bn_table(models: list[Model]) -> str:
    """The input batch-norm's parameters and the affine map they make, as a Markdown table."""
    lines = ["| model | γ | β | μ | σ² | slope γ/√(σ²+ε) | intercept β − slope·μ |", "|---|---|---|---|---|---|---|"]
    for model in models:
        bn = model.input_bn
        lines.append(f"| {model.name} | {bn.gamma[0]:.4f} | {bn.beta[0]:.4f} | {bn.mean[0]:.4f} | "
                     f"{bn.variance[0]:.4f} | {bn.scale[0]:.4f} | {bn.shift[0]:.4f} |")
    return "\n".join(lines)


def segmentation_summary(n_samples: int, hop_frames: int = SEGMENT_FRAMES) -> str:
    """How a signal of ``n_samples`` is framed and cut into 187-frame segments, in words."""
    frames = n_samples // HOP + 1
    n_segments = (frames - SEGMENT_FRAMES) // hop_frames + 1
    used = (n_segments - 1) * hop_frames + SEGMENT_FRAMES
    return (f"{n_samples:,} samples ({n_samples / SAMPLE_RATE:.2f} s) give {frames:,} frames of "
            f"{FRAME_SECONDS * 1000:.0f} ms; {n_segments} segments of {SEGMENT_FRAMES} frames "
            f"({SEGMENT_FRAMES * FRAME_SECONDS:.3f} s) start every {hop_frames} frames, and the last "
            f"{frames - used} frames, too few for another segment, are not analysed.")
