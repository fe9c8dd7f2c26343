"""CNN_1's max over frequency: from 561 maps to the 561 rows of U (chapter 8).

Each CNN_1 unit i leaves a map Ŷ_i (rows x 187 frames); the network keeps one number per
frame, [U]_{i,t} = max_f [Ŷ_i]_{f,t}. This module records, for every unit, segment and
frame, which row of the map won, how many rows tied for the win, and by how much the winner
beat the runner-up: what the max keeps and what it throws away. Rows are converted to the
mel bands (and Hz) they read, and the chapter's units, tables and figures are chosen and
computed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from musicnn_nb.facts.batchnorm import negative_gamma_units
from musicnn_nb.facts.units import NORM_THRESHOLD, UnitCount, map_rows, nontrivial_in_group, nontrivial_units
from musicnn_nb.model.network import cnn1_group_maps
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FRAME_SECONDS, N_MELS, mel_center_hz
from musicnn_nb.model.weights import Group, Model, group_of_rows, groups_of, layer_size, load_model, locate_unit
from musicnn_nb.present import plots
from musicnn_nb.present.notation import mark_row_groups, number, robust_limit, u_row_groups

MIN_UNIQUE = 0.5  # a unit's winner statistics count only if at least this share of frames has one winner
NEAR_TIE = 0.01  # a runner-up within this share of the frame's range (max − min over rows) is a near-tie
EXTREME_BANDS = 4  # "an end of the spectrum": the lowest or the highest this many mel bands


# ---------------------------------------------------------------------------------------
# Rows of a unit's map and the mel bands they read
# ---------------------------------------------------------------------------------------

def row_bands(group: Group, rows: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) mel band read by output row(s) ``rows`` of a unit of ``group``.

    Row f of a kernel h bands tall reads bands f … f+h−1; a 1-D unit's row f is band f.
    """
    rows = np.asarray(rows)
    return rows, rows + group.rows - 1


def band_hz(bands: np.ndarray | float) -> np.ndarray:
    """Frequency (Hz) of a mel band position, interpolating between band centres for
    fractional positions (the middle of a range of bands)."""
    hz = mel_center_hz()
    return np.interp(bands, np.arange(hz.size), hz)


