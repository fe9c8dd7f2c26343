"""Chapter 2's computations: parameter counts, shapes, segmentation, equations, figures."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.figure import Figure

from musicnn_nb import load_model
from musicnn_nb.chapters import architecture as ar
from musicnn_nb.explore import figures
from musicnn_nb.explore.widgets import View
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import N_MELS, SEGMENT_FRAMES
from musicnn_nb.model.weights import GROUPS, HIDDEN, LAYER_SIZES, groups_of
from musicnn_nb.present.notation import mark_row_groups, robust_limit, show, u_row_groups, w_row_groups
from musicnn_nb.present.segmentation import segmentation, segmentation_figure, whole_spectrogram


def _is_optimizer(name: str) -> bool:
    return "Adam" in name.split("/")[-1] or name.endswith("_power")


def _model_variables(model) -> dict[str, np.ndarray]:
    return {k: v for k, v in model.variables.items() if not _is_optimizer(k)}


# -- what the checkpoint holds ------------------------------------------------------------

def test_variable_kind_sorts_every_checkpoint_variable(model_name):
    model = load_model(model_name)
    kinds = {name: ar.variable_kind(name) for name in model.variables}
    assert set(kinds.values()) == {"trainable", "moving statistics", "optimizer"}
    for name, kind in kinds.items():
        assert (kind == "optimizer") == _is_optimizer(name)
        assert (kind == "moving statistics") == ("moving_" in name and not _is_optimizer(name))
    # Adam keeps two slots per trainable array and none for moving statistics
    trainable = [n for n, k in kinds.items() if k == "trainable"]
    assert sorted(n for n in model.variables if n.endswith("/Adam")) == sorted(f"{n}/Adam" for n in trainable)
    assert sorted(n for n in model.variables if n.endswith("/Adam_1")) == sorted(f"{n}/Adam_1" for n in trainable)


def test_parameter_kind_rejects_optimizer_state_and_unknown_names():
    assert ar.parameter_kind("conv2d_3/kernel") == "kernel"
    assert ar.parameter_kind("batch_normalization_4/gamma") == "gamma_beta"
    assert ar.parameter_kind("batch_normalization_4/moving_variance") == "moving"
    with pytest.raises(ValueError, match="optimizer"):
        ar.parameter_kind("conv2d/kernel/Adam")
    with pytest.raises(ValueError, match="unexpected"):
        ar.parameter_kind("conv2d/weights")


def test_inventory_totals_add_up_to_the_whole_checkpoint(model_name):
    model = load_model(model_name)
    rows = ar.checkpoint_inventory(model)
    totals = ar.inventory_totals(rows)
    assert totals["checkpoint"] == sum(int(np.asarray(v).size) for v in model.variables.values())
    assert sum(r.arrays for r in rows) == len(model.variables)
    assert totals["model"] == sum(v.size for v in _model_variables(model).values())
    assert totals["optimizer"] == 2 * totals["trainable"] + 2  # two slots each, two step scalars
    table = ar.render_inventory([model])
    assert f"**{totals['checkpoint']:,}**" in table and f"**{len(model.variables)}**" in table
    summary = ar.inventory_summary(model)
    assert "exactly one number per trainable parameter" in summary and "no moving statistic has a slot" in summary
    assert f"{totals['checkpoint']:,}" in summary


# -- the parameter table ------------------------------------------------------------------

def test_parameter_total_equals_the_checkpoints_model_variables(model_name):
    """Computed independently: every non-optimizer variable's size, summed."""
    model = load_model(model_name)
    expected = sum(v.size for v in _model_variables(model).values())
    totals = ar.stage_totals(ar.parameter_table(model))
    assert totals["all"]["stored"] == expected


def test_trainable_count_excludes_moving_statistics(model_name):
    model = load_model(model_name)
    variables = _model_variables(model)
    moving = sum(v.size for k, v in variables.items() if "moving_" in k)
    steps = ar.parameter_table(model)
    totals = ar.stage_totals(steps)
    assert totals["all"]["trainable"] == sum(v.size for k, v in variables.items() if "moving_" not in k)
    assert totals["all"]["stored"] - totals["all"]["trainable"] == moving == totals["all"]["moving"]
    for step in steps:
        assert step.stored - step.trainable == step.counts["moving"]


def test_every_model_variable_is_counted_exactly_once(model_name):
    model = load_model(model_name)
    listed = list(itertools.chain.from_iterable(s.variables for s in ar.parameter_table(model)))
    assert len(listed) == len(set(listed))
    assert set(listed) == set(_model_variables(model))


