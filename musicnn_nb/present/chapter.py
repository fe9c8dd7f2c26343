"""What every chapter opens with: where we are, which audio, which model, which segments.

Chapters call these so that the book states facts computed from the data it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from musicnn_nb.model.audio import AUDIO_ENV, default_audio, shipped_example
from musicnn_nb.model.pipeline import Analysis, analyse
from musicnn_nb.model.spectrogram import FRAME_SECONDS, HOP, SEGMENT_FRAMES
from musicnn_nb.present.plots import network_diagram
from musicnn_nb.present.sound import player

SERIES = "https://highnoongmt.wordpress.com"
KNOWN_PARTS = {1: "2022/10/31", 9: "2022/11/18", 12: "2022/12/17"}  # publication dates whose address is known
SURVIVING = (9, 12)  # the parts whose opening text is known to survive
SERIES_PARTS = 12  # the series stops at W; the final stage was never published


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


def credit_text(part: int) -> str:
    """The credit line of the chapter for ``part``: which part of the series it follows, what
    survives of that part, and what the chapter reconstructs; past part 12, that the series did
    not cover the stage."""
    series = "Bob L. T. Sturm's “Digging into MusiCNN”"
    if part > SERIES_PARTS:
        return (f"*{series} ends with part {SERIES_PARTS} at W and did not cover this stage; this chapter goes "
                "past the series, and its text and figures are this book's own, computed from the pretrained "
                "weights.*")
    link = f"[part {part} of {series}]({part_url(part)})"
    if part in SURVIVING:
        known = ("the opening of that part survives, and this chapter checks its claims one by one against the "
                 "weights and this book's audio")
    else:
        known = ("that part's text is not known to survive, so this chapter reconstructs its topic from the "
                 "series' summaries, the musicnn code and the weights")
    return (f"*This chapter follows {link}: {known}. The text and every figure here are this book's own, "
            "recomputed from the pretrained weights.*")


def provenance_text() -> str:
    """What survives of the series and what the book reconstructs, for the introduction."""
    known = " and ".join(str(p) for p in SURVIVING)
    lost = [p for p in range(1, SERIES_PARTS + 1) if p not in SURVIVING]
    return (f"Of the series' text, only the openings of parts {known} are known to survive, so only the "
            f"chapters for those parts can set the series' own claims, one by one, next to the book's numbers. "
            f"The chapters for parts {_ranges(lost)} reconstruct their topics from the series' one-line "
            "summaries, the musicnn code and the weights: what they compute is this book's reading of "
            "the network, not a record of what the series said. Each chapter's first line says which kind it is.")


def _ranges(parts: Sequence[int]) -> str:
    """1, 2, 3, 5 → '1–3 and 5'."""
    runs: list[list[int]] = []
    for p in parts:
        if runs and p == runs[-1][-1] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    text = [item for r in runs for item in ([f"{r[0]}–{r[-1]}"] if len(r) > 2 else map(str, r))]
    return ", ".join(text[:-1]) + " and " + text[-1] if len(text) > 1 else text[0]


def credit(part: int) -> None:
    """Display :func:`credit_text` for ``part``."""
    display(Markdown(credit_text(part)))


def where_we_are(stage: str | Sequence[str]) -> None:
    """Draw the network with this chapter's stage highlighted."""
    fig, _, _ = network_diagram(stage)
    display(fig)
    plt.close(fig)


def running_example(model: str = "MSD") -> Analysis:
    """The book's audio (``$MUSICNN_NB_AUDIO`` or the shipped example) analysed by ``model``."""
    return analyse(default_audio(), model)


def second_recording() -> Path:
    """The book's second shipped recording: rock, to set beside the default's dance music."""
    return shipped_example().with_name("rock.flac")


def second_example(model: str = "MSD") -> Analysis:
    """The second recording analysed by ``model``."""
    return analyse(second_recording(), model)


def source_sentence(analysis: Analysis) -> str:
    """Which recording this is, in one sentence, with where it comes from."""
    path = analysis.path
    if path.resolve() == second_recording().resolve():
        return (f"`{path.name}` ({analysis.audio.duration:.1f} s): the book's second recording, a 30-s excerpt "
                "of the rock song “War of freedom” by Sectoid (MIT licence, see `musicnn_nb/data/README.md`)")
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
    display(player(analysis.audio.samples[first:last]))
