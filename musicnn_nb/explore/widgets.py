"""Explorers: one implementation, computed in the reader's browser, in Jupyter and in the book.

All seven kinds (input, taggram, segmentation, unit, midend; backend and collection for
chapters 13 and 14) are this one widget. An explorer's views (model, segment, unit, colour
scale; tag and row of W) are computed and drawn by ``js/src/explorer.js`` from the data of
:mod:`musicnn_nb.explore.web`, and for the last two kinds :mod:`musicnn_nb.explore.web_past`.
A chapter's explorer cell (:func:`explore`) prints two outputs:

* the island, an empty element from which the built page's script draws the explorer, with
  the data the book build wrote once beside the pages; invisible in Jupyter;
* the :class:`Explorer` widget (anywidget), whose front end is the same script: in Jupyter
  or Binder it asks the kernel for its data when it renders (the recording's parts; the back
  end's split of every logit for that recording; the summary of the collection store in use
  and its examples' audio),
  and its audio-file box has the kernel analyse another file (the collection explorer has no
  file box: its input is the store). The same output carries the static default figure (a
  matplotlib PNG, drawn once by :mod:`musicnn_nb.explore.figures`, :mod:`.backend` or
  :mod:`.collection`), which the book shows in place of the widget: with JavaScript off it is
  what the reader sees.

The widget's saved state is its configuration, the data version, the path of the file shown
and a one-line message; the data travels as custom messages with binary buffers, sent only
when a view asks, so a widget that never renders carries none.
"""

from __future__ import annotations

import base64
import functools
import io
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import anywidget
import traitlets
from IPython.display import HTML, display
from matplotlib.figure import Figure

from musicnn_nb.explore import backend, collection
from musicnn_nb.explore.backend import BackEndView
from musicnn_nb.explore.common import PNG_DPI, shown_path, unit_choices
from musicnn_nb.explore.figures import FIGURES, LAYERS, View, whole_ticks
from musicnn_nb.explore.web import KINDS, MODEL_NAMES, SCRIPTS, island_html, model_part, recording_key, shared_part
from musicnn_nb.explore.web_past import CollectionPart, backend_part, collection_key, collection_part
from musicnn_nb.facts.collection import load
from musicnn_nb.model import weights
from musicnn_nb.model.audio import default_audio, file_digest
from musicnn_nb.model.errors import AudioError, MusicnnNbError
from musicnn_nb.model.pipeline import analyse

__all__ = ["BackEndView", "Explorer", "View", "explore"]

FRONT_END = ("plot.js", "explorer.js", "widget.js")  # the widget's module, in this order
AUDIO_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".ogg": "audio/ogg", ".flac": "audio/flac",
               ".m4a": "audio/mp4", ".aac": "audio/aac"}
BUSY = "Analysing"  # how the message starts while the kernel analyses a file (js/src/widget.js)
FIGSIZES = {"backend": (12, 6.5), "collection": collection.FIGSIZE}  # the static figures' (others: (10, 4))


def front_end() -> str:
    """The widget's ES module: the book's explorer scripts and the widget's entry point."""
    return "\n".join((SCRIPTS / name).read_text(encoding="utf-8") for name in FRONT_END)


@dataclass(frozen=True)
class Recording:
    """A recording's data as the page reads it: the parts of :mod:`musicnn_nb.explore.web`
    (``shared``, ``MSD``, ``MTT``; meta, index and base64 packed floats) and the audio file's bytes."""

    path: Path
    parts: dict[str, dict]
    audio: bytes

    def messages(self, version: int, first_model: str = "MSD", audio: bool = True) -> list[tuple[dict, list[bytes]]]:
        """The custom messages that hand the page this data: the audio (unless ``audio`` is
        False), the shared part, the model shown first, then the other model."""
        mime = AUDIO_TYPES.get(self.path.suffix.lower(), "application/octet-stream")
        out = [({"type": "audio", "version": version, "mime": mime}, [self.audio])] if audio else []
        names = ("shared", first_model, *(m for m in MODEL_NAMES if m != first_model))
        return out + part_messages({name: self.parts[name] for name in names}, version)


def part_messages(parts: dict[str, dict], version: int) -> list[tuple[dict, list[bytes]]]:
    """One custom message per data part (a payload of :mod:`.web` or :mod:`.web_past`), in
    order: its name, meta and index, its packed bytes as the binary buffer."""
    return [({"type": "part", "version": version, "name": name, "meta": part["meta"], "index": part["index"]},
             [base64.b64decode(part["blob"])]) for name, part in parts.items()]


def recording_data(path: str | Path) -> Recording:
    """The page's data for the audio file at ``path``, computed once per file content and
    name; a :class:`MusicnnNbError` when the file cannot be analysed."""
    path = Path(path).expanduser()
    return _recording(file_digest(path), path)


