"""CNN_1's one-dimensional kernels as temporal filters (chapter 4, "the 153 one-dimensional
convolutions").

The 1×128, 1×64 and 1×32 kernels of CNN_1 (rows 408-560 of U) are one mel band tall: each is
an impulse response over 128, 64 or 32 frames of 16 ms, slid along time in every mel band
independently. This module reads them as filters: what modulation frequencies they pass
(in Hz and in beats per minute), which of them are non-trivial, and what they do to M̂_dB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from musicnn_nb.facts.units import (
    NORM_THRESHOLD,
    GroupCount,
    explorer_unit,
    group_count,
    group_sensitivity,
    nontrivial_in_group,
    ranked_units,
)
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FRAME_SECONDS, HOP, SAMPLE_RATE, SEGMENT_FRAMES
from musicnn_nb.model.weights import Group, Model, Unit, groups_of
from musicnn_nb.present import plots

FRAME_RATE_HZ = 1 / FRAME_SECONDS  # frames per second: 62.5
NYQUIST_HZ = FRAME_RATE_HZ / 2  # the fastest modulation a frame sequence can carry: 31.25 Hz
TEMPO_RANGE_BPM = (40.0, 240.0)  # the beat rates this chapter calls "tempo"
N_FFT = 4096  # zero-padded DFT length for smooth frequency responses (0.015 Hz spacing)


def one_d_groups() -> tuple[Group, ...]:
    """The three groups of one-band kernels, 1x128, 1x64 and 1x32, in row order."""
    return tuple(g for g in groups_of("cnn1") if g.rows == 1)


def same_padding(group: Group) -> tuple[int, int]:
    """Zero frames TensorFlow's "same" padding puts before and after a segment for ``group``."""
    before = (group.frames - 1) // 2
    return before, group.frames - 1 - before


def bpm(hz: float | np.ndarray) -> float | np.ndarray:
    """A modulation frequency in Hz as beats per minute."""
    return hz * 60


def frequency_response(kernel: np.ndarray, n_fft: int = N_FFT) -> tuple[np.ndarray, np.ndarray]:
    """(modulation frequencies in Hz from 0 to 31.25, |H|) of a 1-D kernel over 16-ms frames.

    |H(ν)| = |Σ_τ k[τ] e^{-2πiντ/62.5}|: the factor by which the kernel scales a sinusoidal
    modulation of ν Hz in one mel band. It does not depend on where the kernel is centred
    nor on whether it is flipped, so cross-correlation and convolution share it.
    """
    values = np.asarray(kernel, dtype=np.float64).reshape(-1)
    return np.fft.rfftfreq(n_fft, FRAME_SECONDS), np.abs(np.fft.rfft(values, n=n_fft))


TEMPO_GRID_BPM = np.arange(TEMPO_RANGE_BPM[0], TEMPO_RANGE_BPM[1] + 1)  # click-track tempi, 1 BPM apart
CLICK_SECONDS = 20.0  # length of the click tracks: many beats, even at the slowest tempo


def click_track(tempo: float, frames: int) -> np.ndarray:
    """One band's level: 1 at the frame nearest each beat of ``tempo`` BPM, 0 elsewhere."""
    period = FRAME_RATE_HZ * 60 / tempo
    track = np.zeros(frames)
    track[np.round(np.arange(0, frames - 1, period)).astype(int)] = 1
    return track


def click_response(kernel: np.ndarray, tempi: np.ndarray = TEMPO_GRID_BPM) -> np.ndarray:
    """The largest value of K ⋆ x (no bias) over a click track x at each tempo in ``tempi``,
    counting only frames where the whole kernel lies on the track."""
    k = np.asarray(kernel, dtype=np.float64).reshape(-1)
    frames = int(CLICK_SECONDS * FRAME_RATE_HZ)
    return np.array([np.correlate(click_track(t, frames), k, mode="valid").max() for t in tempi])


