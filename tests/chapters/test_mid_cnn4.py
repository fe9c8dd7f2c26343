"""Chapter 12's facts about CNN_4, its batch-norm, the last skip sum and W, checked against
independent computations."""

import numpy as np
import pytest

from musicnn_nb import load_model
from musicnn_nb.chapters import mid_cnn4 as m4
from musicnn_nb.facts import units as an
from musicnn_nb.facts.activity import SERIES_UNITS
from musicnn_nb.present.notation import w_row_groups


def checkpoint_norms(model):
    """Frobenius norms straight from the checkpoint variable (time x 1 x input rows x units)."""
    k = model.variables["conv2d_7/kernel"].astype(np.float64)
    return np.sqrt(np.sum(k**2, axis=tuple(range(k.ndim - 1))))


def test_trivial_and_nontrivial_partition_the_layer_as_the_checkpoint_says(model_name):
    model = load_model(model_name)
    norms = checkpoint_norms(model)
    assert norms.size == 64
    live, dead = an.nontrivial_units(model, "cnn4"), an.trivial_units(model, "cnn4")
    assert dead.rows == tuple(np.flatnonzero(norms <= an.NORM_THRESHOLD))
    assert sorted(live.rows + dead.rows) == list(range(64))
    table = m4.counts_table([model])
    assert f"| {live.count} of 64 |" in table and live.criterion in table
    assert all(f"`{n}`" in table for n in dead.names)


def test_gallery_draws_every_nontrivial_kernel_by_decreasing_norm(model_name):
    model = load_model(model_name)
    fig, axes, images, _ = m4.gallery(model)
    live = an.nontrivial_units(model, "cnn4")
    assert len(images) == live.count
    drawn = [int(ax.get_title().split("\n")[0]) for ax in axes.flat if ax.images]
    assert sorted(drawn) == sorted(live.rows)
    norms = checkpoint_norms(model)[drawn]
    assert np.all(np.diff(norms) <= 0)
    first = model.unit(drawn[0], "cnn4")
    np.testing.assert_allclose(images[0].get_array(), first.kernel / first.norm, rtol=1e-6)


def test_activity_classes_on_synthetic_rows():
    t = np.arange(187)
    v3 = np.zeros((2, 5, 187))
    v3[:, 0] = 8.0 + 0.1 * np.sin(t)  # always on, steady: constantly high
    v3[:, 1, ::10] = 3.0  # on in 10 % of frames: sparse
    v3[:, 2] = 0.0  # never on: silent
    v3[:, 3, ::2] = 2.0  # on half the time: active
    v3[:, 4] = 1.0 + (t % 3 == 0) * 5.0  # always on but jumping: active
    act = m4.activity_of(v3, "test")
    assert act.frames == 2 * 187
    np.testing.assert_allclose(act.share_on, [1, (v3[0, 1] > 0).mean(), 0, (v3[0, 3] > 0).mean(), 1])
    classes = m4.classify(act)
    assert [m4.class_of(classes, j) for j in range(5)] == ["constantly high", "sparse", "silent", "active", "active"]
    assert sum(c.count for c in classes.values()) == 5


def test_activity_of_a_recording_is_measured_on_v3(analysis):
    act = m4.activity(analysis)
    v3 = analysis.V3
    j = 7
    assert act.share_on[j] == pytest.approx((v3[:, j] > 0).mean())
    assert act.mean[j] == pytest.approx(v3[:, j].astype(np.float64).mean(), rel=1e-6)
    # a unit with a zero kernel and a negative bias can never open
    for j in an.trivial_units(analysis.model, "cnn4").rows:
        if analysis.model.biases("cnn4")[j] < 0:
            assert m4.class_of(m4.classify(act), j) == "silent"
    table = m4.series_units_table(act, analysis.model)
    assert table.count("`cnn4/64x7/") == sum(len(u) for u in SERIES_UNITS.values())


def test_activity_figure_draws_every_unit_once(analysis):
    act = m4.activity(analysis)
    fig, (left, right), handles = m4.activity_figure(act, analysis.model)
    assert sum(len(h.get_offsets()) for h in left.collections) == 64
    assert sum(len(h.get_offsets()) for h in right.collections) == 64


def test_units_figure_draws_the_units_rows_of_v3(analysis):
    fig, axes = m4.units_figure(analysis, 1)
    assert len(axes) == 1 + len(SERIES_UNITS)
    for ax, units in zip(axes[1:], SERIES_UNITS.values()):
        assert len(ax.lines) == len(units)
        for line, j in zip(ax.lines, units):
            np.testing.assert_array_equal(line.get_ydata(), analysis.V3[1, j])


def test_consecutive_segments_stop_at_the_end(analysis):
    n = analysis.n_segments
    assert m4.consecutive_segments(analysis) == list(range(min(4, n)))
    assert m4.consecutive_segments(analysis, first=n - 2) == [n - 2, n - 1]
    fig, axes, images = m4.segments_figure(analysis, first=n - 2)
    assert len(images) == 2
    np.testing.assert_array_equal(images[1].get_array(), analysis.V3[n - 1])


