"""The package's numbers are the original MusiCNN graph's numbers, for every segment."""

import numpy as np
import pytest

from musicnn_nb.model.network import back_end_values, cnn1_group_maps
from musicnn_nb.model.weights import groups_of

TOLERANCE = 1e-4  # max |difference| relative to the tensor's max |value|
COMPARED = ("M_hat", "U", "V1", "V1_hat", "V2", "V2_hat", "V3", "V3_hat", "V12_hat", "V123_hat",
            "W", "max_pool", "mean_pool", "pooled", "penultimate", "logits", "taggram")


def assert_close(ours: np.ndarray, theirs: np.ndarray, what: str) -> None:
    assert ours.shape == theirs.shape, what
    scale = np.abs(theirs).max()
    error = np.abs(ours - theirs).max() / scale if scale else np.abs(ours).max()
    assert error <= TOLERANCE, f"{what}: relative error {error:.2e}"


def test_checkpoint_reader_equals_tensorflows(reference, analysis):
    graph, _ = reference
    theirs = graph.variables()
    assert set(theirs) == set(analysis.model.variables)
    for name, value in theirs.items():
        np.testing.assert_array_equal(analysis.model.variables[name], value, err_msg=name)


BACK_END_STEPS = ("normalised", "hidden_pre", "hidden", "penultimate", "logits", "taggram")


@pytest.mark.parametrize("name", COMPARED)
def test_intermediate_equals_graph_tensor_in_every_segment(reference, analysis, name):
    _, tensors = reference
    assert analysis.n_segments == 9
    for s in range(analysis.n_segments):
        assert_close(getattr(analysis, name)[s], tensors[name][s], f"{name}, segment {s}")


@pytest.mark.parametrize("name", BACK_END_STEPS)
def test_back_end_step_equals_graph_tensor_in_every_segment(reference, analysis, name):
    """The hidden layer before its batch-norm (and each step around it) equals the graph's."""
    _, tensors = reference
    values = getattr(back_end_values(analysis.model, analysis.pooled), name)
    assert np.any(values != 0), name
    for s in range(analysis.n_segments):
        assert_close(values[s], tensors[name][s], f"{name}, segment {s}")
    if name == "hidden":
        assert np.all(values >= 0) and np.any(values == 0), "ReLU output: some units closed, none negative"


def test_segments_differ_so_no_patch_is_repeated(analysis):
    """The original extractor repeats patch 0 for cnn1..cnn3; every segment here is its own."""
    for name in ("U", "V1_hat", "V12_hat", "V123_hat", "penultimate"):
        values = getattr(analysis, name)
        assert all(not np.allclose(values[0], values[s]) for s in range(1, len(values))), name


@pytest.mark.parametrize("group", range(5), ids=[g.name for g in groups_of("cnn1")])
def test_cnn1_unit_maps_equal_graph_in_every_segment(reference, analysis, group):
    _, tensors = reference
    g = groups_of("cnn1")[group]
    for s in range(analysis.n_segments):
        _, y, y_hat = cnn1_group_maps(analysis.model, g, analysis.M_hat[s])
        assert_close(y, tensors[f"Y/{group}"][s], f"Y of {g.name}, segment {s}")
        assert_close(y_hat, tensors[f"Y_hat/{group}"][s], f"Y_hat of {g.name}, segment {s}")


def test_single_unit_maps_match_group_maps_and_row_of_u(analysis):
    g = groups_of("cnn1")[1]
    unit = f"cnn1/{g.name}/{g.first_row + 17}"
    maps = analysis.unit_maps(unit, 4)
    _, y, y_hat = cnn1_group_maps(analysis.model, g, analysis.M_hat[4])
    np.testing.assert_allclose(maps.Y, y[17], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(maps.Y_hat.max(axis=0), analysis.U[4, g.first_row + 17], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(maps.Y_hat[maps.row_of_max, np.arange(187)], maps.Y_hat.max(axis=0))
    assert np.all(np.maximum(maps.pre_activation, 0) == maps.Y)