@dataclass(frozen=True)
class Modulation:
    """What one 1-D kernel passes: where its frequency response peaks, its gain at 0 Hz, and
    how it answers click tracks across :data:`TEMPO_RANGE_BPM`."""

    name: str
    group: str
    norm: float
    peak_hz: float
    peak_gain: float
    dc_gain: float
    best_tempo: float  # BPM of the click track with the largest response
    best_response: float
    worst_response: float  # the smallest of those largest responses over the tempo range

    @property
    def peak_bpm(self) -> float:
        return float(bpm(self.peak_hz))

    @property
    def band(self) -> str:
        """'below', 'within' or 'above' the tempo range :data:`TEMPO_RANGE_BPM`."""
        low, high = TEMPO_RANGE_BPM
        return "below" if self.peak_bpm < low else "above" if self.peak_bpm > high else "within"

    @property
    def tempo_tuned(self) -> bool:
        """Whether the click response at the worst tempo is at most half that at the best one."""
        return self.best_response > 0 and self.worst_response <= self.best_response / 2


def modulation(unit: Unit) -> Modulation:
    """The peak of a 1-D unit's frequency response, its gain at 0 Hz, and its click responses."""
    freqs, gain = frequency_response(unit.kernel)
    peak = int(np.argmax(gain))
    clicks = click_response(unit.kernel)
    return Modulation(unit.name, unit.group.name, unit.norm, float(freqs[peak]), float(gain[peak]),
                      float(gain[0]), float(TEMPO_GRID_BPM[np.argmax(clicks)]), float(clicks.max()),
                      float(clicks.min()))


def nontrivial_1d(model: Model, threshold: float = NORM_THRESHOLD) -> list[Unit]:
    """The 1-D units that :func:`musicnn_nb.facts.units.nontrivial_units` keeps, largest norm first
    within each group (:func:`musicnn_nb.facts.units.ranked_units`), groups in row order."""
    return [u for g in one_d_groups() for u in ranked_units(model, g, threshold=threshold)]


def modulations(model: Model, threshold: float = NORM_THRESHOLD) -> tuple[Modulation, ...]:
    """:func:`modulation` of every non-trivial 1-D unit, in the order of :func:`nontrivial_1d`
    (kept on the model: the chapter asks for them several times)."""
    return model.derived(("temporal.modulations", threshold),
                         lambda: tuple(modulation(u) for u in nontrivial_1d(model, threshold)))


def nontrivial_counts(model: Model, threshold: float = NORM_THRESHOLD) -> list[GroupCount]:
    """:func:`musicnn_nb.facts.units.nontrivial_in_group` of each 1-D group: kernel Frobenius norm
    above ``threshold``."""
    return [nontrivial_in_group(model, g, threshold) for g in one_d_groups()]


def tempo_counts(model: Model, threshold: float = NORM_THRESHOLD) -> dict[str, list[GroupCount]]:
    """Non-trivial 1-D units of each group whose response peaks below, within or above
    :data:`TEMPO_RANGE_BPM`, keyed by 'below', 'within', 'above'."""
    low, high = TEMPO_RANGE_BPM
    words = {"below": f"peak below {low:g} BPM", "within": f"peak within {low:g}–{high:g} BPM",
             "above": f"peak above {high:g} BPM"}
    peaks = modulations(model, threshold)
    rows = {m.name: model.unit(m.name).index for m in peaks}
    return {band: [group_count(model, g, f"kernel Frobenius norm > {threshold:g}, {words[band]}",
                               [rows[m.name] for m in peaks if m.band == band])
                   for g in one_d_groups()]
            for band in words}


def lowpass_counts(model: Model, threshold: float = NORM_THRESHOLD) -> list[GroupCount]:
    """Non-trivial 1-D units of each group that pass 0 Hz (a constant level) within 3 dB of their
    peak gain: |H(0)| ≥ |H(peak)| / √2."""
    rows = [model.unit(m.name).index for m in modulations(model, threshold)
            if m.dc_gain >= m.peak_gain / np.sqrt(2)]
    return [group_count(model, g, f"kernel Frobenius norm > {threshold:g}, |H(0)| ≥ |H(peak)|/√2", rows)
            for g in one_d_groups()]


def tuned_counts(model: Model, threshold: float = NORM_THRESHOLD) -> list[GroupCount]:
    """Non-trivial 1-D units of each group whose click-track response at the worst tempo of
    :data:`TEMPO_RANGE_BPM` is at most half that at the best (:attr:`Modulation.tempo_tuned`)."""
    low, high = TEMPO_RANGE_BPM
    rows = [model.unit(m.name).index for m in modulations(model, threshold) if m.tempo_tuned]
    return [group_count(model, g, f"kernel Frobenius norm > {threshold:g}, click response over "
                        f"{low:g}–{high:g} BPM varies at least twofold", rows)
            for g in one_d_groups()]


