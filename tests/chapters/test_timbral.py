"""Chapter 5's facts about the 2-D kernels of CNN_1, checked against independent computations."""

import numpy as np
import pytest
from scipy.signal import correlate2d

from musicnn_nb import load_model
from musicnn_nb.chapters import timbral
from musicnn_nb.facts import units as an
from musicnn_nb.model.network import unit_maps
from musicnn_nb.model.spectrogram import N_MELS
from musicnn_nb.model.weights import groups_of


def checkpoint_norms(model, group):
    """Frobenius norms straight from the checkpoint variable (time x bands x 1 x units)."""
    k = model.variables[f"{group.conv}/kernel"]
    return np.sqrt(np.sum(k.astype(np.float64) ** 2, axis=(0, 1, 2)))



def test_two_d_groups_are_the_tall_ones():
    assert [g.name for g in timbral.TWO_D] == ["38x7", "67x7"]
    assert [an.map_rows(g) for g in timbral.TWO_D] == [N_MELS - g.rows + 1 for g in timbral.TWO_D]


def test_group_counts_match_the_checkpoint_and_add_up_to_the_layer(model_name):
    model = load_model(model_name)
    two_d = 0
    for group in timbral.TWO_D:
        count = an.nontrivial_in_group(model, group)
        norms = checkpoint_norms(model, group)
        expected = group.first_row + np.flatnonzero(norms > an.NORM_THRESHOLD)
        assert count.rows == tuple(expected)
        assert count.total == group.size
        assert "norm > 0.01" in str(count) and group.name in str(count)
        assert all(n.startswith(f"cnn1/{group.name}/") for n in count.names)
        two_d += count.count
    one_d = sum(np.sum(checkpoint_norms(model, g) > an.NORM_THRESHOLD) for g in groups_of("cnn1") if g.rows == 1)
    assert two_d + one_d == an.nontrivial_units(model, "cnn1").count


def test_group_sensitivity_agrees_with_the_counts(model_name):
    model = load_model(model_name)
    for group in timbral.TWO_D:
        counts = an.group_sensitivity(model, group)
        values = [counts[t] for t in sorted(counts)]
        assert values == sorted(values, reverse=True)
        assert counts[an.NORM_THRESHOLD] == an.nontrivial_in_group(model, group).count
        assert counts[an.NORM_THRESHOLD] == np.sum(checkpoint_norms(model, group) > an.NORM_THRESHOLD)


def test_ranked_units_decrease_in_norm_and_the_largest_is_the_argmax(model_name):
    model = load_model(model_name)
    best = []
    for group in timbral.TWO_D:
        ranked = an.ranked_units(model, group)
        norms = [u.norm for u in ranked]
        assert norms == sorted(norms, reverse=True)
        assert len(ranked) == an.nontrivial_in_group(model, group).count
        assert ranked[0].index == group.first_row + int(np.argmax(checkpoint_norms(model, group)))
        assert len(an.ranked_units(model, group, 5)) == 5
        best.append(ranked[0])
    assert [u.name for u in timbral.largest_units(model)] == [u.name for u in best]
    assert timbral.largest_unit(model).norm == max(u.norm for u in best)


def test_band_span_is_what_the_network_reads():
    """Perturbing one mel band changes exactly the output rows whose window holds it."""
    model = load_model("MSD")
    rng = np.random.default_rng(0)
    m_hat = rng.standard_normal((N_MELS, 40)).astype(np.float32)
    band = 50
    bumped = m_hat.copy()
    bumped[band] += 1.0
    for group in timbral.TWO_D:
        unit = timbral.largest_units(model)[timbral.TWO_D.index(group)]
        change = np.abs(unit_maps(model, unit.name, bumped).pre_activation
                        - unit_maps(model, unit.name, m_hat).pre_activation).max(axis=1)
        touched = np.flatnonzero(change > 1e-6)
        expected = [f for f in range(an.map_rows(group)) if timbral.band_span(group, f)[0] <= band
                    <= timbral.band_span(group, f)[1]]
        assert touched.tolist() == expected
    with pytest.raises(ValueError):
        timbral.band_span(timbral.TWO_D[1], an.map_rows(timbral.TWO_D[1]))


def test_chapter_formula_equals_the_network(analysis):
    """[K ⋆ M̂]_{f,t} = Σ_φ Σ_τ K[φ,τ] M̂[f+φ, t+τ−3] with zero frames outside the segment."""
    segment = analysis.n_segments - 1
    m_hat = analysis.M_hat[segment].astype(np.float64)
    for unit in timbral.largest_units(analysis.model):
        padded = np.pad(m_hat, ((0, 0), (3, 3)))
        expected = correlate2d(padded, unit.kernel.astype(np.float64), mode="valid") + unit.bias
        got = analysis.unit_maps(unit.name, segment).pre_activation
        assert got.shape == (an.map_rows(unit.group), m_hat.shape[1])
        np.testing.assert_allclose(got, expected, atol=1e-4)


