"""Exact attribution of the logits to the rows of W, and the hidden units' facts."""

from itertools import pairwise

import numpy as np
import pytest
from conftest import with_variables

from musicnn_nb import load_model
from musicnn_nb.facts import backend as fb
from musicnn_nb.facts.units import nontrivial_units
from musicnn_nb.model.network import back_end_values
from musicnn_nb.model.weights import BN_EPSILON, HIDDEN, OUTPUT, PENULTIMATE_BN, POOLED_BN, W_ROWS


def test_contributions_and_constant_sum_to_the_logit_for_every_tag_and_segment(analysis):
    for s in range(analysis.n_segments):
        att = fb.attribute_segment(analysis, s)
        total = att.constant + att.per_value.sum(axis=1)
        np.testing.assert_allclose(total, analysis.logits[s], rtol=0, atol=1e-5, err_msg=f"segment {s}")
        np.testing.assert_allclose(att.constant + att.per_row.sum(axis=1), total, rtol=0, atol=1e-9)
        np.testing.assert_allclose(att.constant + att.per_stage.sum(axis=1), total, rtol=0, atol=1e-9)
        assert np.all(np.abs(att.per_value).sum(axis=1) > 0)  # every tag has something to split
        np.testing.assert_array_equal(att.open_units, back_end_values(analysis.model, analysis.pooled)
                                      .hidden_pre[s] > 0)


def test_another_baseline_moves_constant_and_contributions_but_not_their_sum(analysis):
    zero = fb.attribute(analysis.model, analysis.pooled[0], np.zeros(2 * W_ROWS), "zero")
    means = fb.attribute_segment(analysis, 0)
    assert not np.allclose(zero.constant, means.constant)
    np.testing.assert_allclose(zero.logits, means.logits, rtol=0, atol=1e-9)


def hand_built_model():
    """MSD's checkpoint with a back end whose weights are set by hand (all others zero)."""
    n_in, n_hidden, n_tags = HIDDEN.inputs, HIDDEN.outputs, OUTPUT.outputs
    one = np.float32(1 - BN_EPSILON)  # a variance that makes the batch-norm's slope gamma
    a1 = np.zeros((n_in, n_hidden), np.float32)
    a1[0, 0], a1[1, 0], a1[2, 1] = 1, 1, -1  # unit 0 reads row 0's max and mean, unit 1 row 1's max
    b1 = np.zeros(n_hidden, np.float32)
    b1[0] = 0.5
    a2 = np.zeros((n_hidden, n_tags), np.float32)
    a2[0, 0], a2[1, 0] = 1, 5
    b2 = np.zeros(n_tags, np.float32)
    b2[0] = -1
    changes = {f"{POOLED_BN.scope}__gamma": np.ones(n_in, np.float32),
               f"{POOLED_BN.scope}__beta": np.zeros(n_in, np.float32),
               f"{POOLED_BN.scope}__moving_mean": np.zeros(n_in, np.float32),
               f"{POOLED_BN.scope}__moving_variance": np.full(n_in, one),
               f"{HIDDEN.scope}__kernel": a1, f"{HIDDEN.scope}__bias": b1,
               f"{PENULTIMATE_BN.scope}__gamma": np.full(n_hidden, 2, np.float32),
               f"{PENULTIMATE_BN.scope}__beta": np.ones(n_hidden, np.float32),
               f"{PENULTIMATE_BN.scope}__moving_mean": np.zeros(n_hidden, np.float32),
               f"{PENULTIMATE_BN.scope}__moving_variance": np.full(n_hidden, one),
               f"{OUTPUT.scope}__kernel": a2, f"{OUTPUT.scope}__bias": b2}
    return with_variables(load_model("MSD"), **changes)


def test_hand_built_back_end_gives_the_values_worked_out_by_hand():
    """p = (2, 1, 3, 0, …): hidden unit 0 gets 2 + 1 + 0.5 = 3.5 (open), unit 1 gets −3 (closed).
    Penultimate h_j = 2·ReLU + 1, so h_0 = 8 and h_1 = 1; z_0 = h_0 + 5 h_1 − 1 = 12.
    Baseline 0 with this pattern: h_0 = 2·0.5 + 1 = 2, h_1 = 1, constant 2 + 5 − 1 = 6. Gains:
    p_0 and p_1 reach z_0 through unit 0 with 1·2·1 = 2 each, p_2 through the closed unit 1 with 0;
    so contributions 2·2 = 4 (max of row 0) and 2·1 = 2 (mean of row 0), row 0 gives 6, row 1 gives 0."""
    model = hand_built_model()
    p = np.zeros(2 * W_ROWS, np.float32)
    p[:3] = 2, 1, 3
    att = fb.attribute(model, p, np.zeros(2 * W_ROWS), "zero")
    assert att.open_units[0] and not att.open_units[1]
    assert att.logits[0] == pytest.approx(12, rel=1e-6)
    assert att.constant[0] == pytest.approx(6, rel=1e-6)
    np.testing.assert_allclose(att.per_value[0, :3], [4, 2, 0], rtol=1e-6)
    np.testing.assert_allclose(att.per_row[0, :2], [6, 0], rtol=1e-6)
    assert att.per_stage[0, 0] == pytest.approx(6, rel=1e-6)  # rows 0 and 1 are CNN_1 38x7's
    assert np.count_nonzero(att.per_value) == 2
    assert att.top_rows(0, 1)[0] == 0
    assert back_end_values(model, p[None]).logits[0, 0] == pytest.approx(12, rel=1e-6)