def largest_norm_unit(model: Model, group: Group | None = None) -> str:
    """Name of the 1-D unit (of ``group``, or of all three 1-D groups) with the largest kernel
    norm: the explorer's default (:func:`musicnn_nb.facts.units.explorer_unit`)."""
    return explorer_unit(model, one_d_groups() if group is None else (group,))


def tempo_bpm(analysis: Analysis) -> float:
    """The recording's tempo in BPM, estimated by librosa from onset strength on 16-ms frames."""
    import librosa

    envelope = librosa.onset.onset_strength(y=analysis.audio.samples, sr=SAMPLE_RATE, hop_length=HOP)
    return float(librosa.feature.tempo(onset_envelope=envelope, sr=SAMPLE_RATE, hop_length=HOP)[0])


def music_modulation(analysis: Analysis, n_fft: int = N_FFT) -> tuple[np.ndarray, np.ndarray]:
    """(Hz, spectrum): the modulation spectrum of the recording's M̂_dB.

    Each mel band's M̂_dB over all segments, joined end to end, minus its mean, Hann-windowed;
    the DFT magnitudes averaged over bands.
    """
    m = np.concatenate(list(analysis.M_hat), axis=1).astype(np.float64)
    m = (m - m.mean(axis=1, keepdims=True)) * np.hanning(m.shape[1])
    n = max(n_fft, m.shape[1])
    return np.fft.rfftfreq(n, FRAME_SECONDS), np.abs(np.fft.rfft(m, n=n, axis=1)).mean(axis=0)


def correlate_band(kernel: np.ndarray, m_hat: np.ndarray, bias: float) -> np.ndarray:
    """K ⋆ M̂_dB + b computed band by band from its formula with "same" zero padding.

    ``kernel`` has shape (1, frames), ``m_hat`` (bands, time); the result is (bands, time).
    """
    k = np.asarray(kernel, dtype=np.float64).reshape(-1)
    before = (k.size - 1) // 2
    padded = np.pad(np.asarray(m_hat, dtype=np.float64), ((0, 0), (before, k.size - 1 - before)))
    return np.stack([np.correlate(row, k, mode="valid") for row in padded]) + bias


def convolution_check(analysis: Analysis, names: Sequence[str], segment: int) -> str:
    """Markdown: the largest difference between :func:`correlate_band` and the network's
    pre-activation for each unit, on one segment."""
    lines = ["| unit | padding before / after (frames) | largest \\|difference\\| | largest \\|K ⋆ M̂_dB + b\\| |",
             "|---|---|---|---|"]
    for name in names:
        unit = analysis.model.unit(name)
        network = analysis.unit_maps(name, segment).pre_activation
        formula = correlate_band(unit.kernel, analysis.M_hat[segment], unit.bias)
        before, after = same_padding(unit.group)
        lines.append(f"| `{name}` | {before} / {after} | {np.abs(formula - network).max():.2g} | "
                     f"{np.abs(network).max():.3g} |")
    return "\n".join(lines)


def busiest_band(analysis: Analysis, segment: int) -> int:
    """The mel band whose M̂_dB varies most over the segment (largest standard deviation over time)."""
    return int(np.argmax(analysis.M_hat[segment].std(axis=1)))


# -- tables ------------------------------------------------------------------------------

def rates_summary() -> str:
    """Markdown: the frame rate, the modulation range it allows, in Hz and BPM, and the time
    span of each 1-D kernel."""
    spans = ", ".join(f"{g.name} spans {g.frames * FRAME_SECONDS:.3f} s" for g in one_d_groups())
    return (f"A frame every {FRAME_SECONDS * 1000:g} ms is a frame rate of {FRAME_RATE_HZ:g} Hz, so a "
            f"sequence of frames can carry modulations from 0 up to {NYQUIST_HZ:g} Hz, that is, from 0 to "
            f"{bpm(NYQUIST_HZ):,.0f} beats per minute (BPM = Hz × 60). Kernel by kernel: {spans}.")


