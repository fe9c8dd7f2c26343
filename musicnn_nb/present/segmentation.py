"""How a recording is cut into 3-s segments: the numbers and the figure (chapter 2, and the
explorers that show the whole recording)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes

from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FRAME_SECONDS
from musicnn_nb.present import plots
from musicnn_nb.present.notation import tex


@dataclass(frozen=True)
class Segmentation:
    """How a recording is cut into the network's segments."""

    duration_s: float
    frames: int  # frames of the whole recording's M_dB
    frame_s: float
    segment_frames: int
    hop_frames: int
    n_segments: int
    starts_s: np.ndarray = field(repr=False)

    @property
    def segment_s(self) -> float:
        return self.segment_frames * self.frame_s

    @property
    def covered_frames(self) -> int:
        """Frames that fall in at least one segment."""
        if self.n_segments == 0:
            return 0
        return min(self.frames, (self.n_segments - 1) * self.hop_frames + self.segment_frames)

    @property
    def dropped_frames(self) -> int:
        """Trailing frames in no segment: musicnn drops a partial last segment."""
        return self.frames - self.covered_frames


def whole_spectrogram(analysis: Analysis) -> np.ndarray:
    """M_dB of the whole recording (96 × frames), computed once per analysis and kept on it
    (the segmentation view redraws it for every segment a reader picks)."""
    return analysis.derived("whole_spectrogram", analysis.spectrogram)


def segmentation(analysis: Analysis) -> Segmentation:
    """The segmentation of the analysed recording, from its whole spectrogram."""
    return Segmentation(analysis.audio.duration, whole_spectrogram(analysis).shape[1], FRAME_SECONDS,
                        analysis.M_dB.shape[2], analysis.hop_frames, analysis.n_segments,
                        analysis.segment_start_s)


def segmentation_figure(analysis: Analysis, highlight: int | None = None, ax: Axes | None = None,
                        vmin: float | None = None, vmax: float | None = None, cmap: str | None = None):
    """The whole recording's M_dB with every segment boundary (and one segment) marked."""
    whole = whole_spectrogram(analysis)
    handles = plots.spectrogram(whole, ax, vmin=vmin, vmax=vmax, cmap=cmap,
                                title=f"{tex('M_dB')} of {analysis.path.name}, cut into "
                                      f"{analysis.n_segments} segments")
    ax = handles[1]
    limits = ax.get_xlim()
    ax.set_title(ax.get_title(), pad=14)
    s = segmentation(analysis)
    plots.segment_bounds(ax, s.starts_s, s.segment_s, highlight)
    if s.dropped_frames:
        ax.axvspan(s.covered_frames * s.frame_s - s.frame_s / 2, s.frames * s.frame_s, color="white",
                   alpha=0.5, hatch="//", linewidth=0)
    for i, start in enumerate(s.starts_s):
        ax.text(start + s.segment_s / 2, 1.005, str(i), transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontsize="small", color="#0077aa" if i == highlight else "black",
                fontweight="bold" if i == highlight else "normal")
    ax.set_xlim(limits)  # the marks must not widen the time axis
    return handles