def test_stage_totals_sum_to_the_network_total(model_name):
    totals = ar.stage_totals(ar.parameter_table(load_model(model_name)))
    for column in (*ar.COUNT_COLUMNS, "trainable", "stored"):
        assert sum(totals[s][column] for s in ar.STAGE_ORDER) == totals["all"][column]
    front = sum(g.size * (g.rows * g.frames + 1 + 4) for g in groups_of("cnn1"))  # kernel, bias, γβμσ²
    assert totals["front end"]["stored"] == front


def test_kernel_shapes_are_read_off_the_checkpoint():
    model = load_model("MSD")
    assert ar.kernel_shape(model, GROUPS[0]) == "204 × 38×7"
    assert ar.kernel_shape(model, groups_of("cnn2")[0]) == "64 × 561×7"
    assert ar.dense_shape(model, HIDDEN.scope) == "1506×200"


def test_rendered_table_has_one_line_per_step_and_total(analysis):
    steps = ar.parameter_table(analysis.model)
    shapes = ar.tensor_shapes(analysis)
    table = ar.render_parameter_table(steps, shapes)
    lines = table.splitlines()
    assert len(lines) == 2 + len(steps) + len(ar.STAGE_ORDER) + 1
    total = ar.stage_totals(steps)["all"]
    assert lines[-1].startswith("| **network** |") and f"**{total['stored']:,}**" in lines[-1]
    assert "{shape}" not in table and "753 × 187" in table
    assert ar.network_table(analysis) == table


def test_totals_summary_states_the_computed_totals_and_the_comparison():
    msd, mtt = load_model("MSD"), load_model("MTT")
    total = ar.stage_totals(ar.parameter_table(msd))["all"]
    text = ar.totals_summary([msd, mtt])
    assert f"{total['trainable']:,} trainable" in text and "MSD and MTT" in text
    assert ar.same_architecture(msd, mtt)
    assert ar.differing_parameters(msd, msd) == 0
    assert 0 < ar.differing_parameters(msd, mtt) <= len(_model_variables(msd))
    assert ar.totals_summary([msd]).count("**MSD**") == 1


def test_largest_arrays_and_their_descriptions():
    model = load_model("MSD")
    largest = ar.largest_arrays(model, 3)
    sizes = [size for _, _, size in largest]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] == max(v.size for k, v in model.variables.items() if ar.variable_kind(k) == "trainable")
    for name in _model_variables(model):
        assert ar.describe_variable(name)
    assert ar.describe_variable("conv2d_5/kernel") == "CNN_2 561x7 kernels"
    with pytest.raises(ValueError):
        ar.describe_variable("nowhere/kernel")


# -- shapes -------------------------------------------------------------------------------

def test_tensor_shapes_match_the_analysis_arrays(analysis):
    shapes = ar.tensor_shapes(analysis)
    for key, value in analysis.arrays.items():
        assert shapes[key] == value.shape[1:]
    for g in groups_of("cnn1"):
        expected_rows = N_MELS - g.rows + 1  # valid over frequency
        assert shapes[f"Y/{g.name}"] == (expected_rows, SEGMENT_FRAMES)


def test_row_groups_tile_u_and_w(analysis):
    u_groups, w_groups = u_row_groups(), w_row_groups()
    for groups, rows in ((u_groups, analysis.U.shape[1]), (w_groups, analysis.W.shape[1])):
        assert groups[0][1] == 0 and groups[-1][2] == rows
        assert all(a[2] == b[1] for a, b in itertools.pairwise(groups))
    w = analysis.W
    for key, start, stop in w_groups:
        assert np.array_equal(w[:, start:stop], analysis.arrays[key])
    assert [g[0] for g in u_groups] == [g.name for g in groups_of("cnn1")]


def test_time_offset_reproduces_every_cnn1_group(analysis):
    """The chapter's equation with Δ_i from time_offset equals the network's pre-activation."""
    model, m_hat = analysis.model, analysis.M_hat[1]
    for g in groups_of("cnn1"):
        k = int(np.argmax(np.linalg.norm(model.kernels(g).reshape(g.size, -1), axis=1)))
        direct = ar.correlate(model.kernels(g)[k : k + 1], m_hat, ar.time_offset(g))[0]
        direct += model.variables[f"{g.conv}/bias"][k]
        maps = analysis.unit_maps(g.first_row + k, 1)
        np.testing.assert_allclose(direct, maps.pre_activation, rtol=1e-4, atol=1e-4)
        # and an offset one frame off does not (for a unit whose kernel is not zero)
        wrong = ar.correlate(model.kernels(g)[k : k + 1], m_hat, ar.time_offset(g) + 1)[0]
        wrong += model.variables[f"{g.conv}/bias"][k]
        assert not np.allclose(wrong, maps.pre_activation, atol=1e-4)