def click_summary() -> str:
    """Markdown: how the click tracks of :func:`click_response` are made."""
    low, high = TEMPO_RANGE_BPM
    step = TEMPO_GRID_BPM[1] - TEMPO_GRID_BPM[0]
    return (f"Click tracks: {TEMPO_GRID_BPM.size} tempi from {low:g} to {high:g} BPM, {step:g} BPM apart "
            f"(beats every {60 / high:.3f}–{60 / low:.3f} s, i.e. every {FRAME_RATE_HZ * 60 / high:.1f}–"
            f"{FRAME_RATE_HZ * 60 / low:.1f} frames, rounded to the nearest frame), each {CLICK_SECONDS:g} s long.")


def groups_table(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Markdown: each 1-D group's span, padding, frequency resolution and non-trivial count."""
    names = [m.name for m in models]
    head = ("| group | rows of U | kernel span | \"same\" padding before / after | frames with the whole "
            "kernel inside the segment | frequency resolution (1 / span) | "
            + " | ".join(f"non-trivial, {n}" for n in names) + " |")
    lines = [head, "|" + "---|" * (6 + len(names))]
    counts = [nontrivial_counts(m, threshold) for m in models]
    for i, g in enumerate(one_d_groups()):
        span = g.frames * FRAME_SECONDS
        before, after = same_padding(g)
        lines.append(f"| {g.name} | {g.first_row}–{g.stop_row - 1} | {g.frames} frames = {span:.3f} s | "
                     f"{before} / {after} | {SEGMENT_FRAMES - g.frames + 1} of {SEGMENT_FRAMES} | "
                     f"{1 / span:.3f} Hz = {bpm(1 / span):.1f} BPM | "
                     + " | ".join(f"{c[i].count} of {c[i].total}" for c in counts) + " |")
    lines.append(f"| all 1-D | {one_d_groups()[0].first_row}–{one_d_groups()[-1].stop_row - 1} | | | | | "
                 + " | ".join(f"{sum(x.count for x in c)} of {sum(x.total for x in c)}" for c in counts) + " |")
    return "\n".join(lines) + f"\n\nNon-trivial: {counts[0][0].criterion}."


def peaks_table(peaks: Sequence[Modulation]) -> str:
    """Markdown: one row per 1-D unit with its norm, the peak of |H| in Hz and BPM, its gain at
    0 Hz relative to the peak, and its click-track tempo tuning."""
    lines = ["| unit | ‖K‖_F | peak of \\|H\\| (Hz) | peak (BPM) | peak vs tempo range | \\|H(0)\\| / \\|H(peak)\\| "
             "| best click tempo (BPM) | worst / best click response |", "|---|---|---|---|---|---|---|---|"]
    for m in peaks:
        ratio = f"{m.worst_response / m.best_response:.2f}" if m.best_response > 0 else "no positive response"
        lines.append(f"| `{m.name}` | {m.norm:.3f} | {m.peak_hz:.2f} | {m.peak_bpm:.0f} | {m.band} | "
                     f"{m.dc_gain / m.peak_gain:.2f} | {m.best_tempo:.0f} | {ratio} |")
    return "\n".join(lines)


def tempo_table(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Markdown: per group and model, how many non-trivial 1-D kernels peak below, within and
    above :data:`TEMPO_RANGE_BPM`, how many pass 0 Hz (:func:`lowpass_counts`), and how many are
    tuned to tempo (:func:`tuned_counts`)."""
    low, high = TEMPO_RANGE_BPM
    lines = [f"| model | group | non-trivial | peak below {low:g} BPM | peak within {low:g}–{high:g} BPM | "
             f"peak above {high:g} BPM | passes 0 Hz within 3 dB of its peak | click response varies "
             f"≥ 2× over {low:g}–{high:g} BPM |", "|---|---|---|---|---|---|---|---|"]
    for model in models:
        by_band = tempo_counts(model, threshold)
        lowpass, tuned = lowpass_counts(model, threshold), tuned_counts(model, threshold)
        for i, g in enumerate(one_d_groups()):
            cells = [by_band[b][i].count for b in ("below", "within", "above")]
            lines.append(f"| {model.name} | {g.name} | {sum(cells)} | " + " | ".join(map(str, cells))
                         + f" | {lowpass[i].count} | {tuned[i].count} |")
    return "\n".join(lines)


def tempo_summary(models: Sequence[Model], analysis: Analysis, threshold: float = NORM_THRESHOLD) -> str:
    """Markdown: the recording's tempo and beat rate, and for each model the count of
    non-trivial 1-D kernels whose |H| peaks in the tempo range."""
    tempo = tempo_bpm(analysis)
    low, high = TEMPO_RANGE_BPM
    parts = []
    for model in models:
        within = sum(c.count for c in tempo_counts(model, threshold)["within"])
        total = sum(c.count for c in nontrivial_counts(model, threshold))
        parts.append(f"{model.name}: {within} of its {total} non-trivial 1-D kernels")
    return (f"librosa estimates the tempo of `{analysis.path.name}` at **{tempo:.1f} BPM**: a beat every "
            f"{60 / tempo:.3f} s, a modulation of {tempo / 60:.3f} Hz. Kernels whose |H| peaks between "
            f"{low:g} and {high:g} BPM ({low / 60:.3f}–{high / 60:.2f} Hz): " + "; ".join(parts) + ".")


def tuning_summary(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> str:
    """Markdown list: for each model, how many non-trivial 1-D kernels are tuned to tempo, and
    the most sharply tuned one: the smallest ratio of its worst to its best click response (the
    measure the tuning criterion itself uses)."""
    low, high = TEMPO_RANGE_BPM
    lines = []
    for model in models:
        tuned = [m for m in modulations(model, threshold) if m.tempo_tuned]
        counts = tuned_counts(model, threshold)
        text = (f"- {model.name}: {len(tuned)} of {sum(c.count for c in nontrivial_counts(model, threshold))} "
                f"non-trivial 1-D kernels ({', '.join(f'{c.count} of {c.group.name}' for c in counts)}) "
                f"answer click tracks at least twice as strongly at their best tempo as at their worst "
                f"between {low:g} and {high:g} BPM")
        tuned = [m for m in tuned if m.best_response > 0]
        if tuned:
            best = min(tuned, key=lambda m: m.worst_response / m.best_response)
            text += (f"; the most sharply tuned, by that ratio, is `{best.name}`, best at "
                     f"{best.best_tempo:.0f} BPM (a beat every {60 / best.best_tempo:.3f} s) and worst at "
                     f"{best.worst_response / best.best_response:.2f} times that response")
        lines.append(text + ".")
    return "\n".join(lines)


# -- figures -----------------------------------------------------------------------------

def _mark_groups(ax: Axes) -> None:
    """Dotted lines between the 1-D groups on a unit-index axis, with the groups' names."""
    for g in one_d_groups():
        ax.axvline(g.first_row - 0.5, color="gray", linestyle=":", linewidth=0.8)
        ax.text(g.first_row + g.size / 2, 1.0, g.name, transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontsize=9)
    ax.set_xlim(one_d_groups()[0].first_row - 1, one_d_groups()[-1].stop_row)


def norms_figure(models: Sequence[Model], threshold: float = NORM_THRESHOLD, ax: Axes | None = None):
    """Frobenius norms of the 153 1-D kernels (rows 408-560 of U) for each model, log scale."""
    groups = one_d_groups()
    start, stop = groups[0].first_row, groups[-1].stop_row
    fig, ax, handles = plots.norms({m.name: m.norms("cnn1")[start:stop] for m in models}, ax,
                                   threshold=threshold, first_row=start)
    ax.set_title("Frobenius norm of each 1-D kernel (zero norms drawn at 1e-12)", pad=16)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.005, 1.0))
    _mark_groups(ax)
    return fig, ax, handles


