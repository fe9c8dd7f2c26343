"""Chapter 9: the rows of U that depend on the input, and their way to the tags."""

import numpy as np
import pytest

from musicnn_nb import load_model
from musicnn_nb.chapters import first_stage as fs
from musicnn_nb.facts import backend as fb
from musicnn_nb.facts.units import NORM_THRESHOLD, norm_gap
from musicnn_nb.model.weights import HIDDEN, groups_of


def kernel_norms(model) -> np.ndarray:
    """Every CNN_1 kernel's Frobenius norm, straight from the checkpoint variables (time x rows x 1 x units)."""
    return np.concatenate([np.sqrt((model.variables[f"{g.conv}/kernel"].astype(np.float64) ** 2).sum(axis=(0, 1, 2)))
                           for g in groups_of("cnn1")])


# -- counting -------------------------------------------------------------------------------

def test_first_nontrivial_is_the_lowest_row_above_the_threshold(model_name):
    model = load_model(model_name)
    lowest = int(np.flatnonzero(kernel_norms(model) > NORM_THRESHOLD)[0])
    assert fs.first_nontrivial(model) == model.unit(lowest, "cnn1").name
    assert int(fs.first_nontrivial(model, threshold=1e-30).split("/")[-1]) <= lowest


def test_norm_gap_brackets_the_threshold_and_the_count_changes_at_its_ends(model_name):
    model = load_model(model_name)
    norms = kernel_norms(model)
    lo, hi = norm_gap(model, "cnn1")
    assert lo <= NORM_THRESHOLD < hi
    count = np.sum(norms > NORM_THRESHOLD)
    assert np.sum(norms > lo) == count and np.sum(norms > np.nextafter(hi, 0)) == count
    assert np.sum(norms > np.nextafter(lo, 0)) > count  # lo is a norm: lowering the threshold past it adds a unit
    assert np.sum(norms > hi) < count  # hi is a norm: raising the threshold to it loses a unit


def test_row_ranges_and_constant_zero_rows_on_a_synthetic_u(analysis):
    u = np.zeros((2, 561, 187), dtype=np.float32)
    u[:, 3] = 0.5  # constant but not zero
    u[1, 7, 10] = 1e-3  # moves by more than the tolerance
    u[0, 9, 0] = 1e-8  # moves by less
    np.testing.assert_allclose(fs.row_ranges(u)[[0, 3, 7, 9]], [0, 0, 1e-3, 1e-8], rtol=1e-6)
    fake = type(analysis)(analysis.path, analysis.model, analysis.hop_frames, {**analysis.arrays, "U": u})
    zero = fs.constant_zero_rows(fake)
    assert 3 not in zero.rows and 7 not in zero.rows and 9 in zero.rows and zero.count == 561 - 2


def test_varying_splits_the_observed_rows_by_the_weights_verdict(analysis):
    v = fs.varying(analysis)
    live = set(np.flatnonzero(kernel_norms(analysis.model) > NORM_THRESHOLD))
    spread = analysis.U.max(axis=(0, 2)) - analysis.U.min(axis=(0, 2))
    moving = set(np.flatnonzero(spread > fs.VARYING_TOLERANCE))
    assert set(v.varying) == moving
    assert v.moving_nontrivial + len(v.moving_trivial) == len(moving)
    assert set(v.still_nontrivial) == live - moving
    table = fs.varying_table([analysis], tolerances=(fs.VARYING_TOLERANCE,))
    assert f"| {len(moving)} | {len(moving & live)} | {len(moving - live)} | {len(live - moving)} |" in table


def test_claims_and_counts_tables_state_the_recomputed_numbers(analysis):
    model = analysis.model
    count = int(np.sum(kernel_norms(model) > NORM_THRESHOLD))
    claims = fs.claims_table(analysis)
    assert f"| {count} | kernel Frobenius norm > {NORM_THRESHOLD:g} |" in claims
    assert f"| {561 - count} |" in claims and f"`{fs.first_nontrivial(model)}`" in claims
    assert all(line.count("|") == 4 for line in claims.splitlines())  # no stray pipe splits a cell
    counts = fs.counts_table([model])
    assert f"**{count}**" in counts
    for g in groups_of("cnn1"):
        group = int(np.sum(kernel_norms(model)[g.first_row:g.stop_row] > NORM_THRESHOLD))
        assert f"| {group} of {g.size} |" in counts


