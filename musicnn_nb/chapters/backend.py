"""The back end, from W to the tags (chapter 13, past the series).

The series never published its last stage. This chapter reads the back end from the
checkpoint (shapes and parameter counts), shows the interleaved pooling, counts the dead and
constant hidden units with their criterion, and splits every tag's logit exactly into
contributions of the rows of W (:mod:`musicnn_nb.facts.backend`): by row, by stage, back to
the frame of the segment that wins each row's maximum and to the unit that produced the row.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, display
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from musicnn_nb.facts import backend as fb
from musicnn_nb.facts.tags import segment_top_tags
from musicnn_nb.model.network import back_end_values
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FRAME_SECONDS, SAMPLE_RATE
from musicnn_nb.model.weights import BACK_END, HIDDEN, Model
from musicnn_nb.present import plots
from musicnn_nb.present.backend import row_contributions, row_series, stage_color, stage_label, stage_legend
from musicnn_nb.present.notation import tex
from musicnn_nb.present.sound import player

UNIT_CHAPTERS = {"cnn1": ("09_first_stage", 9), "cnn2": ("10_cnn2", 10), "cnn3": ("11_cnn3", 11),
                 "cnn4": ("12_cnn4_w", 12)}  # the chapter whose explorer shows a unit of each layer
MOMENT_S = 1.0  # seconds of audio played around a winning frame
SMALL = 1e-3  # a row contributing less than this to a logit (in size) is not counted as pushing it

# An editorial grouping of the two vocabularies (the kinds are this book's, not the datasets').
TAG_KINDS = {
    "MTT": {
        "genre": ("classical", "techno", "electronic", "rock", "indian", "opera", "pop", "new age", "dance",
                  "metal", "country", "ambient", "classic"),
        "instrument": ("guitar", "strings", "drums", "piano", "violin", "synth", "harpsichord", "flute", "sitar",
                       "harp", "cello", "beat", "beats"),
        "voice": ("vocal", "female", "male", "singing", "vocals", "woman", "male vocal", "man", "choir", "voice",
                  "male voice", "female vocal", "female voice", "choral"),
        "no voice": ("no vocals", "no vocal", "no voice"),
        "tempo, loudness, other": ("slow", "fast", "loud", "quiet", "soft", "solo", "weird"),
    },
    "MSD": {
        "genre": ("rock", "pop", "alternative", "indie", "electronic", "dance", "alternative rock", "jazz", "metal",
                  "classic rock", "soul", "indie rock", "electronica", "folk", "punk", "blues", "hard rock",
                  "ambient", "experimental", "Hip-Hop", "country", "funk", "electro", "heavy metal",
                  "Progressive rock", "rnb", "indie pop", "House"),
        "instrument": ("guitar", "acoustic"),
        "voice": ("female vocalists", "male vocalists", "female vocalist"),
        "no voice": ("instrumental",),
        "era": ("00s", "80s", "90s", "70s", "60s", "oldies"),
        "mood, other": ("beautiful", "chillout", "Mellow", "chill", "easy listening", "sexy", "catchy", "party",
                        "sad", "happy"),
    },
}


def stage_md(stage: fb.Stage) -> str:
    """A stage's name in Markdown: its kernel group for CNN_1, the block's symbol in TeX otherwise."""
    return stage.label if stage.key.startswith("cnn1/") else tex(stage.key)


def tag_kinds(model: Model) -> dict[str, tuple[str, ...]]:
    """The model's tags by kind (:data:`TAG_KINDS`); every tag is in exactly one kind."""
    kinds = TAG_KINDS[model.name]
    listed = [t for tags in kinds.values() for t in tags]
    if sorted(listed) != sorted(model.tags):
        raise ValueError(f"TAG_KINDS[{model.name!r}] does not list each of the model's tags once")
    return kinds


# ---------------------------------------------------------------------------------------
# The stage itself
# ---------------------------------------------------------------------------------------

