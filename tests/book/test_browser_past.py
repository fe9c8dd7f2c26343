"""The explorers of chapters 13 and 14 in Chromium, on a standalone page (no book build).

The page is written by :func:`musicnn_nb.explore.web.standalone_page` plus
:func:`musicnn_nb.explore.web_past.write_past`, from the same data and scripts the book build
installs. The values each view computes are compared with the package's (the back end's
split of a tag's logit, the rows of W, a unit's dataset examples across the collection);
controls, addresses and bad input are driven as a reader would.
"""

from __future__ import annotations

import random

import chromium
import numpy as np
import pytest
from chromium import NEEDS_CHROMIUM, assert_close, followed_player, pixels, serve, settled_address
from conftest import decode, match

from musicnn_nb.explore.backend import UNIT_PAGES
from musicnn_nb.explore.web import island_html, recording_key, standalone_page
from musicnn_nb.explore.web_past import (
    CONTRIBUTION_STEPS,
    EXAMPLE_SAMPLES,
    M_DB_ERROR,
    collection_key,
    pooled_m_db,
    write_past,
)
from musicnn_nb.facts import backend as fb
from musicnn_nb.facts.collection import NAMES, load
from musicnn_nb.model.audio import default_audio
from musicnn_nb.model.pipeline import analyse
from musicnn_nb.model.weights import LAYERS, load_model

pytestmark = NEEDS_CHROMIUM
BACKEND, COLLECTION = 0, 1  # the explorers' order on the page
DEFAULT_UNIT = "cnn1/38x7/12"


@pytest.fixture(scope="module")
def store(two_model_collection) -> str:
    return str(two_model_collection.path)


@pytest.fixture(scope="module")
def site(tmp_path_factory, store):
    """The page with the two explorers (the collection's: a two-recording store), written to
    disk and served on localhost: (folder, address)."""
    folder = tmp_path_factory.mktemp("past")
    key, suffix = recording_key(), default_audio().suffix.lower()
    islands = [island_html("backend", key, {"model": "MSD", "segment": 1}, ("cnn1",), suffix,
                           {"unit_pages": UNIT_PAGES}),
               island_html("collection", key, {"model": "MSD", "unit": DEFAULT_UNIT}, LAYERS, suffix,
                           {"collection": collection_key(load("MSD", store))})]
    text = standalone_page(folder, islands).read_text(encoding="utf-8")
    for name, island in zip(("collection", "backend"), islands):  # one explorer a page, as in the book:
        (folder / f"{name}.html").write_text(text.replace(island, ""), encoding="utf-8")  # addresses are per page
    write_past(folder / "explore", store=store)
    with serve(folder) as origin:
        yield folder, origin




def open_page(browser, url: str, origin: str, explorers: int = 2):
    """The page at ``url`` once its explorers have drawn, and the problems it reports."""
    return chromium.open_page(browser, url, origin, explorers)


def show(page, index: int, **view) -> dict:
    """Set a view through the test hook; what the page computed, typed arrays as lists."""
    return page.evaluate("""async ([i, view]) => {
        const ex = window.__explorer[i];
        await ex.setView({...ex.view, group: 'all', nontrivial: false, ...view});
        const plain = (x) => ArrayBuffer.isView(x) ? Array.from(x) : Array.isArray(x) ? x.map(plain)
            : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)])) : x;
        return {...plain(ex.computed), view: ex.view};
    }""", [index, view])




def test_backend_views_compute_the_package_values(site, browser):
    folder, origin = site
    page, problems = open_page(browser, f"{origin}/index.html", origin)
    analyses = {m: analyse(default_audio(), m) for m in ("MSD", "MTT")}
    rng = random.Random(15)
    for _ in range(24):
        model = rng.choice(("MSD", "MTT"))
        a = analyses[model]
        segment, k = rng.randrange(a.n_segments), rng.randrange(len(a.tags))
        row = rng.choice([None, rng.randrange(753)])
        got = show(page, BACKEND, model=model, segment=segment, tag=a.tags[k], row=row)
        att = fb.attributions(a)[segment]
        what = f"{model} segment {segment} {a.tags[k]!r}"
        assert_close(got["contributions"], att.per_row[k], what, 1 / CONTRIBUTION_STEPS)
        assert abs(got["logit"] - att.logits[k]) <= 1e-6 * max(1.0, abs(att.logits[k])), what
        assert abs(got["constant"] - att.constant[k]) <= 1e-6 * max(1.0, abs(att.constant[k])), what
        shown = got["view"]["row"]
        if row is None:  # the tag's top row, up to the quantisation of near-ties
            assert abs(att.per_row[k, shown]) >= np.abs(att.per_row[k]).max() * (1 - 2 / CONTRIBUTION_STEPS), what
        else:
            assert shown == row, what
        assert_close(got["series"], a.W[segment, shown], f"{what} row {shown} of W")
        assert got["winner"] == int(fb.winning_frames(a, segment, np.array([shown]))[0]), what
        assert got["stage"]["key"] == fb.w_stages()[fb.stage_of_rows()[shown]].key, what
    assert not problems, problems


