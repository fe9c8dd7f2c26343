"""The explorers in the built book: data the page computes its views from, and the island
that tells the page's script which explorer to draw.

The built HTML has no Python behind it, so each explorer's view is computed in the reader's
browser (``js/src/explorer.js``) from arrays the build writes once per book, next to the
pages, as classic scripts (``_static/explore/<recording>.<part>.js``): a script loads from
``file://`` as well as over http, where ``fetch`` of a local file does not. The shared part
holds M_dB of every segment (the same for both models) and the colour maps; one part per
model holds its input batch-norm (M̂_dB is an affine map of M_dB), every unit's kernel,
bias and batch-norm, U (rows constant over the recording stored as one number), V̂_1-V̂_3
and the taggram. The page computes what is cheap (a CNN_1 unit's maps, a mid-end unit's
series) and reads the rest. Chapters 13 and 14's explorers add their own data
(:mod:`musicnn_nb.explore.web_past`).

A chapter's explorer cell prints an island (:func:`island_html`): an empty element naming
the kind of explorer, its layers and its first view. With JavaScript off, or in a live
kernel, it is invisible: the static figure stays, or the kernel's widget
(:mod:`musicnn_nb.explore.widgets`) shows the same explorer with data the kernel sends.
"""

from __future__ import annotations

import base64
import json
import shutil
import zlib
from dataclasses import asdict
from html import escape
from pathlib import Path

import numpy as np
from matplotlib import colormaps

from musicnn_nb.facts.units import nontrivial_units
from musicnn_nb.model.audio import default_audio, file_digest
from musicnn_nb.model.network import cnn1_group_maps
from musicnn_nb.model.pipeline import Analysis, analyse
from musicnn_nb.model.spectrogram import FRAME_SECONDS, HOP, SAMPLE_RATE, SEGMENT_FRAMES, mel_center_hz
from musicnn_nb.model.weights import GROUPS, LAYERS, Model, unit_name
from musicnn_nb.present.plots import COLORMAPS, DIVERGING, SEQUENTIAL

KINDS = ("unit", "midend", "input", "taggram", "segmentation", "backend", "collection")  # the last two: web_past
MODEL_NAMES = ("MSD", "MTT")
REGISTRY = "musicnnExplore"  # the global the data scripts fill
KEY_CHARS = 16


def recording_key(path: str | Path | None = None) -> str:
    """A short name for a recording's content (never its path): the data files' prefix."""
    return file_digest(path if path is not None else default_audio())[:KEY_CHARS]


class Blob:
    """Float32 arrays packed into one little-endian buffer, with an index of name -> (offset, shape).

    The buffer ships compressed: its bytes regrouped by position in the float (all first bytes,
    then all second bytes ...: exponents repeat, so they compress well), then deflated (zlib),
    then base64. That takes about 40 % off the book's data; the page inflates it with the
    browser's DecompressionStream."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.index: dict[str, list] = {}
        self.offset = 0  # in float32 elements

    def add(self, name: str, array: np.ndarray) -> None:
        data = np.ascontiguousarray(array, dtype="<f4")
        self.index[name] = [self.offset, list(data.shape)]
        self.parts.append(data.tobytes())
        self.offset += data.size

    def payload(self, meta: dict) -> dict:
        grouped = np.frombuffer(b"".join(self.parts), np.uint8).reshape(-1, 4).T.tobytes()
        return {"meta": meta, "index": self.index, "blob": base64.b64encode(zlib.compress(grouped, 9)).decode("ascii")}


def shared_part(a: Analysis) -> dict:
    """What both models' views share: the recording's M_dB, segment times, mel axis, colour maps."""
    blob = Blob()
    blob.add("M_dB", a.M_dB)
    luts = {name: np.round(colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(int).ravel().tolist()
            for name in COLORMAPS}
    meta = {"n_segments": a.n_segments, "segment_start_s": a.segment_start_s.tolist(),
            "segment_seconds": SEGMENT_FRAMES * HOP / SAMPLE_RATE, "frame_seconds": FRAME_SECONDS,
            "frames": SEGMENT_FRAMES, "mel_hz": mel_center_hz().tolist(), "file": a.path.name,
            "colormaps": luts, "diverging": DIVERGING, "sequential": SEQUENTIAL,
            "groups": [asdict(g) for g in GROUPS]}
    return blob.payload(meta)


def _range(values: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    return np.stack([values.min(axis=axis), values.max(axis=axis)], axis=-1)


def model_part(a: Analysis) -> dict:
    """One model's parameters and the intermediates a view reads rather than computes."""
    model: Model = a.model
    blob = Blob()
    units: dict[str, dict] = {}
    for layer in LAYERS:
        rows = []
        for group in (g for g in GROUPS if g.layer == layer):
            bn = model.batch_norm(group.bn)
            blob.add(f"kernel/{group.name}/{layer}", model.kernels(group))  # units x rows x frames
            for key, values in (("bias", model.variables[f"{group.conv}/bias"]), ("scale", bn.scale),
                                ("shift", bn.shift), ("gamma", bn.gamma), ("beta", bn.beta),
                                ("mean", bn.mean), ("variance", bn.variance)):
                blob.add(f"{key}/{group.name}/{layer}", values)
            if layer == "cnn1":  # the pre-activation's range over the whole recording, per unit
                pre = np.stack([_unit_range(a, group, s) for s in range(a.n_segments)])  # (S, units, 2)
                whole = np.stack([pre[..., 0].min(0), pre[..., 1].max(0)], -1)
                blob.add(f"pre_range/{group.name}/{layer}", whole)
            rows.append(model.norms(layer)[group.first_row:group.stop_row])
        units[layer] = {"nontrivial": list(nontrivial_units(model, layer).rows),
                        "norm": np.concatenate(rows).tolist()}
    u = a.U
    varying = np.flatnonzero(u.max(axis=(0, 2)) != u.min(axis=(0, 2)))
    blob.add("U_constant", u[0, :, 0])
    blob.add("U_varying", u[:, varying, :])
    for name in ("V1_hat", "V2_hat", "V3_hat"):
        blob.add(name, a.arrays[name])
    for group in (g for g in GROUPS if g.layer != "cnn1"):
        runs = np.array([[_series(a, unit_name(group, i), s) for i in range(group.size)]
                         for s in range(a.n_segments)])  # (S, units, 3 series, 187)
        layer = group.layer
        blob.add(f"series_range/{layer}", _range(runs, (0, 3)))  # (64, 3 series, 2)
    blob.add("taggram", a.taggram)
    blob.add("input_bn", np.array([model.input_bn.scale[0], model.input_bn.shift[0]]))
    meta = {"model": model.name, "tags": list(model.tags), "U_varying_rows": varying.tolist(), "units": units}
    return blob.payload(meta)


