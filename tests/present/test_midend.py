"""The pieces the three mid-end layers share."""

import numpy as np
import pytest

from musicnn_nb.facts.units import NORM_THRESHOLD
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
