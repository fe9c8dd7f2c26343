"""Explorers redraw from cached intermediates and survive bad input with their state intact."""

import os
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from conftest import CLIP, music_like, write_wav

from musicnn_nb.explore import figures
from musicnn_nb.explore.widgets import Explorer, View
from musicnn_nb.model import pipeline
from musicnn_nb.present import chapter, plots


@pytest.fixture
def explorer():
    return Explorer(figures.InputView, path=CLIP, view=View("MSD", 2))


def test_redraw_uses_the_cache_not_the_network(explorer, monkeypatch):
    explorer.update(View("MTT", 2))  # both models analysed once
    monkeypatch.setattr(pipeline, "forward", lambda *a, **k: pytest.fail("network recomputed"))
    for view in (View("MSD", 3), View("MTT", 0, -2.0, 2.0, "coolwarm"), View("MSD", 8)):
        explorer.update(view)
        assert explorer.view == view
    images = [ax.images[0] for ax in explorer.figure.axes if ax.images]
    assert len(images) == 2
    np.testing.assert_array_equal(images[0].get_array(), explorer.analysis.M_dB[8])


def test_colour_controls_reach_the_figure(explorer):
    explorer.update(View("MSD", 1, -3.0, 4.0, "viridis"))
    image = explorer.figure.axes[0].images[0]
    assert image.get_clim() == (-3.0, 4.0) and image.get_cmap().name == "viridis"
    explorer.update(View("MSD", 1))  # automatic: the signed M̂_dB gets a symmetric diverging map
    right = [ax for ax in explorer.figure.axes if ax.images][1].images[0]
    lo, hi = right.get_clim()
    assert lo == -hi and right.get_cmap().name == plots.DIVERGING


def test_bad_file_or_segment_keeps_state_and_says_why(explorer, tmp_path):
    before = (explorer.path, explorer.view, explorer.analysis)
    explorer.open(tmp_path / "missing.wav")
    assert (explorer.path, explorer.view, explorer.analysis) == before
    assert "no audio file" in explorer.status.value and explorer.file.value == os.path.relpath(before[0])
    explorer.update(View("MSD", 99))
    assert explorer.view == before[1] and "does not exist" in explorer.status.value


def test_a_failed_model_switch_leaves_controls_and_view_together(tmp_path):
    """The file disappears after it was opened: switching model cannot analyse it, so the toggle
    goes back to the model still shown and the page says why."""
    copy = tmp_path / "clip.mp3"
    copy.write_bytes(CLIP.read_bytes())
    explorer = Explorer(figures.InputView, path=copy, view=View("MSD", 1))
    copy.unlink()
    explorer.model.value = "MTT"
    assert explorer.model.value == "MSD" and explorer.view.model == "MSD"
    assert explorer.analysis.model.name == "MSD" and "no audio file" in explorer.status.value