def test_correlate_matches_a_scalar_loop():
    rng = np.random.default_rng(1)
    kernels, x, offset = rng.normal(size=(2, 3, 4)), rng.normal(size=(6, 9)), 1
    out = ar.correlate(kernels, x, offset)
    assert out.shape == (2, 4, 9)
    for u, f, t in itertools.product(range(2), range(4), range(9)):
        value = sum(kernels[u, p, q] * x[f + p, t + q - offset]
                    for p in range(3) for q in range(4) if 0 <= t + q - offset < 9)
        assert out[u, f, t] == pytest.approx(value)


def test_batch_norm_formula_equals_the_models_batch_norm():
    bn = load_model("MTT").batch_norm("batch_normalization_6")
    x = np.random.default_rng(2).normal(size=(64, 5)).astype(np.float32)
    np.testing.assert_allclose(ar.batch_norm_formula(x, bn.gamma, bn.beta, bn.mean, bn.variance),
                               bn(x.T).T, rtol=1e-5, atol=1e-5)


def test_every_equation_of_the_chapter_holds(analysis):
    checks = ar.check_equations(analysis, analysis.n_segments - 1)
    assert len(checks) == 1 + len(groups_of("cnn1")) + 4 + 3
    for check in checks:
        assert check.relative < 1e-5, check.equation
    table = ar.render_checks(checks)
    assert table.count("\n") == len(checks) + 1


def test_equation_check_detects_a_wrong_array(analysis):
    broken = Analysis(analysis.path, analysis.model, analysis.hop_frames, dict(analysis.arrays))
    broken.arrays["V2_hat"] = analysis.V2_hat + 1
    checks = {c.array: c for c in ar.check_equations(broken, 0)}
    assert checks["a.V2_hat"].max_difference == pytest.approx(1, rel=1e-3)
    assert checks["a.V1_hat"].relative < 1e-5


# -- stage tables and sentences -----------------------------------------------------------

def test_stage_tables_state_computed_rows(analysis):
    front = ar.front_end_table(analysis).splitlines()
    assert len(front) == 2 + len(groups_of("cnn1")) + 1
    assert "| 1x128 | 51 | 408–458 | 2,048 ms | 63 | 96 × 187 | 96 |" in front
    assert f"**{LAYER_SIZES['cnn1']}**" in front[-1]
    mid = ar.mid_end_table(analysis)
    assert mid.count("\n") == 1 + 3 and "561 × 187" in mid
    blocks = ar.w_blocks_table(analysis)
    assert "| 689–752 | 64 |" in blocks and "**753**" in blocks


def test_back_end_summary_checks_the_interleaving(analysis):
    text = ar.back_end_summary(analysis)
    assert "maxima at its even" in text and f"{analysis.n_segments} segments checked" in text
    swapped = dict(analysis.arrays, max_pool=analysis.mean_pool, mean_pool=analysis.max_pool)
    broken = Analysis(analysis.path, analysis.model, analysis.hop_frames, swapped)
    assert "fails" in ar.back_end_summary(broken)


def test_notation_table_lists_every_symbol_with_its_shape(analysis):
    table = ar.notation_table(analysis)
    assert table.count("\n") == 1 + len(ar.NOTATION) + 1
    assert "| 753 × 187 |" in table and "59 × 187, 30 × 187" in table and "ε = 0.001" in table


# -- segmentation -------------------------------------------------------------------------

def test_segmentation_matches_the_whole_spectrogram(analysis):
    whole = whole_spectrogram(analysis)
    s = segmentation(analysis)
    assert s.frames == whole.shape[1] and s.n_segments == analysis.n_segments
    assert s.covered_frames + s.dropped_frames == s.frames
    assert 0 <= s.dropped_frames < SEGMENT_FRAMES
    for i, start in enumerate(range(0, s.covered_frames - SEGMENT_FRAMES + 1, s.hop_frames)):
        np.testing.assert_array_equal(analysis.M_dB[i], whole[:, start : start + SEGMENT_FRAMES])
    text = ar.segmentation_summary(analysis)
    assert f"{s.n_segments} whole segments" in text and "16 ms" in text and "2.992 s" in text