@functools.lru_cache(maxsize=4)
def _recording(digest: str, path: Path) -> Recording:
    try:
        audio = path.read_bytes()
    except OSError as error:
        raise AudioError(f"{path.name} cannot be read ({error.strerror}): check the file.") from error
    analyses = {m: analyse(path, m) for m in MODEL_NAMES}
    parts = {"shared": shared_part(analyses["MSD"]), **{m: model_part(a) for m, a in analyses.items()}}
    return Recording(path, parts, audio)


def own_parts(kind: str, path: Path, store: str | None = None) -> dict[str, dict]:
    """The data a kind reads besides the recording's (:mod:`musicnn_nb.explore.web_past`), as
    the page names it: the back end's split of every logit for the recording at ``path``, or
    the summary of the collection ``store`` (default: ``$MUSICNN_NB_COLLECTION`` or the book's)."""
    if kind == "backend":
        return _backend_parts(file_digest(path), path)
    if kind == "collection":
        return _collection_parts(store)
    return {}


@functools.lru_cache(maxsize=4)
def _backend_parts(digest: str, path: Path) -> dict[str, dict]:
    return {f"backend-{m}": backend_part(analyse(path, m)) for m in MODEL_NAMES}


def own_media(kind: str, store: str | None = None) -> dict[str, bytes]:
    """The files a kind plays besides the recording, by the name its data gives them: the
    collection's examples, one MP3 each (none when its recordings cannot be read)."""
    return _collection(store).media() if kind == "collection" else {}


def media_messages(media: dict[str, bytes], version: int) -> list[tuple[dict, list[bytes]]]:
    """The files of :func:`own_media` as one custom message (none if there are none): their
    names and types, their bytes as the buffers, in that order."""
    if not media:
        return []
    mimes = [AUDIO_TYPES.get(Path(name).suffix, "application/octet-stream") for name in media]
    return [({"type": "media", "version": version, "names": list(media), "mimes": mimes}, list(media.values()))]


@functools.lru_cache(maxsize=2)
def _collection(store: str | None) -> CollectionPart:
    return collection_part(store)


def _collection_parts(store: str | None) -> dict[str, dict]:
    return {"collection": _collection(store).payload}


def one_line(error: Exception) -> str:
    return " ".join(str(error).split())


