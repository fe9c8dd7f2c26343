"""The explorer widget's front end in Chromium: its module (musicnn_nb.explore.widgets.front_end)
mounted on a page with a small stand-in for anywidget's model, which answers the widget's
requests with the very messages the kernel sends (Recording.messages, and for the back-end and
collection explorers their own parts)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from chromium import NEEDS_CHROMIUM, open_page, serve
from conftest import CLIP, decode, match, music_like, write_wav
from test_web import assert_close

from musicnn_nb.explore.web_past import CONTRIBUTION_STEPS
from musicnn_nb.explore.widgets import (
    BackEndView,
    Explorer,
    View,
    media_messages,
    own_media,
    own_parts,
    part_messages,
    recording_data,
)
from musicnn_nb.facts import backend as fb
from musicnn_nb.facts.collection import NAMES, load
from musicnn_nb.model.pipeline import analyse

pytestmark = NEEDS_CHROMIUM
UNIT = "cnn1/38x7/12"
PAGE = """<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'></head><body>
<div id="island-left-alone">ISLAND</div><div id="w" style="width: 1200px"></div>
<script src="DATA_FILE"></script>
<script type="module">
import widget from "./widget.mjs";
const state = STATE, listeners = {};
if (location.search) state.version = Number(new URLSearchParams(location.search).get("version"));
const buffer = (text) => { const s = atob(text), b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i); return new DataView(b.buffer); };
const deliver = (v) => {
  for (const m of window.MESSAGES[v] || []) {
    for (const f of listeners["msg:custom"] || []) f(m.content, m.buffers.map(buffer));
  }
};
window.sent = [];
const model = {  // anywidget's model, as much of it as a widget uses
  get: (key) => state[key],
  set: (key, value) => { state[key] = value; },
  on: (name, f) => { (listeners[name] = listeners[name] || []).push(f); },
  off: (name, f) => { listeners[name] = (listeners[name] || []).filter((g) => g !== f); },
  save_changes() {},
  send(msg) { window.sent.push(msg); if (msg.type === "request") setTimeout(() => deliver(state.version), 0); },
};
window.kernel = { change(key, value) { state[key] = value; for (const f of listeners[`change:${key}`] || []) f(); } };
window.widgetEl = document.getElementById("w");
widget.render({ model, el: window.widgetEl });
</script></body></html>"""


def messages(recording, version: int, first: str, own: dict | None = None, audio: bool = True,
             media: dict | None = None) -> list[dict]:
    sent = recording.messages(version, first, audio=audio) + part_messages(own or {}, version)
    sent += media_messages(media or {}, version)
    return [{"content": content, "buffers": [base64.b64encode(b).decode("ascii") for b in buffers]}
            for content, buffers in sent]


def write_page(folder, name: str, explorer: Explorer, data: dict) -> None:
    """``<name>.html`` with the widget of ``explorer`` and the messages its kernel would send
    (``data``: version -> messages), beside the widget's module."""
    (folder / "widget.mjs").write_text(explorer._esm, encoding="utf-8")
    (folder / f"{name}.js").write_text(f"window.MESSAGES = {json.dumps(data)};", encoding="utf-8")
    state = {k: explorer.get_state()[k] for k in ("config", "version", "path", "message")}
    page = PAGE.replace("STATE", json.dumps(state)).replace("ISLAND", explorer.island())
    page = page.replace("DATA_FILE", f"{name}.js")
    (folder / f"{name}.html").write_text(page, encoding="utf-8")


@pytest.fixture(scope="module")
def widget_page(tmp_path_factory):
    """The page on localhost: (address, the explorer, the second recording's path)."""
    folder = tmp_path_factory.mktemp("widget")
    short = write_wav(folder / "short.wav", music_like(7.0))
    explorer = Explorer("unit", path=CLIP, view=View("MSD", 1, unit=UNIT))
    data = {0: messages(recording_data(CLIP), 0, "MSD"), 1: messages(recording_data(short), 1, "MSD")}
    write_page(folder, "index", explorer, data)
    with serve(folder) as origin:
        yield origin, explorer, short


@pytest.fixture(scope="module")
def past_pages(tmp_path_factory, two_model_collection):
    """Pages with a back-end and a collection explorer widget on localhost: (address, the
    back-end explorer, the collection explorer)."""
    folder = tmp_path_factory.mktemp("past-widget")
    store = str(two_model_collection.path)
    back = Explorer("backend", path=CLIP, view=BackEndView("MTT", 2))
    write_page(folder, "backend", back, {0: messages(recording_data(CLIP), 0, "MTT", own_parts("backend", CLIP))})
    summary = Explorer("collection", view=View("MSD", unit="cnn4/64x7/44"), store=store)
    write_page(folder, "collection", summary,
               {0: messages(recording_data(summary.source), 0, "MSD", own_parts("collection", summary.source, store),
                            audio=False, media=own_media("collection", store))})
    with serve(folder) as origin:
        yield origin, back, summary





