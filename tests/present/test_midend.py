"""The pieces the three mid-end layers share."""

import numpy as np
import pytest

from musicnn_nb.facts.units import NORM_THRESHOLD, nontrivial_units
from musicnn_nb.model.weights import load_model
from musicnn_nb.present import midend


@pytest.mark.parametrize("layer", midend.LAYERS)
def test_group_and_batch_norm_address_the_layer(layer):
    model = load_model("MSD")
    group = midend.group(layer)
    assert group.layer == layer and group.size == 64
    bn = midend.batch_norm(model, layer)
    assert bn.gamma.shape == (64,)
    assert model.unit(5, layer).gamma == pytest.approx(bn.gamma[5])


def test_unknown_layer_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="cnn2, cnn3, cnn4"):
        midend.group("cnn1")


@pytest.mark.parametrize("layer", midend.LAYERS)
def test_norms_figure_draws_every_kernel_and_the_sweep(layer):
    models = [load_model("MSD"), load_model("MTT")]
    fig, (left, right), handles = midend.norms_figure(models, layer)
    stems = [h for h in handles if hasattr(h, "markerline")]
    assert len(stems) == 2
    for stem, model in zip(stems, models):
        np.testing.assert_allclose(stem.markerline.get_ydata(), np.maximum(model.norms(layer), 1e-12))
    lines = right.get_lines()
    counts = lines[0].get_ydata()
    assert counts[0] >= counts[-1]  # raising the threshold never adds kernels
    assert left.get_lines()[-1].get_ydata()[0] == NORM_THRESHOLD


@pytest.mark.parametrize("layer", midend.LAYERS)
def test_bn_figure_and_table_split_nontrivial_and_trivial_units(layer):
    model = load_model("MSD")
    live = nontrivial_units(model, layer).mask
    fig, axes, handles = midend.bn_figure([model], layer, affine=True, beta_tolerance=0.05)
    assert len(axes) == 6 and [a.get_title().split("_")[0] for a in axes[:2]] == [r"$\gamma", r"$\beta"]
    filled, hollow = axes[0].collections[:2]
    assert len(filled.get_offsets()) == live.sum() and len(hollow.get_offsets()) == (~live).sum()
    bn = midend.batch_norm(model, layer)
    np.testing.assert_allclose(filled.get_offsets()[:, 1], bn.gamma[live])
    scales = {a.get_title(): a.get_yscale() for a in axes}
    assert scales[r"$\sigma_j^2$ (running variance)"] == "log"  # positive, spanning decades
    assert len(midend.bn_figure([model], layer)[1]) == 4
    rows = midend.bn_table([model], layer, affine=True).splitlines()
    assert rows[0].count("|") == 2 + 6 + 1
    assert f"non-trivial ({live.sum()})" in rows[2]
    if (~live).sum() == 1:
        assert f"trivial (unit {int(np.flatnonzero(~live)[0])})" in rows[3]
    elif (~live).any():
        assert f"trivial ({(~live).sum()})" in rows[3]
    assert f"{np.median(bn.gamma[live]):.3g}" in rows[2]