class Explorer(anywidget.AnyWidget):
    """An explorer of ``kind`` (one of :data:`musicnn_nb.explore.web.KINDS`) opening on ``view``
    of the audio file at ``path`` (default: the book's); see the module docstring. The back-end
    explorer's view is a :class:`BackEndView`; the collection explorer's (a model and a unit)
    reads the collection ``store`` (default: ``$MUSICNN_NB_COLLECTION`` or the book's) and no
    audio file."""

    _esm = traitlets.Unicode(front_end()).tag(sync=True)
    config = traitlets.Dict().tag(sync=True)  # kind, layers and first view, as the island's
    version = traitlets.Int(0).tag(sync=True)  # raised when another recording's data is ready
    path = traitlets.Unicode("").tag(sync=True)  # the file shown, as the reader would type it
    message = traitlets.Unicode("").tag(sync=True)  # one line: what went wrong, or what the kernel does

    def __init__(self, kind: str, *, path: str | Path | None = None, view: View | BackEndView | None = None,
                 layers: tuple[str, ...] | None = None, figsize: tuple[float, float] | None = None,
                 store: str | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown explorer kind {kind!r}: choose from {sorted(KINDS)}")
        if kind == "collection" and path is not None:
            raise ValueError("the collection explorer reads a collection store, not an audio file: pass store=.")
        source = Path(path) if path is not None else default_audio()
        self.kind, self.store = kind, store
        self.figsize = figsize or FIGSIZES.get(kind, (10, 4))
        extra: dict = {}
        if kind == "backend":
            if not isinstance(view, BackEndView):  # a plain View names the model and segment
                view = BackEndView(view.model, view.segment) if view else BackEndView()
            view = backend.complete(analyse(source, view.model), view)
            layers, first, extra = ("cnn1",), asdict(view), {"unit_pages": backend.UNIT_PAGES}
        elif kind == "collection":
            view = view or View()
            c = load(view.model, store)
            unit = view.unit or collection.default_unit(c.model)
            c.column(unit)
            view, layers = View(c.model, unit=unit), weights.LAYERS
            first, extra = {"model": view.model, "unit": unit}, {"collection": collection_key(c)}
        else:
            layers, view = tuple(layers or LAYERS.get(kind, ("cnn1",))), view or View()
            analysis = analyse(source, view.model)
            if kind in LAYERS:
                unit = view.unit or unit_choices(view.model, layers[0], nontrivial_only=True)[0]
                view = replace(view, unit=analysis.model.unit(unit, layers[0]).name)
            view = replace(view, segment=analysis.check_segment(view.segment))
            first = {"model": view.model, "segment": view.segment, "unit": view.unit, "vmin": view.vmin,
                     "vmax": view.vmax, "cmap": view.cmap}
        self.layers, self.view = tuple(layers), view
        self.source = source  # the file the page shows (for the collection: the book's, for colour maps and units)
        self._first = source  # the file of the static figure and the island
        self._recording: Recording | None = None
        self._own: dict[str, dict] | None = None  # own_parts of the recording shown
        self._png: bytes | None = None
        super().__init__(config={"kind": kind, "view": first, "layers": list(layers), **extra},
                         path="" if kind == "collection" else shown_path(source))
        self.on_msg(self._on_message)

    # -- what the kernel hands the page ------------------------------------------------------
    def _on_message(self, _widget, content: dict, _buffers) -> None:
        try:
            if content.get("type") == "request":
                self.send_data()
            elif content.get("type") == "open":
                self.open_file(str(content.get("path", "")))
        except MusicnnNbError as error:
            self.message = one_line(error)
        except Exception as error:  # a callback's error belongs in the page, not in the kernel's log
            self.message = f"The explorer's data could not be prepared ({type(error).__name__}: {one_line(error)})."

    def send_data(self) -> None:
        """Send the page the current recording's data and the kind's own (computed on the first
        request)."""
        if self._recording is None:
            self._recording = recording_data(self.source)
        if self._own is None:
            self._own = own_parts(self.kind, self._recording.path, self.store)
        messages = self._recording.messages(self.version, self.view.model, audio=self.kind != "collection")
        media = media_messages(own_media(self.kind, self.store), self.version)
        for content, buffers in messages + part_messages(self._own, self.version) + media:
            self.send(content, buffers)

    def open_file(self, path: str | Path) -> bool:
        """Analyse another file and have the page show it; on failure keep the current one, say
        why in the message line and return False."""
        if self.kind == "collection":
            self.message = "The collection explorer reads its collection store, not an audio file: the view stays."
            return False
        self.message = f"{BUSY} {shown_path(path)} with both models…"
        try:
            recording = recording_data(path)
            own = own_parts(self.kind, recording.path, self.store)
        except MusicnnNbError as error:
            self.message = f"{one_line(error)} The explorer stays on {Path(self.source).name}."
            return False
        self.source, self._recording, self._own = recording.path, recording, own
        with self.hold_sync():
            self.path, self.message = shown_path(recording.path), ""
            self.version += 1  # the page asks for the new data
        return True

    # -- what the notebook keeps -------------------------------------------------------------
    def figure(self) -> Figure:
        """The static default figure: the first view, drawn once with matplotlib."""
        fig = Figure(figsize=self.figsize, layout="constrained", dpi=PNG_DPI)
        if self.kind == "collection":
            collection.unit_figure(load(self.view.model, self.store), self.view.unit, fig)
        elif self.kind == "backend":
            backend.draw(fig, analyse(self._first, self.view.model), self.view)
        else:
            FIGURES[self.kind](fig, analyse(self._first, self.view.model), self.view)
        whole_ticks(fig)
        return fig

    def png(self) -> bytes:
        if self._png is None:
            buffer = io.BytesIO()
            self.figure().savefig(buffer, format="png")
            self._png = buffer.getvalue()
        return self._png

    def island(self) -> str:
        """The element from which the built page's script draws this explorer (see
        :mod:`musicnn_nb.explore.web`)."""
        extra = {k: v for k, v in self.config.items() if k not in ("kind", "view", "layers")}
        return island_html(self.kind, recording_key(self._first), self.config["view"], self.layers,
                           self._first.suffix.lower(), extra)

    def _repr_mimebundle_(self, **kwargs):
        data, metadata = super()._repr_mimebundle_(**kwargs)
        data["image/png"] = base64.b64encode(self.png()).decode("ascii")
        data["text/plain"] = self.describe()
        return data, metadata

    def describe(self) -> str:
        """The default view in words: the text form of the widget, and the alt text of its
        static figure in the book."""
        view = self.config["view"]
        of = "the collection" if self.kind == "collection" else self._first.name
        shown = [f"{key} {view[key]}" for key in ("model", "segment", "tag", "row", "unit")
                 if view.get(key) is not None]
        if "vmin" in view:
            shown.append("an automatic colour scale" if view["vmin"] is None or view.get("vmax") is None
                         else f"colours from {view['vmin']:.3g} to {view['vmax']:.3g}")
        name = {"midend": "mid-end", "backend": "back-end"}.get(self.kind, self.kind)
        return (f"The {name} explorer of {of} at its default view ({', '.join(shown)}); with a Jupyter "
                "kernel, or JavaScript in the book, its controls change the view.")

    def show(self) -> None:
        """Display the island, then the widget (with its static default figure)."""
        display(HTML(self.island()))
        display(self)


def explore(kind: str, **options) -> None:
    """Build and show an :class:`Explorer`: the one line a chapter needs. (To keep a handle
    on it in a live session, use ``explorer = Explorer(kind, ...); explorer.show()``.)"""
    Explorer(kind, **options).show()