def row_hz(group: Group, rows: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Centre frequencies (Hz) of the lowest and highest mel band that row(s) ``rows`` read."""
    first, last = row_bands(group, rows)
    return band_hz(first), band_hz(last)


def unit_rows(layer: str = "cnn1") -> np.ndarray:
    """Rows of the map (:func:`musicnn_nb.facts.units.map_rows`) of every unit of the layer, in
    U's row order (561 values)."""
    return np.array([map_rows(g) for g in groups_of(layer)])[group_of_rows(layer)]


# ---------------------------------------------------------------------------------------
# The max over frequency, frame by frame
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class MaxStatistics:
    """Who wins the max over frequency for every unit, segment and frame (S, 561, T).

    ``winner`` is the row holding the maximum (the lowest such row when several tie, as
    NumPy's argmax reports it); ``ties`` how many rows equal the maximum; ``margin`` the
    maximum minus the second-largest value (0 on a tie); ``spread`` the maximum minus the
    minimum over rows.
    """

    model: str
    winner: np.ndarray
    ties: np.ndarray
    margin: np.ndarray
    spread: np.ndarray

    @property
    def n_rows(self) -> np.ndarray:
        """Rows of each unit's map (561,)."""
        return unit_rows()

    @property
    def unique(self) -> np.ndarray:
        """Frames where exactly one row holds the maximum."""
        return self.ties == 1

    @property
    def all_tied(self) -> np.ndarray:
        """Frames where every row of the map has the same value: the max says nothing about where."""
        return self.ties == self.n_rows[None, :, None]

    @property
    def relative_margin(self) -> np.ndarray:
        """margin / spread: 0 on a tie, 1 when every other row sits at the frame's minimum."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.spread > 0, self.margin / self.spread, 0.0)


def frame_statistics(y_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(winner, ties, margin, spread) over axis −2 (rows) of maps (…, rows, time)."""
    top2 = np.partition(y_hat, -2, axis=-2)
    top, second = top2[..., -1, :], top2[..., -2, :]
    ties = np.sum(y_hat == top[..., None, :], axis=-2)
    return (np.argmax(y_hat, axis=-2).astype(np.int16), ties.astype(np.int16), top - second,
            top - y_hat.min(axis=-2))


def max_statistics(analysis: Analysis) -> MaxStatistics:
    """:class:`MaxStatistics` of every CNN_1 unit on every segment of ``analysis``.

    Recomputes each group's Ŷ maps from M̂_dB (a few seconds for a 30-s file) and keeps only
    the per-frame summaries, once per analysis (kept on it).
    """
    return analysis.derived("max_statistics", lambda: _max_statistics(analysis))


def _max_statistics(analysis: Analysis) -> MaxStatistics:
    parts: list[list[np.ndarray]] = [[], [], [], []]
    for segment in range(analysis.n_segments):
        per_group = [frame_statistics(cnn1_group_maps(analysis.model, g, analysis.M_hat[segment])[2])
                     for g in groups_of("cnn1")]
        for k in range(4):
            parts[k].append(np.concatenate([p[k] for p in per_group]))
    return MaxStatistics(analysis.model.name, *(np.stack(p) for p in parts))


# ---------------------------------------------------------------------------------------
# Per unit: how concentrated the winning row is, how far it moves
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WinnerSummary:
    """Where a unit's max comes from over all frames of a recording (NaN if no frame has a
    unique winner). Shares of 'frames' count segments x 187 frames."""

    model: str
    name: str
    index: int
    unique_share: float  # frames with exactly one winning row
    all_tied_share: float  # frames where every row ties
    modal_row: int  # most frequent winning row among frames with one winner (-1 if none)
    modal_share: float  # its share of those frames
    entropy_bits: float  # entropy of the winning row over those frames
    spread_bands: float  # standard deviation of the winning row's middle mel band over those frames
    edge_share: float  # share of those frames won by the lowest or highest row of the map

    @property
    def group(self) -> Group:
        return locate_unit(self.name, "cnn1")[0]

    @property
    def modal_hz(self) -> tuple[float, float]:
        """Centre frequencies (Hz) of the lowest and highest band the modal row reads."""
        low, high = row_hz(self.group, self.modal_row)
        return float(low), float(high)

    @property
    def normalised_entropy(self) -> float:
        """Entropy over its largest possible value, log2(rows): 0 = one row always, 1 = uniform."""
        return self.entropy_bits / np.log2(map_rows(self.group))


def summarise_unit(stats: MaxStatistics, model: Model, row: int) -> WinnerSummary:
    """The :class:`WinnerSummary` of the unit in row ``row`` of U."""
    unit = model.unit(row, "cnn1")
    n_rows = map_rows(unit.group)
    unique = stats.unique[:, row]
    winners = stats.winner[:, row][unique].astype(int)
    shares = (float(unique.mean()), float(stats.all_tied[:, row].mean()))
    if winners.size == 0:
        nan = float("nan")
        return WinnerSummary(model.name, unit.name, row, *shares, -1, nan, nan, nan, nan)
    counts = np.bincount(winners, minlength=n_rows)
    p = counts[counts > 0] / winners.size
    middle = winners + (unit.group.rows - 1) / 2
    return WinnerSummary(model.name, unit.name, row, *shares, int(counts.argmax()), float(p.max()),
                         0.0 - float((p * np.log2(p)).sum()), float(middle.std()),
                         float(np.isin(winners, (0, n_rows - 1)).mean()))


def winner_summaries(analysis: Analysis, rows: Sequence[int] | None = None) -> list[WinnerSummary]:
    """:class:`WinnerSummary` of the non-trivial units (or of ``rows``) of ``analysis``'s model."""
    stats = max_statistics(analysis)
    rows = nontrivial_units(analysis.model, "cnn1").rows if rows is None else rows
    return [summarise_unit(stats, analysis.model, r) for r in rows]


def _eligible(summaries: Sequence[WinnerSummary], min_unique: float) -> list[WinnerSummary]:
    eligible = [s for s in summaries if s.unique_share >= min_unique]
    if not eligible:
        raise ValueError(f"no unit has a unique winning row in at least {min_unique:.0%} of frames")
    return eligible


def most_moving(summaries: Sequence[WinnerSummary], *, one_d: bool | None = None,
                min_unique: float = MIN_UNIQUE) -> WinnerSummary:
    """The unit whose winning band moves the most (largest ``spread_bands``) among units with a
    unique winner in at least ``min_unique`` of frames; ``one_d`` restricts to 1-D or 2-D units."""
    pool = [s for s in summaries if one_d is None or (s.group.rows == 1) == one_d]
    return max(_eligible(pool, min_unique), key=lambda s: s.spread_bands)


def most_concentrated(summaries: Sequence[WinnerSummary], min_unique: float = MIN_UNIQUE) -> WinnerSummary:
    """The unit whose most frequent winning row wins the largest share of frames (among units
    with a unique winner in at least ``min_unique`` of frames)."""
    return max(_eligible(summaries, min_unique), key=lambda s: s.modal_share)


def featured_units(summaries: Sequence[WinnerSummary]) -> dict[str, WinnerSummary]:
    """The chapter's example units, each with the reason it was chosen (distinct units)."""
    chosen: dict[str, WinnerSummary] = {}
    for reason, pick in (
            ("2-D unit whose winning band moves the most", lambda s: most_moving(s, one_d=False)),
            ("1-D unit whose winning band moves the most", lambda s: most_moving(s, one_d=True)),
            ("unit whose winning row is the most concentrated", most_concentrated)):
        rest = [s for s in summaries if s.name not in {c.name for c in chosen.values()}]
        chosen[reason] = pick(rest)
    return chosen




def featured_table(featured: Mapping[str, WinnerSummary]) -> str:
    """The chosen units and their winner statistics, as a Markdown table."""
    lines = ["| why | unit | model | one winner | modal row (bands, Hz) | its share "
             "| entropy (share of its largest value) | s.d. of winning band | won by an edge row |",
             "|---|---|---|---:|---|---:|---:|---:|---:|"]
    for reason, s in featured.items():
        first, last = row_bands(s.group, s.modal_row)
        low, high = s.modal_hz
        where = (f"{s.modal_row} (band {first}, {low:,.0f} Hz)" if first == last else
                 f"{s.modal_row} (bands {first}–{last}, {low:,.0f}–{high:,.0f} Hz)")
        lines.append(f"| {reason} | `{s.name}` | {s.model} | {s.unique_share:.0%} | {where} | {s.modal_share:.0%} "
                     f"| {s.entropy_bits:.2f} bits ({s.normalised_entropy:.0%}) | {s.spread_bands:.1f} bands "
                     f"| {s.edge_share:.0%} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Why the 1-D units' max so often lands on the lowest or highest band
# ---------------------------------------------------------------------------------------

def effective_dc_gain(model: Model, row: int) -> float:
    """Sum of a unit's kernel weights times the sign of its batch-norm slope.

    Where the input is nearly constant over the kernel's span, K_i ⋆ M̂_dB is this sum times the
    local level, so a positive value makes loud rows win the max and a negative one quiet rows.
    """
    unit = model.unit(row, "cnn1")
    bn = model.batch_norm(unit.group.bn)
    return float(np.sign(bn.scale[unit.index - unit.group.first_row]) * unit.kernel.sum())


@dataclass(frozen=True)
class LevelExtremes:
    """Where a recording is loud and quiet across the 96 mel bands."""

    loudest_band: int  # largest mean M_dB over all frames
    quietest_band: int  # smallest mean M_dB over all frames
    quietest_share: float  # share of frames in which the quietest band is the quietest of all
    loudest_low_share: float  # share of frames whose loudest band is in the lowest quarter (bands 0-23)


def level_extremes(analysis: Analysis) -> LevelExtremes:
    """The loudest and quietest mel bands of ``analysis``'s recording, on M_dB."""
    m = analysis.M_dB
    mean = m.mean(axis=(0, 2))
    quiet = int(mean.argmin())
    return LevelExtremes(int(mean.argmax()), quiet, float((m.argmin(axis=1) == quiet).mean()),
                         float((m.argmax(axis=1) < N_MELS // 4).mean()))


def one_d_eligible(summaries: Sequence[WinnerSummary], min_unique: float = MIN_UNIQUE) -> list[WinnerSummary]:
    """The 1-D units among ``summaries`` with a unique winner in at least ``min_unique`` of frames."""
    return [s for s in summaries if s.group.rows == 1 and s.unique_share >= min_unique]


def dc_gain_agreement(summaries: Sequence[WinnerSummary], model: Model) -> tuple[int, int]:
    """(agreeing, total) 1-D units (see :func:`one_d_eligible`) whose most frequent winning band
    lies in the upper half of the 96 bands exactly when their effective DC gain is negative."""
    units = one_d_eligible(summaries)
    agree = sum((effective_dc_gain(model, s.index) < 0) == (s.modal_row >= N_MELS // 2) for s in units)
    return agree, len(units)


def level_sentence(analysis: Analysis) -> str:
    """Where the recording is loud and quiet across mel bands, in one Markdown sentence."""
    e, hz = level_extremes(analysis), mel_center_hz()
    return (f"On `{analysis.path.name}`, band {e.loudest_band} ({hz[e.loudest_band]:,.0f} Hz) has the largest "
            f"mean $\\mathbf{{M}}_{{\\mathrm{{dB}}}}$ and band {e.quietest_band} ({hz[e.quietest_band]:,.0f} Hz) "
            f"the smallest; band {e.quietest_band} is the quietest of all {N_MELS} bands in "
            f"{e.quietest_share:.1%} of frames, and in {e.loudest_low_share:.0%} of frames the loudest band is one "
            f"of the lowest {N_MELS // 4}.")


def at_extremes(summaries: Sequence[WinnerSummary]) -> tuple[int, int]:
    """(count, total) of the 1-D units of :func:`one_d_eligible` whose most frequent winning band
    is one of the lowest or highest ``EXTREME_BANDS`` bands."""
    units = one_d_eligible(summaries)
    return sum(min(s.modal_row, N_MELS - 1 - s.modal_row) < EXTREME_BANDS for s in units), len(units)


def dc_gain_sentence(summaries: Mapping[str, Sequence[WinnerSummary]]) -> str:
    """Where the 1-D units' winning bands sit, and how often the sign of the effective DC gain
    predicts the half of the spectrum that wins."""
    ends = " and ".join(f"{k} of {n} units for {name}" for name, (k, n) in
                        ((name, at_extremes(rows)) for name, rows in summaries.items()))
    counts = [(name, *dc_gain_agreement(rows, load_model(name))) for name, rows in summaries.items()]
    parts = " and ".join(f"{agree} of {total} for {name}" for name, agree, total in counts)
    return (f"Counted over the non-trivial 1-D units with one winning row in at least {MIN_UNIQUE:.0%} of "
            f"frames, the most frequent winning band is one of the {EXTREME_BANDS} lowest or {EXTREME_BANDS} "
            f"highest bands for {ends}. The sign rule holds for {parts}: a unit agrees when its most "
            f"frequent winning band lies in the upper half (bands {N_MELS // 2}–{N_MELS - 1}) exactly when its "
            f"effective DC gain is negative.")


def dc_gain_figure(summaries: Mapping[str, Sequence[WinnerSummary]], ax: Axes | None = None):
    """Each 1-D unit's most frequent winning band against its effective DC gain, marker area
    proportional to the share of frames that band wins, one colour per model."""
    fig, ax = plots.figure_axes(ax, (7, 4))
    handles = []
    for k, (name, rows) in enumerate(summaries.items()):
        model = load_model(name)
        units = one_d_eligible(rows)
        x = [effective_dc_gain(model, s.index) for s in units]
        handles.append(ax.scatter(x, [s.modal_row for s in units], s=[10 + 120 * s.modal_share for s in units],
                                  color=f"C{k}", marker="os"[k % 2], alpha=0.6, label=f"{name} ({len(units)} units)"))
    ax.axvline(0, color="gray", linewidth=0.8)
    ax.axhline(N_MELS / 2 - 0.5, color="gray", linewidth=0.8, linestyle=":")
    plots.mel_axis(ax, n_ticks=5)
    ax.set(xlabel="effective DC gain: sign(γ_i) · sum of the kernel's weights",
           ylabel="most frequent winning mel band",
           title="1-D units: effective DC gain and the band that wins most often")
    ax.legend(fontsize="small", loc="center right")
    return fig, ax, handles


# ---------------------------------------------------------------------------------------
# Counts, each with its criterion
# ---------------------------------------------------------------------------------------

def always_tied_units(analysis: Analysis) -> UnitCount:
    """Units whose map ties across all rows in every frame of the recording: their max
    carries no frequency at all."""
    stats = max_statistics(analysis)
    return UnitCount.from_mask(analysis.model.name, "cnn1",
                               f"every row of Ŷ_i ties in all {stats.ties.shape[0] * stats.ties.shape[2]} "
                               f"frames of {analysis.path.name}", NORM_THRESHOLD, stats.all_tied.all(axis=(0, 2)))


def negative_scale_sentence(models: Sequence[Model]) -> str:
    """How many non-trivial units per model have a negative batch-norm slope a_i = γ_i/√(σ_i²+ε)
    (:func:`musicnn_nb.facts.batchnorm.negative_gamma_units`: its sign is γ_i's), with the criterion."""
    counts = [negative_gamma_units(m) for m in models]
    listed = "; ".join(f"{c.model}: {c.count} of {nontrivial_units(load_model(c.model), 'cnn1').count} "
                       f"non-trivial units" + (f" ({', '.join(f'`{n}`' for n in c.names[:3])}"
                                               f"{', …' if c.count > 3 else ''})" if c.count else "")
                       for c in counts)
    return f"Units whose slope $a_i$ is negative ({counts[0].criterion}): {listed}."


def always_tied_sentence(analyses: Sequence[Analysis]) -> str:
    """How many units tie across all rows in every frame, and how many of those are trivial."""
    parts = []
    for a in analyses:
        count = always_tied_units(a)
        live = set(nontrivial_units(a.model, "cnn1").rows)
        trivial = layer_size("cnn1") - len(live)
        among = sum(r not in live for r in count.rows)
        text = f"{a.model.name}: {count.count} units, {among} of its {trivial} trivial units"
        others = [f"`{name}`" for name, row in zip(count.names, count.rows) if row in live]
        if others:
            text += f" and {len(others)} non-trivial unit{'s' if len(others) > 1 else ''} ({', '.join(others)})"
        parts.append(text)
    return (f"Units for which the max reports no frequency at all ({count.criterion}): "
            + "; ".join(parts) + ".")


def moving_sentence(summary: WinnerSummary) -> str:
    """Why the explorer opens on ``summary``'s unit, with the numbers that chose it."""
    return (f"The explorer opens on `{summary.name}` ({summary.model}), the non-trivial unit whose winning band "
            f"moves the most: one row wins in {summary.unique_share:.1%} of its frames, and over those frames the "
            f"standard deviation of its winning band is {summary.spread_bands:.1f} mel bands, the largest among "
            f"units with one winner in at least {MIN_UNIQUE:.0%} of frames.")


# ---------------------------------------------------------------------------------------
# What the max discards, per model
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Discarded:
    """Shares over frames (segments x 187) of one model's units: how decisive the max was."""

    model: str
    units: int  # non-trivial units counted
    unique: float  # frames with one winning row
    all_tied: float  # frames where every row ties
    partly_tied: float  # frames where several rows, but not all, tie at the top
    near_tie: float  # frames with one winner whose runner-up lies within NEAR_TIE of the range
    median_relative_margin: float  # over frames with one winner
    edge: float  # frames with one winner won by the lowest or highest row
    negative_scale_units: int
    negative_scale_tied: float  # frames with a tie, among units with negative slope
    positive_scale_tied: float  # the same among the others
    trivial_units: int
    trivial_all_tied: float  # frames where every row ties, among trivial units
    trivial_range: float  # largest max − min over time of a trivial unit's row of U


def discarded(analysis: Analysis) -> Discarded:
    """What the max over frequency throws away on ``analysis``'s recording, for its model."""
    stats, model = max_statistics(analysis), analysis.model
    live = np.asarray(nontrivial_units(model, "cnn1").rows, dtype=int)
    trivial = np.setdiff1d(np.arange(layer_size("cnn1")), live)
    negative = np.asarray(negative_gamma_units(model).rows, dtype=int)
    positive = np.setdiff1d(live, negative)
    unique, tied_all = stats.unique[:, live], stats.all_tied[:, live]
    margin = stats.relative_margin[:, live][unique]
    winners = stats.winner[:, live]
    last = (stats.n_rows[live] - 1)[None, :, None]
    edge = ((winners == 0) | (winners == last))[unique]
    u = analysis.U[:, trivial]
    nan = float("nan")
    return Discarded(model.name, live.size, float(unique.mean()), float(tied_all.mean()),
                     float((~unique & ~tied_all).mean()), float((margin <= NEAR_TIE).mean()),
                     float(np.median(margin)), float(edge.mean()), negative.size,
                     float((~stats.unique[:, negative]).mean()) if negative.size else nan,
                     float((~stats.unique[:, positive]).mean()) if positive.size else nan,
                     trivial.size, float(stats.all_tied[:, trivial].mean()) if trivial.size else nan,
                     float((u.max(axis=(0, 2)) - u.min(axis=(0, 2))).max()) if trivial.size else nan)


def discarded_table(rows: Sequence[Discarded]) -> str:
    """:func:`discarded` for several models as a Markdown table, one column per model."""
    fields = (
        ("non-trivial units (kernel norm > " f"{NORM_THRESHOLD:g})", lambda d: f"{d.units}"),
        ("… frames with one winning row", lambda d: f"{d.unique:.1%}"),
        ("… frames where all rows tie", lambda d: f"{d.all_tied:.1%}"),
        ("… frames where some rows, not all, tie at the top", lambda d: f"{d.partly_tied:.1%}"),
        (f"… one winner, runner-up within {NEAR_TIE:.0%} of the frame's range",
         lambda d: f"{d.near_tie:.1%}"),
        ("… median of (max − runner-up) / (max − min), one winner", lambda d: f"{d.median_relative_margin:.3f}"),
        ("… one winner, and it is the lowest or highest row", lambda d: f"{d.edge:.1%}"),
        ("non-trivial units with negative batch-norm slope", lambda d: f"{d.negative_scale_units}"),
        ("… frames without one winner, negative slope", lambda d: number(d.negative_scale_tied, ".1%")),
        ("… frames without one winner, positive slope", lambda d: number(d.positive_scale_tied, ".1%")),
        ("trivial units", lambda d: f"{d.trivial_units}"),
        ("… frames where all rows tie", lambda d: number(d.trivial_all_tied, ".1%")),
        ("… largest range of a trivial unit's row of U over the recording", lambda d: number(d.trivial_range, ".2g")),
    )
    lines = ["| | " + " | ".join(d.model for d in rows) + " |", "|---|" + "---:|" * len(rows)]
    lines += [f"| {label} | " + " | ".join(get(d) for d in rows) + " |" for label, get in fields]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# U and its rows
# ---------------------------------------------------------------------------------------

def layout_table(models: Sequence[Model]) -> str:
    """How U stacks the five kernel groups, with each group's non-trivial count per model."""
    lines = ["| kernel group | rows of U | units | rows of each map Ŷ_i | a map row reads | "
             + " | ".join(f"non-trivial, {m.name}" for m in models) + " |",
             "|---|---|---:|---:|---|" + "---:|" * len(models)]
    for g in groups_of("cnn1"):
        reads = "one mel band" if g.rows == 1 else f"{g.rows} adjacent mel bands"
        counts = " | ".join(str(nontrivial_in_group(m, g).count) for m in models)
        lines.append(f"| {g.name} | {g.first_row}–{g.stop_row - 1} | {g.size} | {map_rows(g)} | {reads} | {counts} |")
    total = " | ".join(str(nontrivial_units(m, "cnn1").count) for m in models)
    lines.append(f"| all | 0–{layer_size('cnn1') - 1} | {layer_size('cnn1')} | | | {total} |")
    return "\n".join(lines)


def u_figure(analysis: Analysis, segment: int, ax: Axes | None = None, percentile: float = 99.5):
    """U of one segment (561 × 187) with lines between the five kernel groups; a symmetric
    colour scale clipped at ``percentile`` of |U| so that a few large rows do not hide the rest."""
    u = analysis.U[analysis.check_segment(segment)]
    limit = robust_limit(u, percentile)
    fig, ax = plots.figure_axes(ax, (10, 6))
    handles = plots.matrix(u, ax, start_s=analysis.segment_start_s[segment], row_label="row of U (unit index)",
                           title=f"U of segment {segment} ({analysis.model.name}): 561 rows × {u.shape[1]} frames",
                           vmin=-limit, vmax=limit, colorbar_label=f"[U]_(i,t), clipped at ±{limit:.2g}")
    marks = mark_row_groups(ax, u_row_groups())
    return (*handles, marks)


# ---------------------------------------------------------------------------------------
# Figures of the winning row
# ---------------------------------------------------------------------------------------

def winner_figure(analysis: Analysis, unit: str | int, segment: int, fig: Figure | None = None,
                  why: str = "") -> tuple[Figure, list[Axes]]:
    """One unit on one segment: Ŷ_i with the winning row, the mel bands that row reads drawn on
    M_dB, and the resulting row of U. Frames where the max is tied are marked apart, since no
    single row wins them. ``why`` (the reason the unit is shown) goes in the title."""
    unit = analysis.model.unit(unit, "cnn1")
    segment = analysis.check_segment(segment)
    maps = analysis.unit_maps(unit.name, segment)
    stats = max_statistics(analysis)
    unique = stats.unique[segment, unit.index]
    winner = stats.winner[segment, unit.index]
    start = analysis.segment_start_s[segment]
    t = start + np.arange(winner.size) * FRAME_SECONDS
    if fig is None:
        fig = plt.figure(figsize=plots.column_size(10, 8.5), layout="constrained")
    axes = list(fig.subplots(3, 1, sharex=True, height_ratios=(1.2, 1.2, 0.8)))
    one_d = unit.group.rows == 1
    row_label = "mel band" if one_d else f"map row f (reads bands f…f+{unit.group.rows - 1})"
    plots.matrix(maps.Y_hat, axes[0], start_s=start, row_label=row_label, colorbar_label="Ŷ_i",
                 title=f"Ŷ_i of {unit.name}: black dots = the row holding the max;\n"
                       "green ticks on top = tied frames")
    if one_d:
        plots.mel_axis(axes[0], n_ticks=5)
    axes[0].plot(t[unique], winner[unique], ".", color="black", markersize=3)
    axes[0].plot(t[~unique], np.full((~unique).sum(), maps.Y_hat.shape[0] - 1), "|", color="tab:green",
                 markersize=8, markeredgewidth=1.5)
    plots.spectrogram(analysis.M_dB[segment], axes[1], start_s=start, cmap="gray_r",
                      title="M_dB with the mel band" + ("" if one_d else "s") + " the winning row reads (orange)")
    first, last = row_bands(unit.group, winner)
    if one_d:
        axes[1].plot(t[unique], first[unique], "s", color="tab:orange", markersize=2.5)
    else:
        axes[1].vlines(t[unique], first[unique] - 0.5, last[unique] + 0.5, color="tab:orange",
                       linewidth=1.2, alpha=0.8)
    plots.series(analysis.U[segment, unit.index], axes[2], start_s=start, stem=True,
                 ylabel=f"[U]_({unit.index},t)", title=f"row {unit.index} of U = max over f of Ŷ_i")
    axes[2].plot(t[~unique], analysis.U[segment, unit.index][~unique], "|", color="tab:green", markersize=8)
    for ax in axes[:2]:
        ax.set_xlabel("")
    fig.suptitle(f"{unit.name} ({analysis.model.name}, segment {segment})" + (f":\n{why}" if why else ""), fontsize=11)
    return fig, axes


def _group_marks(ax: Axes) -> None:
    for g in groups_of("cnn1"):
        if g.first_row:
            ax.axvline(g.first_row - 0.5, color="gray", linestyle=":", linewidth=0.8)
        ax.text((g.first_row + g.stop_row - 1) / 2, 1.01, g.name, transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize="small")


def concentration_figure(summaries: Mapping[str, Sequence[WinnerSummary]], fig: Figure | None = None):
    """For every non-trivial unit of each model: the share of frames won by its most frequent
    row, the normalised entropy of its winning row, and the share of frames with one winner,
    against the unit's row of U. Returns (figure, axes, one scatter handle per model and panel)."""
    if fig is None:
        fig = plt.figure(figsize=plots.column_size(10, 7.5), layout="constrained")
    axes = list(fig.subplots(3, 1, sharex=True))
    panels = (("modal_share", "share of frames won\nby the most frequent row"),
              ("normalised_entropy", "entropy of winning row\n/ log2(rows of the map)"),
              ("unique_share", "share of frames\nwith one winning row"))
    handles = []
    for ax, (field, label) in zip(axes, panels):
        for k, (model, rows) in enumerate(summaries.items()):
            x = np.array([s.index for s in rows])
            y = np.array([getattr(s, field) for s in rows])
            handles.append(ax.scatter(x, y, s=14, color=f"C{k}", marker="os"[k % 2], alpha=0.75,
                                      label=f"{model} ({len(rows)} units)"))
        ax.set(ylabel=label, ylim=(-0.04, 1.04))
        ax.grid(axis="y", linewidth=0.4, alpha=0.5)
        _group_marks(ax)
    axes[0].legend(fontsize="small", loc="lower right")
    axes[-1].set(xlabel="unit (row of U)", xlim=(-5, layer_size("cnn1") + 4))
    axes[0].set_title("Where the max over frequency comes from,\nover all frames of the recording", pad=14)
    return fig, axes, handles


def margin_figure(analyses: Sequence[Analysis], ax: Axes | None = None):
    """Cumulative distribution of (max − runner-up) / (max − min) over every frame of every
    non-trivial unit, one line per model: the jump at 0 is the frames where the max is tied."""
    fig, ax = plots.figure_axes(ax, (6.5, 3.6))
    lines = []
    for a in analyses:
        stats = max_statistics(a)
        live = list(nontrivial_units(a.model, "cnn1").rows)
        values = np.sort(stats.relative_margin[:, live].ravel())
        share = np.arange(1, values.size + 1) / values.size
        frames = stats.ties.shape[0] * stats.ties.shape[2]
        lines += ax.step(np.concatenate(([0.0], values)), np.concatenate(([0.0], share)), where="post",
                         label=f"{a.model.name}: {len(live)} units × {frames} frames")
    ax.axvline(NEAR_TIE, color="gray", linestyle="--", linewidth=0.8, label=f"near-tie bound {NEAR_TIE:g}")
    ax.set(xlabel="(max − runner-up) / (max − min) over the rows of Ŷ_i at one frame",
           ylabel="share of frames at or below", xlim=(-0.02, 1.02), ylim=(0, 1.01),
           title="How far the winning row stands above the runner-up")
    ax.legend(fontsize="small", loc="lower right")
    return fig, ax, lines


__all__ = [
    "Discarded",
    "LevelExtremes",
    "MaxStatistics",
    "WinnerSummary",
    "always_tied_sentence",
    "always_tied_units",
    "at_extremes",
    "band_hz",
    "concentration_figure",
    "dc_gain_agreement",
    "dc_gain_figure",
    "dc_gain_sentence",
    "discarded",
    "discarded_table",
    "effective_dc_gain",
    "featured_table",
    "featured_units",
    "frame_statistics",
    "layout_table",
    "level_extremes",
    "level_sentence",
    "margin_figure",
    "max_statistics",
    "most_concentrated",
    "most_moving",
    "moving_sentence",
    "negative_scale_sentence",
    "one_d_eligible",
    "row_bands",
    "row_hz",
    "summarise_unit",
    "u_figure",
    "unit_rows",
    "winner_figure",
    "winner_summaries",
]