def test_an_error_inside_a_callback_is_shown_in_the_page(explorer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    explorer.redraw()  # the figure shows segment 2
    monkeypatch.setattr(explorer, "redraw", broken)
    explorer.segment.value = 3
    assert explorer.segment.value == explorer.view.segment == 2
    assert "drawing failed" in explorer.status.value


def test_opening_a_shorter_file_clamps_the_segment(explorer, tmp_path):
    explorer.update(View("MSD", 8))
    short = write_wav(tmp_path / "short.wav", music_like(7.0))
    explorer.open(short)
    assert explorer.analysis.path == short and explorer.view.segment == 1 and explorer.segment.max == 1


def test_controls_can_be_chosen_and_unknown_ones_refused():
    e = Explorer(figures.InputView, path=CLIP, controls=("model",))
    assert len(e.controls.children) == 2  # the model buttons and the status line
    with pytest.raises(ValueError, match="unknown controls"):
        Explorer(figures.InputView, path=CLIP, controls=("tempo",))


def test_network_diagram_highlights_only_known_stages():
    fig, ax, boxes = plots.network_diagram(["cnn1", "W"])
    assert sum(b.get_linewidth() == 2 for b in boxes) == 2
    with pytest.raises(ValueError, match="unknown stage"):
        plots.network_diagram("cnn9")
    matplotlib.pyplot.close(fig)


def test_part_links_and_chapter_statements(capsys):
    assert chapter.part_url(9).endswith("/2022/11/18/digging-into-musicnn-pt-9/")
    assert "pt.+4" in chapter.part_url(4)
    a = pipeline.analyse(CLIP, "MSD")
    assert CLIP.name in chapter.source_sentence(a) and "MUSICNN_NB_AUDIO" in chapter.source_sentence(a)


def test_unit_explorer_offers_filters_and_keeps_units_valid():
    from musicnn_nb.facts.units import nontrivial_units
    from musicnn_nb.model.weights import load_model

    e = Explorer(figures.UnitView, path=CLIP, controls=("model", "segment", "unit", "scale"))
    live = nontrivial_units(load_model("MSD"), "cnn1")
    assert e.view.unit == live.names[0] and list(e.unit.options) == live.names
    e.group.value = "1x64"
    assert all(name.split("/")[1] == "1x64" for name in e.unit.options) and e.view.unit in e.unit.options
    e.nontrivial.value = False
    assert len(e.unit.options) == 51
    e.update(View("MSD", 3, unit="cnn1/1x32/530"))
    assert e.unit.value == "cnn1/1x32/530" and e.segment.value == 3
    titles = [ax.get_title() for ax in e.figure.axes]
    assert "kernel $K_{530}$" in titles and e.figure.get_suptitle().startswith("cnn1/1x32/530 (MSD")
    e.update(View("MSD", 3, unit="cnn1/1x32/900"))
    assert e.view.unit == "cnn1/1x32/530" and "out of range" in e.status.value


def test_unit_view_row_of_u_is_the_max_of_the_batch_normalised_map():
    e = Explorer(figures.UnitView, path=CLIP, view=View("MTT", 1, unit="cnn1/67x7/250"), controls=("unit",))
    e.redraw()
    a = e.analysis
    maps = a.unit_maps("cnn1/67x7/250", 1)
    stem_ax = next(ax for ax in e.figure.axes if ax.get_title().startswith("row of U"))
    heights = stem_ax.containers[0].markerline.get_ydata()
    np.testing.assert_allclose(heights, maps.Y_hat.max(axis=0), rtol=1e-6)
    np.testing.assert_allclose(heights, a.U[1, 250], rtol=1e-5, atol=1e-6)


def test_norm_and_sensitivity_plots():
    fig, ax, handles = plots.norms({"MSD": np.array([0.0, 0.5, 2.0])}, threshold=0.01)
    assert ax.get_yscale() == "log" and len(handles) == 2
    fig, ax, lines = plots.sensitivity({"MSD": {1e-3: 5, 1e-2: 3}, "MTT": {1e-3: 9, 1e-2: 9}}, total=10)
    assert [list(line.get_ydata()) for line in lines] == [[5, 3], [9, 9]]


def test_midend_explorer_switches_layers_and_draws_the_units_rows():
    e = Explorer(figures.MidendView, path=CLIP, controls=("model", "segment", "unit"),
                 layers=("cnn2", "cnn3", "cnn4"), view=View("MTT", 2))
    assert e.view.unit.startswith("cnn2/561x7/")
    e.layer.value = "cnn4"
    assert e.view.unit.startswith("cnn4/64x7/") and list(e.group.options) == ["all", "64x7"]
    e.update(View("MTT", 4, unit="cnn4/64x7/44"))
    a = e.analysis
    lines = next(ax for ax in e.figure.axes if ax.get_title().startswith("cnn4/64x7/44 over time")).lines
    np.testing.assert_allclose(lines[1].get_ydata(), a.V3[4, 44], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(lines[2].get_ydata(), a.V3_hat[4, 44], rtol=1e-4, atol=1e-4)


def test_midend_unit_series_match_the_forward_pass():
    a = pipeline.analyse(CLIP, "MSD")
    for unit, out in (("cnn2/561x7/7", "V1"), ("cnn3/64x7/20", "V2"), ("cnn4/64x7/63", "V3")):
        index = int(unit.split("/")[2])
        series = a.midend_unit(unit, 5)
        np.testing.assert_allclose(series.V, a.arrays[out][5, index], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(series.V_hat, a.arrays[f"{out}_hat"][5, index], rtol=1e-4, atol=1e-4)
        assert np.all(np.maximum(series.pre_activation, 0) == series.V)
    with pytest.raises(Exception, match="CNN_1 unit"):
        a.midend_unit("cnn1/38x7/12", 0)


def pixels(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def drawn_afresh(e: Explorer) -> np.ndarray:
    """The explorer's view drawn on a new figure laid out as the explorer's is."""
    from matplotlib.figure import Figure

    from musicnn_nb.explore.widgets import PNG_DPI, Blitter

    fig = Figure(figsize=e.figsize, dpi=PNG_DPI)
    fresh = e.kind(fig, e.analysis, e.view)
    assert len(fig.axes) == len(e.figure.axes)
    for new, old in zip(fig.axes, e.figure.axes):
        new.set_position(old.get_position())
    for new, old in zip(fig.texts, e.figure.texts):  # the layout places the figure's title too
        new.set_position(old.get_position())
    return pixels(Blitter(fresh).render())


UNIT = ("model", "segment", "unit", "scale")
TOURS = {  # explorer, its options, and views to move through (each a change of the previous view)
    "InputView": ({}, [dict(segment=3), dict(vmin=-2.0, vmax=2.0, cmap="viridis"), dict(model="MTT"),
                       dict(segment=7, vmin=None, vmax=None, cmap=None)]),
    "TaggramView": (dict(figsize=(11, 8), scale=(0.0, 1.0)),
                    [dict(segment=4), dict(vmax=0.5, cmap="viridis"), dict(model="MTT"), dict(segment=1)]),
    "SegmentationView": (dict(figsize=(11, 7)), [dict(segment=5), dict(vmin=-1.0, vmax=1.0, cmap="coolwarm"),
                                                  dict(model="MTT", segment=2)]),
    "UnitView": (dict(figsize=(13, 7), controls=UNIT),
                 [dict(segment=6), dict(model="MTT"), dict(vmin=-0.5, vmax=3.0, cmap="viridis"),
                  dict(unit="cnn1/38x7/15"), dict(unit="cnn1/1x128/420", segment=2), dict(segment=3)]),
    "MidendView": (dict(figsize=(13, 7), controls=UNIT, layers=("cnn2", "cnn3", "cnn4")),
                   [dict(segment=6), dict(unit="cnn2/561x7/30"), dict(model="MTT", vmin=-1.0, vmax=1.0),
                    dict(unit="cnn4/64x7/44"), dict(segment=1)]),
}


@pytest.mark.parametrize("name", TOURS)
def test_a_view_taken_in_place_is_drawn_as_a_new_figure_would_be(name):
    """The fast path (update the artists, redraw only what changed over a kept background) must
    give the very pixels of a figure drawn afresh for the same view, after every kind of change."""
    options, tour = TOURS[name]
    e = Explorer(getattr(figures, name), path=CLIP, **options)
    e.redraw()
    for change in tour:
        before = e.figure
        e.update(replace(e.view, **change))
        assert e.view == replace(e.view, **change)
        if set(change) == {"segment"}:  # moving through segments never builds a new figure
            assert e.figure is before
        np.testing.assert_array_equal(pixels(e.png), drawn_afresh(e), err_msg=f"{name} after {change}")


def test_only_a_view_of_another_shape_builds_a_new_figure():
    e = Explorer(figures.UnitView, path=CLIP, controls=UNIT, view=View("MSD", 0, unit="cnn1/38x7/12"))
    e.redraw()
    first = e.figure
    e.update(replace(e.view, unit="cnn1/38x7/15", model="MTT", segment=4, vmin=-1.0, vmax=1.0))
    assert e.figure is first
    e.update(replace(e.view, unit="cnn1/67x7/250"))
    assert e.figure is not first and e.figure.get_suptitle().startswith("cnn1/67x7/250 (MTT)")


def test_colour_bars_that_outgrow_their_room_get_a_new_layout(explorer):
    """Automatic M_dB ticks are short (0 to 4); a scale of -1000 to 1000 needs wider ones, and
    the figure is laid out again rather than letting them run into the next panel."""
    positions = [ax.get_position().bounds for ax in explorer.figure.axes]
    explorer.update(replace(explorer.view, vmin=-1000.0, vmax=1000.0))
    assert [ax.get_position().bounds for ax in explorer.figure.axes] != positions
    np.testing.assert_array_equal(pixels(explorer.png), drawn_afresh(explorer))


def test_explorer_png_is_the_figure_as_savefig_draws_it(explorer):
    """Drawn in layers, the explorer's picture differs from savefig's only where a changing
    artist overlaps a fixed one (drawn in another order), a small part of the figure."""
    import io

    from musicnn_nb.explore.widgets import PNG_DPI

    explorer.update(View("MSD", 4, -2.0, 2.0, "viridis"))
    shown = pixels(explorer.png)
    buffer = io.BytesIO()
    explorer.figure.savefig(buffer, format="png", dpi=PNG_DPI)
    saved = pixels(buffer.getvalue())
    width, height = explorer.figure.get_size_inches() * PNG_DPI
    assert shown.shape[:2] == (round(height), round(width))
    assert np.mean(np.any(shown != saved, axis=-1)) < 0.01


def test_tick_labels_carry_their_whole_value():
    from musicnn_nb.explore.widgets import WholeTicks

    ticks = WholeTicks()
    assert ticks.format_ticks([0.2, 0.21, 0.22]) == ["0.2", "0.21", "0.22"]
    assert ticks.format_ticks([-5e-12, 0.0, 5e-12]) == ["-5e-12", "0", "5e-12"]
    assert ticks.format_ticks([-0.0, 10000.0, 20000.0]) == ["0", "10000", "20000"]
    assert ticks.format_ticks([0.2101, 0.2102]) == ["0.2101", "0.2102"]  # neighbours stay apart


def test_island_names_the_page_explorer_and_no_machine_path():
    """The explorer cell's island tells the built page what to draw: the kind, the recording
    by content (never by path), the layers and the first view."""
    import json
    from html import unescape

    from musicnn_nb.explore.web import recording_key

    e = Explorer(figures.MidendView, path=CLIP, view=View("MTT", 2, unit="cnn3/64x7/5"),
                 controls=("model", "segment", "unit", "scale"), layers=("cnn2", "cnn3", "cnn4"))
    island = e.island()
    config = json.loads(unescape(island.split('data-explorer="', 1)[1].rsplit('"', 1)[0]))
    assert config == {"kind": "midend", "recording": recording_key(CLIP), "audio": ".mp3",
                      "layers": ["cnn2", "cnn3", "cnn4"],
                      "view": {"model": "MTT", "segment": 2, "unit": "cnn3/64x7/5", "vmin": None, "vmax": None,
                               "cmap": None}}
    assert str(CLIP.parent) not in island
    assert Explorer(figures.InputView, path=CLIP).island().count("musicnn-explorer") == 1