def shapes_table(models: Sequence[Model]) -> str:
    """Every back-end layer with its checkpoint scope, shapes and parameter counts, read from the
    checkpoint of each model."""
    lines = ["| step | checkpoint scope | stored arrays (" + " / ".join(m.name for m in models)
             + ") | trained parameters | running statistics |", "|---|---|---|---:|---:|"]
    totals = [0, 0]
    for layer in BACK_END:
        shapes, counts = [], []
        for m in models:
            if layer.kind == "dense":
                arrays = dict(zip(("kernel", "bias"), m.dense(layer.scope)))
                trained, running = sum(a.size for a in arrays.values()), 0
            else:
                bn = m.batch_norm(layer.scope)
                arrays = {"γ": bn.gamma, "β": bn.beta, "μ": bn.mean, "σ²": bn.variance}
                trained, running = bn.gamma.size + bn.beta.size, bn.mean.size + bn.variance.size
            shapes.append(", ".join(f"{k} {'×'.join(map(str, a.shape))}" for k, a in arrays.items()))
            counts.append((trained, running))
        if len(set(shapes)) != 1 or len(set(counts)) != 1:
            raise ValueError(f"the models' {layer.scope} differ in shape: {shapes}")
        totals = [totals[0] + counts[0][0], totals[1] + counts[0][1]]
        lines.append(f"| {layer.name} | `{layer.scope}` | {shapes[0]} | {counts[0][0]:,} | {counts[0][1]:,} |")
    lines.append(f"| **back end** | | | **{totals[0]:,}** | **{totals[1]:,}** |")
    return "\n".join(lines)


def interleaving_sentence(analyses: Sequence[Analysis]) -> str:
    """Whether p holds the maxima at even and the means at odd entries, on every segment."""
    parts = []
    for a in analyses:
        ok = np.array_equal(a.pooled[:, 0::2], a.W.max(axis=2)) and np.allclose(
            a.pooled[:, 1::2], a.W.mean(axis=2), rtol=0, atol=1e-5)
        parts.append(f"{a.model.name}: {'yes' if ok else '**no**'}")
    return (f"Checked on all {analyses[0].n_segments} segments, $[\\mathbf{{p}}]_{{2r}}$ is the maximum and "
            "$[\\mathbf{p}]_{2r+1}$ the mean of row $r$ of $\\mathbf{W}$ for every $r$: " + "; ".join(parts) + ".")