def test_the_widget_draws_the_kernels_data_swaps_recordings_and_shows_messages(widget_page, browser):
    origin, explorer, short = widget_page
    page, problems = open_page(browser, f"{origin}/index.html", origin)
    page.wait_for_function("window.widgetEl.__explorer && window.widgetEl.__explorer.drawCount > 0", timeout=30_000)
    ex = "window.widgetEl.__explorer"

    # the view the kernel's data gives is the package's
    assert page.evaluate("window.sent[0]") == {"type": "request"}
    assert page.evaluate(f"{ex}.view.unit") == UNIT and page.evaluate(f"{ex}.view.segment") == 1
    a = analyse(CLIP, "MSD")
    maps, index = a.unit_maps(UNIT, 1), int(UNIT.split("/")[2])
    got = page.evaluate(f"[Array.from({ex}.computed.pre), Array.from({ex}.computed.U_row)]")
    assert_close(got[0], maps.pre_activation, "pre-activation")
    assert_close(got[1], a.U[1, index], "row of U")
    assert page.evaluate("document.querySelector('#w canvas').width") > 500
    assert page.evaluate(f"{ex}.ui.audio.src").startswith("blob:")
    assert page.evaluate("window.__explorer.length") == 0, "the module started the book's islands"
    assert page.locator("#island-left-alone canvas").count() == 0

    # a model switch needs no kernel; then the kernel hands over another recording
    page.evaluate(f"{ex}.setView({{...{ex}.view, model: 'MTT', segment: 8}})")
    drawn = page.evaluate(f"{ex}.drawCount")
    page.evaluate("window.kernel.change('version', 1)")
    page.wait_for_function(f"{ex}.shared.meta.file === {json.dumps(short.name)} && {ex}.drawCount > {drawn}",
                           timeout=30_000)
    b = analyse(short, "MTT")
    assert page.evaluate(f"{ex}.view.segment") == b.n_segments - 1 == 1  # clamped to the shorter file
    assert page.evaluate(f"{ex}.view.model") == "MTT"
    assert page.evaluate("document.querySelector('#w input[type=range]').max") == str(b.n_segments - 1)
    unit = page.evaluate(f"{ex}.view.unit")  # MTT's first non-trivial unit: the filter is on
    assert_close(page.evaluate(f"Array.from({ex}.computed.U_row)"), b.U[1, int(unit.split("/")[2])],
                 f"row of U of {unit}, new file")
    assert page.evaluate("window.sent.filter(m => m.type === 'request').length") == 2

    # the audio-file box asks the kernel; a failure shows one line and changes nothing
    page.fill("#w input[aria-label='audio file']", "missing.wav")
    page.click("#w button:has-text('analyse file')")
    assert page.evaluate("window.sent.at(-1)") == {"type": "open", "path": "missing.wav"}
    drawn, view = page.evaluate(f"{ex}.drawCount"), page.evaluate(f"{ex}.view")
    error = "no audio file at missing.wav: check the path (missing). The explorer stays on short.wav."
    page.evaluate(f"window.kernel.change('message', {json.dumps(error)})")
    assert page.inner_text("#w .mx-message") == error
    assert page.evaluate(f"{ex}.drawCount") == drawn and page.evaluate(f"{ex}.view") == view
    assert page.input_value("#w input[aria-label='audio file']") == explorer.path
    assert not problems, problems
    page.close()


def test_a_widget_whose_first_data_never_came_starts_on_the_next(widget_page, browser):
    """The kernel could not prepare the first recording (say it was deleted): the status line
    says why; when another file is opened, the explorer starts on it."""
    origin, _, short = widget_page
    page, problems = open_page(browser, f"{origin}/index.html?version=7", origin)  # no data at version 7
    page.wait_for_function("window.sent.length === 1")
    page.evaluate("window.kernel.change('message', 'no audio file at clip.mp3: check the path (missing).')")
    assert page.inner_text("#w .mx-message") == "no audio file at clip.mp3: check the path (missing)."
    assert page.locator("#w canvas").count() == 0
    page.evaluate("window.kernel.change('message', ''); window.kernel.change('version', 1)")
    ex = "window.widgetEl.__explorer"
    page.wait_for_function(f"{ex} && {ex}.drawCount > 0 && {ex}.shared.meta.file === {json.dumps(short.name)}",
                           timeout=30_000)
    assert page.locator("#w canvas").count() == 1 and page.locator("#w input[aria-label='audio file']").count() == 1
    assert not problems, problems
    page.close()


