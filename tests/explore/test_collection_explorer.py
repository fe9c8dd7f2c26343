"""The collection explorer follows its controls and keeps its state on a filter with no unit."""

from __future__ import annotations

from musicnn_nb.explore.collection import CollectionExplorer, unit_figure
from musicnn_nb.facts.collection import TOP, load


def test_explorer_follows_layer_and_unit(small_collection):
    explorer = CollectionExplorer("MSD", "cnn1/38x7/12", store=str(small_collection.path))
    first = explorer.png()
    explorer.layer.value = "cnn4"
    assert explorer.unit.startswith("cnn4/") and explorer.units.value == explorer.unit
    assert explorer.png() != first
    explorer.units.value = "cnn4/64x7/44"
    assert explorer.unit == "cnn4/64x7/44" and "cnn4/64x7/44" in explorer.status.value


def test_figure_marks_the_frame_of_each_maximum(small_collection):
    c = load("MSD", str(small_collection.path))
    fig, axes, artists = unit_figure(c, "cnn4/64x7/44")
    j = c.column("cnn4/64x7/44")
    for k, i in enumerate(c.top("cnn4/64x7/44")):
        assert artists[k].get_xdata()[0] == c.starts[i] + c.argmax[i, j] * 0.016
    assert len(axes) == TOP + 2 and axes[TOP].get_xlabel().startswith("maximum")


def test_island_names_the_unit_and_the_collection(small_collection):
    import html
    import json

    from musicnn_nb.explore.web_past import collection_key

    explorer = CollectionExplorer("MSD", "cnn4/64x7/44", store=str(small_collection.path))
    config = json.loads(html.unescape(explorer.island().split('data-explorer="')[1].split('"></div>')[0]))
    assert config["kind"] == "collection" and config["view"] == {"model": "MSD", "unit": "cnn4/64x7/44"}
    assert config["collection"] == collection_key(load("MSD", str(small_collection.path)))
    assert config["layers"] == ["cnn1", "cnn2", "cnn3", "cnn4"]
