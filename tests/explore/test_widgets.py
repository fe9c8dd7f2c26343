"""The explorer widget: the data it hands the page, its audio-file box, its static default
figure, and bad input that leaves its state as it was."""

import base64
import io
import json
from html import unescape

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from conftest import CLIP, music_like, write_wav
from PIL import Image

from musicnn_nb.explore import widgets
from musicnn_nb.explore.figures import WholeTicks
from musicnn_nb.explore.web import model_part, recording_key, shared_part
from musicnn_nb.explore.web_past import backend_part, collection_part
from musicnn_nb.explore.widgets import BackEndView, Explorer, View
from musicnn_nb.model import pipeline
from musicnn_nb.present import chapter, plots


class Page:
    """What the front end would receive: the widget's custom messages, as sent."""

    def __init__(self, explorer: Explorer):
        self.sent: list[tuple[dict, list[bytes]]] = []
        explorer.send = lambda content, buffers=None: self.sent.append((content, list(buffers or [])))
        self.explorer = explorer

    def ask(self, **message) -> list[tuple[dict, list[bytes]]]:
        """Send the widget a message as the page does (default: ask for the data); what came back."""
        self.sent.clear()
        self.explorer._on_message(self.explorer, message or {"type": "request"}, [])
        return list(self.sent)


def assert_hands_over(sent, path, version: int, first: str = "MSD") -> None:
    """The messages are the audio file and the web parts of ``path``, in the order the page
    needs them, with the packed floats as binary buffers."""
    analyses = {m: pipeline.analyse(path, m) for m in ("MSD", "MTT")}
    expected = {"shared": shared_part(analyses["MSD"]), **{m: model_part(a) for m, a in analyses.items()}}
    assert [c.get("name", c["type"]) for c, _ in sent] == ["audio", "shared", first, "MTT" if first == "MSD" else "MSD"]
    assert all(c["version"] == version for c, _ in sent)
    audio, buffers = sent[0]
    assert buffers == [path.read_bytes()] and audio["mime"].startswith("audio/")
    for content, buffers in sent[1:]:
        part = expected[content["name"]]
        assert content["meta"] == json.loads(json.dumps(part["meta"])) and content["index"] == part["index"]
        assert buffers == [base64.b64decode(part["blob"])]


def test_the_widget_hands_the_page_its_recordings_data_only_when_asked():
    e = Explorer("unit", path=CLIP, view=View("MTT", 1))
    page = Page(e)
    assert page.sent == []  # a widget never rendered carries no data
    state = json.dumps({k: v for k, v in e.get_state().items() if k != "_esm"})
    assert len(state) < 2000, "the saved state holds data"
    assert_hands_over(page.ask(), CLIP, 0, first="MTT")
    assert e.message == ""


def test_opening_another_file_hands_over_its_data_and_bad_files_keep_the_state(tmp_path):
    e = Explorer("input", path=CLIP, view=View("MSD", 8))
    page = Page(e)
    short = write_wav(tmp_path / "short.wav", music_like(7.0))
    assert page.ask(type="open", path=str(short)) == [] and e.message == ""
    assert (e.version, e.source, e.path) == (1, short, widgets.shown_path(short))
    assert_hands_over(page.ask(), short, 1)
    kept = (e.version, e.source, e.path)
    (tmp_path / "noise.wav").write_bytes(b"not audio at all" * 100)
    too_short = write_wav(tmp_path / "blip.wav", music_like(0.5))
    for bad, says in ((tmp_path / "missing.wav", "no audio file"), (tmp_path / "noise.wav", "noise.wav"),
                      (too_short, "blip.wav"), (tmp_path, "folder")):
        assert page.ask(type="open", path=str(bad)) == []
        assert (e.version, e.source, e.path) == kept, bad
        assert says in e.message and "stays on short.wav" in e.message and "\n" not in e.message, e.message
    short.unlink()  # deleted after it was opened: the page still gets the data it shows
    sent = page.ask()
    assert [c.get("name", c["type"]) for c, _ in sent] == ["audio", "shared", "MSD", "MTT"]
    assert page.ask(type="open", path=str(short)) == [] and "no audio file" in e.message
    assert (e.version, e.source, e.path) == kept


def test_an_error_inside_a_callback_is_shown_in_the_page(monkeypatch):
    e = Explorer("input", path=CLIP)
    page = Page(e)

    def broken(path):
        raise RuntimeError("packing failed")

    monkeypatch.setattr(widgets, "recording_data", broken)
    assert page.ask() == []
    assert "RuntimeError: packing failed" in e.message and e.version == 0


