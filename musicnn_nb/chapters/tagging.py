"""Chapter 1, "The MusiCNN system": the two pretrained taggers from the outside.

What each model was trained on and how it scored (read from the files shipped with the
checkpoints), the two 50-tag vocabularies compared, taggrams and song-level top tags of
any analysed recording, and the external check against musicnn's README example. Tables
come back as :class:`Table` (shown as a Markdown table in a notebook), sentences with
numbers as :class:`IPython.display.Markdown`, figures as matplotlib figures.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown
from matplotlib.figure import Figure

from musicnn_nb.model.pipeline import Analysis, analyse
from musicnn_nb.model.spectrogram import FRAME_SECONDS, SEGMENT_FRAMES
from musicnn_nb.model.weights import MODELS as MODEL_FOLDERS
from musicnn_nb.model.weights import load_model, musicnn_folder
from musicnn_nb.present import plots

MODELS = ("MSD", "MTT")
DATASETS = {  # what each checkpoint was trained on (musicnn's DOCUMENTATION.md)
    "MSD": "Million Song Dataset, Last.fm tags",
    "MTT": "MagnaTagATune",
}
README_CLIP = "joram-moments_of_clarity-08-solipsism-59-88.mp3"
README_MTT_TOP10 = ("techno", "electronic", "synth", "fast", "beat", "drums", "no vocals",
                    "no vocal", "dance", "ambient")  # musicnn's README: top_tags(README_CLIP, 'MTT_musicnn', topN=10)
README_URL = "https://github.com/jordipons/musicnn#predict-tags"


@dataclass(frozen=True)
class Table:
    """A small table of formatted cells; a notebook shows it as a Markdown table."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: str = ""  # one letter per column, "l" or "r"; left when missing

    def column(self, name: str) -> list[str]:
        """The cells of the column headed ``name``."""
        i = self.header.index(name)
        return [row[i] for row in self.rows]

    def markdown(self) -> str:
        align = self.align.ljust(len(self.header), "l")
        rule = ["---:" if a == "r" else "---" for a in align]
        lines = [self.header, tuple(rule), *self.rows]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)

    def html(self) -> str:
        """The table as HTML (cells may use Markdown's **bold** and `code`)."""
        align = self.align.ljust(len(self.header), "l")

        def cells(row: tuple[str, ...], tag: str) -> str:
            return "".join(f'<{tag} style="text-align:{"right" if a == "r" else "left"}">{_inline_html(c)}</{tag}>'
                           for a, c in zip(align, row))

        body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in self.rows)
        return f'<table class="table"><thead><tr>{cells(self.header, "th")}</tr></thead><tbody>{body}</tbody></table>'

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.markdown()


def _inline_html(text: str) -> str:
    """Escape ``text`` for HTML, then turn Markdown's **bold** and `code` into tags."""
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


# -- the two models: data, scores, training ----------------------------------------------------

def result_file(model: str) -> Path:
    """The checkpoint's ``experiment.result``, where its test-set scores are written."""
    return load_model(model).folder / "experiment.result"


def result_label(model: str) -> str:
    """:func:`result_file` relative to the installed musicnn package (``musicnn/MSD_musicnn/...``),
    so that a page never shows a path of the machine that built it."""
    return result_file(model).relative_to(musicnn_folder().parent).as_posix()


def scores_table(models: Sequence[str] = MODELS) -> Table:
    """Chapter 1: training data and published test scores of each model, read from its files."""
    rows = []
    for name in models:
        m = load_model(name)
        scores = m.test_scores()
        rows.append((name, f"`{MODEL_FOLDERS[m.name][0]}`", DATASETS[m.name], f"{len(m.tags)}",
                     f"{scores['ROC-AUC']:.4f}", f"{scores['PR-AUC']:.4f}",
                     f"`{m.folder.name}/{result_file(name).name}`"))
    return Table(("model", "musicnn name", "training data", "tags", "ROC-AUC", "PR-AUC", "read from"),
                 tuple(rows), "lllrrrl")


def training_log(model: str) -> dict[str, np.ndarray]:
    """The columns of the checkpoint's ``train_log.tsv`` (epoch, costs, seconds, learning rate)."""
    lines = (load_model(model).folder / "train_log.tsv").read_text().split("\n")
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    epoch, train, val, seconds, rate = zip(*rows)
    return {"epoch": np.array(epoch, int), "train_cost": np.array(train, float),
            "val_cost": np.array(val, float), "seconds": np.array([s.rstrip("s") for s in seconds], float),
            "learning_rate": np.array(rate, float)}


