"""Chapter 7: the per-unit batch-norm of CNN_1, negative γ, and the trivial units' constants."""

import numpy as np
import pytest
from conftest import with_variables

from musicnn_nb import load_model
from musicnn_nb.chapters import normalisation as nz
from musicnn_nb.facts.batchnorm import (
    ZERO_VARIANCE,
    cnn1_batch_norm,
    negative_gamma_units,
    trivial_constants,
    variance_floor,
)
from musicnn_nb.facts.units import NORM_THRESHOLD, nontrivial_units
from musicnn_nb.model.network import cnn1_group_maps
from musicnn_nb.model.weights import groups_of


def test_cnn1_batch_norm_is_the_units_parameters_in_row_order(model_name):
    model = load_model(model_name)
    bn = cnn1_batch_norm(model)
    for row in (0, 203, 204, 408, 459, 510, 560):
        unit = model.unit(row, "cnn1")
        assert (bn.gamma[row], bn.beta[row], bn.mean[row], bn.variance[row]) == \
            (unit.gamma, unit.beta, unit.mean, unit.variance)
        assert model.biases("cnn1")[row] == pytest.approx(unit.bias)


def test_network_batch_norm_is_the_textbook_formula(analysis):
    """Ŷ from the network equals γ (Y − μ)/√(σ² + ε) + β evaluated literally in float64."""
    model = analysis.model
    group = groups_of("cnn1")[1]
    _, y, y_hat = cnn1_group_maps(model, group, analysis.M_hat[0])
    bn = cnn1_batch_norm(model)
    rows = slice(group.first_row, group.stop_row)
    g, b, m, v = (np.asarray(getattr(bn, k)[rows], np.float64)[:, None, None]
                  for k in ("gamma", "beta", "mean", "variance"))
    expected = g * (y.astype(np.float64) - m) / np.sqrt(v + 1e-3) + b
    np.testing.assert_allclose(y_hat, expected, atol=1e-4, rtol=1e-5)


def test_negative_gamma_counts_match_a_count_over_units(model_name):
    model = load_model(model_name)
    units = model.units("cnn1")
    live = [u for u in units if u.norm > NORM_THRESHOLD]
    dead = [u for u in units if u.norm <= NORM_THRESHOLD]
    nontrivial = negative_gamma_units(model)
    trivial = negative_gamma_units(model, nontrivial=False)
    assert nontrivial.names == [u.name for u in live if u.gamma < 0]
    assert trivial.count == sum(u.gamma < 0 for u in dead)
    assert "γ_i < 0" in nontrivial.criterion and "> 0.01" in nontrivial.criterion
    lines = [line.split("|")[1:-1] for line in nz.negative_gamma_table([model]).splitlines()[2:]]
    per_group = np.array([[int(c) for c in line[2:]] for line in lines[:-1]])
    total = np.array([int(c) for c in lines[-1][2:]])
    np.testing.assert_array_equal(per_group.sum(axis=0), total)
    assert list(total) == [len(units), len(live), nontrivial.count, len(dead), trivial.count]


def test_flip_unit_is_the_most_negative_nontrivial_gamma_and_explorer_falls_back():
    model = load_model("MTT")
    rows = negative_gamma_units(model).rows
    assert rows, "MTT has non-trivial units with negative γ"
    gamma = cnn1_batch_norm(model).gamma
    assert model.unit(nz.flip_unit(model)).gamma == pytest.approx(gamma[list(rows)].min())
    assert nz.explorer_unit(model) == nz.flip_unit(model)
    flipped = with_variables(model, **{f"{g.bn}__gamma": np.abs(model.variables[f"{g.bn}/gamma"])
                                       for g in groups_of("cnn1")})
    assert nz.flip_unit(flipped) is None
    live = np.flatnonzero(flipped.norms("cnn1") > NORM_THRESHOLD)
    best = live[np.argmax(np.abs(cnn1_batch_norm(flipped).gamma[live]))]
    assert nz.explorer_unit(flipped) == flipped.unit(int(best), "cnn1").name


def test_a_negative_gamma_makes_the_max_pick_the_smallest_y(analysis):
    """On real music, for every non-trivial unit with γ < 0: [U]_{i,t} = a_i min_f Y_i + c_i,
    reached in the row of smallest Y_i; and a zero anywhere in Y_i gives exactly c_i."""
    table, stats = nz.flips_table([analysis])
    assert len(stats) == negative_gamma_units(analysis.model).count == table.count("\n") - 1
    for f in stats:
        assert f.slope < 0 and f.at_smallest_y == f.frames and f.max_error < 1e-4
    unit = stats[0].unit
    maps = analysis.unit_maps(unit, 0)
    row = analysis.U[0, analysis.model.unit(unit).index]
    closed = maps.Y.min(axis=0) == 0
    assert np.all(row[closed] == np.float32(stats[0].intercept))
    assert np.all(row[~closed] < stats[0].intercept)


