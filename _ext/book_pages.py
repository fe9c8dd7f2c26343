"""Sphinx extension for this book's pages, so that they load without browser errors.

* jupyter-book 1 runs sphinx-thebe's and sphinx-togglebutton's set-up twice, so every page
  declared ``const THEBE_JS_URL`` twice; repeated scripts are dropped.
* No page draws a widget from saved state: an explorer widget's output (see
  ``musicnn_nb.explore.widgets``) shows its static figure, which the page's explorer script
  replaces, and the saved widget state is left out of the pages (no widget manager loads).
* A page with an explorer island (see ``musicnn_nb.explore.web``) loads the data of its
  explorers' first views and their scripts as deferred scripts, and starts MathJax (half a
  second of start-up and first typesetting) once the explorers have drawn; the data they
  compute their views from is written once, into ``_static/explore``.
* No page loads Font Awesome's script (1.5 MB; a tenth of a second to start, on the page's
  only thread, before the explorers could): the theme's style sheet already draws every icon
  from Font Awesome's web fonts, and the script only turned them into SVG (or drew icons a
  site adds, which this book has none of). The template ``templates/layout.html`` leaves it out.
* A figure too large for the text column (a gallery, whose cell is tagged ``full-size``) is
  a link to its image, so that a click opens it at the size it was drawn.
* The ``.ipynb`` a reader downloads is the chapter to run, not a second copy of the page: its
  outputs (figures, saved widget state) are left out, which keeps the site a third smaller.
* The chapters are read, and so executed, on every core (``$BOOK_JOBS`` processes, default:
  the machine's cores), one chapter at a time per process, each handed the next chapter when
  it is free, so that one long chapter does not hold up a fixed batch of others.
  jupyter-book 1's command line has no ``-j``, so the extension sets Sphinx's process count.
* What no page loads is not published, which keeps the site within its 40-MB budget: the
  theme's source maps (``*.map``, 3.4 MB, a debugger's aid), its translation catalogues
  (``_static/locales``, 0.7 MB, which Sphinx reads when it builds, not the browser) and Font
  Awesome's script (above).
"""

import html
import json
import os
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

ISLAND = 'class="musicnn-explorer"'
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # a widget drawn from saved state: never in a page
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
EXPLORE = "explore"  # folder of _static with the explorers' scripts and data
FULL_SIZE = "full-size"  # the cell tag of a figure that opens at its drawn size on click
CELL = '<div class="cell '  # a notebook cell: its tags follow, as classes tag_<tag>
SOURCE_MAP = re.compile(r"^\s*(//# sourceMappingURL=\S+|/\*# sourceMappingURL=\S+ ?\*/)\s*$", re.M)
IMAGE = re.compile(r'<img [^>]*src="([^"]+)"[^>]*/?>')
ISLAND_CONFIG = re.compile(r'class="musicnn-explorer" data-explorer="([^"]*)"')
SOURCE = re.compile(r' src="([^"]+)"')
FONT_AWESOME = "fontawesome.js"  # the theme's script that no page loads (see the module docstring)
# MathJax's script (its address the %s), added to a page with explorers once they have drawn
MATHJAX_AFTER_EXPLORERS = """document.addEventListener("DOMContentLoaded", () => {
  const start = () => document.head.append(Object.assign(document.createElement("script"), {src: %s}));
  (window.MusicnnExplorer ? MusicnnExplorer.ready : Promise.resolve()).then(start);
});"""


def _add_template_names(app):
    """What ``templates/layout.html`` uses: the script it leaves out, and the filter that does."""
    if getattr(app.builder, "templates", None) is None:  # a builder without HTML templates
        return
    templates = app.builder.templates.environment
    templates.globals["FONT_AWESOME"] = FONT_AWESOME
    templates.filters["without_script"] = lambda markup, name: type(markup)(
        re.sub(rf'\s*<script\b[^>]*src="[^"]*/{re.escape(name)}[?"][^>]*></script>', "", str(markup)))


def _add_folders(app, config):
    """The extension's static files (the favicon) and templates (``templates/layout.html``)."""
    config.html_static_path.append(str(Path(__file__).parent / "static"))
    config.templates_path.append(str(Path(__file__).parent / "templates"))