def training_config(model: str) -> dict[str, object]:
    """Chapter 1: how a model was trained, from its ``config.json`` and ``train_log.tsv``."""
    config = json.loads((load_model(model).folder / "config.json").read_text())
    rep, log = config["audio_rep"], training_log(model)
    best = int(np.nanargmin(log["val_cost"]))
    return {
        "sample rate (Hz)": rep["resample_sr"],
        "STFT size / hop (samples)": f"{rep['n_fft']} / {rep['hop']}",
        "mel bands": rep["n_mels"],
        "frames per input": config["n_frames"],
        "seconds per input": config["n_frames"] * rep["hop"] / rep["resample_sr"],
        "optimiser, initial learning rate": f"{config['optimizer']}, {config['learning_rate']:g}",
        "batch size": config["batch_size"],
        "epochs logged": len(log["epoch"]),
        "lowest validation cost (epoch)": f"{log['val_cost'][best]:.4f} ({log['epoch'][best]})",
        "final learning rate": f"{log['learning_rate'][-1]:.3g}",
        "sum of logged epoch times (days)": round(float(log["seconds"].sum() / 86400), 1),
    }


def training_table(models: Sequence[str] = MODELS) -> Table:
    """Chapter 1: the training settings of the models side by side."""
    configs = [training_config(m) for m in models]

    def cell(value: object) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    rows = tuple((key, *(cell(c[key]) for c in configs)) for key in configs[0])
    return Table(("setting", *models), rows, "l" + "r" * len(models))


# -- the two vocabularies --------------------------------------------------------------------

def shared_tags(first: Sequence[str] | None = None, second: Sequence[str] | None = None) -> list[str]:
    """Tags of ``first`` (default MSD's) that ``second`` (default MTT's) also has, ignoring case.

    Returned as spelled in ``first``, in its order.
    """
    first = load_model("MSD").tags if first is None else first
    second = load_model("MTT").tags if second is None else second
    others = {t.casefold() for t in second}
    return [t for t in first if t.casefold() in others]


