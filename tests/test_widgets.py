"""Explorers redraw from cached intermediates and survive bad input with their state intact."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conftest import CLIP, music_like, write_wav  # noqa: E402
from musicnn_nb import chapter, figures, pipeline, plots  # noqa: E402
from musicnn_nb.widgets import Explorer, View  # noqa: E402


@pytest.fixture
def explorer():
    return Explorer(figures.input_view, path=CLIP, view=View("MSD", 2))


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
    assert "no audio file" in explorer.status.value and explorer.file.value == str(before[0])
    explorer.update(View("MSD", 99))
    assert explorer.view == before[1] and "does not exist" in explorer.status.value


def test_opening_a_shorter_file_clamps_the_segment(explorer, tmp_path):
    explorer.update(View("MSD", 8))
    short = write_wav(tmp_path / "short.wav", music_like(7.0))
    explorer.open(short)
    assert explorer.analysis.path == short and explorer.view.segment == 1 and explorer.segment.max == 1


def test_controls_can_be_chosen_and_unknown_ones_refused():
    e = Explorer(figures.input_view, path=CLIP, controls=("model",))
    assert len(e.controls.children) == 2  # the model buttons and the status line
    with pytest.raises(ValueError, match="unknown controls"):
        Explorer(figures.input_view, path=CLIP, controls=("tempo",))


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
