"""The back-end explorer (chapter 13) in the kernel: its view is completed, named in the island,
and drawn once as the static default figure; the view itself is the page's (js/src/explorer.js)."""

import html
import json

import numpy as np
import pytest
from matplotlib.figure import Figure

from musicnn_nb.explore.backend import BackEndView, complete, draw, tags_by_weight
from musicnn_nb.explore.web import recording_key
from musicnn_nb.explore.widgets import Explorer
from musicnn_nb.facts import backend as fb
from musicnn_nb.model.errors import SelectionError


def test_complete_fills_the_top_tag_and_its_top_row(analysis):
    view = complete(analysis, BackEndView(analysis.model.name, 1))
    assert view.tag == tags_by_weight(analysis, 1)[0]
    assert view.tag == analysis.tags[int(np.argmax(analysis.taggram[1]))]
    assert view.row == int(fb.attributions(analysis)[1].top_rows(view.tag, 1)[0])
    kept = complete(analysis, BackEndView(analysis.model.name, 1, analysis.tags[3], 700))
    assert (kept.tag, kept.row) == (analysis.tags[3], 700)


def test_static_figure_draws_the_split_and_the_row(analysis):
    view = complete(analysis, BackEndView(analysis.model.name, 2))
    fig = Figure()
    draw(fig, analysis, view)
    top, bottom = fig.axes[:2]
    assert view.tag in top.get_title() and f"row {view.row} of W" in bottom.get_title()
    np.testing.assert_allclose(bottom.lines[0].get_ydata(), analysis.W[2, view.row], rtol=1e-6)


def test_the_explorer_names_its_completed_view_in_the_island(clip):
    explorer = Explorer("backend", path=clip, view=BackEndView("MTT", 2))
    config = json.loads(html.unescape(explorer.island().split('data-explorer="')[1].split('"></div>')[0]))
    assert config["kind"] == "backend" and config["recording"] == recording_key(clip)
    assert config["view"] == {"model": "MTT", "segment": 2, "tag": explorer.view.tag, "row": explorer.view.row}
    assert config["view"] == explorer.config["view"] and explorer.view.tag is not None
    assert set(config["unit_pages"]) == {"cnn1", "cnn2", "cnn3", "cnn4"}
    with pytest.raises(SelectionError):
        Explorer("backend", path=clip, view=BackEndView("MSD", 99))
