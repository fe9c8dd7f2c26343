"""The book builds from scratch, every chapter shows its figures without a kernel, and a
failing cell fails the build with the chapter and cell named."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, build, chapters, execute_chapter


@pytest.fixture
def built(built_book) -> Path:
    return built_book


def test_every_chapter_page_has_static_figures_an_explorer_audio_and_no_error(built):
    assert (built / "book" / "intro.html").exists()
    assert chapters(), "the table of contents lists no chapters"
    for chapter in chapters():
        html = (built / f"{chapter}.html").read_text()
        images = re.findall(r'<img [^>]*src="([^"]+\.png)"', html)
        assert len(images) >= 2, f"{chapter}: {len(images)} figures"
        assert all((built / chapter).parent.joinpath(src).exists() for src in images), chapter
        assert 'class="musicnn-explorer"' in html, f"{chapter}: no explorer"
        # no widget drawn from saved state: an explorer widget shows its static figure in the
        # page, which the page's script replaces; so neither saved state nor a widget manager
        for part in ("application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json",
                     "embed.js", "require.js"):
            assert part not in html, f"{chapter}: {part}"
        assert "<audio" in html, f"{chapter}: no audio player"
        assert "output error" not in html and "Traceback" not in html, f"{chapter}: error output"


def test_a_page_loads_its_explorers_data_with_its_scripts_and_starts_mathjax_after_them(built):
    """The data of the explorers' first views are the page's own deferred scripts, each once and
    before the explorers' scripts (so they arrive while the page is parsed); MathJax has no tag
    of its own: the page's script starts it once the explorers have drawn."""
    for chapter in chapters():
        html = (built / f"{chapter}.html").read_text()
        deferred = re.findall(r'<script defer="defer" src="\.\./_static/explore/([^"?]+)', html)
        data = deferred[:-2]
        assert deferred[-2:] == ["plot.js", "explorer.js"] and data, f"{chapter}: {deferred}"
        assert len(set(data)) == len(data), f"{chapter}: a data file loaded twice: {data}"
        missing = [name for name in data if not (built / "_static" / "explore" / name).is_file()]
        assert not missing, f"{chapter}: loads data the build did not write: {missing}"
        assert not re.search(r'<script [^>]*src="[^"]*mathjax', html), f"{chapter}: MathJax starts with the page"
        assert "MusicnnExplorer.ready" in html and "tex-chtml.js" in html, f"{chapter}: MathJax never starts"


def test_a_rebuild_names_the_explorers_files_by_their_new_checksums(tmp_path):
    """Sphinx suffixes a script's address with the checksum (``?v=``) of the file it finds in
    the site when it writes the page: the explorers' files are written before the pages, so a
    rebuild over a site with older ones names the new files, and a browser does not keep the old."""
    from sphinx.builders.html._assets import _file_checksum

    from musicnn_nb.explore.web import island_html, recording_key
    from musicnn_nb.model.audio import default_audio

    source, site, key = tmp_path / "source", tmp_path / "site", recording_key()
    source.mkdir()
    (source / "conf.py").write_text(f"import sys\nsys.path.insert(0, {str(ROOT / '_ext')!r})\n"
                                    "extensions = ['myst_nb', 'book_pages']\n")
    island = island_html("unit", key, {"model": "MSD", "segment": 0, "unit": "cnn1/38x7/12"}, ("cnn1",),
                         default_audio().suffix.lower())
    (source / "index.rst").write_text(f"A page\n======\n\n.. raw:: html\n\n   {island}\n")
    older = site / "_static" / "explore" / "explorer.js"
    older.parent.mkdir(parents=True)
    older.write_text("// an older build's script\n")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(source), str(site)],
                            capture_output=True, text=True, env={**os.environ, "BOOK_JOBS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    named = dict(re.findall(r'src="_static/explore/([^"?]+)\?v=(\w+)"', (site / "index.html").read_text()))
    assert {"plot.js", "explorer.js", f"{key}.shared.js", f"{key}.MSD.js"} <= set(named), named
    assert "older build" not in older.read_text()
    for name, checksum in named.items():
        assert checksum == _file_checksum(site, f"_static/explore/{name}"), name


def test_downloadable_notebooks_are_the_chapters_without_outputs(built):
    for chapter in chapters():
        notebook = json.loads((built / "_sources" / f"{chapter}.ipynb").read_text())
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert code, f"{chapter}: the download holds no code"
        assert all(c["outputs"] == [] for c in code), f"{chapter}: the download still holds outputs"
        assert "widgets" not in notebook["metadata"], chapter


@pytest.mark.parametrize("good_chapters", [0, 6], ids=["one process", "two processes"])
def test_a_failing_cell_fails_the_build_and_names_chapter_and_cell(tmp_path, good_chapters):
    """Also when the chapters are executed on two processes (Sphinx reads serially below 6)."""
    book = tmp_path / "broken"
    (book / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book)
    shutil.copytree(ROOT / "_ext", book / "_ext")  # the local Sphinx extension _config.yml names
    front = (ROOT / "book" / "03_input.md").read_text().split("---\n")[1]
    names = [f"good{i}" for i in range(good_chapters)] + ["bad"]
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                   + "".join(f"  - file: book/{name}\n" for name in names))
    (book / "book" / "intro.md").write_text("# Intro\n")
    for name in names:
        code = "raise ValueError('deliberate failure')" if name == "bad" else "print('fine')"
        (book / "book" / f"{name}.md").write_text(f"---\n{front}---\n\n# {name}\n\n```{{code-cell}} ipython3\n"
                                                  f"{code}\n```\n")
    result = build(book, tmp_path / "out", BOOK_JOBS="2")
    log = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # without the traceback's colours
    assert result.returncode != 0
    assert "a cell failed in book/bad" in log  # the chapter
    assert "raise ValueError('deliberate failure')" in log and "ValueError: deliberate failure" in log  # cell, error
    assert "doing serial read" not in log, "an extension keeps Sphinx from reading on several processes"


def test_audio_setting_points_chapters_at_another_file(tmp_path):
    """MUSICNN_NB_AUDIO changes the file every chapter analyses (checked on chapter 3)."""
    clip = ROOT / "tests" / "data" / "joram-moments_of_clarity-08-solipsism-59-88.mp3"
    result = execute_chapter(sys.executable, ROOT / "book" / "03_input.md", tmp_path,
                             {**os.environ, "MUSICNN_NB_AUDIO": str(clip)})
    notebook = tmp_path / "03_input.ipynb"
    assert result.returncode == 0, result.stderr[-3000:]
    text = notebook.read_text()
    assert clip.name in text and "MUSICNN_NB_AUDIO" in text
    assert "example.flac" not in text


def test_the_site_publishes_no_file_that_no_page_loads(built):
    """The theme's source maps and translation catalogues stay out of the published site."""
    static = built / "_static"
    assert (static / "scripts").is_dir()  # the theme's scripts are there, without their maps
    assert not list(static.rglob("*.map")) and not (static / "locales").exists()
