"""Weight facts the series states, re-derived from the checkpoint with their criteria."""

import numpy as np
import pytest

from musicnn_nb import load_model
from musicnn_nb.facts import units as an
from musicnn_nb.model.network import cnn1_group_maps
from musicnn_nb.model.weights import groups_of


def test_msd_cnn1_has_62_input_dependent_units_first_is_unit_12():
    """Part 9 of the series: 62 rows of U depend on the input, 499 do not, the first is 12."""
    msd = load_model("MSD")
    count = an.nontrivial_units(msd, "cnn1")
    assert (count.count, count.total - count.count, count.rows[0]) == (62, 499, 12)
    assert count.names[0] == "cnn1/38x7/12"
    assert an.input_dependent_units(msd).rows == count.rows
    assert "norm > 0.01" in str(count)


def test_cnn4_nontrivial_kernels_msd_63_mtt_64():
    """Part 12 of the series: all 64 CNN_4 kernels are non-trivial for MTT, 63 for MSD."""
    assert an.nontrivial_units(load_model("MSD"), "cnn4").count == 63
    assert an.nontrivial_units(load_model("MTT"), "cnn4").count == 64


def test_counts_fall_as_the_threshold_rises_and_match_the_default(model_name):
    model = load_model(model_name)
    for layer in ("cnn1", "cnn2", "cnn3", "cnn4"):
        counts = an.threshold_sensitivity(model, layer)
        values = [counts[t] for t in sorted(counts)]
        assert values == sorted(values, reverse=True)
        assert counts[an.NORM_THRESHOLD] == an.nontrivial_units(model, layer).count
    assert an.threshold_sensitivity(model, "cnn1", (0.0,))[0.0] > an.nontrivial_units(model, "cnn1").count


def test_trivial_units_give_constant_rows_of_u_on_real_music(analysis):
    """Rows below the norm threshold move by less than 0.05 (U's live rows span ~10)."""
    live = set(an.nontrivial_units(analysis.model, "cnn1").rows)
    varying = set(an.varying_rows(analysis.U, tolerance=0.05).tolist())
    assert varying <= live
    assert len(varying) > 0.5 * len(live)


def test_preactivation_bound_holds_on_real_music(analysis):
    bound = an.max_preactivation(analysis.model)
    observed = np.concatenate([cnn1_group_maps(analysis.model, g, analysis.M_hat[s])[0].max(axis=(1, 2))
                               for s in (0, analysis.n_segments - 1) for g in groups_of("cnn1")])
    assert np.all(observed.reshape(2, -1) <= bound + 1e-4)


@pytest.mark.parametrize("layer", ["cnn1", "cnn4"])
def test_unit_names_round_trip(layer):
    model = load_model("MSD")
    units = model.units(layer)
    assert [u.index for u in units] == list(range(len(units)))
    assert all(model.unit(u.name).name == u.name for u in units[:: max(1, len(units) // 20)])
    np.testing.assert_allclose([u.norm for u in units], model.norms(layer), rtol=1e-6)


def test_groups_are_in_the_blogs_order_with_their_kernel_shapes():
    model = load_model("MTT")
    shapes = [(g.name, model.kernels(g).shape) for g in groups_of("cnn1")]
    assert shapes == [("38x7", (204, 38, 7)), ("67x7", (204, 67, 7)), ("1x128", (51, 1, 128)),
                      ("1x64", (51, 1, 64)), ("1x32", (51, 1, 32))]
    assert model.kernels(groups_of("cnn2")[0]).shape == (64, 561, 7)
    assert model.input_bn.scale.shape == (1,)
    assert set(model.test_scores()) == {"ROC-AUC", "PR-AUC"}


def test_unit_count_lists_names_as_code_or_none():
    from musicnn_nb.facts.units import UnitCount

    count = UnitCount("MSD", "cnn4", "a criterion", 0.01, (1, 60))
    assert count.listed == "`cnn4/64x7/1`, `cnn4/64x7/60`"
    assert UnitCount("MSD", "cnn4", "a criterion", 0.01, ()).listed == "none"


@pytest.mark.parametrize("layer", ["cnn1", "cnn2", "cnn3", "cnn4"])
def test_trivial_and_nontrivial_units_split_every_layer_at_the_threshold(model_name, layer):
    model = load_model(model_name)
    trivial, nontrivial = an.trivial_units(model, layer), an.nontrivial_units(model, layer)
    assert np.array_equal(trivial.mask, ~nontrivial.mask)
    assert np.all(model.norms(layer)[list(trivial.rows)] <= an.NORM_THRESHOLD)
    lo, hi = an.norm_gap(model, layer)
    assert lo <= an.NORM_THRESHOLD < hi
    assert an.nontrivial_units(model, layer, lo).rows == an.nontrivial_units(model, layer, np.nextafter(hi, 0)).rows


def test_explorer_unit_prefers_a_nontrivial_choice_else_the_largest_norm():
    model = load_model("MTT")
    group = groups_of("cnn3")[0]
    largest = max(model.units("cnn3"), key=lambda u: u.norm).name
    assert an.explorer_unit(model, (group,)) == largest
    trivial = an.trivial_units(model, "cnn3").names[0]
    assert an.explorer_unit(model, (group,), preferred=trivial) == largest
    other = next(n for n in an.nontrivial_units(model, "cnn3").names if n != largest)
    assert an.explorer_unit(model, (group,), preferred=other) == other


def test_never_active_units_are_rows_of_v_that_stay_zero(analysis):
    for layer, name in (("cnn2", "V1"), ("cnn3", "V2"), ("cnn4", "V3")):
        count = an.never_active_units(analysis, layer)
        v = analysis.arrays[name]
        assert list(count.rows) == [j for j in range(v.shape[1]) if v[:, j].max() <= 0]
        assert f"[V_{name[1]}]_(j,t) = 0" in count.criterion