def test_beta_count_and_table_follow_the_checkpoint(model_name):
    model = load_model(model_name)
    beta = model.variables["batch_normalization_8/beta"]
    near = m4.beta_near_zero(model)
    assert near.rows == tuple(np.flatnonzero(np.abs(beta) <= m4.BETA_TOLERANCE))
    assert m4.beta_near_zero(model, tolerance=float(np.abs(beta).max()) / 2).count < 64
    assert f"{np.abs(beta).max():.3g}" in m4.beta_sentence([model])


def test_row_energies_are_relative_to_the_largest_row_of_v1_hat(analysis):
    s = analysis.n_segments - 1
    rel = m4.row_energies(analysis, s)
    assert rel["V1_hat"].max() == pytest.approx(1.0)
    v3 = analysis.V3_hat[s].astype(np.float64)
    reference = np.max(np.sum(analysis.V1_hat[s].astype(np.float64) ** 2, axis=1))
    np.testing.assert_allclose(rel["V3_hat"], np.sum(v3**2, axis=1) / reference)
    fig, ax, handles = m4.energy_figure(analysis, s)
    assert len(ax.lines) == 4


def test_scale_table_counts_the_cells_outside_the_scale(analysis):
    table = m4.scale_table(analysis, 0, limits=(0.0, 10.0))
    v2 = analysis.V2_hat[0]
    assert f"| {(v2 < 0).mean():.0%} | {(v2 > 10).mean():.1%} |" in table
    fig, axes, images = m4.side_by_side_figure(analysis, 0)
    assert [im.get_clim() for im in images] == [(0.0, 10.0)] * 3


def test_half_variance_rows_on_synthetic_matrix():
    rng = np.random.default_rng(1)
    m = rng.standard_normal((10, 200)) * np.array([10, 1, 1, 1, 1, 1, 1, 1, 1, 9])[:, None]
    half = m4.half_variance_rows(m)
    assert set(half.rows) == {0} or set(half.rows) == {0, 9}
    variance = m.var(axis=1)
    assert variance[list(half.rows)].sum() >= variance.sum() / 2
    assert variance[list(half.rows[:-1])].sum() < variance.sum() / 2


def test_sum_figure_sorts_rows_by_activity(analysis):
    fig, (left, right), (image, traces) = m4.sum_figure(analysis, 0)
    v = analysis.V123_hat[0].astype(np.float64)
    assert len(traces) == 64
    # the top trace is the row with the largest standard deviation, shifted to its rank
    top = traces[-1].get_ydata()
    j = int(np.argmax(v.std(axis=1)))
    np.testing.assert_allclose(top - 63, (v[j] - v[j].mean()) / (2 * v.std(axis=1).max()))
    red = [t for t in traces if t.get_color() == "tab:red"]
    assert len(red) == m4.half_variance_rows(v).count


def test_w_figure_marks_the_four_blocks(analysis):
    fig, ax, image, bar = m4.w_figure(analysis, 0)
    assert image.get_array().shape == (753, 187)
    solid = sorted(line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "-")
    assert solid == [start - 0.5 for _, start, _ in w_row_groups() if start]
    table = m4.w_summary_table(analysis, 0)
    assert table.count("\n") == 1 + len(w_row_groups())


def test_explorer_unit_prefers_44_only_while_it_is_nontrivial():
    model = load_model("MSD")
    assert m4.explorer_unit(model) == m4.PREFERRED_UNIT
    norm_44 = model.unit(m4.PREFERRED_UNIT).norm * (1 + 1e-6)  # just above unit 44
    fallback = m4.explorer_unit(model, threshold=norm_44)
    above = checkpoint_norms(model) > norm_44
    assert fallback == f"cnn4/64x7/{int(np.argmax(checkpoint_norms(model)))}" and above.any()


def test_norm_rank_sentence_finds_the_smallest_kernels():
    model = load_model("MSD")
    live = an.nontrivial_units(model, "cnn4")
    norms = checkpoint_norms(model)
    smallest = sorted(live.rows, key=lambda j: norms[j])[:2]
    share = np.full(64, 0.5)
    mean = np.ones(64)
    std = np.ones(64)
    share[smallest], std[smallest] = 1.0, 0.01
    act = m4.Activity("MSD", share, mean, std, 187)
    assert m4.classify(act)["constantly high"].rows == tuple(sorted(smallest))
    text = m4.norm_rank_sentence(act, model)
    assert f"rank {live.count - 1}, {live.count} among" in text and "the 2 smallest" in text
    share[smallest[0]] = 0.5
    largest = int(np.argmax(norms))
    share[largest], std[largest] = 1.0, 0.01
    assert "smallest" not in m4.norm_rank_sentence(m4.Activity("MSD", share, mean, std, 187), model)