def interleaving_figure(analysis: Analysis, segment: int, first_row: int, n: int = 3) -> tuple[Figure, list]:
    """Rows ``first_row`` … of W over the segment (maximum and mean marked), and the stretch of p
    they fill: the maximum of row r at entry 2r, its mean at 2r+1."""
    s = analysis.check_segment(segment)
    rows = np.arange(first_row, first_row + n)
    fig = plt.figure(figsize=plots.column_size(11, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(1.8, 1))
    for i, r in enumerate(rows):
        row_series(analysis.W[s, r], left, color=f"C{i}")
        left.lines[-3].set_label(f"row {r}")
    left.legend(fontsize="small", loc="upper right")
    left.set(title=f"rows {rows[0]}–{rows[-1]} of W, segment {s}\n(▼ maximum, dotted: mean)",
             xlabel="time in segment (s)")
    entries = np.arange(2 * rows[0], 2 * rows[-1] + 2)
    values = analysis.pooled[s, entries]
    colors = [f"C{(k - 2 * rows[0]) // 2}" for k in entries]
    bars = right.bar(np.arange(entries.size), values, color=colors)
    for bar, k in zip(bars, entries):
        bar.set_hatch("" if k % 2 == 0 else "///")
        bar.set_alpha(1.0 if k % 2 == 0 else 0.5)
    right.set_xticks(np.arange(entries.size), [f"{k}\n{'max' if k % 2 == 0 else 'mean'}" for k in entries],
                     fontsize="small", rotation=90)
    right.axhline(0, color="gray", linewidth=0.5)
    right.set(xlabel="entry k of p", ylabel="value", title="the same rows in p,\ninterleaved")
    return fig, [left, right]


def hidden_table(analyses: Sequence[Analysis]) -> str:
    """Dead and constant hidden units of each model, with the criteria."""
    lines = ["| model | closed on every segment (dead here) | open on every segment | constant on this recording "
             "(range ≤ 1e-6) | constant for any input | smallest weight norm from input-dependent $\\tilde p$ |",
             "|---|---:|---:|---:|---:|---:|"]
    for a in analyses:
        h = fb.hidden_units(a)
        lines.append(f"| {a.model.name} | {len(h.dead_on_recording)} | {len(h.always_open)} | "
                     f"{len(h.constant_on_recording)} | {len(h.constant_any_input)} (norm ≤ {h.threshold:g}) | "
                     f"{h.smallest_live_norm:.3f} |")
    return "\n".join(lines)


def hidden_sentence(analyses: Sequence[Analysis]) -> str:
    """How many hidden units stay closed on the recording, whether they are the constant ones,
    and how many each segment opens, per model."""
    parts = []
    for a in analyses:
        h = fb.hidden_units(a)
        n_open = (back_end_values(a.model, a.pooled).hidden_pre > 0).sum(axis=1)
        same = set(h.dead_on_recording) == set(h.constant_on_recording)
        parts.append(f"**{a.model.name}**: {len(h.dead_on_recording)} of {HIDDEN.outputs} hidden units "
                     f"({len(h.dead_on_recording) / HIDDEN.outputs:.0%}) stay closed on all {a.n_segments} segments"
                     + ("; they are exactly the units constant on this recording" if same else
                        f"; {len(h.constant_on_recording)} units are constant on this recording") +
                     f"; each segment opens between {n_open.min()} and {n_open.max()}")
    return ". ".join(parts) + "."


# ---------------------------------------------------------------------------------------
# Exact attribution
# ---------------------------------------------------------------------------------------

def check_table(analyses: Sequence[Analysis]) -> str:
    """The largest gap between constant + contributions and the forward pass's logit, over every
    tag and segment, for each model."""
    lines = ["| model | segments × tags | largest \\|constant + Σ contributions − logit\\| | largest \\|logit\\| |",
             "|---|---:|---:|---:|"]
    for a in analyses:
        gaps = [np.abs(att.logits - a.logits[s]).max() for s, att in enumerate(fb.attributions(a))]
        lines.append(f"| {a.model.name} | {a.n_segments} × {len(a.tags)} | {max(gaps):.1e} | "
                     f"{np.abs(a.logits).max():.2f} |")
    return "\n".join(lines)


def contributions_figure(analysis: Analysis, segment: int, n_tags: int = 3, n_named: int = 3) -> tuple[Figure, list]:
    """For the segment's ``n_tags`` largest tags, the contribution of each row of W to the tag's
    logit, coloured by stage, the ``n_named`` largest labelled."""
    s = analysis.check_segment(segment)
    att = fb.attribute_segment(analysis, s)
    fig = plt.figure(figsize=plots.column_size(11, 2.3 * n_tags + 0.6), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(n_tags, 1, sharex=True)))
    for ax, (tag, weight) in zip(axes, segment_top_tags(analysis, s, n_tags)):
        k = att.tag_index(tag)
        row_contributions(att.per_row[k], ax, named=att.top_rows(k, n_named),
                          title=f"{analysis.model.name} “{tag}” (weight {weight:.2f}): logit {att.logits[k]:.2f} = "
                                f"constant {att.constant[k]:.2f} + Σ rows {att.per_row[k].sum():.2f}")
        ax.set_xlabel("")
    axes[-1].set_xlabel("row of W (0–560: U by kernel group; 561–752: the mid end's three blocks)")
    stage_legend(axes[0])
    return fig, axes


def spread_sentence(analysis: Analysis, segment: int, n_tags: int = 3) -> str:
    """For the segment's top tags: how many rows it takes to reach half of the absolute
    contributions, how many rows push up and down, and the two mid-end sums' share."""
    s = analysis.check_segment(segment)
    att = fb.attribute_segment(analysis, s)
    mid_sums = range(fb.w_stages()[-2].first_row, fb.w_stages()[-1].stop_row)
    parts = []
    for tag, _ in segment_top_tags(analysis, s, n_tags):
        row = att.per_row[att.tag_index(tag)]
        size = np.sort(np.abs(row))[::-1]
        half = int(np.searchsorted(np.cumsum(size), size.sum() / 2)) + 1
        share = np.abs(row[mid_sums]).sum() / size.sum()
        parts.append(f"“{tag}”: half of the absolute contributions takes the {half} largest rows; of the rows "
                     f"contributing more than {SMALL} in size, {int((row > SMALL).sum())} push it up and "
                     f"{int((row < -SMALL).sum())} down; the last "
                     f"{len(mid_sums)} rows (the two mid-end sums) hold {share:.0%} of the absolute contributions")
    return f"**{analysis.model.name}**, segment {s}: " + "; ".join(parts) + "."