def test_collection_views_compute_the_package_values(site, browser, store):
    folder, origin = site
    page, problems = open_page(browser, f"{origin}/index.html", origin)
    collections = {m: load(m, store) for m in ("MSD", "MTT")}
    rng = random.Random(16)
    for _ in range(20):
        model, unit = rng.choice(("MSD", "MTT")), rng.choice(NAMES)
        c = collections[model]
        got = show(page, COLLECTION, model=model, unit=unit)
        what = f"{model} {unit}"
        assert got["view"]["unit"] == unit, what
        top, j = c.top(unit), c.column(unit)
        assert [e["start_s"] for e in got["examples"]] == pytest.approx(c.starts[top].tolist()), what
        assert [e["label"] for e in got["examples"]] == [c.label(i) for i in top], what
        assert_close([e["max"] for e in got["examples"]], c.max[top, j], f"{what} maxima")
        assert [e["frame"] for e in got["examples"]] == c.argmax[top, j].tolist(), what
        counts, edges = np.histogram(c.max[:, j].astype(np.float64), bins=len(got["hist"]))
        assert got["hist"] == counts.tolist(), what
        assert_close(got["histRange"], [edges[0], edges[-1]], f"{what} histogram range")
        assert got["open"] == pytest.approx(float(c.open[:, j].mean()), rel=1e-4), what
        r = c.tag_association(unit)
        order = [load_model(model).tags.index(t) for t in got["tags"]]
        assert_close(got["r"], r[order], f"{what} tag correlations")
        assert np.allclose(np.abs(got["r"]), np.sort(np.abs(r))[::-1][:len(order)], rtol=1e-5, atol=1e-7), what
        first = pooled_m_db(c.segment_m_db(int(top[0])))  # M_dB of the strongest example, 2 x 2 means
        got_m = np.asarray(got["examples"][0]["M_dB"]).reshape(first.shape)
        assert np.abs(got_m - np.clip(first, 0, None)).max() <= M_DB_ERROR + 1e-6, what
    assert not problems, problems



def act_and_compare(page, index: int, steps) -> None:
    """Each step (a name and an action on the page) redraws the explorer and changes its pixels."""
    for name, act in steps:
        before, count = pixels(page, index), page.evaluate(f"window.__explorer[{index}].drawCount")
        act()
        page.wait_for_function(f"window.__explorer[{index}].drawCount > {count}", timeout=20_000)
        assert (before != pixels(page, index)).any(), f"{name} changed no pixel"


def test_every_backend_control_redraws_and_the_address_follows(site, browser):
    folder, origin = site
    page, problems = open_page(browser, f"{origin}/index.html", origin)
    root = page.locator(".mx-explorer").nth(BACKEND)
    audio = root.locator("audio").get_attribute("src")
    tag, row = root.locator("select[aria-label=tag]"), root.locator("select[aria-label='row of W']")
    act_and_compare(page, BACKEND, [
        ("segment", lambda: root.locator("input[type=range]").fill("4")),
        ("model", lambda: root.locator("button[data-model=MTT]").click()),
        ("tag", lambda: tag.select_option(index=3)),
        ("row", lambda: row.select_option(index=2))])
    view = page.evaluate(f"window.__explorer[{BACKEND}].view")
    a = analyse(default_audio(), "MTT")
    order = [a.tags[k] for k in np.argsort(-a.taggram[4], kind="stable")]
    assert (view["model"], view["segment"], view["tag"]) == ("MTT", 4, order[3])
    assert tag.locator("option").first.get_attribute("value") == order[0], "the top tag is not offered first"
    assert row.input_value() == str(view["row"]) and tag.input_value() == view["tag"]
    top = fb.attributions(a)[4].top_rows(view["tag"], 12)
    assert row.locator("option").count() == 12 and view["row"] in top[:4].tolist()
    frame = int(fb.winning_frames(a, 4, np.array([view["row"]]))[0])
    start = max(0.0, a.segment_start_s[4] + frame * 0.016 - 0.5)
    src = followed_player(page, BACKEND)
    assert src != audio and src.endswith(f"#t={start:.3f},{start + 1:.3f}"), "the player missed the winning frame"
    settled_address(page, f"tag={view['tag'].replace(' ', '+')}", f"row={view['row']}")
    unit = fb.w_row_unit(view["row"])
    link = root.locator("a", has_text="in its chapter's explorer").get_attribute("href")
    assert link == f"{UNIT_PAGES[unit.split('/')[0]]}#explore?model=MTT&segment=4&unit={unit}"
    assert not problems, problems