def _island_configs(markup: str) -> list[dict]:
    """The configs of the explorer islands in a page's (or an output's) HTML."""
    return [json.loads(html.unescape(config)) for config in ISLAND_CONFIG.findall(markup)]


def _fix_scripts(app, pagename, templatename, context, doctree):
    from sphinx.builders.html._assets import _JavaScript

    seen, scripts = set(), []
    for script in context.get("script_files", []):
        key = (script.filename or "", script.attributes.get("body", ""))
        if script.attributes.get("type") != WIDGET_STATE and key not in seen:
            seen.add(key)
            scripts.append(script)
    body = context.get("body", "")
    if ISLAND in body:
        from musicnn_nb.explore.web import SCRIPT_NAMES, first_parts

        # The data of the explorers' first views, then their scripts, all deferred: the data
        # arrives while the page is parsed, and the explorers start as soon as the parser is done.
        # MathJax starts once they have drawn (or failed to): its start-up and first typesetting
        # take half a second of the browser's only thread, which the explorers waited behind.
        # (The page orders its scripts by priority, stably: these take MathJax's place.)
        data = dict.fromkeys(part for config in _island_configs(body) for part in first_parts(config))
        mathjax = next((i for i, s in enumerate(scripts) if "mathjax" in str(s.filename or "")), None)
        at, priority = (mathjax, scripts[mathjax].priority) if mathjax is not None else (len(scripts), 800)
        if mathjax is not None:
            src = SOURCE.search(context["js_tag"](scripts.pop(mathjax))).group(1)
            scripts.insert(at, _JavaScript("", priority=priority, body=MATHJAX_AFTER_EXPLORERS % json.dumps(src)))
        scripts[at:at] = [_JavaScript(f"_static/{EXPLORE}/{name}", priority=priority, defer="defer")
                          for name in [*data, *SCRIPT_NAMES]]
    context["script_files"][:] = scripts


class StaticFigureForWidget(SphinxPostTransform):
    """Drop every widget view before myst-nb picks one mime type per output, so that an
    explorer widget's output shows its static figure; warn about a widget that has none."""

    default_priority = 3  # myst-nb's choice of a mime type runs at 4

    def run(self, **kwargs) -> None:
        for bundle in list(self.document.findall(nodes.container)):
            if bundle.get("nb_element") != "mime_bundle":
                continue
            children = {child.get("mime_type"): child for child in bundle.children}
            types = list(children)
            if WIDGET_VIEW in types:
                bundle.remove(children[WIDGET_VIEW])
                if "image/png" in types and "text/plain" in types:  # the widget's words for its figure
                    for image in children["image/png"].findall(nodes.image):
                        image["alt"] = children["text/plain"].astext().strip()
                if "image/png" not in types:
                    logger.warning("a widget without a static figure: the book has no widget manager "
                                   "to draw it, so the page shows its text form", location=bundle)


def _link_full_size(app, pagename, templatename, context, doctree):
    """Wrap each image of a cell tagged ``full-size`` in a link to the image itself."""
    body = context.get("body", "")
    if f"tag_{FULL_SIZE}" not in body:
        return
    cells = body.split(CELL)
    for i, cell in enumerate(cells[1:], 1):
        if f"tag_{FULL_SIZE}" in cell.split(">", 1)[0]:
            cells[i] = IMAGE.sub(lambda m: f'<a class="{FULL_SIZE}" href="{m.group(1)}" '
                                 f'title="Open the figure at full size">{m.group(0)}</a>', cell)
    context["body"] = CELL.join(cells)


def _write_explorer_data(app, env):
    """The explorers' scripts and the recording's data, once for the whole book, if a chapter has
    an explorer; every explorer must show the book's recording (the chapters all do). Written
    once the chapters are read and before any page is, so that the pages' script addresses carry
    the checksum (``?v=``) of these files, not of the last build's."""
    if app.builder.format != "html":
        return
    configs = [(docname, config) for docname in sorted(env.found_docs)
               for node in env.get_doctree(docname).findall(nodes.raw) for config in _island_configs(node.astext())]
    if not configs:
        return
    from musicnn_nb.explore.web import install, recording_key
    from musicnn_nb.explore.web_past import PAST_KINDS, write_past

    key = recording_key()
    for docname, config in configs:
        if config["recording"] != key:
            raise RuntimeError(f"{docname}: an explorer shows another recording than the book's "
                               f"({key}); the page could not load its data.")
    folder = Path(app.outdir) / "_static" / EXPLORE
    install(folder)
    kinds = tuple(k for k in PAST_KINDS if any(config["kind"] == k for _, config in configs))
    if kinds:  # chapters 13 and 14: the back end's split of the logits, the collection's summaries
        write_past(folder, kinds)