def plural_pairs(tags: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of tags in one vocabulary that differ only by a final "s" ("beat", "beats")."""
    folded = {t.casefold(): t for t in tags}
    return [(t, folded[t.casefold() + "s"]) for t in tags if t.casefold() + "s" in folded]


def vocabulary_table(models: Sequence[str] = MODELS) -> Table:
    """Chapter 1: the tag vocabularies side by side by output index; shared tags in bold."""
    vocabularies = [load_model(m).tags for m in models]
    everywhere = {t.casefold() for t in vocabularies[0]}
    for tags in vocabularies[1:]:
        everywhere &= {t.casefold() for t in tags}
    width = max(len(v) for v in vocabularies)

    def cell(tags: Sequence[str], i: int) -> str:
        if i >= len(tags):
            return ""
        return f"**{tags[i]}**" if tags[i].casefold() in everywhere else tags[i]

    rows = tuple((str(i), *(cell(v, i) for v in vocabularies)) for i in range(width))
    return Table(("output", *models), rows, "r")


def vocabulary_facts() -> Markdown:
    """Chapter 1: computed facts about the MSD and MTT vocabularies, as a paragraph."""
    msd, mtt = load_model("MSD").tags, load_model("MTT").tags
    shared = shared_tags(msd, mtt)
    exact = set(msd) & set(mtt)
    pairs = {name: plural_pairs(tags) for name, tags in (("MSD", msd), ("MTT", mtt))}
    pair_text = "; ".join(f"{name}: " + ", ".join(f"“{a}”/“{b}”" for a, b in p)
                          for name, p in pairs.items() if p)
    case_note = ("the same tags as an exact comparison" if len(exact) == len(shared)
                 else f"{len(shared) - len(exact)} more than an exact comparison")
    return Markdown(
        f"MSD has {len(msd)} tags and MTT {len(mtt)}. Compared without regard to case they share "
        f"{len(shared)}: {', '.join(f'*{t}*' for t in shared)} ({case_note}); "
        f"{len(msd) - len(shared)} MSD tags and {len(mtt) - len(shared)} MTT tags are their own. "
        f"Within one vocabulary some tags differ only by a final “s” ({pair_text}): the model "
        "learned a separate output for each, so such tags can rank next to each other.")


# -- taggrams and top tags --------------------------------------------------------------------



def taggrams(analyses: Sequence[Analysis], fig: Figure | None = None) -> Figure:
    """Chapter 1: one taggram (tags x segments) per analysis, side by side, on one [0, 1] scale."""
    fig = fig or plt.figure(figsize=plots.column_size(6 * len(analyses), 8.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(analyses)))
    for ax, a in zip(axes, analyses):
        plots.taggram(a.taggram, a.tags, a.segment_start_s, ax, title=f"{a.model.name}: {a.path.name}")
    return fig


def top_tags_bars(analyses: Sequence[Analysis], n: int = 10, fig: Figure | None = None) -> Figure:
    """Chapter 1: the song-level top ``n`` tags (mean weight over segments) of each analysis."""
    fig = fig or plt.figure(figsize=plots.column_size(4.6 * len(analyses), 0.3 * n + 1.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(analyses)))
    for ax, a in zip(axes, analyses):
        plots.top_tags(a.top_tags(n), ax, title=f"{a.model.name}: top {n} of {a.n_segments} segments")
    return fig


def tagging_facts(analyses: Sequence[Analysis], n: int = 10) -> Markdown:
    """Chapter 1: what the taggrams and top tags of the analyses say, in computed numbers."""
    sentences = []
    for a in analyses:
        (tag, mean), = a.top_tags(1)
        s, t = np.unravel_index(np.argmax(a.taggram), a.taggram.shape)
        sums = a.taggram.sum(axis=1)
        sentences.append(
            f"**{a.model.name}**: the largest mean weight over the {a.n_segments} segments is *{tag}* "
            f"({mean:.2f}); the largest single weight is *{a.tags[t]}* in segment {s} "
            f"({a.taggram[s, t]:.2f}); the {len(a.tags)} weights of a segment add up to between "
            f"{sums.min():.2f} and {sums.max():.2f}.")
    if len(analyses) == 2:
        tops = [[t for t, _ in a.top_tags(n)] for a in analyses]
        common = shared_tags(tops[0], tops[1])
        sentences.append(f"The two top-{n} lists have {len(common)} tags in common"
                         + (f": {', '.join(f'*{t}*' for t in common)}." if common else "."))
    return Markdown("\n\n".join(sentences))


# -- the external check: musicnn's README example ----------------------------------------------

def readme_clip() -> Path:
    """The clip of musicnn's README example, shipped with this project's tests."""
    path = Path(__file__).resolve().parents[2] / "tests" / "data" / README_CLIP
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: it ships in the project's tests/data folder "
                                "(a non-editable install of musicnn_nb does not include it).")
    return path


@dataclass(frozen=True)
class ReadmeCheck:
    """musicnn's documented top tags for its README clip next to the ones computed here."""

    path: Path
    documented: tuple[str, ...]
    computed: tuple[tuple[str, float], ...]

    @property
    def computed_tags(self) -> tuple[str, ...]:
        return tuple(t for t, _ in self.computed)

    @property
    def matches(self) -> bool:
        """True when the computed tags are the documented ones, in the same order."""
        return self.computed_tags == self.documented

    def __bool__(self) -> bool:
        return self.matches

    def table(self) -> Table:
        rows = []
        for rank, (doc, (tag, weight)) in enumerate(zip(self.documented, self.computed), 1):
            rows.append((str(rank), doc, tag, f"{weight:.4f}", "yes" if doc == tag else "**no**"))
        return Table(("rank", "musicnn README", "musicnn_nb", "mean weight", "same"), tuple(rows), "rllrl")

    def verdict(self) -> Markdown:
        """One computed sentence saying whether the lists agree."""
        same = sum(d == c for d, c in zip(self.documented, self.computed_tags))
        if self.matches:
            return Markdown(f"All {len(self.documented)} documented tags are reproduced, in the documented "
                            f"order, from `{self.path.name}` with the MTT model.")
        return Markdown(f"**Mismatch:** {same} of {len(self.documented)} ranks agree with the README.")


def readme_check(path: str | Path | None = None, model: str = "MTT") -> ReadmeCheck:
    """Chapter 1: run ``model`` on the README clip and compare with musicnn's documented top 10."""
    path = Path(path) if path is not None else readme_clip()
    a = analyse(path, model)
    return ReadmeCheck(path, README_MTT_TOP10, tuple(a.top_tags(len(README_MTT_TOP10))))


def run_cli(*args: str) -> str:
    """Run ``python -m musicnn_nb ARGS`` in a fresh process and return what it printed."""
    result = subprocess.run([sys.executable, "-m", "musicnn_nb", *map(str, args)],
                            capture_output=True, text=True)
    return result.stdout + result.stderr


def segment_seconds() -> float:
    """The length of one model input in seconds (187 frames of 16 ms)."""
    return SEGMENT_FRAMES * FRAME_SECONDS


__all__ = [
    "DATASETS",
    "MODELS",
    "README_CLIP",
    "README_MTT_TOP10",
    "README_URL",
    "ReadmeCheck",
    "Table",
    "plural_pairs",
    "readme_check",
    "readme_clip",
    "result_file",
    "run_cli",
    "scores_table",
    "segment_seconds",
    "shared_tags",
    "tagging_facts",
    "taggrams",
    "top_tags_bars",
    "training_config",
    "training_log",
    "training_table",
    "vocabulary_facts",
    "vocabulary_table",
]