def unit_link(unit: str) -> str:
    """The unit's name, linked to the Explore section of the chapter whose explorer shows it."""
    file, number = UNIT_CHAPTERS[unit.split("/")[0]]
    return f'<a href="{file}.html#explore"><code>{unit}</code></a> (chapter {number})'


def top_rows_table(analysis: Analysis, segment: int, tag: str, n: int = 5) -> str:
    """The ``n`` rows of W that drive the tag's logit most on the segment: stage, unit, the
    contributions of the maximum and the mean, and the time of the frame that wins the maximum."""
    s = analysis.check_segment(segment)
    att = fb.attribute_segment(analysis, s)
    k = att.tag_index(tag)
    rows = att.top_rows(k, n)
    frames = fb.winning_frames(analysis, s, rows)
    stages = fb.w_stages()
    lines = ["| row of W | stage | unit | contribution (max + mean) | winning frame | time in the recording |",
             "|---:|---|---|---:|---:|---:|"]
    for r, f in zip(rows, frames):
        stage = stages[fb.stage_of_rows()[r]]
        maxi, mean = att.per_value[k, 2 * r], att.per_value[k, 2 * r + 1]
        lines.append(f"| {r} | {stage_md(stage)} | {unit_link(fb.w_row_unit(int(r)))} | {maxi + mean:+.2f} "
                     f"({maxi:+.2f} {mean:+.2f}) | {f} | {analysis.segment_start_s[s] + f * FRAME_SECONDS:.2f} s |")
    return "\n".join(lines)


def top_rows_figure(analysis: Analysis, segment: int, tag: str, n: int = 5) -> tuple[Figure, list]:
    """The segment's spectrogram with the frames that win the maxima of the tag's top rows
    marked, and each of those rows over the segment."""
    s = analysis.check_segment(segment)
    att = fb.attribute_segment(analysis, s)
    k = att.tag_index(tag)
    rows = att.top_rows(k, n)
    start = analysis.segment_start_s[s]
    fig = plt.figure(figsize=plots.column_size(11, 2.6 + 1.5 * n), layout="constrained")
    axes = list(fig.subplots(n + 1, 1, sharex=True, height_ratios=(2.2, *[1] * n)))
    plots.spectrogram(analysis.M_dB[s], axes[0], start_s=start, title=f"{analysis.model.name} “{tag}”, segment {s}: "
                      "M_dB with the frame that wins each top row's maximum")
    axes[0].set_xlabel("")
    for ax, r in zip(axes[1:], rows):
        stage = fb.w_stages()[fb.stage_of_rows()[r]]
        _, _, handles = row_series(analysis.W[s, r], ax, start_s=start, color=stage_color(stage.key))
        win = handles[-1].get_xdata()[0]
        axes[0].axvline(win, color="white", linewidth=0.8, linestyle="--")
        axes[0].text(win, 95, str(r), color="white", fontsize="small", ha="center", va="top")
        ax.set_ylabel(f"row {r}", fontsize="small")
        ax.set_xlabel("")
        ax.set_title(f"row {r} of W: {fb.w_row_unit(int(r))}, {stage_label(stage.key)}; contribution "
                     f"{att.per_row[k, r]:+.2f}", fontsize="small", loc="left")
    axes[-1].set_xlabel("time (s)")
    return fig, axes