def _strip_downloads(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in (Path(app.outdir) / "_sources").rglob("*.ipynb"):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook.get("cells", []):
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
        notebook.get("metadata", {}).pop("widgets", None)
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _drop_unloaded_static(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    shutil.rmtree(static / "locales", ignore_errors=True)
    for path in (static / "scripts").glob(f"{FONT_AWESOME}*"):  # the script and its licence notice
        path.unlink()
    for path in static.rglob("*.map"):
        path.unlink()
    for path in [*static.rglob("*.js"), *static.rglob("*.css")]:  # and the comments that name them
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if "sourceMappingURL=" in text:
            path.write_text(SOURCE_MAP.sub("", text), encoding="utf-8", errors="surrogateescape")


def _read_on_every_core(app) -> None:
    """Sphinx reads (executes) and writes the pages on ``$BOOK_JOBS`` processes, one page per
    task. Sphinx itself would hand each process a fixed half of the chapters, so the one with
    chapters 4 and 5 would finish long after the other."""
    import sphinx.builders

    jobs = os.environ.get("BOOK_JOBS") or str(len(os.sched_getaffinity(0)))
    if not jobs.isdigit() or int(jobs) < 1:
        raise ValueError(f"BOOK_JOBS={jobs!r}: give the number of processes to build with (1 or more)")
    app.parallel = max(app.parallel, int(jobs))  # Sphinx creates its builder after the extensions
    sphinx.builders.make_chunks = lambda pages, nproc, maxbatch=10: [[page] for page in pages]
    # sphinx-external-toc always loads sphinx-multitoc-numbering, which does not say whether it
    # is parallel-safe (so Sphinx would read serially). It is: it numbers sections after
    # reading, in the main process, and only for a toc with `numbered: true` (this book has none).
    multitoc = app.extensions.get("sphinx_multitoc_numbering")
    if multitoc is not None:
        multitoc.parallel_read_safe = multitoc.parallel_write_safe = True


def _create_execution_cache(app, env, docnames) -> None:
    """Create jupyter-cache's database in the main process, before the chapters are read on
    several: each process would otherwise find none and create its tables at the same moment."""
    if docnames and env.mystnb_config.execution_mode == "cache":
        from jupyter_cache import get_cache

        get_cache(env.mystnb_config.execution_cache_path).db.dispose()  # created, and its connection closed


def _fail_on_a_failed_chapter(app, env) -> None:
    """Stop the build, naming the chapters, if a cell failed. myst-nb has logged each failure
    with its cell and traceback (it does not raise: see ``_config.yml``)."""
    from myst_nb.sphinx_ import NbMetadataCollector

    failed = {doc: data["exec_data"]["error"] for doc, data in NbMetadataCollector.get_doc_data(env).items()
              if data.get("exec_data") and not data["exec_data"]["succeeded"]}
    if failed:
        names = ", ".join(f"{doc} ({error})" for doc, error in sorted(failed.items()))
        raise RuntimeError(f"a cell failed in {names}: the cell and its traceback are in the "
                           "'Executing notebook failed' warning above")


def setup(app):
    _read_on_every_core(app)
    app.connect("env-before-read-docs", _create_execution_cache)
    app.connect("env-updated", _fail_on_a_failed_chapter)
    app.connect("env-updated", _write_explorer_data)
    app.connect("config-inited", _add_folders)
    app.connect("builder-inited", _add_template_names)
    app.add_post_transform(StaticFigureForWidget)
    app.connect("html-page-context", _fix_scripts, priority=999)
    app.connect("html-page-context", _link_full_size)
    app.connect("build-finished", _strip_downloads)
    app.connect("build-finished", _drop_unloaded_static)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
