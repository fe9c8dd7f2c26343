"""The series' sort-shift-scale procedure and the activity measure built on it."""

import numpy as np
import pytest

from musicnn_nb.facts.rows import by_activity, frames_of, sort_shift_scale, sorted_activity


def test_sort_shift_scale_follows_the_series_description():
    x = np.array([[3.0, -1.0, 7.0, 1.0], [5.0, 5.0, 5.0, 5.0], [0.0, 10.0, 10.0, 10.0]])
    curves = sort_shift_scale(x)
    np.testing.assert_allclose(curves[0], [0.0, 0.25, 0.5, 1.0])  # sorted -1 1 3 7, minus -1, over 8
    np.testing.assert_array_equal(curves[1], 0.0)  # a constant row: zeros, not NaN
    np.testing.assert_allclose(curves[2], [0.0, 1.0, 1.0, 1.0])
    assert np.all(np.diff(curves, axis=1) >= 0)


def test_a_row_near_its_maximum_most_of_the_time_ranks_above_a_spiky_one():
    rng = np.random.default_rng(0)
    steady = 10 + 0.1 * rng.standard_normal(200)  # high all the time, small ripple
    spiky = np.zeros(200)
    spiky[::50] = 30  # silent but for four spikes: the larger standard deviation
    x = np.stack([spiky, steady])
    assert spiky.std() > steady.std()
    assert list(by_activity(sorted_activity(x))) == [1, 0]
    assert sorted_activity(x)[0] == pytest.approx(4 / 200)


def test_frames_of_joins_segments_in_time():
    seg = np.arange(2 * 3 * 4).reshape(2, 3, 4)  # segments x rows x frames
    joined = frames_of(seg)
    assert joined.shape == (3, 8)
    np.testing.assert_array_equal(joined[1], np.concatenate([seg[0, 1], seg[1, 1]]))


def test_sort_shift_scale_rejects_a_matrix_without_frames():
    with pytest.raises(ValueError, match="at least one frame"):
        sort_shift_scale(np.zeros((3, 0)))
