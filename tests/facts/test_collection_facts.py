"""Facts over a collection store: dataset examples, tag correlations, classes by recording."""

from __future__ import annotations

import numpy as np
import pytest

from musicnn_nb import analyse
from musicnn_nb.facts import collection as fc
from musicnn_nb.model.collect import CollectionError
from musicnn_nb.model.errors import SelectionError


@pytest.fixture(scope="module")
def c(small_collection):
    return fc.load("MSD", str(small_collection.path))


def test_top_segments_are_the_largest_maxima_and_play_their_audio(c):
    unit = "cnn4/64x7/44"
    top = c.top(unit, 4)
    column = c.max[:, fc.INDEX[unit]]
    assert list(column[top]) == sorted(column, reverse=True)[:4]
    i = top[0]
    a = analyse(c.store.root / c.files[i], "MSD")
    segment = round(c.starts[i] / (187 * 0.016))
    np.testing.assert_array_equal(c.segment_audio(i), a.segment_samples(segment))
    assert a.V3_hat[segment, 44].max() == pytest.approx(column[i], abs=1e-4)
    assert c.segment_m_db(i).shape == (96, 187)


def test_tag_association_is_the_pearson_correlation_and_never_nan(c):
    unit = "cnn1/38x7/12"
    x = c.mean[:, fc.INDEX[unit]]
    expected = [np.corrcoef(x, c.taggram[:, t])[0, 1] for t in range(50)]
    np.testing.assert_allclose(c.tag_association(unit), expected, atol=1e-6)
    constant = next(n for n in fc.NAMES if not fc.varying_units(c)[fc.INDEX[n]])
    assert not np.any(c.tag_association(constant))


def test_every_unit_is_in_one_class_per_recording(c):
    masks = np.array(list(fc.classes_over(fc.cnn4_share(c).mean(axis=0)).values()))
    assert (masks.sum(axis=0) == 1).all()
    files, labels = fc.classes_by_recording(c)
    assert files == sorted(set(c.files)) and labels.shape == (2, 64)
    share = fc.cnn4_share(c)[c.files == files[0]].mean(axis=0)
    assert all((labels[0] == "sparse") == ((share > 0) & (share < fc.SPARSE_SHARE)))


def test_unknown_unit_and_missing_store_are_clear_errors(c, monkeypatch, tmp_path):
    with pytest.raises(SelectionError, match="unknown unit"):
        c.column("cnn9/1x1/0")
    monkeypatch.setenv(fc.COLLECTION_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(CollectionError, match="not a collection store"):
        fc.open_store()