def test_stages_cover_w_once_in_order():
    stages = fb.w_stages()
    assert [s.label for s in stages][-3:] == ["V̂_1", "V̂_1+V̂_2", "V̂_1+V̂_2+V̂_3"] and len(stages) == 8
    assert stages[0].first_row == 0 and stages[-1].stop_row == W_ROWS
    assert all(a.stop_row == b.first_row for a, b in pairwise(stages))
    assert np.bincount(fb.stage_of_rows()).tolist() == [len(s.rows) for s in stages]


def test_w_rows_are_named_by_their_unit():
    assert fb.w_row_unit(0) == "cnn1/38x7/0"
    assert fb.w_row_unit(560) == "cnn1/1x32/560"
    assert fb.w_row_unit(561) == "cnn2/561x7/0"
    assert fb.w_row_unit(625 + 34) == "cnn3/64x7/34"
    assert fb.w_row_unit(752) == "cnn4/64x7/63"
    with pytest.raises(ValueError, match="W has rows 0 to 752"):
        fb.w_row_unit(753)


def test_winning_frame_holds_the_rows_maximum(analysis):
    rows = np.array([0, 12, 600, 752])
    frames = fb.winning_frames(analysis, 1, rows)
    np.testing.assert_array_equal(analysis.W[1, rows, frames], analysis.max_pool[1, rows])


def test_bad_input_is_refused_with_a_clear_message(analysis):
    with pytest.raises(ValueError, match="one pooled vector of 1506"):
        fb.attribute(analysis.model, analysis.pooled)
    with pytest.raises(ValueError, match="baseline needs 1506"):
        fb.attribute(analysis.model, analysis.pooled[0], np.zeros(3))
    with pytest.raises(ValueError, match="is not a"):
        fb.attribute_segment(analysis, 0).tag_index("polka")


def test_hidden_units_dead_on_the_recording_output_zero_everywhere(analysis):
    units = fb.hidden_units(analysis)
    hidden = back_end_values(analysis.model, analysis.pooled).hidden
    assert units.dead_on_recording and units.always_open
    assert np.all(hidden[:, list(units.dead_on_recording)] == 0)
    assert np.all(hidden[:, list(units.always_open)] > 0)
    assert set(units.dead_on_recording) <= set(units.constant_on_recording)
    assert not set(units.dead_on_recording) & set(units.always_open)
    assert units.constant_any_input == () and units.smallest_live_norm > units.threshold


def test_a_hidden_unit_with_no_live_weights_is_constant_for_any_input(analysis):
    kernel = analysis.model.dense(HIDDEN.scope)[0].copy()
    kernel[:, 7] = 0
    kernel[0, 7] = 5.0  # row 0 of W is CNN_1 38x7 unit 0, trivial in both models
    changed = with_variables(analysis.model, **{f"{HIDDEN.scope}__kernel": kernel})
    from musicnn_nb.model.pipeline import Analysis

    other = Analysis(analysis.path, changed, analysis.hop_frames, analysis.arrays)
    assert fb.hidden_units(other).constant_any_input == (7,)


def test_removal_equals_the_attribution_where_no_hidden_unit_flips(analysis):
    """Setting a stage's rows to the baseline changes the logits by exactly the stage's summed
    contributions when the ReLU pattern stays; chapter 9's experiment is that removal."""
    checked = 0
    for stage in fb.w_stages():
        rem = fb.removal(analysis, stage.rows)
        for s in np.flatnonzero(rem.flipped == 0):
            att = fb.attribute_segment(analysis, int(s)).per_stage[:, fb.w_stages().index(stage)]
            np.testing.assert_allclose(rem.change[s], att, rtol=0, atol=1e-4)
            checked += 1
    assert checked > 0
    big = fb.removal(analysis, range(W_ROWS))  # everything to the baseline: the pattern changes
    assert big.flipped.min() > 0


def test_removal_is_zero_for_rows_already_at_their_training_mean_and_pooled_values_interleave(analysis):
    """Chapter 9's experiment: rows whose pooled values already equal the back end's running means
    change nothing when set to them; other rows do change the logits."""
    assert fb.pooled_values(np.array([5, 0])).tolist() == [0, 1, 10, 11]
    rows = np.array(nontrivial_units(analysis.model, "cnn1").rows[:3])
    entries = fb.pooled_values(rows)
    np.testing.assert_array_equal(analysis.pooled[:, entries[0::2]], analysis.W[:, rows].max(axis=2))
    at_mean = analysis.pooled.copy()
    at_mean[:, entries] = analysis.model.batch_norm(POOLED_BN.scope).mean[entries]
    from musicnn_nb.model.pipeline import Analysis

    fake = Analysis(analysis.path, analysis.model, analysis.hop_frames, {**analysis.arrays, "pooled": at_mean})
    np.testing.assert_allclose(fb.removal(fake, rows).change, 0.0, atol=1e-5)
    change = fb.removal(analysis, rows).change
    assert change.shape == analysis.logits.shape and np.abs(change).max() > 1e-3