def test_every_collection_control_redraws(site, browser):
    folder, origin = site
    page, problems = open_page(browser, f"{origin}/index.html", origin)
    root = page.locator(".mx-explorer").nth(COLLECTION)
    act_and_compare(page, COLLECTION, [
        ("example", lambda: root.locator("button[data-example='2']").click()),
        ("model", lambda: root.locator("button[data-model=MTT]").click()),
        ("unit", lambda: root.locator("select[aria-label=unit]").select_option(index=2)),
        ("layer", lambda: root.locator("select[aria-label=layer]").select_option("cnn4")),
        ("colour map", lambda: root.locator("select[aria-label=colours]").select_option("viridis")),
        ("colour limits", lambda: (root.locator("input[aria-label='colour minimum']").fill("1"),
                                   root.locator("input[aria-label='colour maximum']").fill("3"),
                                   root.locator("input[aria-label='colour maximum']").press("Enter")))])
    view = page.evaluate(f"window.__explorer[{COLLECTION}].view")
    assert view["model"] == "MTT" and view["unit"].startswith("cnn4/") and (view["vmin"], view["vmax"]) == (1, 3)
    assert view["example"] == 2
    settled_address(page, "example=2")
    good, shown = view, pixels(page, COLLECTION)
    low = root.locator("input[aria-label='colour minimum']")
    low.fill("5")
    low.press("Enter")
    assert "must be below" in root.locator(".mx-message").inner_text()
    assert page.evaluate(f"window.__explorer[{COLLECTION}].view") == good
    assert np.array_equal(pixels(page, COLLECTION), shown)
    settled_address(page, f"unit={view['unit']}")
    assert not problems, problems


def own_file(page, index: int, k: int, store: str) -> tuple[str, np.ndarray]:
    """The file of the page's example ``k`` (1-based) of the unit shown, relative to the page,
    as write_past names it, and that segment's samples from the store."""
    shown = page.evaluate("([i, k]) => window.__explorer[i].computed.examples[k - 1].index", [index, k])
    c = load("MSD", store)
    shipped = sorted({int(i) for m in ("MSD", "MTT") for u in NAMES for i in load(m, store).top(u)})
    return f"explore/collection-{collection_key(c)}/{shown}.mp3", c.segment_audio(shipped[shown])


def assert_plays(page, index: int, k: int, store: str, folder) -> None:
    """The player of the page's explorer ``index`` holds example ``k``'s own file, has loaded
    it, and what the file holds is that example."""
    name, truth = own_file(page, index, k, store)
    ex = f"window.__explorer[{index}]"
    assert page.evaluate(f"{ex}.ui.audio.src").endswith(name), f"the player does not hold example {k}"
    page.wait_for_function(f"{ex}.ui.audio.readyState >= 1", timeout=20_000)
    assert page.evaluate(f"{ex}.ui.audio.duration") < EXAMPLE_SAMPLES / 16000 + 0.2  # one example, not more
    assert match(decode((folder / name).read_bytes()), truth)[0] > 0.9