def test_whole_spectrogram_is_computed_once_per_analysis(analysis, monkeypatch):
    first = whole_spectrogram(analysis)
    other = Analysis(analysis.path, analysis.model, analysis.hop_frames, analysis.arrays)
    monkeypatch.setattr(Analysis, "spectrogram", lambda self: pytest.fail("recomputed"))
    assert whole_spectrogram(analysis) is first
    with pytest.raises(pytest.fail.Exception, match="recomputed"):
        whole_spectrogram(other)  # a new analysis keeps its own: nothing outlives the analysis


def test_segmentation_figure_marks_every_segment(analysis):
    fig, ax, image, _ = segmentation_figure(analysis, highlight=1)
    assert image.get_array().shape == whole_spectrogram(analysis).shape
    assert len(ax.lines) == analysis.n_segments
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(analysis.n_segments)]
    assert ax.get_xlim()[1] == pytest.approx(image.get_extent()[1])


# -- figures ------------------------------------------------------------------------------

def test_segmentation_view_draws_the_segment_and_its_w(analysis):
    fig = Figure()
    view = View(model=analysis.model.name, segment=2, vmin=-3.0, vmax=3.0)
    figures.draw_segmentation(fig, analysis, view)
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 2
    top, bottom = images
    assert top.get_array().shape == whole_spectrogram(analysis).shape
    np.testing.assert_array_equal(bottom.get_array(), analysis.W[2])
    assert bottom.get_clim() == (-3.0, 3.0)
    boundaries = sorted(line.get_ydata()[0] for line in bottom.axes.lines)
    expected = sorted(start - 0.5 for _, start, _ in w_row_groups()[1:]) + \
        sorted(start - 0.5 for _, start, _ in u_row_groups()[1:])
    assert boundaries == sorted(expected)
    assert bottom.get_extent()[0] == pytest.approx(-0.008)  # time from the segment's start (16-ms frames)
    outline = next(p for p in top.axes.patches if not p.get_fill())
    assert outline.get_x() == pytest.approx(analysis.segment_start_s[2])  # where it lies in the recording
    assert bottom.axes.get_title().startswith(f"W of segment 2, from {analysis.segment_start_s[2]:.2f} s")


def test_shapes_figure_draws_each_array_at_its_true_height(analysis):
    fig, axes = ar.shapes_figure(analysis, 1)
    assert len(axes) == len(ar.SHAPE_PANELS)
    for ax, key in zip(axes, ar.SHAPE_PANELS):
        (image,) = ax.images
        np.testing.assert_array_equal(image.get_array(), analysis.arrays[key][1])
        assert ax.get_ylim() == pytest.approx((-0.5, analysis.W.shape[1] - 0.5))
        lo, hi = image.get_clim()
        assert lo == -hi == -robust_limit(analysis.arrays[key][1])


def test_back_end_figure_plots_the_pooled_values(analysis):
    fig, (pool_ax, pen_ax, tag_ax) = ar.back_end_figure(analysis, 0, n_tags=5)
    maxima, means = pool_ax.lines[:2]
    np.testing.assert_array_equal(maxima.get_ydata(), analysis.max_pool[0])
    np.testing.assert_array_equal(means.get_ydata(), analysis.mean_pool[0])
    assert len(tag_ax.patches) == 5


def test_robust_limit_and_row_group_marks():
    data = np.concatenate([np.zeros(990), np.full(10, 100.0)])
    assert robust_limit(data, 99.5) == 100.0
    assert robust_limit(data, 50) == 100.0  # all-zero percentile falls back to the maximum
    assert robust_limit(np.zeros(4)) == 1.0
    fig = Figure()
    ax = fig.subplots()
    artists = mark_row_groups(ax, [("U", 0, 5), ("V1_hat", 5, 9)])
    assert [line.get_ydata()[0] for line in ax.lines] == [4.5]
    assert "rows 5–8" in ax.texts[1].get_text() and len(artists) == 3


def test_show_displays_markdown_and_figures(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda item: shown.append(item))
    fig = Figure()
    show("| a |\n| --- |")
    show(fig)
    assert type(shown[0]).__name__ == "Markdown" and shown[1] is fig