# -- figures ----------------------------------------------------------------------------------

def test_u_figure_colours_five_groups_and_ticks_each_nontrivial_row(analysis):
    fig, ax, image, bar, strip, patches, ticks = fs.u_figure(analysis, 0)
    assert image.get_array().shape == (561, 187)
    assert len(patches) == 5 and len({tuple(p.get_facecolor()) for p in patches}) == 5
    spans = [p.get_path().transformed(p.get_patch_transform()).get_extents() for p in patches]
    assert [round(s.y0 + 0.5) for s in spans] == [g.first_row for g in groups_of("cnn1")]  # bottom to top
    live = np.flatnonzero(kernel_norms(analysis.model) > NORM_THRESHOLD)
    assert len(ticks.get_segments()) == live.size
    assert sorted(seg[0][1] for seg in ticks.get_segments()) == list(live)


def test_stem_figure_draws_one_stem_per_frame_and_maps_c_to_zero(analysis):
    unit = fs.first_nontrivial(analysis.model)
    fig, (top, bottom) = fs.stem_figure(analysis, unit, 0)
    stems = bottom.containers[0]
    assert len(stems.markerline.get_xdata()) == analysis.U.shape[2]
    np.testing.assert_array_equal(stems.markerline.get_ydata(), analysis.U[0, analysis.model.unit(unit).index])
    # the right-hand axis reads [U]_{i,t} = a_i · max_f [Y_i]_{f,t} + c_i backwards
    fig.canvas.draw()
    second = bottom.child_axes[0]
    unit = analysis.model.unit(unit)
    bn = analysis.model.batch_norm(unit.group.bn)
    k = unit.index - unit.group.first_row
    np.testing.assert_allclose(second.get_ylim(), (np.array(bottom.get_ylim()) - bn.shift[k]) / bn.scale[k], rtol=1e-5)
    maps = analysis.unit_maps(unit.name, 0)
    extreme = maps.Y.max(axis=0) if bn.scale[k] > 0 else maps.Y.min(axis=0)
    np.testing.assert_allclose((analysis.U[0, unit.index] - bn.shift[k]) / bn.scale[k], extreme, atol=1e-4)


# -- the back end -------------------------------------------------------------------------------

def test_w_blocks_partition_the_rows_of_w(analysis):
    blocks = fs.w_blocks(analysis.model)
    rows = np.sort(np.concatenate(list(blocks.values())))
    np.testing.assert_array_equal(rows, np.arange(analysis.W.shape[1]))


def test_backend_shares_sum_to_one_and_match_a_direct_computation(analysis):
    shares = fs.backend_shares(analysis)
    assert [s.block for s in shares] == list(fs.BLOCKS)
    for field in ("weight", "contribution", "variation"):
        assert sum(getattr(s, field) for s in shares) == pytest.approx(1.0)
    kernel, _ = analysis.model.dense(HIDDEN.scope)
    mid = fb.pooled_values(fs.w_blocks(analysis.model)[fs.BLOCKS[2]])
    direct = np.sum(kernel[mid].astype(np.float64) ** 2) / np.sum(kernel.astype(np.float64) ** 2)
    assert shares[2].weight == pytest.approx(direct)
    assert shares[1].variation < 1e-3  # trivial rows hardly change from segment to segment


def test_pushed_tags_are_the_extremes_of_the_removal_of_the_nontrivial_rows(analysis):
    push = fb.removal(analysis, fs.w_blocks(analysis.model)[fs.BLOCKS[0]]).change.mean(axis=0)
    up, down = fs.pushed_tags(analysis, 3)
    assert up[0][1] == pytest.approx(push.max()) and down[0][1] == pytest.approx(push.min())


def test_figures_draw_what_they_claim(analysis):
    fig, handles = fs.push_figure([analysis], n=4)
    assert len(handles[0]) == 8
    fig, axes = fs.dense_weights_figure([analysis.model])
    assert sum(len(c.get_offsets()) for c in axes[0].collections) == 2 * analysis.W.shape[1]
    fig, axes = fs.norm_range_figure([analysis])
    assert sum(len(c.get_offsets()) for c in axes[0].collections) == 561
    fig, (left, right) = fs.threshold_figure([analysis.model])
    assert len(left.lines[0].get_xdata()) == 561