def assert_own_parts(sent, expected: dict[str, dict], version: int) -> None:
    """The last messages are the kind's own payloads (web_past's), in order, as sent for the page."""
    own = sent[-len(expected):]
    assert [c["name"] for c, _ in own] == list(expected)
    for (content, buffers), (name, part) in zip(own, expected.items()):
        assert content["type"] == "part" and content["version"] == version
        assert content["meta"] == json.loads(json.dumps(part["meta"])) and content["index"] == part["index"]
        assert buffers == [base64.b64decode(part["blob"])], name


def test_the_backend_explorer_hands_over_the_back_ends_split_and_reanalyses_files(tmp_path):
    e = Explorer("backend", path=CLIP, view=BackEndView("MTT", 1))
    page = Page(e)
    sent = page.ask()
    assert_hands_over(sent[:4], CLIP, 0, first="MTT")
    assert_own_parts(sent, {f"backend-{m}": backend_part(pipeline.analyse(CLIP, m)) for m in ("MSD", "MTT")}, 0)
    assert len(sent) == 6 and e.message == ""
    short = write_wav(tmp_path / "short.wav", music_like(7.0))
    assert page.ask(type="open", path=str(short)) == [] and e.version == 1
    sent = page.ask()
    assert_hands_over(sent[:4], short, 1, first="MTT")
    assert_own_parts(sent, {f"backend-{m}": backend_part(pipeline.analyse(short, m)) for m in ("MSD", "MTT")}, 1)
    kept = (e.version, e.source, e.path, e._own)
    (tmp_path / "noise.wav").write_bytes(b"not audio at all" * 100)
    assert page.ask(type="open", path=str(tmp_path / "noise.wav")) == []
    assert (e.version, e.source, e.path, e._own) == kept and "stays on short.wav" in e.message


def test_a_failing_split_keeps_the_backend_explorer_on_its_file(tmp_path, monkeypatch):
    e = Explorer("backend", path=CLIP)
    page = Page(e)
    short = write_wav(tmp_path / "short.wav", music_like(7.0))

    def broken(kind, path, store=None):
        raise widgets.AudioError(f"{path.name} could not be split: check it.")

    monkeypatch.setattr(widgets, "own_parts", broken)
    assert page.ask(type="open", path=str(short)) == []
    assert (e.version, e.source) == (0, CLIP) and "short.wav could not be split" in e.message
    assert "stays on" in e.message


def test_the_collection_explorer_hands_over_its_stores_summary_and_has_no_file(two_model_collection, monkeypatch):
    store = str(two_model_collection.path)
    e = Explorer("collection", view=View("MTT", unit="cnn4/64x7/44"), store=store)
    page = Page(e)
    sent = page.ask()
    part = collection_part(store)
    names = [part.payload["meta"]["audio"].replace("{k}", str(k)) for k in range(len(part.audio))]
    assert [c.get("name", c["type"]) for c, _ in sent] == ["shared", "MTT", "MSD", "collection", "media"]  # no audio
    assert_own_parts(sent[:-1], {"collection": part.payload}, 0)
    # every example's MP3 in one message, each under the name the page gives it
    assert sent[-1] == ({"type": "media", "version": 0, "names": names, "mimes": ["audio/mpeg"] * len(names)},
                        list(part.audio))
    assert page.ask(type="open", path=str(CLIP)) == [] and e.version == 0 and e.path == ""
    assert "collection store, not an audio file" in e.message
    fresh = Explorer("collection", store=store)  # nothing computed yet: an error on the first request

    def broken(store=None):
        raise ValueError("the store's MTT segments differ from its MSD ones: recollect it.")

    monkeypatch.setattr(widgets, "_collection_parts", broken)
    page = Page(fresh)
    page.ask()
    assert "recollect it" in fresh.message and fresh.version == 0 and fresh._own is None


def test_kinds_units_and_segments_are_checked_when_the_cell_runs():
    with pytest.raises(ValueError, match="unknown explorer kind"):
        Explorer("tempo", path=CLIP)
    from musicnn_nb.facts.units import nontrivial_units
    from musicnn_nb.model.errors import SelectionError
    from musicnn_nb.model.weights import load_model

    assert Explorer("unit", path=CLIP).view.unit == nontrivial_units(load_model("MSD"), "cnn1").names[0]
    assert Explorer("midend", path=CLIP).layers == ("cnn2", "cnn3", "cnn4")
    with pytest.raises(SelectionError):
        Explorer("input", path=CLIP, view=View("MSD", 99))


def test_the_text_form_names_the_default_view_for_the_figures_alt_text():
    unit = Explorer("midend", path=CLIP, view=View("MTT", 1, vmin=-2.5, vmax=7.25, unit="cnn2/561x7/0")).describe()
    for part in ("mid-end explorer", CLIP.name, "model MTT", "segment 1", "unit cnn2/561x7/0",
                 "colours from -2.5 to 7.25"):
        assert part in unit, (part, unit)
    auto = Explorer("unit", path=CLIP, view=View("MSD", 2, unit="cnn1/38x7/12")).describe()
    assert "automatic colour scale" in auto and "segment 2" in auto and "model MSD" in auto
    back = Explorer("backend", path=CLIP, view=BackEndView("MSD", 2)).describe()
    assert "back-end explorer" in back and "tag " in back and "colour" not in back  # no colour control


