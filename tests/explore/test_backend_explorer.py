"""The back-end explorer (chapter 13): a view is completed, controls follow it, bad choices are refused."""

from pathlib import Path

import numpy as np

from musicnn_nb.explore.backend import BackEndExplorer, BackEndView, complete, render, tags_by_weight
from musicnn_nb.facts import backend as fb


def test_complete_fills_the_top_tag_and_its_top_row(analysis):
    view = complete(analysis, BackEndView(analysis.model.name, 1))
    assert view.tag == tags_by_weight(analysis, 1)[0]
    assert view.tag == analysis.tags[int(np.argmax(analysis.taggram[1]))]
    assert view.row == int(fb.attributions(analysis)[1].top_rows(view.tag, 1)[0])
    assert render(analysis, view, (6, 4))[:8] == b"\x89PNG\r\n\x1a\n"


def test_controls_follow_the_view_and_a_bad_segment_is_reported(clip):
    explorer = BackEndExplorer(clip, BackEndView("MTT", 0))
    assert explorer.tag.value == explorer.view.tag and explorer.row.value == explorer.view.row
    assert explorer.tag.options[0][1] == explorer.view.tag  # the segment's top tag first
    explorer.row.value = explorer.row.options[2][1]
    assert explorer.view.row == explorer.row.options[2][1]
    explorer.segment.value = 3
    assert explorer.view.segment == 3 and explorer.view.row == explorer.row.options[0][1]
    before = explorer.view
    explorer.update(BackEndView("MTT", 99))
    assert explorer.view == before and "segment 99 does not exist" in explorer.status.value
    assert explorer.segment.value == 3
    explorer.model.value = "MSD"
    assert explorer.view.model == "MSD" and explorer.view.tag in explorer.analysis.tags
    first, stop = fb.moment_window(explorer.analysis, 3, 0)
    assert first >= 0 and stop - first <= 16000


def test_another_file_is_analysed_and_an_unreadable_one_is_refused(clip, tmp_path):
    explorer = BackEndExplorer(None, BackEndView("MSD", 0))
    default = explorer.path
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio")
    explorer.open(broken)
    assert explorer.path == default and "broken.wav" in explorer.status.value
    assert Path(explorer.file.value).resolve() == default.resolve()
    explorer.open(clip)
    assert explorer.path == clip and explorer.analysis.path == clip
    assert explorer.view.tag == explorer.analysis.tags[int(np.argmax(explorer.analysis.taggram[0]))]


def test_island_names_the_view_for_the_page(clip):
    import html
    import json

    from musicnn_nb.explore.web import recording_key

    explorer = BackEndExplorer(clip, BackEndView("MTT", 2))
    config = json.loads(html.unescape(explorer.island().split('data-explorer="')[1].split('"></div>')[0]))
    assert config["kind"] == "backend" and config["recording"] == recording_key(clip)
    assert config["view"] == {"model": "MTT", "segment": 2, "tag": explorer.view.tag, "row": explorer.view.row}
    assert set(config["unit_pages"]) == {"cnn1", "cnn2", "cnn3", "cnn4"}
