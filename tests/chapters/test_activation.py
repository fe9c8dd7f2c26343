"""Chapter 6: what the bias and the rectifier keep, per CNN_1 unit, checked independently."""

from dataclasses import replace

import numpy as np
import pytest

from musicnn_nb import load_model
from musicnn_nb.chapters import activation as act
from musicnn_nb.facts.units import NORM_THRESHOLD, nontrivial_units
from musicnn_nb.model.weights import groups_of


@pytest.fixture(scope="module")
def stats(analysis):
    return act.activation_stats(analysis)


def test_biases_and_largest_weights_match_each_unit(model_name):
    model = load_model(model_name)
    units = model.units("cnn1")
    np.testing.assert_array_equal(model.biases("cnn1"), [u.bias for u in units])
    np.testing.assert_array_equal(act.largest_weights(model), [np.abs(u.kernel).max() for u in units])


def test_kept_share_matches_one_unit_at_a_time(analysis, stats):
    """The share of positive pre-activation cells, recomputed with unit_maps on every segment."""
    live = nontrivial_units(analysis.model, "cnn1").rows
    for group in groups_of("cnn1"):
        rows = [r for r in live if group.first_row <= r < group.stop_row][:2]
        for row in rows:
            z = np.stack([analysis.unit_maps(row, s).pre_activation for s in range(analysis.n_segments)])
            # grouped and one-unit convolutions round differently in float32: only cells within
            # rounding of zero may fall on the other side
            assert abs(stats.kept[row] - np.mean(z > 0)) <= np.mean(np.abs(z) < 1e-5) + 1e-12
            assert stats.max_pre[row] == pytest.approx(z.max(), abs=1e-5)
            y = np.maximum(z, 0)
            assert (stats.y_min[row], stats.y_max[row]) == pytest.approx((y.min(), y.max()), abs=1e-5)


def test_trivial_units_stay_within_the_cauchy_schwarz_distance_of_relu_b(analysis, stats):
    """|Y_i − ReLU(b_i)| ≤ ‖K_i‖_F · (largest window norm of M̂_dB), the chapter's bound."""
    m_hat = analysis.M_hat
    for group in groups_of("cnn1"):
        rows = np.arange(group.first_row, group.stop_row)
        trivial = rows[stats.trivial[rows]]
        if trivial.size == 0:
            continue
        squares = np.pad(m_hat**2, ((0, 0), (0, 0), (group.frames, group.frames)))
        window = np.sqrt(np.lib.stride_tricks.sliding_window_view(squares, (group.rows, group.frames), axis=(1, 2))
                         .sum(axis=(-1, -2)).max())
        relu_b = np.maximum(stats.bias[trivial], 0)
        distance = np.maximum(np.abs(stats.y_max[trivial] - relu_b), np.abs(stats.y_min[trivial] - relu_b))
        assert np.all(distance <= stats.norms[trivial].astype(np.float64) * window + 1e-5)


def test_vanishing_kernels_with_negative_bias_output_exactly_zero(stats):
    vanishing = set(act.vanishing_kernel_units(stats).rows)
    assert vanishing, "both models have vanishing kernels"
    assert vanishing <= set(np.flatnonzero(stats.trivial))
    silent = {r for r in vanishing if stats.bias[r] <= 0}
    assert silent <= set(act.zero_output_units(stats).rows)
    assert all(stats.y_max[r] == 0 for r in silent)


def test_trivial_units_are_split_into_zero_and_positive_constants(stats):
    zero, positive = act.zero_output_units(stats), act.constant_positive_units(stats)
    assert not set(zero.rows) & set(positive.rows)
    assert zero.count + positive.count == int(stats.trivial.sum())
    assert all(stats.bias[r] > 0 for r in positive.rows)


def test_counts_follow_their_criteria_on_made_up_numbers(stats):
    """Five units with chosen norms and kept shares: each count picks exactly the expected rows."""
    n = stats.norms.size
    norms = np.full(n, 1.0)
    norms[[0, 1]] = [0.0, NORM_THRESHOLD]  # trivial
    kept = np.full(n, 0.5)
    kept[[0, 2, 3]] = [0.0, 0.0, 1.0]
    y_min, y_max = np.full(n, 0.0), np.full(n, 1.0)
    y_max[0] = 0.0  # trivial unit 0 outputs zero
    y_min[1] = 0.2  # trivial unit 1 outputs a positive constant
    made_up = replace(stats, norms=norms, kept=kept, y_min=y_min, y_max=y_max)
    assert act.never_active_units(made_up).rows == (2,)
    assert act.always_kept_units(made_up).rows == (3,)
    assert act.zero_output_units(made_up).rows == (0,)
    assert act.constant_positive_units(made_up).rows == (1,)
    assert "≤ 0 in every cell" in act.never_active_units(made_up).criterion


def test_never_active_units_output_nothing_and_stay_below_the_bound(analysis, stats):
    assert np.all(stats.max_pre <= stats.bound + 1e-4)
    for row in act.never_active_units(stats).rows:
        assert stats.norms[row] > NORM_THRESHOLD
        assert all(not analysis.unit_maps(row, s).Y.any() for s in range(analysis.n_segments))


def test_chosen_units_are_the_closest_distinct_nontrivial_units(stats):
    names = act.choose_units(stats, (0.5, 0.5, 0.9))
    assert len(set(names)) == 3
    rows = [int(n.split("/")[2]) for n in names]
    live = np.flatnonzero(~stats.trivial)
    assert rows[0] == live[np.argmin(np.abs(stats.kept[live] - 0.5))]
    assert all(not stats.trivial[r] for r in rows)


def test_group_table_accounts_for_every_unit(stats):
    rows = [line.split(" | ") for line in act.group_table([stats]).splitlines()[2:]]
    assert [r[1] for r in rows] == [g.name for g in groups_of("cnn1")]
    for cells, group in zip(rows, groups_of("cnn1")):
        units, zero, positive, live = (int(c) for c in cells[2:6])
        assert units == group.size == zero + positive + live


def test_panels_draw_one_point_per_unit(stats):
    fig, ax, handles = act.bias_panel(stats)
    assert sum(len(h.get_offsets()) for h in handles[:2]) == stats.norms.size
    fig, ax, handles = act.kept_panel(stats)
    assert len(handles[0].get_offsets()) == int((~stats.trivial).sum())


def test_maps_figure_zeroes_exactly_the_nonpositive_cells(analysis, stats):
    names = act.choose_units(stats, (0.5, 0.1))
    fig, axes = act.maps_figure(analysis, names, segment=0)
    assert axes.shape == (2, 2)
    for left, right in axes:
        pre, y = left.images[0].get_array(), right.images[0].get_array()
        assert np.all(y[pre <= 0] == 0) and np.array_equal(y[pre > 0], pre[pre > 0])
        assert left.images[0].get_clim() == right.images[0].get_clim()
