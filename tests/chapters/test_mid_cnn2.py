"""Chapter 10: CNN_2's dead units, where its kernels put their weight, the bias of the trivial
rows of U, V_1, V̂_1 and the CNN_2 batch-norm."""

import numpy as np
import pytest
from conftest import with_variables
from matplotlib.image import AxesImage

from musicnn_nb import load_model
from musicnn_nb.chapters import mid_cnn2 as c2
from musicnn_nb.facts.units import NORM_THRESHOLD, never_active_units, nontrivial_units, trivial_units
from musicnn_nb.model.network import midend_unit

KERNEL = "conv2d_5/kernel"  # CNN_2's kernel in the checkpoint: (7 frames, 561 rows, 1, 64 units)


def test_dead_and_live_units_partition_the_layer_by_norm(model_name):
    model = load_model(model_name)
    units = model.units("cnn2")
    dead = trivial_units(model, "cnn2")
    assert dead.names == [u.name for u in units if u.norm <= NORM_THRESHOLD]
    assert set(dead.rows) | set(nontrivial_units(model, "cnn2").rows) == set(range(len(units)))
    assert not set(dead.rows) & set(nontrivial_units(model, "cnn2").rows)
    assert "≤ 0.01" in dead.criterion
    assert c2.largest_norm_unit(model) == max(units, key=lambda u: u.norm).name


def test_never_active_units_match_each_units_own_series(analysis):
    """Criterion (b), recomputed unit by unit from the network's own single-unit path."""
    model = analysis.model
    silent = [j for j in range(64)
              if all(analysis.midend_unit(f"cnn2/561x7/{j}", s).V.max() <= 0 for s in range(analysis.n_segments))]
    count = never_active_units(analysis, "cnn2")
    assert list(count.rows) == silent
    assert f"all {analysis.n_segments} segments" in count.criterion
    per_segment = c2.silent_per_segment(analysis)
    assert per_segment.shape == (analysis.n_segments,)
    assert np.all(per_segment >= count.count)
    # a dead kernel cannot open its rectifier, so (a) is contained in (b)
    assert set(trivial_units(model, "cnn2").rows) <= set(count.rows)


def test_opening_level_is_the_input_that_just_fails_to_open_the_rectifier(model_name):
    model = load_model(model_name)
    dead = trivial_units(model, "cnn2").rows
    levels = c2.opening_level(model)
    assert levels.size == sum(model.unit(j, "cnn2").bias < 0 for j in dead)
    j = next(j for j in dead if model.unit(j, "cnn2").bias < 0)
    unit = model.unit(j, "cnn2")
    level = -unit.bias / np.abs(unit.kernel.astype(np.float64)).sum()
    assert levels[0] == pytest.approx(level, rel=1e-6)  # the first dead unit with b_j < 0
    # the worst-case input at 90 % of the level: around frame 93 every weight meets ±0.9·level
    # with its own sign, so the pre-activation there is b_j − 0.9 b_j = 0.1 b_j, still negative
    u = np.zeros((561, 187), np.float32)
    u[:, 90:97] = np.sign(unit.kernel) * 0.9 * level
    pre = midend_unit(model, unit.name, u).pre_activation
    assert pre[93] == pytest.approx(0.1 * unit.bias, rel=1e-3)
    assert pre.max() < 0


def test_dead_table_counts_agree_with_the_count_functions(analysis):
    line = c2.dead_table([analysis]).splitlines()[2].split("|")[1:-1]
    assert line[1].strip() == f"{trivial_units(analysis.model, 'cnn2').count} of 64"
    assert line[2].strip() == f"{never_active_units(analysis, 'cnn2').count} of 64"
    same = trivial_units(analysis.model, 'cnn2').rows == never_active_units(analysis, 'cnn2').rows
    assert line[3].strip() == ("yes" if same else "no")


def test_energy_shares_on_a_synthetic_kernel(model_name):
    """Unit 0 puts all its weight on one non-trivial 1x32 row, unit 1 on one trivial 38x7 row."""
    model = load_model(model_name)
    u_live = nontrivial_units(model, "cnn1").rows
    live_row = next(r for r in u_live if r >= 510)
    trivial_row = next(r for r in range(204) if r not in u_live)
    kernel = np.zeros_like(model.variables[KERNEL])
    kernel[:, live_row, 0, 0] = 1.0
    kernel[2, trivial_row, 0, 1] = 3.0
    synthetic = with_variables(model, conv2d_5__kernel=kernel)
    shares = c2.energy_shares(synthetic)
    assert set(shares.units) == {0, 1}
    by_unit = dict(zip(shares.units, range(2)))
    np.testing.assert_allclose(shares.nontrivial[by_unit[0]], [0, 0, 0, 0, 1])
    np.testing.assert_allclose(shares.trivial[by_unit[1]], [1, 0, 0, 0, 0])
    assert shares.on_trivial[by_unit[0]] == 0 and shares.on_trivial[by_unit[1]] == 1
    assert shares.units[0] == 1  # larger norm first


def test_energy_shares_of_the_real_kernels_sum_to_one(model_name):
    model = load_model(model_name)
    shares = c2.energy_shares(model)
    np.testing.assert_allclose(shares.nontrivial.sum(axis=1) + shares.on_trivial, 1, rtol=1e-12)
    assert sum(shares.rows_total) == 561
    assert sum(shares.rows_nontrivial) == nontrivial_units(model, "cnn1").count
    norms = model.norms("cnn2")[list(shares.units)]
    assert np.all(np.diff(norms) <= 0)


def test_dead_rows_of_v1_hat_hold_bn_of_zero(analysis):
    dead = list(trivial_units(analysis.model, "cnn2").rows)
    bn = c2.batch_norm(analysis.model)
    observed = analysis.V1_hat[:, dead]
    np.testing.assert_allclose(observed, np.broadcast_to(bn.shift[dead, None], observed.shape), atol=1e-6)
    assert bn.gamma.shape == (64,)


def test_glorot_std_of_the_cnn2_kernel():
    fan_in, fan_out = 7 * 561, 7 * 561 * 64
    assert c2.glorot_std(load_model("MSD")) == pytest.approx(np.sqrt(6 / (fan_in + fan_out)) / np.sqrt(3))


def test_v_figure_draws_v1_and_v1_hat_per_model(analysis):
    fig, axes = c2.v_figure([analysis, analysis], segment=0)
    assert axes.shape == (2, 2)
    for ax, key in zip(axes[0], ("V1", "V1_hat")):
        image = next(a for a in ax.get_children() if isinstance(a, AxesImage))
        np.testing.assert_array_equal(image.get_array(), analysis.arrays[key][0])
    lo, hi = next(a for a in axes[0, 1].get_children() if isinstance(a, AxesImage)).get_clim()
    assert lo == -hi  # V̂_1 is signed: symmetric diverging scale


def test_energy_and_row_figures_draw_one_bar_and_one_image_row_per_live_unit(model_name):
    model = load_model(model_name)
    shares = c2.energy_shares(model)
    fig, axes = c2.energy_figure([shares])
    assert len(axes[0, 0].patches) == len(shares.units) * len(shares.groups)
    assert len(axes[1, 0].collections[0].get_offsets()) == len(shares.units)
    fig, axes = c2.row_energy_figure([model])
    image = next(a for a in axes[1].get_children() if isinstance(a, AxesImage))
    assert image.get_array().shape == (len(shares.units), 561)
