"""The back end's declaration (model/weights.py) and its steps (model/network.py)."""

from itertools import pairwise

import numpy as np
import pytest

from musicnn_nb.model.network import back_end_values, dense_head, interleave
from musicnn_nb.model.weights import BACK_END, W_ROWS, load_model


@pytest.mark.parametrize("name", ["MSD", "MTT"])
def test_declared_back_end_matches_the_checkpoint(name):
    model = load_model(name)
    for layer in BACK_END:
        if layer.kind == "dense":
            kernel, bias = model.dense(layer.scope)
            assert kernel.shape == (layer.inputs, layer.outputs) and bias.shape == (layer.outputs,), layer.name
        else:
            bn = model.batch_norm(layer.scope)
            assert all(v.shape == (layer.outputs,) for v in (bn.gamma, bn.beta, bn.mean, bn.variance)), layer.name
            assert layer.inputs == layer.outputs
    for before, after in pairwise(BACK_END):
        assert before.outputs == after.inputs
    assert BACK_END[0].inputs == 2 * W_ROWS
    assert BACK_END[-1].outputs == len(model.tags)
    scopes = {layer.scope for layer in BACK_END}
    stored = [v for v in model.variables if v.split("/")[0] in scopes and "Adam" not in v]  # not the optimiser's
    assert len(stored) == 12  # every stored back-end variable is declared: 2 dense x 2, 2 batch-norms x 4


def test_interleave_puts_max_at_even_and_mean_at_odd_entries():
    max_pool = np.array([[1.0, 2.0, 3.0]])
    mean_pool = np.array([[10.0, 20.0, 30.0]])
    np.testing.assert_array_equal(interleave(max_pool, mean_pool), [[1, 10, 2, 20, 3, 30]])


def test_back_end_steps_chain_and_agree_with_dense_head():
    model = load_model("MSD")
    pooled = np.random.default_rng(0).normal(size=(3, 2 * W_ROWS)).astype(np.float32)
    v = back_end_values(model, pooled)
    np.testing.assert_array_equal(v.hidden, np.maximum(v.hidden_pre, 0))
    assert v.hidden_pre.min() < 0  # the rectifier has something to do
    head = dense_head(model, pooled)
    for key in ("penultimate", "logits", "taggram"):
        np.testing.assert_array_equal(head[key], getattr(v, key))
