"""What every chapter opens with: where we are, which audio, which model, which segments.

Chapters call these so that the book states facts computed from the data it shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from IPython.display import Audio, Markdown, display

from musicnn_nb.model.audio import AUDIO_ENV, default_audio, shipped_example
from musicnn_nb.model.pipeline import Analysis, analyse
from musicnn_nb.model.spectrogram import FRAME_SECONDS, HOP, SAMPLE_RATE, SEGMENT_FRAMES
from musicnn_nb.present.plots import network_diagram

SERIES = "https://highnoongmt.wordpress.com"
KNOWN_PARTS = {9: "2022/11/18", 12: "2022/12/17"}  # publication dates whose address was checked


def part_url(part: int) -> str:
    """The address of part ``part`` of the series (a blog search where the date is unknown)."""
    if part in KNOWN_PARTS:
        return f"{SERIES}/{KNOWN_PARTS[part]}/digging-into-musicnn-pt-{part}/"
    return f"{SERIES}/?s=digging+into+musicnn+pt.+{part}"


PART_TOPICS = (
    "the MusiCNN system", "the architecture", "the input", "CNN_1: the one-dimensional convolutions",
    "CNN_1: the two-dimensional convolutions", "CNN_1: bias and activation", "CNN_1: normalisation",
    "CNN_1: from 561 maps to one time series", "the first stage together", "CNN_2 and its normalisation",
    "CNN_3, normalisation and the skip connection", "CNN_4, normalisation and W",
)


def series_links() -> None:
    """The twelve parts of the series with their topics, linked."""
    display(Markdown("\n".join(f"{i}. [Part {i}]({part_url(i)}): {topic}"
                                for i, topic in enumerate(PART_TOPICS, start=1))))


def credit(part: int) -> None:
    """One line crediting and linking the part of the series this chapter follows (past the
    twelve parts: that the series did not publish this stage)."""
    if part > len(PART_TOPICS):
        display(Markdown(f"*The [series]({SERIES}) stops at W and never published this stage: this chapter "
                         "is the book's own, computed from the pretrained weights.*"))
        return
    display(Markdown(f"*This chapter follows [part {part} of Bob L. T. Sturm's “Digging into MusiCNN”]"
                     f"({part_url(part)}); the text and every figure here are this book's own, "
                     "recomputed from the pretrained weights.*"))


def where_we_are(stage: str | Sequence[str]) -> None:
    """Draw the network with this chapter's stage highlighted."""
    fig, _, _ = network_diagram(stage)
    display(fig)
    plt.close(fig)


def running_example(model: str = "MSD") -> Analysis:
    """The book's audio (``$MUSICNN_NB_AUDIO`` or the shipped example) analysed by ``model``."""
    return analyse(default_audio(), model)


def source_sentence(analysis: Analysis) -> str:
    """Which recording this is, in one sentence, with where it comes from."""
    path = analysis.path
    if path.resolve() == shipped_example().resolve():
        origin = ("the book's default recording, a 30-s excerpt of “sixtyfour” from the Nexuiz "
                  "soundtrack (GPL-2+, see `musicnn_nb/data/README.md`), not the series' GTZAN "
                  f"“Disco Duck”; set `{AUDIO_ENV}` to rebuild the book on another file")
    else:
        origin = f"the file chosen with `{AUDIO_ENV}`"
    return f"`{path.name}` ({analysis.audio.duration:.1f} s): {origin}"


def about(analysis: Analysis, segments: Sequence[int], models: Sequence[str] | None = None) -> None:
    """State the file, model(s) and segments shown, and offer a player for those segments."""
    segments = [analysis.check_segment(s) for s in segments]
    starts = analysis.segment_start_s
    span = ", ".join(f"{s} ({starts[s]:.2f}–{starts[s] + SEGMENT_FRAMES * FRAME_SECONDS:.2f} s)" for s in segments)
    names = " and ".join(models or [analysis.model.name])
    display(Markdown(f"**Audio:** {source_sentence(analysis)}. **Model:** {names}. "
                     f"**Segment{'s' if len(segments) > 1 else ''}:** {span} of {analysis.n_segments}."))
    first = segments[0] * analysis.hop_frames * HOP
    last = segments[-1] * analysis.hop_frames * HOP + SEGMENT_FRAMES * HOP
    display(Audio(analysis.audio.samples[first:last], rate=SAMPLE_RATE))