def _unit_range(a: Analysis, group, segment: int) -> np.ndarray:
    """(units, 2): min and max of every unit's pre-activation in a group on one segment."""
    pre = cnn1_group_maps(a.model, group, a.M_hat[segment])[0]
    return _range(pre, (1, 2))


def _series(a: Analysis, unit: str, segment: int) -> np.ndarray:
    run = a.midend_unit(unit, segment)
    return np.stack([run.pre_activation, run.V, run.V_hat])


def part_file(owner: str, part: str) -> str:
    """The file of a data part in ``_static/explore``: ``<owner>.<part>.js``, where the owner is
    a recording's key (parts "shared", a model, "backend-<model>") or "collection" (part: the
    collection's key). Its script registers the payload as ``<owner>/<part>`` (see explorer.js)."""
    return f"{owner}.{part}.js"


def write_part(folder: Path, owner: str, part: str, payload: dict) -> Path:
    """Write one data part's script (:func:`part_file`) into ``folder``; returns its path."""
    target = folder / part_file(owner, part)
    target.write_text(f"(window.{REGISTRY} = window.{REGISTRY} || {{}})[{json.dumps(f'{owner}/{part}')}] = "
                      f"{json.dumps(payload, separators=(',', ':'))};\n", encoding="ascii")
    return target


def write_data(folder: str | Path, path: str | Path | None = None) -> list[Path]:
    """Write the explorers' data for the recording at ``path`` (default: the book's audio) into
    ``folder``: ``<key>.shared.js``, ``<key>.MSD.js``, ``<key>.MTT.js`` and the audio itself.
    Returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(path) if path is not None else default_audio()
    key = recording_key(path)
    analyses = {m: analyse(path, m) for m in MODEL_NAMES}
    written = [write_part(folder, key, part, payload)
               for part, payload in (("shared", shared_part(analyses["MSD"])),
                                     *((m, model_part(a)) for m, a in analyses.items()))]
    audio = folder / f"{key}{path.suffix.lower()}"
    shutil.copyfile(path, audio)
    return [*written, audio]


def island_html(kind: str, recording: str, view: dict, layers: tuple[str, ...], audio_suffix: str,
                extra: dict | None = None) -> str:
    """The element a chapter's explorer cell prints for the page's script (see the module docstring);
    ``extra`` adds entries a kind needs (the collection explorer's data key)."""
    if kind not in KINDS:
        raise ValueError(f"unknown explorer kind {kind!r}: choose from {KINDS}")
    config = {"kind": kind, "recording": recording, "audio": audio_suffix, "view": view, "layers": list(layers),
              **(extra or {})}
    return f'<div class="musicnn-explorer" data-explorer="{escape(json.dumps(config))}"></div>'


def first_parts(config: dict) -> list[str]:
    """The data files (in ``_static/explore``) that the explorer of an island with ``config``
    reads before its first view: the recording's shared part and its first model's, and the back
    end's parts (both models: it loads them together) or the collection's. A page loads them as
    deferred scripts of its own, which arrive while the page is parsed rather than after its
    scripts have run."""
    recording, model = config["recording"], config["view"].get("model") or MODEL_NAMES[0]
    parts = [part_file(recording, "shared"), part_file(recording, model)]
    if config["kind"] == "backend":
        parts += [part_file(recording, f"backend-{m}") for m in MODEL_NAMES]
    elif config["kind"] == "collection":
        parts.append(part_file("collection", config["collection"]))
    return parts


SCRIPTS = Path(__file__).resolve().parents[2] / "js" / "src"  # the explorers' front end
SCRIPT_NAMES = ("plot.js", "explorer.js")  # in loading order


def install(folder: str | Path, path: str | Path | None = None) -> list[Path]:
    """Put the front end and the data of the recording at ``path`` into ``folder`` (the
    book's ``_static/explore``). Returns the files written."""
    folder = Path(folder)
    written = write_data(folder, path)
    for name in SCRIPT_NAMES:
        shutil.copyfile(SCRIPTS / name, folder / name)
        written.append(folder / name)
    return written


def standalone_page(folder: str | Path, islands: list[str], path: str | Path | None = None,
                    title: str = "explorers") -> Path:
    """A page with the given islands and everything they need, in ``folder``: for the browser
    test and the benchmark, which need an explorer without building the book."""
    folder = Path(folder)
    install(folder / "explore", path)
    scripts = "".join(f'<script src="explore/{name}"></script>' for name in SCRIPT_NAMES)
    page = folder / "index.html"
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
                    f"<title>{escape(title)}</title></head><body>{''.join(islands)}{scripts}</body></html>",
                    encoding="utf-8")
    return page
