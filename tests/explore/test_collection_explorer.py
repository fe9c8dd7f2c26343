"""The collection explorer (chapter 14) in the kernel: its static default figure, its island,
and the checks when the cell runs; the view itself is the page's (js/src/explorer.js)."""

from __future__ import annotations

import base64
import html
import io
import json

import pytest
from PIL import Image

from musicnn_nb.explore.collection import FIGSIZE, default_unit, unit_figure
from musicnn_nb.explore.web_past import collection_key
from musicnn_nb.explore.widgets import PNG_DPI, Explorer, View
from musicnn_nb.facts.collection import TOP, load
from musicnn_nb.model.errors import SelectionError


def test_figure_marks_the_frame_of_each_maximum(small_collection):
    c = load("MSD", str(small_collection.path))
    fig, axes, artists = unit_figure(c, "cnn4/64x7/44")
    j = c.column("cnn4/64x7/44")
    for k, i in enumerate(c.top("cnn4/64x7/44")):
        assert artists[k].get_xdata()[0] == c.argmax[i, j] * 0.016  # time in the segment, shared by all
        assert f"at {c.starts[i]:.1f} s" in axes[k].get_title()  # where the segment starts
    assert len(axes) == TOP + 2 and axes[TOP].get_xlabel().startswith("maximum")


def test_island_names_the_unit_and_the_collection_and_the_output_is_the_widget(small_collection):
    store = str(small_collection.path)
    explorer = Explorer("collection", view=View("MSD", unit="cnn4/64x7/44"), store=store)
    config = json.loads(html.unescape(explorer.island().split('data-explorer="')[1].split('"></div>')[0]))
    assert config["kind"] == "collection" and config["view"] == {"model": "MSD", "unit": "cnn4/64x7/44"}
    assert config["collection"] == collection_key(load("MSD", store))
    assert config["layers"] == ["cnn1", "cnn2", "cnn3", "cnn4"] and explorer.path == ""
    data, _ = explorer._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.model_id
    png = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert png.size == (round(FIGSIZE[0] * PNG_DPI), round(FIGSIZE[1] * PNG_DPI))


def test_bad_choices_are_refused_when_the_cell_runs(small_collection, clip):
    store = str(small_collection.path)
    with pytest.raises(SelectionError, match="unknown unit"):
        Explorer("collection", view=View("MSD", unit="cnn9/1x1/1"), store=store)
    with pytest.raises(ValueError, match="not an audio file"):
        Explorer("collection", path=clip, store=store)
    assert Explorer("collection", store=store).view.unit == default_unit("MSD")
