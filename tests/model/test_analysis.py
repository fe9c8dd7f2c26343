"""The Analysis declares its arrays and keeps what is derived from it."""

import pytest

from musicnn_nb.model import pipeline
from musicnn_nb.model.network import SEGMENT_NAMES, VECTOR_NAMES
from musicnn_nb.model.pipeline import DERIVED_LIMIT, Analysis
from musicnn_nb.model.weights import load_model


def test_declared_arrays_are_exactly_what_the_forward_pass_returns(analysis):
    declared = {name for name, value in vars(Analysis).items() if isinstance(value, pipeline._Array)}
    assert declared == set(SEGMENT_NAMES + VECTOR_NAMES) == set(analysis.arrays)
    for name in declared:
        assert getattr(analysis, name) is analysis.arrays[name]
    with pytest.raises(AttributeError):
        analysis.V4_hat  # noqa: B018  (not an array of the network)


def test_derived_results_are_computed_once_and_bounded(analysis):
    calls = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert analysis.derived("test-once", compute) == analysis.derived("test-once", compute) == 1
    for i in range(DERIVED_LIMIT):
        analysis.derived(("test-fill", i), lambda: None)
    assert "test-once" not in analysis._derived and len(analysis._derived) == DERIVED_LIMIT
    assert analysis.derived("test-once", compute) == 2  # dropped, so computed again


def test_results_derived_from_a_model_are_kept_on_it_and_bounded():
    model = load_model("MSD")
    calls = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert model.derived("test-once", compute) == model.derived("test-once", compute) == 1
    for i in range(model.DERIVED_LIMIT):
        model.derived(("test-fill", i), lambda: None)
    assert model.derived("test-once", compute) == 2  # dropped, so computed again


def test_unit_maps_are_kept_on_the_analysis(analysis):
    first = analysis.unit_maps("cnn1/38x7/12", 0)
    assert analysis.unit_maps("cnn1/38x7/12", 0) is first