def moment_players(analysis: Analysis, segment: int, tag: str, n: int = 5) -> None:
    """One player per top row of the tag: :data:`MOMENT_S` seconds around its winning frame."""
    s = analysis.check_segment(segment)
    att = fb.attribute_segment(analysis, s)
    rows = att.top_rows(att.tag_index(tag), n)
    for r, f in zip(rows, fb.winning_frames(analysis, s, rows)):
        first, stop = fb.moment_window(analysis, s, int(f), MOMENT_S)
        display(HTML(f"Row {r} ({unit_link(fb.w_row_unit(int(r)))}): {first / SAMPLE_RATE:.2f}–"
                     f"{stop / SAMPLE_RATE:.2f} s"))
        display(player(analysis.audio.samples[first:stop]))


# ---------------------------------------------------------------------------------------
# Across the vocabulary
# ---------------------------------------------------------------------------------------

def ordered_tags(model: Model) -> list[tuple[str, str]]:
    """(kind, tag) for every tag, grouped by kind."""
    return [(kind, t) for kind, tags in tag_kinds(model).items() for t in tags]


def stage_matrix_figure(analyses: Sequence[Analysis]) -> tuple[Figure, list]:
    """Tags × stages: each stage's contribution to each tag's logit, averaged over the segments,
    tags grouped by kind (a grey strip to the right of the stages, named in the legend); one
    panel per model on one colour scale, shown below."""
    matrices = [fb.stage_matrix(a) for a in analyses]
    limit = max(float(np.abs(m).max()) for m in matrices)
    stages = fb.w_stages()
    kinds = list(dict.fromkeys(kind for a in analyses for kind, _ in ordered_tags(a.model)))
    shades = dict(zip(kinds, plt.get_cmap("tab10").colors))
    fig = plt.figure(figsize=plots.column_size(12, 11), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(1, len(analyses))))
    for ax, a, m in zip(axes, analyses, matrices):
        order = ordered_tags(a.model)
        index = [a.tags.index(t) for _, t in order]
        image = ax.imshow(m[index], aspect="auto", cmap=plots.DIVERGING, vmin=-limit, vmax=limit,
                          interpolation="nearest", extent=(-0.5, len(stages) - 0.5, len(order) - 0.5, -0.5))
        for i, (kind, _) in enumerate(order):  # the kind strip, one cell per tag
            ax.add_patch(Rectangle((len(stages) - 0.3, i - 0.5), 0.6, 1, color=shades[kind], linewidth=0))
            if i and kind != order[i - 1][0]:
                ax.axhline(i - 0.5, color="black", linewidth=0.8)
        ax.set_xlim(-0.5, len(stages) + 0.5)
        ax.set_yticks(range(len(order)), [t for _, t in order], fontsize="small")
        ax.set_xticks(range(len(stages)), [stage_label(st.key) for st in stages], rotation=90, fontsize="small")
        ax.set_title(f"{a.model.name}: mean over\n{a.n_segments} segments")
    fig.legend(handles=[Patch(color=shades[k], label=k) for k in kinds], loc="outside upper center", ncols=3,
               fontsize="small", title="kind of tag (the strip right of each panel)", title_fontsize="small")
    bar = fig.colorbar(image, ax=axes, location="bottom", shrink=0.7, aspect=35)
    bar.set_label("contribution to the logit (relative to the running means)")
    return fig, axes


def sign_sentence(analyses: Sequence[Analysis]) -> str:
    """What share of the tags × stages entries is negative, overall and in the two mid-end sums."""
    parts = []
    for a in analyses:
        m = fb.stage_matrix(a)
        parts.append(f"{a.model.name}: {np.mean(m < 0):.0%} of all entries, {np.mean(m[:, -2:] < 0):.0%} in "
                     "the two mid-end sums")
    return "Negative entries: " + "; ".join(parts) + "."


def kind_shares(analysis: Analysis) -> dict[str, np.ndarray]:
    """For each kind of tag, each stage's share of the absolute stage contributions, averaged over
    the kind's tags and the segments."""
    per_stage = np.abs(np.stack([att.per_stage for att in fb.attributions(analysis)]))
    shares = per_stage / per_stage.sum(axis=2, keepdims=True)  # (segments, tags, stages)
    return {kind: shares[:, [analysis.tags.index(t) for t in tags]].mean(axis=(0, 1))
            for kind, tags in tag_kinds(analysis.model).items()}


