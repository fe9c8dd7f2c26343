"""Chapter 8's computations: the max over frequency, who wins it, what it discards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from musicnn_nb import load_model
from musicnn_nb.chapters import pooling as po
from musicnn_nb.facts.batchnorm import negative_gamma_units
from musicnn_nb.facts.units import NORM_THRESHOLD, map_rows, nontrivial_units
from musicnn_nb.model.network import cnn1_group_maps, unit_maps
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import N_MELS, SEGMENT_FRAMES, mel_center_hz
from musicnn_nb.model.weights import groups_of

# -- rows and bands ------------------------------------------------------------------------

def test_map_rows_and_bands_span_exactly_the_96_mel_bands():
    assert [map_rows(g) for g in groups_of("cnn1")] == [59, 30, 96, 96, 96]
    for g in groups_of("cnn1"):
        first, last = po.row_bands(g, np.arange(map_rows(g)))
        assert first[0] == 0 and last[-1] == N_MELS - 1  # the first row starts, the last ends the spectrum
        assert np.all(last - first + 1 == g.rows)
        low, high = po.row_hz(g, np.arange(map_rows(g)))
        assert np.all(np.diff(low) > 0) and np.all(high >= low)
    assert po.unit_rows().size == 561 and po.unit_rows()[[0, 204, 408, 560]].tolist() == [59, 30, 96, 96]
    np.testing.assert_allclose(po.band_hz(np.arange(N_MELS)), mel_center_hz())
    assert mel_center_hz()[3] < po.band_hz(3.5) < mel_center_hz()[4]


# -- the max, frame by frame ----------------------------------------------------------------

def test_frame_statistics_on_a_map_with_known_winners():
    maps = np.zeros((1, 4, 3), dtype=np.float32)
    maps[0, :, 0] = [1.0, 5.0, 2.0, -1.0]  # row 1 wins by 3 over a range of 6
    maps[0, :, 1] = 7.0  # every row ties
    maps[0, :, 2] = [0.0, 4.0, 4.0, 1.0]  # rows 1 and 2 tie at the top
    winner, ties, margin, spread = po.frame_statistics(maps)
    assert winner[0].tolist() == [1, 0, 1]
    assert ties[0].tolist() == [1, 4, 2]
    np.testing.assert_allclose(margin[0], [3.0, 0.0, 0.0])
    np.testing.assert_allclose(spread[0], [6.0, 0.0, 4.0])


def test_max_statistics_agree_with_each_units_maps(analysis):
    stats = po.max_statistics(analysis)
    assert stats.winner.shape == analysis.U.shape
    assert po.max_statistics(analysis) is stats  # computed once per analysis
    live = nontrivial_units(analysis.model, "cnn1").rows
    picks = [next(r for r in live if g.first_row <= r < g.stop_row) for g in groups_of("cnn1")]
    picks.append(next(r for r in range(561) if r not in live))
    segment = analysis.n_segments - 1
    for row in picks:
        y_hat = analysis.unit_maps(row, segment).Y_hat
        top = y_hat.max(axis=0)
        np.testing.assert_allclose(analysis.U[segment, row], top, rtol=1e-5, atol=1e-5)
        assert np.array_equal(stats.ties[segment, row], (y_hat == top).sum(axis=0))
        ordered = np.sort(y_hat, axis=0)
        np.testing.assert_allclose(stats.margin[segment, row], ordered[-1] - ordered[-2], atol=1e-4)
        np.testing.assert_allclose(stats.spread[segment, row], ordered[-1] - ordered[0], atol=1e-4)
        clear = stats.margin[segment, row] > 1e-4  # the batched and the single-unit convolutions round apart
        assert clear.any() or row not in live
        assert np.array_equal(stats.winner[segment, row][clear], y_hat.argmax(axis=0)[clear])


def test_vanishing_kernels_tie_in_every_frame_and_always_tied_matches_the_maps(analysis):
    model = analysis.model
    stats = po.max_statistics(analysis)
    zero = np.flatnonzero(model.norms("cnn1") < 1e-10)  # far too small to change b_i in float32
    assert zero.size and stats.all_tied[:, zero].all()
    flat = np.zeros(561, dtype=bool)  # independent: range over rows is 0 in every frame
    for group in groups_of("cnn1"):
        flat[group.first_row:group.stop_row] = np.all(
            [np.ptp(cnn1_group_maps(model, group, analysis.M_hat[s])[2], axis=1).max(axis=1) == 0
             for s in range(analysis.n_segments)], axis=0)
    count = po.always_tied_units(analysis)
    assert count.rows == tuple(np.flatnonzero(flat))
    assert set(zero) <= set(count.rows)
    assert str(count.count) in str(count) and "ties" in count.criterion


def test_a_negative_slope_makes_the_least_active_row_win():
    model = load_model("MTT")
    rows = negative_gamma_units(model).rows
    assert rows, "MTT has non-trivial units with negative batch-norm slope"
    gammas = np.array([model.unit(r, "cnn1").gamma for r in nontrivial_units(model, "cnn1").rows])
    assert len(rows) == int(np.sum(gammas < 0))  # the slope's sign is γ's sign
    rng = np.random.default_rng(0)
    m_hat = rng.normal(0, 1.5, (N_MELS, SEGMENT_FRAMES)).astype(np.float32)
    for row in rows[:3]:
        maps = unit_maps(model, row, m_hat)
        unit = model.unit(row, "cnn1")
        scale = unit.gamma / np.sqrt(unit.variance + 1e-3)
        expected = scale * maps.Y.min(axis=0) + (unit.beta - scale * unit.mean)
        np.testing.assert_allclose(maps.Y_hat.max(axis=0), expected, rtol=1e-4, atol=1e-4)
        assert np.all(maps.Y[maps.row_of_max, np.arange(SEGMENT_FRAMES)] == maps.Y.min(axis=0))


# -- per unit summaries and choices ----------------------------------------------------------

def _synthetic_stats(model_name: str, row: int, winners: np.ndarray, ties: np.ndarray) -> po.MaxStatistics:
    shape = (1, 561, winners.size)
    winner = np.zeros(shape, dtype=np.int16)
    tie = np.full(shape, 1, dtype=np.int16)
    winner[0, row], tie[0, row] = winners, ties
    zeros = np.zeros(shape, dtype=np.float32)
    return po.MaxStatistics(model_name, winner, tie, zeros, zeros)


def test_summarise_unit_counts_only_frames_with_one_winner():
    model = load_model("MSD")
    row = 470  # a 1x64 unit: 96 rows
    winners = np.array([0, 10, 20, 95, 0, 10, 20, 95, 50, 50])
    ties = np.array([1, 1, 1, 1, 1, 1, 1, 1, 96, 3])  # the last two frames are tied
    s = po.summarise_unit(_synthetic_stats("MSD", row, winners, ties), model, row)
    assert s.name == "cnn1/1x64/470" and s.index == row
    assert s.unique_share == pytest.approx(0.8) and s.all_tied_share == pytest.approx(0.1)
    assert s.modal_share == pytest.approx(0.25) and s.modal_row in (0, 10, 20, 95)
    assert s.entropy_bits == pytest.approx(2.0)  # four rows, equally often
    assert s.normalised_entropy == pytest.approx(2.0 / np.log2(96))
    assert s.edge_share == pytest.approx(0.5)  # rows 0 and 95
    assert s.spread_bands == pytest.approx(np.std([0, 10, 20, 95]))
    never = po.summarise_unit(_synthetic_stats("MSD", row, winners, np.full(10, 96)), model, row)
    assert never.modal_row == -1 and np.isnan(never.modal_share)


def test_a_2d_units_spread_is_measured_on_the_middle_band():
    model = load_model("MSD")
    row = 12  # 38x7: row f reads bands f..f+37
    s = po.summarise_unit(_synthetic_stats("MSD", row, np.array([0, 0, 58, 58]), np.ones(4, int)), model, row)
    assert s.spread_bands == pytest.approx(29.0) and s.edge_share == 1.0
    first, last = s.modal_hz
    assert first == pytest.approx(mel_center_hz()[s.modal_row])
    assert last == pytest.approx(mel_center_hz()[s.modal_row + 37])


def _summary(name: str, unique: float, spread: float, modal: float) -> po.WinnerSummary:
    index = int(name.rsplit("/", 1)[1])
    return po.WinnerSummary("MSD", name, index, unique, 1 - unique, 0, modal, 1.0, spread, 0.0)


def test_choices_take_the_extremes_among_units_with_enough_unique_frames():
    rows = [_summary("cnn1/38x7/1", 0.9, 10.0, 0.2), _summary("cnn1/67x7/210", 0.3, 50.0, 0.99),
            _summary("cnn1/1x32/520", 0.6, 30.0, 0.1), _summary("cnn1/1x64/470", 1.0, 2.0, 0.95)]
    assert po.most_moving(rows).name == "cnn1/1x32/520"  # 67x7/210 moves more but has too few unique frames
    assert po.most_moving(rows, one_d=False).name == "cnn1/38x7/1"
    assert po.most_concentrated(rows).name == "cnn1/1x64/470"
    featured = po.featured_units(rows)
    assert len({s.name for s in featured.values()}) == 3
    with pytest.raises(ValueError, match="no unit"):
        po.most_moving(rows, min_unique=1.01)
    table = po.featured_table(featured)
    assert table.count("\n") == 1 + len(featured) and "`cnn1/38x7/1`" in table


def test_effective_dc_gain_decides_whether_the_loudest_or_quietest_band_wins():
    model = load_model("MSD")
    levels = np.linspace(-4, 4, N_MELS, dtype=np.float32)  # band 95 loudest, band 0 quietest
    m_hat = np.repeat(levels[:, None], SEGMENT_FRAMES, axis=1)
    interior = slice(70, SEGMENT_FRAMES - 70)  # far from the zero padding in time
    checked = set()
    for row in nontrivial_units(model, "cnn1").rows:
        unit = model.unit(row, "cnn1")
        if unit.group.rows != 1 or unit.gamma <= 0:
            continue
        gain = po.effective_dc_gain(model, row)
        maps = unit_maps(model, row, m_hat)
        y = maps.Y[:, interior]
        if np.ptp(y, axis=0).min() == 0 or abs(gain) < 0.05:
            continue  # silent columns tie; a near-zero gain leaves the kernel's shape in charge
        expected = N_MELS - 1 if gain > 0 else 0
        assert np.all(maps.row_of_max[interior] == expected), unit.name
        checked.add(gain > 0)
    assert checked == {True, False}


def test_dc_gain_agreement_and_extremes_count_independently(analysis):
    summaries = po.winner_summaries(analysis)
    units = [s for s in summaries if s.group.rows == 1 and s.unique_share >= po.MIN_UNIQUE]
    model = analysis.model
    agree = 0
    for s in units:
        k = model.unit(s.index, "cnn1")
        gain = np.sign(k.gamma) * k.kernel.sum()
        agree += (gain < 0) == (s.modal_row >= 48)
    assert po.dc_gain_agreement(summaries, model) == (agree, len(units))
    extremes = sum(s.modal_row < po.EXTREME_BANDS or s.modal_row >= N_MELS - po.EXTREME_BANDS for s in units)
    assert po.at_extremes(summaries) == (extremes, len(units))
    sentence = po.dc_gain_sentence({model.name: summaries})
    assert f"{agree} of {len(units)} for {model.name}" in sentence


def test_level_extremes_find_the_loud_and_quiet_bands():
    model = load_model("MSD")
    m = np.tile(np.linspace(3.0, 0.0, N_MELS, dtype=np.float32)[None, :, None], (2, 1, SEGMENT_FRAMES))
    m[1, 40, :5] = 10.0  # a short loud burst elsewhere in the second segment
    a = Analysis(Path("synthetic.wav"), model, SEGMENT_FRAMES, {"M_dB": m})
    e = po.level_extremes(a)
    assert (e.loudest_band, e.quietest_band) == (0, N_MELS - 1)
    assert e.quietest_share == 1.0
    assert e.loudest_low_share == pytest.approx(1 - 5 / (2 * SEGMENT_FRAMES))
    assert "band 0" in po.level_sentence(a)


# -- what the max discards, per model ---------------------------------------------------------

def test_discarded_shares_partition_the_frames(analysis):
    d = po.discarded(analysis)
    model = analysis.model
    live = list(nontrivial_units(model, "cnn1").rows)
    trivial = [r for r in range(561) if r not in live]
    assert d.units == len(live) and d.trivial_units == len(trivial)
    assert d.unique + d.all_tied + d.partly_tied == pytest.approx(1.0)
    assert 0 <= d.near_tie <= 1 and 0 <= d.median_relative_margin <= 1
    u = analysis.U[:, trivial]
    assert d.trivial_range == pytest.approx(float(np.max(u.max(axis=(0, 2)) - u.min(axis=(0, 2)))))
    assert d.negative_scale_units == negative_gamma_units(model).count
    table = po.discarded_table([d])
    assert f"| {d.units} |" in table and f"{NORM_THRESHOLD:g}" in table


def test_relative_margin_is_zero_on_ties_and_one_when_others_sit_at_the_minimum():
    maps = np.zeros((1, 3, 3), dtype=np.float32)
    maps[0, :, 0] = [2.0, 0.0, 0.0]
    maps[0, :, 1] = [1.0, 1.0, 0.0]
    maps[0, :, 2] = [3.0, 2.0, 0.0]
    winner, ties, margin, spread = (x[None] for x in po.frame_statistics(maps))
    stats = po.MaxStatistics("MSD", winner, ties, margin, spread)
    np.testing.assert_allclose(stats.relative_margin[0, 0], [1.0, 0.0, 1 / 3])


# -- tables and figures ------------------------------------------------------------------------

def test_layout_table_counts_add_up():
    models = [load_model("MSD"), load_model("MTT")]
    table = po.layout_table(models)
    body = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    for k, model in enumerate(models):
        per_group = [int(cells[5 + k]) for cells in body[:-1]]
        assert sum(per_group) == int(body[-1][5 + k]) == nontrivial_units(model, "cnn1").count
    assert [int(cells[2]) for cells in body[:-1]] == [g.size for g in groups_of("cnn1")]


def test_u_figure_draws_all_561_rows_with_four_group_boundaries(analysis):
    fig, ax, image, bar, marks = po.u_figure(analysis, 0)
    assert image.get_array().shape == (561, analysis.U.shape[2])
    lines = [m for m in marks if hasattr(m, "get_ydata")]
    assert sorted(line.get_ydata()[0] for line in lines) == [g.first_row - 0.5 for g in groups_of("cnn1")[1:]]
    lo, hi = image.get_clim()
    assert lo == -hi and hi <= np.abs(analysis.U[0]).max()


def test_concentration_figure_draws_one_marker_per_unit_and_model(analysis):
    summaries = {analysis.model.name: po.winner_summaries(analysis)}
    fig, axes, handles = po.concentration_figure(summaries)
    assert len(axes) == 3 and len(handles) == 3
    n = nontrivial_units(analysis.model, "cnn1").count
    assert all(h.get_offsets().shape[0] == n for h in handles)


def test_winner_figure_marks_every_frame_as_a_win_or_a_tie(analysis):
    stats = po.max_statistics(analysis)
    live = nontrivial_units(analysis.model, "cnn1").rows
    segment = 0
    row = max((r for r in live if r < 408), key=lambda r: (~stats.unique[segment, r]).sum())  # a 2-D unit with ties
    fig, axes = po.winner_figure(analysis, row, segment, why="test")
    unique = stats.unique[segment, row]
    dots, ticks = axes[0].get_lines()[:2]
    assert dots.get_xdata().size == unique.sum() and ticks.get_xdata().size == (~unique).sum()
    bands = [c for c in axes[1].collections if isinstance(c, LineCollection)]
    assert len(bands) == 1 and len(bands[0].get_segments()) == unique.sum()
    assert "test" in fig.get_suptitle()


def test_margin_figure_lines_end_at_one(analysis):
    fig, ax, lines = po.margin_figure([analysis])
    assert len(lines) == 1 and lines[0].get_ydata()[-1] == pytest.approx(1.0)
