"""Chapter 14, "Units across a collection": the chapter's tables and sentences.

Facts come from :mod:`musicnn_nb.facts.collection`, the unit figure from
:mod:`musicnn_nb.explore.collection` and its explorer from :mod:`musicnn_nb.explore.widgets`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from IPython.display import Markdown, display

from musicnn_nb.facts.activity import ALWAYS_ON_SHARE, SERIES_UNITS, SPARSE_SHARE
from musicnn_nb.facts.collection import (
    Collection,
    classes_by_recording,
    classes_over,
    cnn4_share,
    varying_units,
)
from musicnn_nb.facts.units import nontrivial_units
from musicnn_nb.model.spectrogram import FRAME_SECONDS, SEGMENT_FRAMES
from musicnn_nb.model.weights import LAYERS, layer_size, load_model
from musicnn_nb.present.chapter import SERIES, where_we_are
from musicnn_nb.present.sound import player


def opener() -> None:
    """Where we are (every unit of CNN_1 to CNN_4) and where this chapter stands to the series."""
    where_we_are(["cnn1", "cnn2", "cnn3", "cnn4"])
    display(Markdown(f"*The series [“Digging into MusiCNN”]({SERIES}) by Bob L. T. Sturm looks at every unit on "
                     "one excerpt of one song and never goes further; this chapter is the book's own step past it, "
                     "with text and figures computed here from the pretrained weights and a collection of freely "
                     "licensed music.*"))


def summary_sentence(c: Collection) -> str:
    errors = c.store.errors()
    skipped = f"; {len(errors)} file(s) could not be read and are left out" if errors else ""
    return (f"The store holds {len(c.files):,} segments of {c.n_files} recordings for {c.model}"
            f" ({len(c.files) * SEGMENT_FRAMES * FRAME_SECONDS / 60:.0f} minutes of audio){skipped}.")


def credits_table(c: Collection) -> str:
    """Markdown: the recordings by package, licences, and the tag the model most often puts first."""
    if not c.credits:
        return f"The store's {c.n_files} recordings are the reader's own (no credits file beside them)."
    tags = load_model(c.model).tags
    rows = ["| package | recordings | licence | genre (package) | most frequent top tag (segments) |",
            "| --- | ---: | --- | --- | --- |"]
    for package in sorted({c.credits[f]["package"] for f in set(c.files) if f in c.credits}):
        files = [f for f, credit in c.credits.items() if credit["package"] == package]
        keep = np.isin(c.files, files)
        top = np.bincount(c.taggram[keep].argmax(axis=1), minlength=len(tags))
        licences = "; ".join(sorted({c.credits[f]["licence"] for f in files}))
        rows.append(f"| {package} | {len(set(c.files[keep]))} | {licences} | {c.credits[files[0]]['genre']} | "
                    f"{tags[top.argmax()]} ({top.max()} of {keep.sum()}) |")
    return "\n".join(rows)


def nontrivial_table(collections: Sequence[Collection]) -> str:
    """Markdown: per model and layer, units non-trivial by kernel norm against units that vary."""
    rows = ["| model | layer | non-trivial by kernel norm | vary on some segment | both | norm only | vary only |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for c in collections:
        varies, start = varying_units(c), 0
        for layer in LAYERS:
            size = layer_size(layer)
            by_norm = np.zeros(size, bool)
            by_norm[list(nontrivial_units(load_model(c.model), layer).rows)] = True
            v = varies[start : start + size]
            rows.append(f"| {c.model} | {layer} | {by_norm.sum()} | {v.sum()} | {(by_norm & v).sum()} | "
                        f"{(by_norm & ~v).sum()} | {(v & ~by_norm).sum()} |")
            start += size
    return "\n".join(rows)


def classes_criteria() -> str:
    """The classes of :func:`classes_over`, in words, from their thresholds."""
    return (f"**Classes:** silent, never open; sparse, open on fewer than {SPARSE_SHARE:.0%} of the frames but "
            f"on some; open on at least {ALWAYS_ON_SHARE:.0%} of the frames; other, everything else.")


def series_units_table(c: Collection) -> str:
    """Markdown: part 12's six units, their share of open frames over the collection, their class
    there, and how many recordings alone would put them in each class."""
    share = cnn4_share(c)
    _, labels = classes_by_recording(c)
    overall = classes_over(share.mean(axis=0))
    names = list(overall)
    rows = ["| series says | unit | open frames, whole collection | class, whole collection | "
            + " | ".join(f"recordings: {n}" for n in names) + " |",
            "| --- | ---: | ---: | --- |" + " ---: |" * len(names)]
    for said, units in SERIES_UNITS.items():
        for u in units:
            klass = next(n for n in names if overall[n][u])
            counts = " | ".join(str(int((labels[:, u] == n).sum())) for n in names)
            rows.append(f"| {said} | {u} | {share[:, u].mean():.0%} | {klass} | {counts} |")
    return "\n".join(rows)


def stability_sentence(c: Collection) -> str:
    """How many CNN_4 units keep one class on every recording."""
    files, labels = classes_by_recording(c)
    steady = sum(len(set(labels[:, u])) == 1 for u in range(labels.shape[1]))
    return (f"Of the 64 CNN_4 units of {c.model}, {steady} fall in the same class on every one of the "
            f"{len(files)} recordings; the other {labels.shape[1] - steady} change class with the music.")


def examples(c: Collection, unit: str, n: int = 3) -> None:
    """Captions and players for a unit's top ``n`` segments."""
    j = c.column(unit)
    for k, i in enumerate(c.top(unit, n)):
        display(Markdown(f"**#{k + 1}** {c.track(i)}: maximum {c.max[i, j]:.2f}, "
                         f"{c.argmax[i, j] * FRAME_SECONDS:.2f} s into the segment."))
        display(player(c.segment_audio(i)))