def test_levels_and_strongest_units_after_the_batch_norm(analysis):
    v_hat = analysis.V3_hat.astype(np.float64)
    table = m4.levels_table(analysis)
    j = SERIES_UNITS["active"][0]
    assert f"| {v_hat[:, j].mean():.3g} | {v_hat[:, j].std():.3g} |" in table
    std = v_hat.transpose(1, 0, 2).reshape(64, -1).std(axis=1)
    top = np.argsort(-std)[:5]
    assert ", ".join(map(str, top)) + ";" in m4.strongest_after_bn_sentence(analysis, n=5)


def test_every_part_12_claim_is_measured_on_both_spans_and_models(analysis):
    found = m4.findings([analysis])
    assert set(found) == {c.key for c in m4.CLAIMS}
    spans = m4.spans(analysis)
    assert spans["4 segments"] == list(range(min(4, analysis.n_segments)))
    assert spans["all segments"] == list(range(analysis.n_segments))
    for per in found.values():
        assert set(per) == {(analysis.model.name, label) for label in spans}
        for f in per.values():
            assert 0 <= f.agree <= f.parts and f.value
    table = m4.claims_table([analysis])
    assert table.count("\n") == len(m4.CLAIMS) + 1
    assert "4 segments" in table and "all segments" in table


def test_weight_claims_follow_the_checkpoint(model_name):
    model = load_model(model_name)
    k = model.kernels(m4.GROUP).astype(np.float64)
    live = checkpoint_norms(model) > an.NORM_THRESHOLD
    row_weight = np.sqrt((k[live] ** 2).sum(axis=2)).max(axis=0)  # per input row, over live kernels
    np.testing.assert_allclose(m4.input_row_weights(model), row_weight, rtol=1e-6)
    expected = int(np.all(row_weight > an.NORM_THRESHOLD))
    assert m4.claim_none_ignored(_FakeAnalysis(model), []).agree == expected
    assert m4.claim_nontrivial(_FakeAnalysis(model), []).agree == int(live.sum() == m4.SERIES_NONTRIVIAL[model_name])


class _FakeAnalysis:
    """Only a model: the weight-only claims must not read any audio."""

    def __init__(self, model):
        self.model = model


def test_range_claim_and_table_use_the_span(analysis):
    segs = m4.spans(analysis)["4 segments"]
    v3, v3_hat = analysis.V3[segs], analysis.V3_hat[segs]
    f = m4.claim_v3_range(analysis, segs)
    assert f"{v3.max():.3g}" in f.value and f"{v3_hat.max():.3g}" in f.value
    assert f.agree == int(v3_hat.max() > v3.max()) + int(v3_hat.min() < 0)
    table = m4.range_table(analysis, segs)
    slope = analysis.model.batch_norm(m4.GROUP.bn).gamma / np.sqrt(analysis.model.batch_norm(m4.GROUP.bn).variance
                                                                   + 0.001)
    assert f"| CNN_4 | {np.median(slope):.3g} |" in table
    j = int(np.unravel_index(np.argmax(v3_hat.transpose(1, 0, 2).reshape(64, -1)), (64, v3_hat.size // 64))[0])
    assert f"in unit {j}:" in m4.range_sentence(analysis, segs)


def test_sorted_claims_rank_the_series_rows_by_the_series_procedure(analysis):
    segs = m4.spans(analysis)["all segments"]
    v = analysis.V123_hat[segs].transpose(1, 0, 2).reshape(64, -1).astype(np.float64)
    s = np.sort(v, axis=1)
    s -= s[:, :1]
    area = (s / s[:, -1:]).mean(axis=1)
    order = list(np.argsort(-area, kind="stable"))
    f = m4.claim_sorted_much(analysis, segs)
    assert f.agree == sum(order.index(j) < m4.SORTED_TOP for j in (5, 33, 59))
    assert f"59: rank {order.index(59) + 1} of 64" in f.value


def test_claim_sentences_tell_weights_from_music(analysis):
    text = m4.claims_sentences({"one": [analysis], "same again": [analysis]})
    lines = text.splitlines()
    found = m4.findings([analysis])
    assert len(lines) == len(m4.CLAIMS)
    for line, claim in zip(lines, m4.CLAIMS):
        assert ("the weights alone decide it" in line) == (not claim.audio)
        # the same recording twice: only the span can change a verdict
        spans_differ = len({f.verdict for f in found[claim.key].values()}) > 1
        assert ("the music decides" in line) == (claim.audio and spans_differ)


def test_sorted_figure_draws_every_row(analysis):
    fig, (left, right), image = m4.sorted_figure(analysis, m4.spans(analysis)["4 segments"])
    assert image.get_array().shape == (64, min(4, analysis.n_segments) * 187)
    assert len(right.collections) == 1 + len(m4.SERIES_SORTED)


def test_claims_table_cells_hold_no_stray_pipe(analysis):
    for line in m4.claims_table([analysis]).splitlines():
        assert line.count("|") == 5, line  # # | claim | two spans: a stray | would shift the columns