def test_trivial_constants_are_what_the_network_outputs_for_a_zero_kernel():
    """Zero the trivial kernels exactly: every row of Ŷ, hence of U, is the predicted constant."""
    model = load_model("MSD")
    live = nontrivial_units(model, "cnn1").mask
    changes = {}
    for g in groups_of("cnn1"):
        kernel = model.variables[f"{g.conv}/kernel"].copy()
        kernel[..., ~live[g.first_row:g.stop_row]] = 0
        changes[f"{g.conv}__kernel"] = kernel
    zeroed = with_variables(model, **changes)
    m_hat = np.random.default_rng(1).normal(size=(96, 187)).astype(np.float32)
    predicted = trivial_constants(model)
    for g in groups_of("cnn1"):
        _, _, y_hat = cnn1_group_maps(zeroed, g, m_hat)
        trivial = ~live[g.first_row:g.stop_row]
        u = y_hat.max(axis=1)[trivial]
        np.testing.assert_allclose(u, np.broadcast_to(predicted[g.first_row:g.stop_row][trivial, None], u.shape),
                                   atol=2e-6)


def test_constants_counts_and_check_against_observed_rows(analysis):
    model = analysis.model
    check = nz.check_constants(analysis)
    trivial = np.flatnonzero(model.norms("cnn1") <= NORM_THRESHOLD)
    np.testing.assert_array_equal(check.rows, trivial)
    constants = trivial_constants(model)[trivial]
    for tolerance in nz.CONSTANT_TOLERANCES:
        assert nz.nonzero_constants(model, tolerance).count == int(np.sum(np.abs(constants) > tolerance))
    observed = analysis.U[:, trivial, :]
    np.testing.assert_allclose(check.deviation, np.abs(observed - constants[None, :, None]).max(axis=(0, 2)), atol=1e-6)
    # the deviation of a trivial row is bounded by its kernel: |a_i| ‖K_i‖_F ‖largest window of M̂_dB‖
    a = np.abs(cnn1_batch_norm(model).scale[trivial])
    largest = np.abs(analysis.M_hat).max() * np.sqrt([g.rows * g.frames for g in groups_of("cnn1")
                                                      for _ in range(g.size)])[trivial]
    assert np.all(check.deviation <= a * model.norms("cnn1")[trivial] * largest + 1e-5)
    table = nz.constants_table([check])
    assert table.splitlines()[2].split("|")[2].strip() == str(trivial.size)
    assert f"| {int(np.sum(check.deviation <= nz.MATCH_TOLERANCE))} |" in table
    assert f"{int(np.sum(check.deviation > nz.MATCH_TOLERANCE))} of {trivial.size}" in nz.departures(check, model)


def test_stuck_running_statistics_sit_just_under_the_flush_to_zero_floor(model_name):
    bn = cnn1_batch_norm(load_model(model_name))
    stuck = np.concatenate([bn.mean[bn.mean < ZERO_VARIANCE], bn.variance[bn.variance < ZERO_VARIANCE]])
    assert stuck.size and np.all(stuck > 0)
    assert stuck.max() <= variance_floor() and stuck.min() > 0.9 * variance_floor()
    assert variance_floor(0.9) == pytest.approx(float(np.finfo(np.float32).tiny) * 10)


def test_figures_draw_what_they_say(analysis):
    models = [load_model("MSD"), load_model("MTT")]
    fig, axes = nz.parameter_figure(models)
    assert axes.shape == (4, 2)
    for col, model in enumerate(models):
        for ax in axes[:, col]:
            offsets = [c.get_offsets() for c in ax.collections]
            assert sum(len(o) for o in offsets) == 561
            assert len(offsets[1]) == nontrivial_units(model, "cnn1").mask.sum()
    fig, axes = nz.affine_figure(models)
    for ax, model in zip(axes[0], models):
        points = np.concatenate([c.get_offsets() for c in ax.collections])
        bn, live = cnn1_batch_norm(model), nontrivial_units(model, "cnn1").mask
        np.testing.assert_allclose(np.sort(points[:, 0]), np.sort(bn.scale[live]), rtol=1e-6)
    fig, axes = nz.constants_figure([analysis], 0)
    image = axes[0, 0].images[0].get_array()
    assert np.ma.count_masked(image) == nontrivial_units(analysis.model, "cnn1").mask.sum() * analysis.U.shape[2]
    unit = nz.explorer_unit(analysis.model)
    fig, axes = nz.flip_figure(analysis, unit, 0)
    maps = analysis.unit_maps(unit, 0)
    np.testing.assert_array_equal(axes["Y"].lines[0].get_ydata(), np.argmin(maps.Y, axis=0))
    np.testing.assert_array_equal(axes["Y_hat"].lines[0].get_ydata(), np.argmax(maps.Y_hat, axis=0))
