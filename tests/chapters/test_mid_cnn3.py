"""Chapter 11: CNN_3's dead units, its weight on constant rows of V̂_1, and the skip sum."""

import numpy as np
import pytest

from musicnn_nb import load_model
from musicnn_nb.chapters import mid_cnn3 as m3
from musicnn_nb.facts.units import (
    NORM_THRESHOLD,
    never_active_units,
    norm_gap,
    stable_thresholds,
    threshold_sensitivity,
    trivial_units,
)
from musicnn_nb.model.weights import LAYER_SIZES


def test_the_skip_sum_is_cnn4s_input_and_its_block_of_w(analysis):
    first, last = m3.w_rows()
    assert first == LAYER_SIZES["cnn1"] + LAYER_SIZES["cnn2"]
    assert last - first + 1 == LAYER_SIZES["cnn3"]
    np.testing.assert_array_equal(analysis.W[:, first:last + 1], analysis.V1_hat + analysis.V2_hat)
    assert f"rows {first}–{last}" in m3.skip_sentence([analysis])
    assert "NOT" not in m3.skip_sentence([analysis])


def test_dead_unit_counts_match_an_independent_count(analysis):
    model = analysis.model
    zero = trivial_units(model, "cnn3")
    assert list(zero.rows) == [j for j in range(64) if model.unit(j, "cnn3").norm <= NORM_THRESHOLD]
    never = never_active_units(analysis, "cnn3")
    expected = [j for j in range(64)
                if all(analysis.midend_unit(f"cnn3/64x7/{j}", s).V.max() <= 0 for s in range(analysis.n_segments))]
    assert list(never.rows) == expected
    # a numerically zero kernel with a non-positive bias can never open its rectifier
    assert {j for j in zero.rows if model.unit(j, "cnn3").bias <= 0} <= set(never.rows)
    table = m3.dead_units_table([analysis])
    assert len(table.splitlines()) - 2 == len(set(zero.rows) | set(never.rows))


def test_stable_thresholds_bound_a_run_of_equal_counts():
    for name in ("MSD", "MTT"):
        model = load_model(name)
        lo, hi = stable_thresholds(model, "cnn3")
        counts = threshold_sensitivity(model, "cnn3")
        grid = sorted(counts)
        target = int(np.sum(model.norms("cnn3") > NORM_THRESHOLD))
        inside = [counts[t] for t in grid if lo <= t <= hi]
        assert inside and all(c == target for c in inside)
        outside = [counts[t] for t in grid if t < lo][-1:] + [counts[t] for t in grid if t > hi][:1]
        assert all(c != target for c in outside)
        small, large = norm_gap(model, "cnn3")
        assert np.isnan(small) or small <= NORM_THRESHOLD < large


def test_row_weights_split_the_frobenius_norm():
    model = load_model("MTT")
    np.testing.assert_allclose((m3.row_weights(model) ** 2).sum(axis=1), model.norms("cnn3") ** 2, rtol=1e-10)


def test_skip_stats_agree_with_direct_computation(analysis):
    stats = m3.skip_stats(analysis)
    v1, v2 = (analysis.arrays[k].astype(np.float64) for k in ("V1_hat", "V2_hat"))
    np.testing.assert_allclose(stats.energy_sum, stats.energy_1 + stats.energy_2 + stats.cross, rtol=1e-9)
    s = v1 + v2
    assert stats.distance_to["V2_hat"] == pytest.approx(np.linalg.norm(s - v2) / np.linalg.norm(s))
    assert stats.distance_to["V1_hat"] == pytest.approx(np.linalg.norm(s - v1) / np.linalg.norm(s))
    varying = [j for j in range(64) if np.isfinite(stats.correlation[j])]
    j = varying[0]
    expected = np.corrcoef(v1[:, j].ravel(), v2[:, j].ravel())[0, 1]
    assert stats.correlation[j] == pytest.approx(expected, abs=1e-9)
    assert set(stats.constant["V1_hat"]) & set(stats.constant["V2_hat"]) <= set(stats.constant["V12_hat"])


def test_batch_norm_values_reproduce_v2_hat(analysis):
    v = m3.bn_values(analysis.model)
    expected = v["scale"][None, :, None] * analysis.V2 + v["shift"][None, :, None]
    np.testing.assert_allclose(analysis.V2_hat, expected, rtol=1e-5, atol=1e-5)
    silent = analysis.V2 == 0
    assert m3.silent_share(analysis) == pytest.approx(silent.mean())


def test_outputs_figure_draws_five_64_by_187_images_and_three_series(analysis):
    fig, axes = m3.outputs_figure(analysis, 0)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 5 and all(im.get_array().shape == (64, 187) for im in images)
    assert len([line for line in axes["row"].lines if np.size(line.get_xdata()) == 187]) == 3
    j = m3.featured_row(analysis, 0)
    stats = m3.skip_stats(analysis, [0])
    assert j not in set(stats.constant["V1_hat"]) | set(stats.constant["V2_hat"])


def test_weight_figure_has_one_unit_by_row_image_and_a_bar_per_row():
    models = [load_model("MSD"), load_model("MTT")]
    fig, axes = m3.weight_figure(models)
    for column in axes.T:
        assert column[0].get_images()[0].get_array().shape == (64, 64)
        assert len(column[1].patches) == 64


def test_explorer_unit_is_the_largest_norm():
    model = load_model("MSD")
    best = max(model.units("cnn3"), key=lambda u: u.norm)
    assert m3.explorer_unit(model) == best.name
