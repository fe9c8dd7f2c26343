"""Constant input rows as a bias, for CNN_2 (rows of U) and CNN_3 (rows of V̂_1)."""

import numpy as np
import pytest
from conftest import with_variables

from musicnn_nb import load_model
from musicnn_nb.facts.bias import (
    bias_check,
    constant_contribution,
    constant_input_rows,
    effective_bias,
    input_constants,
    pre_activation,
)
from musicnn_nb.facts.units import nontrivial_units, trivial_units
from musicnn_nb.model.network import KERNEL_FRAMES, LAYER_INPUT, PAD, midend_unit
from musicnn_nb.model.weights import groups_of

LAYERS = ("cnn2", "cnn3")


@pytest.mark.parametrize("layer", LAYERS)
def test_constant_rows_are_the_trivial_units_below_and_hold_their_constants(analysis, layer):
    below = {"cnn2": "cnn1", "cnn3": "cnn2"}[layer]
    rows = constant_input_rows(analysis.model, layer)
    assert rows.rows == trivial_units(analysis.model, below).rows and rows.layer == below
    observed = analysis.arrays[LAYER_INPUT[layer]][:, list(rows.rows), :]
    predicted = input_constants(analysis.model, layer)[list(rows.rows)]
    wobble = {"cnn2": 1e-2, "cnn3": 1e-6}[layer]  # CNN_1's trivial kernels are small, CNN_2's far smaller
    np.testing.assert_allclose(observed, np.broadcast_to(predicted[None, :, None], observed.shape), atol=wobble)


@pytest.mark.parametrize("layer", LAYERS)
def test_effective_bias_is_the_constant_rows_through_the_kernel(model_name, layer):
    """δ_j from a synthetic input whose constant rows hold exactly their constants and whose other
    rows are zero: the network's pre-activation at an inner frame is b_j + δ_j."""
    model = load_model(model_name)
    rows = list(constant_input_rows(model, layer).rows)
    x = np.zeros((groups_of(layer)[0].rows, 187))
    x[rows] = input_constants(model, layer)[rows, None]
    delta = effective_bias(model, layer)
    for j in nontrivial_units(model, layer).rows[:3]:
        unit = model.unit(j, layer)
        pre = midend_unit(model, unit.name, x.astype(np.float32)).pre_activation
        assert pre[90] - unit.bias == pytest.approx(delta[j], abs=1e-5)


@pytest.mark.parametrize("layer", LAYERS)
def test_pre_activation_matches_the_single_unit_path(analysis, layer):
    z = pre_activation(analysis, layer)
    assert z.shape == analysis.V1.shape
    for j in (0, 31, 63):
        for s in (0, analysis.n_segments - 1):
            name = f"{groups_of(layer)[0].layer}/{groups_of(layer)[0].name}/{j}"
            np.testing.assert_allclose(z[s, j], analysis.midend_unit(name, s).pre_activation, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer", LAYERS)
def test_bias_check_observes_the_effective_bias(analysis, layer):
    check = bias_check(analysis, layer)
    assert list(check.units) == list(nontrivial_units(analysis.model, layer).rows)
    assert np.all(check.observed_min <= check.observed_max)
    np.testing.assert_allclose(check.observed_min, check.delta, atol=1e-3)
    np.testing.assert_allclose(check.observed_max, check.delta, atol=1e-3)
    assert check.interior < 1e-3 and check.edges_corrected < 1e-3


def test_constant_contribution_counts_the_taps_inside_the_segment():
    model = load_model("MSD")
    group = groups_of("cnn3")[0]
    kernel = np.zeros_like(model.conv_kernel(group))
    kernel[..., 0] = 1.0  # unit 0: every weight 1
    changed = with_variables(model, **{f"{group.conv}__kernel": kernel})
    rows = list(constant_input_rows(changed, "cnn3").rows)
    total = input_constants(changed, "cnn3")[rows].sum()
    contribution = constant_contribution(changed, "cnn3", 0, 20)
    np.testing.assert_allclose(contribution[PAD:-PAD], KERNEL_FRAMES * total)
    np.testing.assert_allclose(contribution[:PAD], [(PAD + 1 + t) * total for t in range(PAD)])
    np.testing.assert_allclose(contribution[-PAD:], [(KERNEL_FRAMES - 1 - t) * total for t in range(PAD)])
    assert effective_bias(changed, "cnn3")[0] == pytest.approx(KERNEL_FRAMES * total)
    assert np.all(effective_bias(changed, "cnn3")[1:] == 0)


def test_layers_without_constant_rows_worked_out_are_refused():
    with pytest.raises(ValueError, match="not 'cnn4'"):
        effective_bias(load_model("MSD"), "cnn4")