def sensitivity_figure(models: Sequence[Model], threshold: float = NORM_THRESHOLD) -> Figure:
    """Per 1-D group: how many kernels pass the norm threshold as it varies, one line per model."""
    fig, axes = plt.subplots(1, 3, figsize=plots.column_size(12, 3.2), layout="constrained", sharey=True)
    for ax, g in zip(axes, one_d_groups()):
        plots.sensitivity({m.name: group_sensitivity(m, g) for m in models}, ax, total=g.size, threshold=threshold,
                          title=f"{g.name} kernels")
    return fig


def gallery(model: Model, threshold: float = NORM_THRESHOLD, columns: int = 8) -> Figure:
    """Every non-trivial 1-D kernel as an impulse response, ordered by decreasing norm within
    each group (one row of panels per group, wrapping), on one weight axis per group."""
    units = nontrivial_1d(model, threshold)
    by_group = [[u for u in units if u.group == g] for g in one_d_groups()]
    rows = sum(-(-len(members) // columns) for members in by_group)
    fig, axes = plt.subplots(rows, columns, figsize=(1.9 * columns, 1.7 * rows + 0.4), layout="constrained",
                             squeeze=False)
    row = 0
    for members in by_group:
        limit = max((np.abs(u.kernel).max() for u in members), default=1.0) * 1.05
        for k, unit in enumerate(members):
            ax = axes[row + k // columns, k % columns]
            plots.kernel(unit.kernel, unit.group.frames, ax, title=f"{unit.index} ({unit.group.name}), {unit.norm:.2f}")
            ax.title.set_fontsize(8)
            ax.set_ylim(-limit, limit)
            ax.tick_params(labelsize="small")
            ax.set_xlabel("time lag (s)" if k + columns >= len(members) else "", fontsize="small")
            ax.set_ylabel("weight" if k % columns == 0 else "", fontsize="small")
            if k % columns:
                ax.tick_params(labelleft=False)
        for k in range(len(members), -(-len(members) // columns) * columns):
            axes[row + k // columns, k % columns].axis("off")
        row += -(-len(members) // columns)
    fig.suptitle(f"{model.name}: the {len(units)} non-trivial 1-D kernels (unit, group, ‖K‖_F), "
                 "by decreasing norm within each group")
    return fig


def _bpm_axis(ax: Axes) -> Axes:
    top = ax.secondary_xaxis("top", functions=(bpm, lambda b: b / 60))
    top.set_xlabel("modulation (beats per minute)")
    return top


def _unit_rows(ax: Axes, units: Sequence[Unit], x: np.ndarray, values: np.ndarray, *, colorbar_label: str):
    """One row per unit (first unit at the bottom) of ``values`` divided by the row's largest
    absolute value, over ``x``, on a [0, 1] scale (negative values in grey), with a dot at each
    row's maximum. Every row has a tick; when the rows are too close for readable labels, every
    :func:`~musicnn_nb.present.plots.label_step`-th is labelled."""
    scale = np.maximum(np.abs(values).max(axis=1, keepdims=True), np.finfo(float).tiny) if len(units) else 1.0
    step = (x[1] - x[0]) / 2
    cmap = plt.get_cmap(plots.SEQUENTIAL).with_extremes(under="lightgray")
    image = ax.imshow(values / scale, origin="lower", aspect="auto", cmap=cmap, vmin=0, vmax=1,
                      interpolation="nearest", extent=(x[0] - step, x[-1] + step, -0.5, len(units) - 0.5))
    peaks = ax.plot(x[np.argmax(values, axis=1)], np.arange(len(units)), "o", color="cyan", markersize=3,
                    label="largest")
    step = plots.label_step(ax, len(units))
    ax.set_yticks(range(len(units)))
    ax.set_yticklabels([str(u.index) if i % step == 0 else "" for i, u in enumerate(units)], fontsize="small")
    ax.set_ylabel("unit")
    bar = ax.figure.colorbar(image, ax=ax, pad=0.01, extend="min" if (values < 0).any() else "neither")
    bar.set_label(colorbar_label, fontsize="small")
    return image, bar, peaks


def _group_units(model: Model, group: Group, threshold: float) -> list[Unit]:
    """Non-trivial units of ``group`` ordered for an image: smallest norm at the bottom."""
    return [u for u in nontrivial_1d(model, threshold) if u.group == group][::-1]


def modulation_image(model: Model, group: Group, ax: Axes | None = None, *, tempo: float | None = None,
                     threshold: float = NORM_THRESHOLD):
    """|H(ν)| of each non-trivial kernel of ``group`` (rows, largest norm on top), each row
    divided by its maximum, over modulation frequency; dots mark the peaks, the dashed line
    the beat rate of ``tempo`` (BPM)."""
    fig, ax = plots.figure_axes(ax, (9, 3))
    units = _group_units(model, group, threshold)
    freqs = np.fft.rfftfreq(N_FFT, FRAME_SECONDS)
    gains = np.array([frequency_response(u.kernel)[1] for u in units]).reshape(len(units), freqs.size)
    image, bar, peaks = _unit_rows(ax, units, freqs, gains, colorbar_label="|H| / max |H|")
    ax.set(xlabel="modulation frequency (Hz)", title=f"{model.name}, {group.name}")
    if tempo is not None:
        ax.axvline(tempo / 60, color="white", linestyle="--", linewidth=1, label=f"tempo {tempo:.0f} BPM")
    _bpm_axis(ax)
    return fig, ax, image, bar, peaks


def tempo_image(model: Model, group: Group, ax: Axes | None = None, *, tempo: float | None = None,
                threshold: float = NORM_THRESHOLD):
    """:func:`click_response` of each non-trivial kernel of ``group`` over the tempo range
    (rows, largest norm on top), each row divided by its largest absolute value (negative
    responses grey); dots mark the best tempo, the dashed line ``tempo`` (BPM)."""
    fig, ax = plots.figure_axes(ax, (6, 3))
    units = _group_units(model, group, threshold)
    responses = np.array([click_response(u.kernel) for u in units]).reshape(len(units), TEMPO_GRID_BPM.size)
    image, bar, peaks = _unit_rows(ax, units, TEMPO_GRID_BPM, responses,
                                   colorbar_label="response / largest |response|")
    ax.set(xlabel="click-track tempo (BPM)", title=f"{model.name}, {group.name}")
    if tempo is not None:
        ax.axvline(tempo, color="white", linestyle="--", linewidth=1, label=f"tempo {tempo:.0f} BPM")
    return fig, ax, image, bar, peaks


def _heights(models: Sequence[Model], threshold: float) -> list[int]:
    counts = np.array([[c.count for c in nontrivial_counts(m, threshold)] for m in models])
    return [int(max(c, 2)) + 5 for c in counts.max(axis=0)]


def modulation_figure(model: Model, tempo: float | None = None, threshold: float = NORM_THRESHOLD) -> Figure:
    """:func:`modulation_image` for the three 1-D groups, panel heights following unit counts."""
    heights = _heights([model], threshold)
    fig, axes = plt.subplots(3, 1, figsize=plots.column_size(10, 0.12 * sum(heights) + 2.5), layout="constrained",
                             height_ratios=heights)
    for ax, g in zip(axes, one_d_groups()):
        modulation_image(model, g, ax, tempo=tempo, threshold=threshold)
    axes[0].legend(loc="upper right", fontsize="small", facecolor="lightgray")
    fig.suptitle(f"{model.name}: magnitude response of each non-trivial 1-D kernel over modulation frequency")
    return fig


def tempo_figure(models: Sequence[Model], tempo: float | None = None, threshold: float = NORM_THRESHOLD) -> Figure:
    """:func:`tempo_image` for the three 1-D groups (rows) of each model (columns)."""
    heights = _heights(models, threshold)
    fig, axes = plt.subplots(3, len(models), figsize=plots.column_size(6 * len(models), 0.12 * sum(heights) + 2.5),
                             layout="constrained", height_ratios=heights, squeeze=False)
    for column, model in enumerate(models):
        for ax, g in zip(axes[:, column], one_d_groups()):
            tempo_image(model, g, ax, tempo=tempo, threshold=threshold)
    axes[0, 0].legend(loc="upper right", fontsize="small", facecolor="lightgray")
    fig.suptitle("largest response of each non-trivial 1-D kernel to a click track, by tempo")
    return fig


def responses_figure(model: Model, names: Sequence[str], analysis: Analysis | None = None) -> Figure:
    """For each named 1-D unit: its impulse response, |H(ν)| in Hz and BPM, and its click-track
    response over the tempo range.

    With ``analysis``, a last row shows the recording's modulation spectrum
    (:func:`music_modulation`), and its tempo (:func:`tempo_bpm`) is marked.
    """
    rows = len(names) + (analysis is not None)
    fig, axes = plt.subplots(rows, 3, figsize=plots.column_size(14, 2.5 * rows + 0.3), layout="constrained",
                             width_ratios=(1, 1.5, 1), squeeze=False)
    tempo = tempo_bpm(analysis) if analysis is not None else None
    for (left, middle, right), name in zip(axes, names):
        unit = model.unit(name)
        plots.kernel(unit.kernel, unit.group.frames, left, title=f"{unit.name}:\nimpulse response")
        freqs, gain = frequency_response(unit.kernel)
        peak = modulation(unit)
        middle.plot(freqs, gain, linewidth=1)
        middle.plot(peak.peak_hz, peak.peak_gain, "o", color="tab:red",
                    label=f"peak {peak.peak_hz:.2f} Hz = {peak.peak_bpm:.0f} BPM")
        middle.set(xlabel="modulation frequency (Hz)", ylabel="|H|", xlim=(0, NYQUIST_HZ), ylim=(0, None),
                   title="magnitude\nresponse")
        middle.legend(fontsize="small", loc="lower right")
        _bpm_axis(middle)
        right.plot(TEMPO_GRID_BPM, click_response(unit.kernel), linewidth=1)
        right.plot(peak.best_tempo, peak.best_response, "o", color="tab:red", label=f"best {peak.best_tempo:.0f} BPM")
        if tempo is not None:
            right.axvline(tempo, color="tab:green", linestyle="--", label=f"this audio: {tempo:.0f} BPM")
        right.set(xlabel="click-track tempo (BPM)", ylabel="largest output", title="response to\na click track")
        right.legend(fontsize="small", loc="lower right")
    if analysis is not None:
        left, middle, right = axes[-1]
        left.axis("off")
        right.axis("off")
        freqs, spectrum = music_modulation(analysis)
        middle.plot(freqs, spectrum, color="gray", linewidth=1)
        middle.axvline(tempo / 60, color="tab:green", linestyle="--", label=f"tempo estimate {tempo:.1f} BPM")
        middle.set(xlabel="modulation frequency (Hz)", ylabel="mean |DFT| over bands", xlim=(0, NYQUIST_HZ),
                   title=f"modulation spectrum of M̂_dB,\n{analysis.path.name} ({analysis.model.name})")
        middle.legend(fontsize="small", loc="upper right")
        _bpm_axis(middle)
    fig.suptitle(f"{model.name}: 1-D kernels as temporal filters")
    return fig


def filtered_maps_figure(analysis: Analysis, segment: int, names: Sequence[str]) -> Figure:
    """M̂_dB of one segment and, below it, K_i ⋆ M̂_dB + b_i of each named 1-D unit, over time
    and mel band; each map on its own symmetric diverging scale."""
    fig, axes = plt.subplots(len(names) + 1, 1, figsize=plots.column_size(10, 2.7 * (len(names) + 1)),
                             layout="constrained",
                             sharex=True)
    start = analysis.segment_start_s[segment]
    plots.spectrogram(analysis.M_hat[segment], axes[0], start_s=start, colorbar_label="normalised value",
                      title=f"M̂_dB, segment {segment} ({analysis.model.name} input batch-norm)")
    for ax, name in zip(axes[1:], names):
        unit = analysis.model.unit(name)
        plots.matrix(analysis.unit_maps(name, segment).pre_activation, ax, start_s=start,
                     title=f"K ⋆ M̂_dB + b for {name} ({unit.group.frames} frames, b = {unit.bias:.3g})",
                     colorbar_label="pre-activation")
        plots.mel_axis(ax, n_ticks=4)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    return fig


def band_figure(analysis: Analysis, segment: int, names: Sequence[str], band: int) -> Figure:
    """One mel band: its M̂_dB over the segment (top) and each named unit's K ⋆ M̂_dB + b in
    that band, with the frames whose window reaches past the segment's edge shaded."""
    from musicnn_nb.model.spectrogram import mel_center_hz

    fig, axes = plt.subplots(len(names) + 1, 1, figsize=plots.column_size(10, 1.9 * (len(names) + 1)),
                             layout="constrained",
                             sharex=True)
    start = analysis.segment_start_s[segment]
    hz = mel_center_hz()[band]
    plots.series(analysis.M_hat[segment, band], axes[0], start_s=start, ylabel="M̂_dB",
                 title=f"mel band {band} ({hz:,.0f} Hz), segment {segment}")
    for ax, name in zip(axes[1:], names):
        unit = analysis.model.unit(name)
        plots.series(analysis.unit_maps(name, segment).pre_activation[band], ax, start_s=start,
                     ylabel="K ⋆ M̂_dB + b", title=f"{name} ({unit.group.frames} frames)")
        before, after = same_padding(unit.group)
        ax.axvspan(start - FRAME_SECONDS / 2, start + (before - 0.5) * FRAME_SECONDS, color="gray", alpha=0.15)
        ax.axvspan(start + (SEGMENT_FRAMES - after - 0.5) * FRAME_SECONDS,
                   start + (SEGMENT_FRAMES - 0.5) * FRAME_SECONDS, color="gray", alpha=0.15)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    return fig
