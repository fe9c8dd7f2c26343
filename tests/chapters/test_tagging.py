"""Chapter 1's helpers: scores, vocabularies, taggrams, top tags, the README check, the view."""

import re

import numpy as np
import pytest
from conftest import README_MTT_TOP10
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from musicnn_nb import load_model
from musicnn_nb.chapters import tagging
from musicnn_nb.explore import figures
from musicnn_nb.explore.widgets import View
from musicnn_nb.facts.tags import segment_top_tags
from musicnn_nb.model.errors import SelectionError
from musicnn_nb.model.weights import MSD_TAGS, MTT_TAGS


def plain(cell: str) -> str:
    return cell.replace("**", "").strip("`")


def labels_top_down(ax) -> list[str]:
    """The y tick labels of a bar chart from the top bar down."""
    ticks = sorted(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())), reverse=True)
    return [label for _, label in ticks]


# -- scores and training -------------------------------------------------------------------

def test_scores_table_shows_the_numbers_written_in_each_result_file():
    table = tagging.scores_table()
    assert table.column("model") == ["MSD", "MTT"]
    for row, model in zip(table.rows, ("MSD", "MTT")):
        text = (load_model(model).folder / "experiment.result").read_text()
        written = [float(v) for v in re.findall(r"AUC:\s*([0-9.]+)", text)]
        assert len(written) == 2
        roc, pr = float(row[table.header.index("ROC-AUC")]), float(row[table.header.index("PR-AUC")])
        assert roc == pytest.approx(written[0], abs=5e-5) and pr == pytest.approx(written[1], abs=5e-5)
        assert roc > pr  # ROC-AUC first, as the MTT file labels them
        assert row[table.header.index("tags")] == str(len(load_model(model).tags))


def test_training_config_agrees_with_the_files_and_the_pipeline():
    from musicnn_nb.model.spectrogram import HOP, SAMPLE_RATE, SEGMENT_FRAMES

    for model in ("MSD", "MTT"):
        config = tagging.training_config(model)
        assert config["frames per input"] == SEGMENT_FRAMES
        assert config["sample rate (Hz)"] == SAMPLE_RATE
        assert config["seconds per input"] == pytest.approx(SEGMENT_FRAMES * HOP / SAMPLE_RATE)
        lines = (load_model(model).folder / "train_log.tsv").read_text().strip().splitlines()
        assert config["epochs logged"] == len(lines) - 1
        log = tagging.training_log(model)
        best = np.nanargmin(log["val_cost"])
        assert config["lowest validation cost (epoch)"].endswith(f"({log['epoch'][best]})")
    table = tagging.training_table()
    assert table.header == ("setting", "MSD", "MTT")
    assert len(table.rows) == len(tagging.training_config("MSD"))


# -- vocabularies --------------------------------------------------------------------------

def test_shared_tags_equal_a_case_insensitive_set_intersection():
    expected = {t.lower() for t in MSD_TAGS} & {t.lower() for t in MTT_TAGS}
    shared = tagging.shared_tags()
    assert {t.lower() for t in shared} == expected
    assert len(shared) == len(expected)
    assert shared == [t for t in MSD_TAGS if t.lower() in expected]  # MSD's spelling and order


def test_shared_tags_ignore_case_and_keep_the_first_spelling():
    assert tagging.shared_tags(["Rock", "Jazz", "House"], ["rock", "house", "techno"]) == ["Rock", "House"]
    assert tagging.shared_tags(["a"], ["b"]) == []


def test_plural_pairs():
    assert ("no vocal", "no vocals") in tagging.plural_pairs(MTT_TAGS)
    assert ("female vocalist", "female vocalists") in tagging.plural_pairs(MSD_TAGS)
    assert tagging.plural_pairs(["beat", "Beats", "drum"]) == [("beat", "Beats")]


def test_vocabulary_table_lists_both_vocabularies_and_bolds_exactly_the_shared_tags():
    table = tagging.vocabulary_table()
    assert [plain(c) for c in table.column("MSD")] == list(MSD_TAGS)
    assert [plain(c) for c in table.column("MTT")] == list(MTT_TAGS)
    assert table.column("output") == [str(i) for i in range(len(MSD_TAGS))]
    shared = {t.lower() for t in tagging.shared_tags()}
    for column in ("MSD", "MTT"):
        bold = {plain(c).lower() for c in table.column(column) if c.startswith("**")}
        assert bold == shared


def test_vocabulary_facts_state_the_computed_count():
    text = tagging.vocabulary_facts().data
    n = len({t.lower() for t in MSD_TAGS} & {t.lower() for t in MTT_TAGS})
    assert f"share {n}:" in text
    assert f"{len(MSD_TAGS) - n} MSD tags" in text


def test_table_renders_markdown_and_escaped_html():
    table = tagging.Table(("a", "b"), (("**x**", "`<y>`"),), "rl")
    assert table.markdown().splitlines()[1] == "| ---: | --- |"
    html = table.html()
    assert "<strong>x</strong>" in html and "<code>&lt;y&gt;</code>" in html
    assert html.count("<tr>") == 2


# -- taggrams and top tags -----------------------------------------------------------------