def kinds_table(analyses: Sequence[Analysis]) -> str:
    """:func:`kind_shares` for each model as one Markdown table (the largest share in bold)."""
    stages = fb.w_stages()
    lines = ["| model | kind of tag | " + " | ".join(stage_md(s) for s in stages) + " |",
             "|---|---|" + "---:|" * len(stages)]
    for a in analyses:
        for kind, share in kind_shares(a).items():
            best = int(np.argmax(share))
            cells = [f"**{v:.0%}**" if i == best else f"{v:.0%}" for i, v in enumerate(share)]
            lines.append(f"| {a.model.name} | {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def kinds_sentence(analyses: Sequence[Analysis]) -> str:
    """Which stage carries the largest share for genre, instrument and no-voice tags, per model."""
    stages = fb.w_stages()
    parts = []
    for a in analyses:
        shares = kind_shares(a)
        said = [f"{kind} tags on {stage_md(stages[int(np.argmax(shares[kind]))])} "
                f"({shares[kind].max():.0%})" for kind in ("genre", "instrument", "no voice")]
        front = {kind: float(share[:5].sum()) for kind, share in shares.items()}
        said.append(f"CNN_1's five groups together carry between {min(front.values()):.0%} and "
                    f"{max(front.values()):.0%} depending on the kind")
        parts.append(f"**{a.model.name}** relies most for " + ", for ".join(said[:3]) + "; " + said[3])
    return ". ".join(parts) + "."


# ---------------------------------------------------------------------------------------
# Chapter 9's removal experiment, stage by stage
# ---------------------------------------------------------------------------------------

def removal_summary(analyses: Sequence[Analysis]) -> str:
    """Chapter 9's experiment against the attribution, stage by stage, as a Markdown table and a
    sentence. For each stage: mean |change of logit| when its rows are set to the running means,
    mean |summed contribution|, the largest difference of the two, and on how many segments the
    removal flips hidden units (only then can they differ); then whether the two measures rank
    the stages alike (Spearman's ρ of their mean sizes) and where they differ most."""
    lines = ["| model | stage | mean \\|removal change\\| | mean \\|attribution\\| | largest difference | "
             "segments with flipped hidden units |", "|---|---|---:|---:|---:|---:|"]
    parts = []
    for a in analyses:
        attributions = np.stack([att.per_stage for att in fb.attributions(a)])
        sizes, gaps = [], []
        for i, stage in enumerate(fb.w_stages()):
            rem = fb.removal(a, stage.rows)
            att = attributions[:, :, i]
            sizes.append((np.abs(rem.change).mean(), np.abs(att).mean()))
            gaps.append(np.abs(rem.change - att).max())
            lines.append(f"| {a.model.name} | {stage_md(stage)} | {sizes[-1][0]:.3f} | {sizes[-1][1]:.3f} | "
                         f"{gaps[-1]:.3f} | {int((rem.flipped > 0).sum())} of {a.n_segments} |")
        ranks = np.argsort(np.argsort(np.array(sizes), axis=0), axis=0)
        rho = float(np.corrcoef(ranks[:, 0], ranks[:, 1])[0, 1])
        parts.append(f"**{a.model.name}**: Spearman's ρ between the two measures' mean sizes over the eight "
                     f"stages is {rho:.2f}; they differ most for {stage_md(fb.w_stages()[int(np.argmax(gaps))])} "
                     f"(by up to {max(gaps):.2f} in a logit)")
    return "\n".join(lines) + "\n\n" + "; ".join(parts) + "."


__all__ = [
    "TAG_KINDS",
    "check_table",
    "contributions_figure",
    "hidden_sentence",
    "hidden_table",
    "interleaving_figure",
    "interleaving_sentence",
    "kind_shares",
    "kinds_sentence",
    "kinds_table",
    "moment_players",
    "ordered_tags",
    "removal_summary",
    "shapes_table",
    "sign_sentence",
    "spread_sentence",
    "stage_matrix_figure",
    "tag_kinds",
    "top_rows_figure",
    "top_rows_table",
    "unit_link",
]
