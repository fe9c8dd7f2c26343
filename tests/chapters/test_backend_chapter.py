"""Chapter 13: the back end's tables, sentences and figures."""

import re

import numpy as np
import pytest

from musicnn_nb import load_model
from musicnn_nb.chapters import backend as be
from musicnn_nb.facts import backend as fb
from musicnn_nb.facts.tags import segment_top_tags


@pytest.mark.parametrize("name", ["MSD", "MTT"])
def test_every_tag_has_exactly_one_kind(name):
    kinds = be.tag_kinds(load_model(name))
    assert sum(len(t) for t in kinds.values()) == 50
    assert {"genre", "instrument", "no voice"} <= set(kinds)


def test_shapes_table_counts_the_parameters_from_the_checkpoint():
    models = [load_model("MSD"), load_model("MTT")]
    table = be.shapes_table(models)
    kernel, bias = models[0].dense("dense")
    assert f"{kernel.size + bias.size:,}" in table and "kernel 1506×200" in table
    expected = sum(v.size for k, v in models[0].variables.items()
                   if k.split("/")[0] in {"dense", "dense_1", "batch_normalization_9", "batch_normalization_10"}
                   and k.endswith(("kernel", "bias", "gamma", "beta")))
    assert f"**{expected:,}**" in table


def test_check_table_reports_gaps_below_the_test_tolerance(analysis):
    table = be.check_table([analysis])
    gap = float(re.findall(r"\| ([0-9.e+-]+) \| [0-9.]+ \|$", table)[0])
    assert gap < 1e-5


def test_top_rows_table_links_units_to_their_chapter_and_times_the_winning_frame(analysis):
    tag = segment_top_tags(analysis, 2, 1)[0][0]
    table = be.top_rows_table(analysis, 2, tag, n=4)
    rows = fb.attributions(analysis)[2].top_rows(tag, 4)
    lines = table.splitlines()[2:]
    assert len(lines) == 4
    for line, r in zip(lines, rows):
        unit = fb.w_row_unit(int(r))
        assert line.startswith(f"| {r} |") and f"<code>{unit}</code>" in line
        chapter = {"cnn1": "09_first_stage", "cnn2": "10_cnn2", "cnn3": "11_cnn3", "cnn4": "12_cnn4_w"}
        assert f'href="{chapter[unit.split("/")[0]]}.html#explore"' in line


def test_kind_shares_are_shares(analysis):
    for kind, share in be.kind_shares(analysis).items():
        assert share.shape == (8,) and share.sum() == pytest.approx(1), kind


def test_removal_summary_has_a_line_per_stage_and_a_rank_correlation(analysis):
    text = be.removal_summary([analysis])
    assert text.count(f"| {analysis.model.name} |") == 8
    rho = float(re.findall(r"ρ between .* is (-?[0-9.]+)", text)[0])
    assert -1 <= rho <= 1


def test_figures_draw_what_they_say(analysis):
    fig, axes = be.contributions_figure(analysis, 0, n_tags=2)
    assert len(axes) == 2
    segments = axes[0].collections[0].get_segments()
    att = fb.attributions(analysis)[0]
    top = att.tag_index(segment_top_tags(analysis, 0, 1)[0][0])
    np.testing.assert_allclose([s[1][1] for s in segments], att.per_row[top], rtol=1e-6)
    tag = segment_top_tags(analysis, 0, 1)[0][0]
    fig, axes = be.top_rows_figure(analysis, 0, tag, n=3)
    assert len(axes) == 4
    fig, axes = be.stage_matrix_figure([analysis])
    assert axes[0].images[0].get_array().shape == (50, 8)
    strip = [p.get_facecolor() for p in axes[0].patches]  # one kind cell per tag, a colour per kind
    assert len(strip) == 50 and len(set(strip)) == len(be.tag_kinds(analysis.model))
    fig, axes = be.interleaving_figure(analysis, 0, first_row=700, n=2)
    assert [t.get_text().split("\n")[0] for t in axes[1].get_xticklabels()] == ["1400", "1401", "1402", "1403"]