def test_segment_top_tags_are_the_largest_weights_of_that_segment(analysis):
    s = analysis.n_segments - 1
    pairs = segment_top_tags(analysis, s, 5)
    weights = [w for _, w in pairs]
    assert weights == sorted(weights, reverse=True)
    assert weights[0] == pytest.approx(analysis.taggram[s].max())
    assert {t for t, _ in pairs} == {analysis.tags[i] for i in np.argsort(analysis.taggram[s])[-5:]}
    with pytest.raises(SelectionError):
        segment_top_tags(analysis, analysis.n_segments, 5)


def test_taggrams_draw_one_tags_by_segments_image_per_model(clip):
    from musicnn_nb import analyse

    analyses = [analyse(clip, "MSD"), analyse(clip, "MTT")]
    fig = tagging.taggrams(analyses)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    for image, a in zip(images, analyses):
        assert image.get_array().shape == (len(a.tags), a.n_segments)
        np.testing.assert_array_equal(image.get_array(), a.taggram.T)
        assert image.get_clim() == (0.0, 1.0)
        assert [t.get_text() for t in image.axes.get_yticklabels()] == list(a.tags)


def test_top_tags_bars_follow_the_song_level_ranking(clip):
    from musicnn_nb import analyse

    analyses = [analyse(clip, "MSD"), analyse(clip, "MTT")]
    fig = tagging.top_tags_bars(analyses, n=7)
    bar_axes = [ax for ax in fig.axes if ax.patches]
    assert len(bar_axes) == 2
    for ax, a in zip(bar_axes, analyses):
        assert len(ax.patches) == 7
        assert labels_top_down(ax) == [t for t, _ in a.top_tags(7)]  # the largest on top


def test_tagging_facts_name_each_models_top_tag(clip):
    from musicnn_nb import analyse

    analyses = [analyse(clip, "MSD"), analyse(clip, "MTT")]
    text = tagging.tagging_facts(analyses).data
    for a in analyses:
        assert f"*{a.top_tags(1)[0][0]}*" in text
    assert "tags in common" in text


# -- the README check ----------------------------------------------------------------------

def test_readme_list_is_musicnns():
    assert list(tagging.README_MTT_TOP10) == README_MTT_TOP10


def test_readme_check_reproduces_the_documented_tags_in_order(clip):
    check = tagging.readme_check(clip)
    assert check.matches and bool(check)
    assert list(check.computed_tags) == README_MTT_TOP10
    weights = [w for _, w in check.computed]
    assert weights == sorted(weights, reverse=True)
    assert tagging.readme_clip().samefile(clip)
    assert all(row[-1] == "yes" for row in check.table().rows)
    assert "reproduced" in check.verdict().data


def test_readme_check_notices_a_different_order(clip):
    check = tagging.readme_check(clip)
    swapped = (check.computed[1], check.computed[0], *check.computed[2:])
    wrong = tagging.ReadmeCheck(check.path, check.documented, swapped)
    assert not wrong.matches and not wrong
    assert [row[-1] for row in wrong.table().rows][:3] == ["**no**", "**no**", "yes"]
    assert "Mismatch" in wrong.verdict().data


def test_readme_check_with_msd_does_not_match(clip):
    assert not tagging.readme_check(clip, model="MSD")


def test_run_cli_prints_the_tags_command(clip):
    out = tagging.run_cli("tags", clip, "--model", "MTT", "--top", "3")
    lines = out.strip().splitlines()
    assert lines[0].startswith("# top 3")
    assert [line.split("\t")[0] for line in lines[1:]] == README_MTT_TOP10[:3]


# -- the explorer view ---------------------------------------------------------------------

def test_taggram_view_draws_the_taggram_and_the_segments_top_tags(analysis):
    s = analysis.n_segments // 2
    fig = Figure()
    figures.draw_taggram(fig, analysis, View(model=analysis.model.name, segment=s))
    images = [im for ax in fig.axes for im in ax.images if isinstance(im, AxesImage)]
    assert len(images) == 1
    image = images[0]
    assert image.get_array().shape == (len(analysis.tags), analysis.n_segments)
    assert image.get_clim() == (0.0, 1.0)
    highlight = [p for p in image.axes.patches if p.get_edgecolor()[:3] == to_rgb("cyan")]
    assert len(highlight) == 1
    assert highlight[0].get_x() == pytest.approx(s - 0.5)
    bars = next(ax for ax in fig.axes if ax.patches and ax is not image.axes)
    assert labels_top_down(bars) == [t for t, _ in segment_top_tags(analysis, s, 10)]
    assert bars.get_title().endswith(f"segment {s}, from {analysis.segment_start_s[s]:.2f} s")


def test_taggram_view_applies_the_chosen_colour_scale(analysis):
    fig = Figure()
    figures.draw_taggram(fig, analysis, View(segment=0, vmin=0.0, vmax=0.2, cmap="viridis"))
    image = next(im for ax in fig.axes for im in ax.images)
    assert image.get_clim() == (0.0, 0.2)
    assert image.get_cmap().name == "viridis"


def test_taggram_view_rejects_a_missing_segment(analysis):
    with pytest.raises(SelectionError):
        figures.draw_taggram(Figure(), analysis, View(segment=analysis.n_segments))


def test_result_label_is_relative_to_the_musicnn_package():
    from musicnn_nb.chapters import tagging

    for model in ("MSD", "MTT"):
        label = tagging.result_label(model)
        assert label == f"musicnn/{model}_musicnn/experiment.result"
        assert not label.startswith("/")