def test_choosing_an_example_plays_it(site, browser, store):
    folder, origin = site
    page, problems = open_page(browser, f"{origin}/collection.html#explore?model=MTT&unit=cnn4/64x7/44", origin, 1)
    root, ex = page.locator(".mx-explorer").first, "window.__explorer[0]"
    assert_plays(page, 0, 1, store, folder)
    c, examples = load("MTT", store), page.evaluate(f"{ex}.computed.examples.map(e => e.index)")
    shipped = sorted({int(i) for m in ("MSD", "MTT") for u in NAMES for i in load(m, store).top(u)})
    assert [shipped[e] for e in examples] == c.top("cnn4/64x7/44").tolist()
    root.locator("button[data-example='3']").click()  # a button
    page.wait_for_function(f"{ex}.view.example === 3")
    settled_address(page, "example=3")
    assert root.locator("button[data-example='3']").get_attribute("aria-pressed") == "true"
    assert_plays(page, 0, 3, store, folder)
    page.evaluate(f"{ex}.ui.audio.addEventListener('playing', (e) => {{ window.startedAt = e.target.currentTime; }})")
    box = page.evaluate(f"{ex}.layout.boxes[4]")  # a panel: the figure is drawn at its CSS size
    root.locator("canvas").click(position={"x": box["x"] + box["w"] / 2, "y": box["y"] + box["h"] / 2})
    page.wait_for_function(f"{ex}.view.example === 5")
    assert root.locator("button[data-example='5']").get_attribute("aria-pressed") == "true"
    assert_plays(page, 0, 5, store, folder)
    # served without range requests (as python -m http.server), it plays from the start of the
    # example's own file to its end
    page.wait_for_function("window.startedAt !== undefined", timeout=10_000)
    assert page.evaluate("window.startedAt") < 0.1
    page.wait_for_function(f"{ex}.ui.audio.ended", timeout=10_000)
    assert not problems, problems


def test_an_address_restores_a_view_and_a_bad_one_says_so(site, browser):
    folder, origin = site
    address = "#explore?model=MTT&segment=3&tag=techno&row=700"
    page, problems = open_page(browser, f"{origin}/backend.html{address}", origin, 1)
    view = page.evaluate("window.__explorer[0].view")
    assert (view["model"], view["segment"], view["tag"], view["row"]) == ("MTT", 3, "techno", 700)
    root = page.locator(".mx-explorer").first
    assert root.locator("select[aria-label=tag]").input_value() == "techno"
    assert root.locator("select[aria-label='row of W']").input_value() == "700"
    page.close()
    page, problems2 = open_page(browser, f"{origin}/collection.html#explore?model=MTT&unit=cnn4/64x7/44&vmin=0&vmax=3",
                                origin, 1)
    view = page.evaluate("window.__explorer[0].view")
    assert (view["model"], view["unit"], view["vmin"], view["vmax"]) == ("MTT", "cnn4/64x7/44", 0, 3)
    assert page.locator(".mx-explorer").first.locator("select[aria-label=unit]").input_value() == "cnn4/64x7/44"
    page.close()
    for index, bad in ((BACKEND, "tag=nonsense"), (BACKEND, "row=753"), (BACKEND, "row=-1"), (BACKEND, "model=XYZ"),
                       (BACKEND, "segment=99"), (COLLECTION, "unit=cnn4/64x7/64"), (COLLECTION, "unit=cnn5/64x7/1"),
                       (COLLECTION, "vmin=a&vmax=1"), (COLLECTION, "example=7"), (COLLECTION, "example=0")):
        name = "backend" if index == BACKEND else "collection"
        page, more = open_page(browser, f"{origin}/{name}.html#explore?{bad}", origin, 1)
        view = page.evaluate("window.__explorer[0].view")
        assert view["model"] == "MSD", bad
        if index == COLLECTION:
            assert view["unit"] == DEFAULT_UNIT, bad
        else:
            assert view["segment"] == 1, bad
        message = page.locator(".mx-message").inner_text()
        assert "showing the default view" in message and "\n" not in message, bad
        assert not more, more
        page.close()
    assert not problems + problems2, problems + problems2


def test_works_opened_from_disk(site, browser, store):
    folder, _ = site
    page, problems = open_page(browser, (folder / "index.html").as_uri(), "file://")
    got = show(page, BACKEND, model="MTT", segment=2, tag="rock", row=None)
    assert len(got["contributions"]) == 753 and len(got["series"]) == 187
    got = show(page, COLLECTION, model="MTT", unit="cnn4/64x7/44", example=4)
    assert len(got["examples"]) == 6
    assert page.evaluate(f"window.__explorer[{COLLECTION}].ui.audio.src").startswith("file://")
    assert_plays(page, COLLECTION, 4, store, folder)
    assert not problems, problems