def drawn_widget(browser, url: str, origin: str):
    page, problems = open_page(browser, url, origin)
    page.wait_for_function("window.widgetEl.__explorer && window.widgetEl.__explorer.drawCount > 0", timeout=60_000)
    return page, problems


def assert_quantised(got, expected) -> None:
    """Every contribution within the int16 quantisation step of the package's (web_past)."""
    step = float(np.abs(expected).max()) / CONTRIBUTION_STEPS
    np.testing.assert_allclose(got, expected, rtol=0, atol=step)


def test_the_backend_widget_draws_the_kernels_split_of_the_logit(past_pages, browser):
    origin, explorer, _ = past_pages
    page, problems = drawn_widget(browser, f"{origin}/backend.html", origin)
    ex = "window.widgetEl.__explorer"
    view = page.evaluate(f"{ex}.view")
    shown = (view["model"], view["segment"], view["tag"], view["row"])
    assert shown == ("MTT", 2, explorer.view.tag, explorer.view.row)
    a = analyse(CLIP, "MTT")
    att, k = fb.attributions(a)[2], a.tags.index(explorer.view.tag)
    got = page.evaluate(f"[Array.from({ex}.computed.contributions), Array.from({ex}.computed.series), "
                        f"{ex}.computed.logit]")
    assert_quantised(got[0], att.per_row[k])
    assert_close(got[1], a.W[2, explorer.view.row], "row of W")
    assert abs(got[2] - att.logits[k]) <= 1e-6 * max(1.0, abs(att.logits[k]))
    # another tag, drawn in the page from the same data
    other = a.tags[(k + 1) % len(a.tags)]
    page.select_option("#w select[aria-label='tag']", other)
    page.wait_for_function(f"{ex}.view.tag === {json.dumps(other)}")
    assert_quantised(page.evaluate(f"Array.from({ex}.computed.contributions)"), att.per_row[a.tags.index(other)])
    assert page.locator("#w input[aria-label='audio file']").count() == 1  # the kernel re-analyses files
    assert page.evaluate(f"{ex}.ui.audio.src").startswith("blob:")
    assert page.locator("#island-left-alone canvas").count() == 0
    assert not problems, problems
    page.close()


def test_the_collection_widget_draws_the_stores_summary_without_a_file_box(past_pages, browser,
                                                                            two_model_collection):
    origin, _, explorer = past_pages
    page, problems = drawn_widget(browser, f"{origin}/collection.html", origin)
    ex = "window.widgetEl.__explorer"
    assert page.evaluate(f"{ex}.view.unit") == "cnn4/64x7/44"
    for model, unit in (("MSD", "cnn4/64x7/44"), ("MTT", "cnn2/561x7/7")):
        got = page.evaluate(f"""async ([model, unit]) => {{
            await {ex}.setView({{...{ex}.view, group: 'all', nontrivial: false, model, unit}});
            return {ex}.computed.examples.map((e) => [e.max, e.frame, e.label]);
        }}""", [model, unit])
        c = load(model, str(two_model_collection.path))
        top, j = c.top(unit), c.column(unit)
        assert_close([g[0] for g in got], c.max[top, j], f"{model} {unit} maxima")
        assert [g[1] for g in got] == c.argmax[top, j].tolist() and [g[2] for g in got] == [c.label(i) for i in top]
    assert page.locator("#w input[aria-label='audio file']").count() == 0  # the store is the input
    # the player plays the chosen example of the collection in use, from its own MP3 the kernel sent
    page.locator("#w button[data-example='2']").click()
    page.wait_for_function(f"{ex}.view.example === 2 && {ex}.ui.audio.readyState >= 1", timeout=20_000)
    src, shown = page.evaluate(f"[{ex}.ui.audio.src, {ex}.computed.examples[1].index]")
    store = str(two_model_collection.path)
    c = load("MTT", store)
    assert src.startswith("blob:") and src == page.evaluate(f"{ex}.clips[{shown}]")
    heard = decode(base64.b64decode(page.evaluate("""async (src) => {
        const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
        let text = ""; for (const b of bytes) text += String.fromCharCode(b);
        return btoa(text); }""", src)))
    shipped = sorted({int(i) for m in ("MSD", "MTT") for u in NAMES for i in load(m, store).top(u)})
    assert shipped[shown] == c.top("cnn2/561x7/7")[1]  # the unit shown last, its second example
    assert match(heard, c.segment_audio(shipped[shown]))[0] > 0.9
    assert not problems, problems
    page.close()
