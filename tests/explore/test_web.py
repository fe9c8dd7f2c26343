"""The explorers of the built pages, in Chromium, on a page with one explorer of each kind.

The page is written by :func:`musicnn_nb.explore.web.standalone_page` from the same data and
scripts the book build installs, so that these tests need no book build. Values the page
computes are compared with :func:`musicnn_nb.analyse`; controls, view addresses and bad
input are driven as a reader would.
"""

from __future__ import annotations

import random

import chromium
import numpy as np
import pytest
from chromium import NEEDS_CHROMIUM, assert_close, followed_player, pixels, serve, settled_address

from musicnn_nb.explore.web import island_html, recording_key, standalone_page
from musicnn_nb.facts.units import nontrivial_units
from musicnn_nb.model.audio import default_audio
from musicnn_nb.model.pipeline import analyse
from musicnn_nb.model.weights import GROUPS

pytestmark = NEEDS_CHROMIUM
KINDS = {"unit": ("cnn1/38x7/12", ("cnn1",)), "midend": ("cnn2/561x7/0", ("cnn2", "cnn3", "cnn4")),
         "input": (None, ("cnn1",)), "taggram": (None, ("cnn1",)), "segmentation": (None, ("cnn1",))}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The page written to disk and served on localhost: (folder, http address)."""
    folder = tmp_path_factory.mktemp("explore")
    key, suffix = recording_key(), default_audio().suffix.lower()
    islands = [island_html(kind, key, {"model": "MSD", "segment": 1, "unit": unit}, layers, suffix)
               for kind, (unit, layers) in KINDS.items()]
    standalone_page(folder, islands)
    with serve(folder) as origin:
        yield folder, origin




def open_page(browser, url: str, origin: str):
    """The page at ``url`` once its five explorers have drawn, and the problems it reports."""
    return chromium.open_page(browser, url, origin, len(KINDS))


def explorer_index(kind: str) -> int:
    return list(KINDS).index(kind)


def show(page, kind: str, **view) -> dict:
    """Set a view through the test hook and return what the page computed, as lists."""
    return page.evaluate("""async ([i, view]) => {
        const ex = window.__explorer[i];
        await ex.setView({...ex.view, group: 'all', nontrivial: false, ...view});
        const out = {};
        for (const [k, v] of Object.entries(ex.computed)) if (v instanceof Float32Array) out[k] = Array.from(v);
        out.rows = ex.computed.rows; out.view = ex.view;
        return out;
    }""", [explorer_index(kind), view])



def assert_winner(winner: np.ndarray, y_hat: np.ndarray, what: str) -> None:
    """The page's winning row at each frame wins in the package's Ŷ too, and a frame it leaves
    out as tied has (nearly) equal rows there: a row index cannot be compared within a tolerance,
    and near-ties can fall either way in float32."""
    tolerance = 1e-4 * max(float(np.abs(y_hat).max()), 1e-30)
    frames = np.arange(y_hat.shape[1])
    shown = ~np.isnan(winner)
    rows = winner[shown].astype(int)
    assert (np.abs(y_hat[rows, frames[shown]] - y_hat.max(axis=0)[shown]) <= tolerance).all(), f"{what} winning row"
    spread = y_hat.max(axis=0) - y_hat.min(axis=0)
    assert (spread[~shown] <= tolerance).all(), f"{what}: frames left out as tied are not"


def random_choices(analyses: dict, seed: int = 13) -> list[tuple[str, int, str]]:
    """Random (model, segment, unit) choices, three per CNN_1 kernel group and CNN_2-4 layer:
    two among the units with a non-trivial kernel (most CNN_1 units output a constant), one
    among all."""
    rng = random.Random(seed)
    out = []
    for group in GROUPS:
        for pick in range(3):
            model = rng.choice(("MSD", "MTT"))
            live = [r for r in nontrivial_units(analyses[model].model, group.layer).rows
                    if group.first_row <= r < group.stop_row]
            index = rng.choice(live) if pick < 2 and live else rng.randrange(group.first_row, group.stop_row)
            out.append((model, rng.randrange(analyses[model].n_segments), f"{group.layer}/{group.name}/{index}"))
    return out


def test_unit_and_midend_views_compute_the_package_values(site, browser):
    folder, origin = site
    page, problems = open_page(browser, f"{origin}/index.html", origin)
    analyses = {m: analyse(default_audio(), m) for m in ("MSD", "MTT")}
    choices = random_choices(analyses)
    assert len(choices) >= 20
    for model, segment, unit in choices:
        a = analyses[model]
        what = f"{model} segment {segment} {unit}"
        if unit.startswith("cnn1/"):
            got = show(page, "unit", model=model, segment=segment, unit=unit)
            assert got["view"]["unit"] == unit and got["view"]["model"] == model
            maps = a.unit_maps(unit, segment)
            for key, expected in (("pre", maps.pre_activation), ("Y", maps.Y), ("Y_hat", maps.Y_hat)):
                assert_close(got[key], expected, f"{what} {key}")
            index = a.model.unit(unit).index
            assert_close(got["U_row"], a.U[segment, index], f"{what} row of U")
            assert_winner(np.array(got["winner"]), maps.Y_hat, what)
        else:
            got = show(page, "midend", model=model, segment=segment, unit=unit)
            run = a.midend_unit(unit, segment)
            for key in ("pre_activation", "V", "V_hat"):
                assert_close(got[key], getattr(run, key), f"{what} {key}")
            out = {"cnn2": "V1_hat", "cnn3": "V2_hat", "cnn4": "V3_hat"}[unit.split("/")[0]]
            assert_close(got["output"], a.arrays[out][segment], f"{what} {out}")
    got = show(page, "input", model="MTT", segment=4)
    assert_close(got["M_hat"], analyses["MTT"].M_hat[4], "MTT M̂_dB")
    got = show(page, "segmentation", model="MTT", segment=3)
    assert_close(got["W"], analyses["MTT"].W[3], "MTT W")
    got = show(page, "taggram", model="MSD", segment=0)
    assert_close(got["taggram"], analyses["MSD"].taggram.T, "MSD taggram")
    assert not problems, problems



def test_every_control_redraws_what_it_should(site, browser):
    folder, origin = site
    page, problems = open_page(browser, f"{origin}/index.html", origin)
    i = explorer_index("unit")
    root = page.locator(".mx-explorer").nth(i)
    before = pixels(page, i)
    audio_before = root.locator("audio").get_attribute("src")
    root.locator("input[type=range]").fill("4")
    after = pixels(page, i)
    kernel, maps = page.evaluate(f"[0, 3].map(k => window.__explorer[{i}].layout.boxes[k])")  # kernel, Ŷ panels
    inside = [(slice(int(b["y"]), int(b["y"] + b["h"])), slice(int(b["x"]), int(b["x"] + b["w"])))
              for b in (kernel, maps)]
    assert (before[inside[1]] != after[inside[1]]).any(axis=2).sum() > 1000, "the segment slider changed no map"
    assert np.array_equal(before[inside[0]], after[inside[0]]), "the segment slider changed the kernel"
    assert followed_player(page, i) != audio_before, "the player did not follow the segment"
    steps = [("model", lambda: root.locator("button[data-model=MTT]").click()),
             ("unit", lambda: root.locator("select[aria-label=unit]").select_option(index=3)),
             ("kernel group", lambda: root.locator("select[aria-label=kernels]").select_option("1x64")),
             ("colour map", lambda: root.locator("select[aria-label=colours]").select_option("viridis")),
             ("colour limits", lambda: (root.locator("input[aria-label='colour minimum']").fill("-1"),
                                        root.locator("input[aria-label='colour maximum']").fill("1"),
                                        root.locator("input[aria-label='colour maximum']").press("Enter"))),
             ("automatic scale", lambda: root.locator("input[type=checkbox]").last.check())]
    for name, act in steps:
        before, count = pixels(page, i), page.evaluate(f"window.__explorer[{i}].drawCount")
        act()
        page.wait_for_function(f"window.__explorer[{i}].drawCount > {count}", timeout=20_000)
        assert (before != pixels(page, i)).any(), f"{name} changed no pixel"
    view = page.evaluate(f"window.__explorer[{i}].view")
    assert view["model"] == "MTT" and view["unit"].startswith("cnn1/1x64/")
    assert view["cmap"] == "viridis" and view["auto"]
    root.locator("input[type=checkbox]").first.uncheck()  # every unit, not only the non-trivial ones
    options = root.locator("select[aria-label=unit] option").count()
    assert options == 51, f"the 1x64 group lists {options} units"
    settled_address(page, "explore?model=MTT", "unit=cnn1/1x64/")
    assert not problems, problems


def test_bad_colour_limits_are_refused_and_the_view_kept(site, browser):
    folder, origin = site
    page, problems = open_page(browser, f"{origin}/index.html", origin)
    i = explorer_index("input")
    root = page.locator(".mx-explorer").nth(i)
    lo, hi = root.locator("input[aria-label='colour minimum']"), root.locator("input[aria-label='colour maximum']")
    for box, value in ((lo, "-2"), (hi, "3")):
        box.fill(value)
        box.press("Enter")
    good, shown = page.evaluate(f"window.__explorer[{i}].view"), pixels(page, i)
    assert (good["auto"], good["vmin"], good["vmax"]) == (False, -2, 3)
    for box, value, message in ((lo, "abc", "must be numbers"), (hi, "", "must be numbers"), (lo, "5", "must be below"),
                                (hi, "-2", "must be below")):
        box.fill(value)
        box.press("Enter")
        assert message in root.locator(".mx-message").inner_text()
        assert page.evaluate(f"window.__explorer[{i}].view") == good
        assert np.array_equal(pixels(page, i), shown)
        assert (lo.input_value(), hi.input_value()) == ("-2", "3"), "the controls no longer show the view"
    assert not problems, problems


def test_an_address_restores_a_view_and_a_bad_one_says_so(site, browser):
    folder, origin = site
    page, problems = open_page(browser, f"{origin}/index.html#explore?model=MTT&segment=3&unit=cnn1/1x64/461"
                                        "&vmin=-5&vmax=5&cmap=coolwarm", origin)
    view = page.evaluate(f"window.__explorer[{explorer_index('unit')}].view")
    assert (view["model"], view["segment"], view["unit"], view["auto"], view["vmin"], view["vmax"], view["cmap"]) == \
        ("MTT", 3, "cnn1/1x64/461", False, -5, 5, "coolwarm")
    root = page.locator(".mx-explorer").nth(explorer_index("unit"))
    assert root.locator("select[aria-label=unit]").input_value() == "cnn1/1x64/461"
    assert root.locator("input[type=range]").input_value() == "3"
    for bad in ("unit=cnn1/1x64/9999", "unit=cnn1/38x7/300", "model=XYZ", "segment=99", "vmin=a&vmax=1",
                "vmin=3&vmax=1"):
        page2, problems2 = open_page(browser, f"{origin}/index.html#explore?{bad}", origin)
        unit = page2.locator(".mx-explorer").nth(explorer_index("unit"))
        assert page2.evaluate(f"window.__explorer[{explorer_index('unit')}].view.unit") == "cnn1/38x7/12", bad
        message = unit.locator(".mx-message").inner_text()
        assert "showing the default view" in message and "\n" not in message, bad
        assert not problems2, problems2
        page2.close()
    assert not problems, problems


def test_works_opened_from_disk(site, browser):
    folder, _ = site
    page, problems = open_page(browser, (folder / "index.html").as_uri(), "file://")
    got = show(page, "midend", model="MTT", segment=2, unit="cnn4/64x7/5")
    assert len(got["V_hat"]) == 187
    assert not problems, problems


def test_plot_module_ticks_and_labels_match_python(site, browser):
    """The canvas module's number formatting is Python's ``g`` format, and its tick labels
    tell neighbours apart (as WholeTicks does for the matplotlib figures)."""
    from musicnn_nb.explore.figures import WholeTicks

    folder, origin = site
    page, problems = open_page(browser, f"{origin}/index.html", origin)
    values = [0.000123456, 1.5e-30, -2.71828, 1234567.0, 0.1, 100.0, 99.95, -0.5, 3e-5, 12.0]
    got = page.evaluate("v => v.map(x => MusicnnPlot.formatG(x, 3))", values)
    assert got == [f"{v:.3g}" for v in values]
    for lo, hi in ((0.0, 1.0), (-5.0, 5.0), (-0.0123, 0.0456), (2.992, 29.92), (-3e-30, 4e-30)):
        ticks = page.evaluate("([lo, hi]) => MusicnnPlot.ticks(lo, hi, 5)", [lo, hi])
        assert 2 <= len(ticks) <= 11 and all(lo - 1e-12 <= t <= hi + 1e-12 for t in ticks), (lo, hi, ticks)
        labels = page.evaluate("t => MusicnnPlot.formatTicks(t)", ticks)
        assert len(set(labels)) == len(labels), labels
        assert labels == WholeTicks().format_ticks(ticks), (labels, ticks)
    assert not problems, problems


def test_the_figure_follows_the_page_width(site, browser):
    """A narrower window redraws every explorer at its new width (a ResizeObserver), and a
    window back at its first width draws as before."""
    _, origin = site
    page, problems = open_page(browser, f"{origin}/index.html", origin)
    widths = "window.__explorer.map(e => e.ui.canvas.getBoundingClientRect().width)"
    wide = page.evaluate(widths)
    page.set_viewport_size({"width": 700, "height": 900})
    page.wait_for_function(f"{widths}.every(w => w <= 700)", timeout=10_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_function(f"JSON.stringify({widths}) === JSON.stringify({wide})", timeout=10_000)
    assert min(wide) > 700 and not problems, problems
    page.close()