def test_the_output_is_the_widget_with_its_static_default_figure():
    e = Explorer("taggram", path=CLIP, figsize=(11, 8))
    data, _ = e._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == e.model_id
    png = base64.b64decode(data["image/png"])
    assert png.startswith(b"\x89PNG") and data["text/plain"] == e.describe()
    assert Image.open(io.BytesIO(png)).size == (11 * widgets.PNG_DPI, 8 * widgets.PNG_DPI)
    front = e._esm  # the book's scripts, then the widget's entry point
    assert "window.MusicnnPlot" in front and "class Explorer" in front
    assert front.rstrip().endswith("export default { render };")


def test_static_unit_figure_draws_the_row_of_u_as_the_max_of_the_batch_normalised_map():
    e = Explorer("unit", path=CLIP, view=View("MTT", 1, unit="cnn1/67x7/250"), figsize=(13, 7))
    fig = e.figure()
    a = pipeline.analyse(CLIP, "MTT")
    maps = a.unit_maps("cnn1/67x7/250", 1)
    stem_ax = next(ax for ax in fig.axes if ax.get_title().startswith("row of U"))
    heights = stem_ax.containers[0].markerline.get_ydata()
    np.testing.assert_allclose(heights, maps.Y_hat.max(axis=0), rtol=1e-6)
    np.testing.assert_allclose(heights, a.U[1, 250], rtol=1e-5, atol=1e-6)
    assert fig.get_suptitle().startswith("cnn1/67x7/250 (MTT)")


def test_static_midend_figure_draws_the_units_series():
    e = Explorer("midend", path=CLIP, view=View("MTT", 4, unit="cnn4/64x7/44"), figsize=(13, 7))
    a = pipeline.analyse(CLIP, "MTT")
    lines = next(ax for ax in e.figure().axes if ax.get_title().startswith("cnn4/64x7/44 over time")).lines
    np.testing.assert_allclose(lines[1].get_ydata(), a.V3[4, 44], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(lines[2].get_ydata(), a.V3_hat[4, 44], rtol=1e-4, atol=1e-4)


def test_static_figures_take_the_chosen_colour_scale():
    e = Explorer("input", path=CLIP, view=View("MSD", 1, -3.0, 4.0, "viridis"))
    image = e.figure().axes[0].images[0]
    assert image.get_clim() == (-3.0, 4.0) and image.get_cmap().name == "viridis"
    right = [ax for ax in Explorer("input", path=CLIP).figure().axes if ax.images][1].images[0]
    lo, hi = right.get_clim()
    assert lo == -hi and right.get_cmap().name == plots.DIVERGING


def test_tick_labels_carry_their_whole_value():
    ticks = WholeTicks()
    assert ticks.format_ticks([0.2, 0.21, 0.22]) == ["0.2", "0.21", "0.22"]
    assert ticks.format_ticks([-5e-12, 0.0, 5e-12]) == ["-5e-12", "0", "5e-12"]
    assert ticks.format_ticks([-0.0, 10000.0, 20000.0]) == ["0", "10000", "20000"]
    assert ticks.format_ticks([0.2101, 0.2102]) == ["0.2101", "0.2102"]  # neighbours stay apart


def test_island_names_the_page_explorer_and_no_machine_path():
    """The explorer cell's island tells the built page what to draw: the kind, the recording
    by content (never by path), the layers and the first view."""
    e = Explorer("midend", path=CLIP, view=View("MTT", 2, unit="cnn3/64x7/5"))
    island = e.island()
    config = json.loads(unescape(island.split('data-explorer="', 1)[1].rsplit('"', 1)[0]))
    assert config == {"kind": "midend", "recording": recording_key(CLIP), "audio": ".mp3",
                      "layers": ["cnn2", "cnn3", "cnn4"],
                      "view": {"model": "MTT", "segment": 2, "unit": "cnn3/64x7/5", "vmin": None, "vmax": None,
                               "cmap": None}}
    assert str(CLIP.parent) not in island
    assert Explorer("input", path=CLIP).island().count("musicnn-explorer") == 1


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


def test_norm_and_sensitivity_plots():
    fig, ax, handles = plots.norms({"MSD": np.array([0.0, 0.5, 2.0])}, threshold=0.01)
    assert ax.get_yscale() == "log" and len(handles) == 2
    fig, ax, lines = plots.sensitivity({"MSD": {1e-3: 5, 1e-2: 3}, "MTT": {1e-3: 9, 1e-2: 9}}, total=10)
    assert [list(line.get_ydata()) for line in lines] == [[5, 3], [9, 9]]


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
