"""Explorers: one implementation, computed in the reader's browser, in Jupyter and in the book.

An explorer's views (model, segment, unit, colour scale) are computed and drawn by
``js/src/explorer.js`` from the data of :mod:`musicnn_nb.explore.web`. A chapter's explorer
cell (:func:`explore`) prints two outputs:

* the island, an empty element from which the built page's script draws the explorer, with
  the data the book build wrote once beside the pages; invisible in Jupyter;
* the :class:`Explorer` widget (anywidget), whose front end is the same script: in Jupyter
  or Binder it asks the kernel for the recording's data when it renders, and its audio-file
  box has the kernel analyse another file. The same output carries the static default
  figure (a matplotlib PNG, drawn once by :mod:`musicnn_nb.explore.figures`), which the
  book shows in place of the widget: with JavaScript off it is what the reader sees.

The widget's saved state is its configuration, the data version, the path of the file shown
and a one-line message; the data travels as custom messages with binary buffers, sent only
when a view asks, so a widget that never renders carries none.
"""

from __future__ import annotations

import base64
import functools
import io
from dataclasses import dataclass, replace
from pathlib import Path

import anywidget
import traitlets
from IPython.display import HTML, display
from matplotlib.figure import Figure

from musicnn_nb.explore.common import PNG_DPI, shown_path, unit_choices
from musicnn_nb.explore.figures import FIGURES, LAYERS, View, whole_ticks
from musicnn_nb.explore.web import MODEL_NAMES, SCRIPTS, island_html, model_part, recording_key, shared_part
from musicnn_nb.model.audio import default_audio, file_digest
from musicnn_nb.model.errors import AudioError, MusicnnNbError
from musicnn_nb.model.pipeline import analyse

__all__ = ["Explorer", "View", "explore"]

FRONT_END = ("plot.js", "explorer.js", "widget.js")  # the widget's module, in this order
AUDIO_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".ogg": "audio/ogg", ".flac": "audio/flac",
               ".m4a": "audio/mp4", ".aac": "audio/aac"}
BUSY = "Analysing"  # how the message starts while the kernel analyses a file (js/src/widget.js)


def front_end() -> str:
    """The widget's ES module: the book's explorer scripts and the widget's entry point."""
    return "\n".join((SCRIPTS / name).read_text(encoding="utf-8") for name in FRONT_END)


@dataclass(frozen=True)
class Recording:
    """A recording's data as the page reads it: the parts of :mod:`musicnn_nb.explore.web`
    (``shared``, ``MSD``, ``MTT``; meta, index and packed floats) and the audio file's bytes."""

    path: Path
    parts: dict[str, dict]
    packed: dict[str, bytes]
    audio: bytes

    def messages(self, version: int, first_model: str = "MSD") -> list[tuple[dict, list[bytes]]]:
        """The custom messages that hand the page this data: the audio, the shared part, the
        model shown first, then the other model."""
        mime = AUDIO_TYPES.get(self.path.suffix.lower(), "application/octet-stream")
        out: list[tuple[dict, list[bytes]]] = [({"type": "audio", "version": version, "mime": mime}, [self.audio])]
        for name in ("shared", first_model, *(m for m in MODEL_NAMES if m != first_model)):
            part = self.parts[name]
            out.append(({"type": "part", "version": version, "name": name, "meta": part["meta"],
                         "index": part["index"]}, [self.packed[name]]))
        return out


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
    packed = {name: base64.b64decode(part["blob"]) for name, part in parts.items()}
    return Recording(path, parts, packed, audio)


def one_line(error: Exception) -> str:
    return " ".join(str(error).split())


class Explorer(anywidget.AnyWidget):
    """An explorer of ``kind`` (a key of :data:`musicnn_nb.explore.figures.FIGURES`) opening on
    ``view`` of the audio file at ``path`` (default: the book's); see the module docstring."""

    _esm = traitlets.Unicode(front_end()).tag(sync=True)
    config = traitlets.Dict().tag(sync=True)  # kind, layers and first view, as the island's
    version = traitlets.Int(0).tag(sync=True)  # raised when another recording's data is ready
    path = traitlets.Unicode("").tag(sync=True)  # the file shown, as the reader would type it
    message = traitlets.Unicode("").tag(sync=True)  # one line: what went wrong, or what the kernel does

    def __init__(self, kind: str, *, path: str | Path | None = None, view: View | None = None,
                 layers: tuple[str, ...] | None = None, figsize: tuple[float, float] = (10, 4)):
        if kind not in FIGURES:
            raise ValueError(f"unknown explorer kind {kind!r}: choose from {sorted(FIGURES)}")
        layers, view = tuple(layers or LAYERS.get(kind, ("cnn1",))), view or View()
        source = Path(path) if path is not None else default_audio()
        analysis = analyse(source, view.model)
        if kind in LAYERS:
            unit = view.unit or unit_choices(view.model, layers[0], nontrivial_only=True)[0]
            view = replace(view, unit=analysis.model.unit(unit, layers[0]).name)
        self.kind, self.layers, self.figsize = kind, layers, figsize
        self.view = replace(view, segment=analysis.check_segment(view.segment))
        self.source = source  # the file the page shows
        self._first = source  # the file of the static figure and the island
        self._recording: Recording | None = None
        self._png: bytes | None = None
        v = self.view
        first = {"model": v.model, "segment": v.segment, "unit": v.unit, "vmin": v.vmin, "vmax": v.vmax, "cmap": v.cmap}
        super().__init__(config={"kind": kind, "view": first, "layers": list(layers)}, path=shown_path(source))
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
        """Send the page the current recording's data (computed on the first request)."""
        if self._recording is None:
            self._recording = recording_data(self.source)
        for content, buffers in self._recording.messages(self.version, self.view.model):
            self.send(content, buffers)

    def open_file(self, path: str | Path) -> bool:
        """Analyse another file and have the page show it; on failure keep the current one, say
        why in the message line and return False."""
        self.message = f"{BUSY} {shown_path(path)} with both models…"
        try:
            recording = recording_data(path)
        except MusicnnNbError as error:
            self.message = f"{one_line(error)} The explorer stays on {Path(self.source).name}."
            return False
        self.source, self._recording = recording.path, recording
        with self.hold_sync():
            self.path, self.message = shown_path(recording.path), ""
            self.version += 1  # the page asks for the new data
        return True

    # -- what the notebook keeps -------------------------------------------------------------
    def figure(self) -> Figure:
        """The static default figure: the first view, drawn once with matplotlib."""
        fig = Figure(figsize=self.figsize, layout="constrained", dpi=PNG_DPI)
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
        return island_html(self.kind, recording_key(self._first), self.config["view"], self.layers,
                           self._first.suffix.lower())

    def _repr_mimebundle_(self, **kwargs):
        data, metadata = super()._repr_mimebundle_(**kwargs)
        data["image/png"] = base64.b64encode(self.png()).decode("ascii")
        data["text/plain"] = f"{self.kind} explorer of {self._first.name} (needs a Jupyter kernel with widgets)"
        return data, metadata

    def show(self) -> None:
        """Display the island, then the widget (with its static default figure)."""
        display(HTML(self.island()))
        display(self)


def explore(kind: str, **options) -> None:
    """Build and show an :class:`Explorer`: the one line a chapter needs. (To keep a handle
    on it in a live session, use ``explorer = Explorer(kind, ...); explorer.show()``.)"""
    Explorer(kind, **options).show()