def test_kernel_shape_on_synthetic_kernels():
    spot = np.zeros((38, 7))
    spot[5, 3] = 2.0
    s = timbral.kernel_shape(spot)
    assert s.centroid_row == pytest.approx(5) and s.half_energy_rows == 1
    assert s.central_share == pytest.approx(1) and s.time_constant_share == pytest.approx(1 / 7)
    steady = np.zeros((38, 7))
    steady[[10, 30]] = 1.0
    s = timbral.kernel_shape(steady)
    assert s.centroid_row == pytest.approx(20) and s.half_energy_rows == 1
    assert s.time_constant_share == pytest.approx(1) and s.central_share == pytest.approx(3 / 7)
    difference = np.zeros((38, 7))
    difference[20, 3], difference[20, 4] = 1.0, -1.0
    assert timbral.kernel_shape(difference).time_constant_share == pytest.approx(0, abs=1e-12)
    assert timbral.kernel_shape(3 * spot).norm == pytest.approx(3 * timbral.kernel_shape(spot).norm)


def test_same_sign_rows_never_fall_below_one_seventh():
    """The chapter's claim: a share below 1/7 needs a sign change along time in some band."""
    rng = np.random.default_rng(1)
    for _ in range(200):
        k = np.abs(rng.standard_normal((38, 7))) * rng.choice([-1, 1], size=(38, 1))
        assert timbral.kernel_shape(k).time_constant_share >= 1 / 7 - 1e-12


def test_gain_bound_holds_on_real_music(analysis):
    """|K ⋆ M̂_dB| stays below ‖K‖_F √(7h) max|M̂_dB| for the units drawn in the chapter."""
    assert np.abs(analysis.M_hat).max() <= timbral.input_bound(analysis.model) + 1e-5
    for unit in timbral.largest_units(analysis.model):
        z = analysis.unit_maps(unit.name, 0).pre_activation - unit.bias
        assert np.abs(z).max() <= timbral.gain_bound(analysis.model, unit.group, unit.norm)


def test_spreads_separate_trivial_from_live_kernels_on_real_music(analysis):
    group = timbral.TWO_D[0]
    spread = timbral.spreads(analysis, 0, group)
    norms = checkpoint_norms(analysis.model, group)
    trivial = norms <= an.NORM_THRESHOLD
    bounds = norms * np.sqrt(group.rows * group.frames) * timbral.input_bound(analysis.model)
    assert np.all(spread[trivial] <= 2 * bounds[trivial] + 1e-5)
    top = int(np.argmax(norms))
    assert spread[top] > spread[trivial].max()


def test_gallery_draws_one_image_per_kernel_in_norm_order(model_name):
    model = load_model(model_name)
    group = timbral.TWO_D[1]
    n = 7
    fig, axes, images, bar = timbral.gallery(model, group, n=n, columns=4)
    assert len(images) == min(n, an.nontrivial_in_group(model, group).count)
    ranked = an.ranked_units(model, group, n)
    assert [int(ax.get_title().split("\n")[0]) for ax in axes.flat[: len(images)]] == [u.index for u in ranked]
    np.testing.assert_allclose(images[0].get_array(), ranked[0].kernel / ranked[0].norm, rtol=1e-6)
    assert sum(ax.axison for ax in axes.flat) == len(images)


def test_norms_and_shapes_figures_cover_both_models():
    models = [load_model("MSD"), load_model("MTT")]
    fig, axes, _ = timbral.norms_figure(models)
    assert len(axes) == 2
    assert sum(len(ax.containers) for ax in axes) == 2  # one stem series per model
    fig, axes, handles = timbral.shapes_figure(models)
    dots = [h for h in handles if hasattr(h, "get_offsets")]
    expected = [an.nontrivial_in_group(m, g).count for g in timbral.TWO_D for m in models]
    assert [len(d.get_offsets()) for d in dots] == expected
    _, _, lines = timbral.sensitivity_figure(models)
    assert len(lines) == len(models) * len(timbral.TWO_D)


def test_outputs_figure_shows_the_maps_aligned_on_window_centres(analysis):
    units = timbral.largest_units(analysis.model)
    fig, axes, images = timbral.outputs_figure(analysis, 0, units)
    assert len(images) == len(units)
    for unit, image in zip(units, images):
        np.testing.assert_array_equal(image.get_array(), analysis.unit_maps(unit.name, 0).pre_activation)
        bottom, top = image.get_extent()[2:]
        centre = (unit.group.rows - 1) / 2
        assert bottom == pytest.approx(centre - 0.5) and top == pytest.approx(N_MELS - 1 - centre + 0.5)


def test_tables_list_every_group_and_model():
    models = [load_model("MSD"), load_model("MTT")]
    counts = timbral.counts_table(models)
    for m in models:
        for g in timbral.TWO_D:
            c = an.nontrivial_in_group(m, g)
            assert f"| {m.name} | `{g.name}` | {c.count} of {c.total} |" in counts
    assert len(timbral.shapes_table(models).splitlines()) == 2 + len(models) * len(timbral.TWO_D)
    coverage = timbral.coverage_table()
    for g in timbral.TWO_D:
        last = an.map_rows(g) - 1
        assert f"| `{g.name}` | 0 | 0–{g.rows - 1} |" in coverage
        assert f"| `{g.name}` | {last} | {last}–{N_MELS - 1} |" in coverage
