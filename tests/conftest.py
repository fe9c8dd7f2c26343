"""Shared fixtures: the Agg backend and no figure left open, the real-music clip, a private
cache, and both models both ways."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: tests draw off screen

import matplotlib.pyplot as plt
import numpy as np
import pytest
import soundfile
import yaml

from musicnn_nb.model.weights import Model

CLIP = Path(__file__).parent / "data" / "joram-moments_of_clarity-08-solipsism-59-88.mp3"
README_MTT_TOP10 = ["techno", "electronic", "synth", "fast", "beat", "drums", "no vocals",
                    "no vocal", "dance", "ambient"]  # musicnn's README, for CLIP


def with_variables(model: Model, **changes: np.ndarray) -> Model:
    """A copy of ``model`` with some checkpoint variables replaced (keys use '/' as '__')."""
    variables = dict(model.variables)
    variables.update({k.replace("__", "/"): v for k, v in changes.items()})
    return Model(model.name, variables, model.folder)


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test leaves open, so that none outlives its test."""
    yield
    plt.close("all")


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory):
    """Every test session starts from an empty disk cache of its own."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MUSICNN_NB_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def clip() -> Path:
    return CLIP


@pytest.fixture(scope="session", params=["MSD", "MTT"])
def model_name(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def analysis(model_name, private_cache):
    from musicnn_nb import analyse

    return analyse(CLIP, model_name)


@pytest.fixture(scope="session")
def reference(model_name, analysis):
    """The original musicnn graph's tensors on the same M_dB, every segment."""
    from reference import ReferenceGraph

    graph = ReferenceGraph(model_name)
    return graph, graph.run(analysis.M_dB)


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    soundfile.write(path, samples, rate, subtype="FLOAT" if samples.dtype.kind == "f" else "PCM_16")
    return path


def music_like(seconds: float, rate: int = 16000, channels: int = 1, seed: int = 0) -> np.ndarray:
    """A decaying-tone 'beat' plus noise: enough structure to exercise every layer."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    beat = np.exp(-8 * (t % 0.5)) * np.sin(2 * np.pi * 220 * t)
    mono = (0.3 * beat + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    return mono if channels == 1 else np.stack([mono, 0.5 * mono], axis=1)


def match(heard: np.ndarray, truth: np.ndarray, rate: int = 16000) -> tuple[float, int]:
    """How well decoded audio ``heard`` plays ``truth``: their correlation at the lag, up to 0.1 s
    (an MP3 encoder's delay), where they agree best, and that lag in samples."""
    scores = np.correlate(heard[: truth.size + rate // 10], truth, "valid")
    lag = int(np.argmax(scores))
    return float(np.corrcoef(heard[lag : lag + truth.size], truth)[0, 1]), lag


def decode(data: bytes) -> np.ndarray:
    """An audio file's bytes (an MP3) decoded to float32 samples."""
    with soundfile.SoundFile(io.BytesIO(data)) as f:
        return f.read(dtype="float32")


ROOT = Path(__file__).resolve().parents[1]
PREVIEW = ROOT / "scripts" / "preview_chapter.py"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def chapters() -> list[str]:
    """The chapter files of the table of contents, e.g. ``book/03_input``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [c["file"] for part in toc.get("parts", []) for c in part["chapters"]]


def build(source: Path, output: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER_BOOK), "build", str(source), "--path-output", str(output)],
                          capture_output=True, text=True, env={**os.environ, **env})


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """The whole book built from scratch (every chapter executed) into a scratch folder; or,
    while developing, the ``_build/html`` that ``$MUSICNN_NB_BUILT_BOOK`` names."""
    if os.environ.get("MUSICNN_NB_BUILT_BOOK"):
        return Path(os.environ["MUSICNN_NB_BUILT_BOOK"])
    out = tmp_path_factory.mktemp("book")
    result = build(ROOT, out)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out / "_build" / "html"


def execute_chapter(python: str, chapter: Path, folder: Path, env: dict) -> subprocess.CompletedProcess:
    """Execute a MyST chapter with ``python``'s Jupyter stack, as the book build would; the
    executed notebook is ``folder / (chapter stem + '.ipynb')``."""
    return subprocess.run([python, str(PREVIEW), str(chapter), str(folder)], capture_output=True, text=True, env=env)


@pytest.fixture(scope="session")
def small_collection(tmp_path_factory):
    """A two-recording collect store (the shipped example and CLIP), MSD only."""
    from musicnn_nb.model.audio import shipped_example
    from musicnn_nb.model.collect import collect

    folder = tmp_path_factory.mktemp("collection")
    (folder / "example.flac").write_bytes(shipped_example().read_bytes())
    (folder / "clip.mp3").write_bytes(CLIP.read_bytes())
    return collect(folder, tmp_path_factory.mktemp("store") / "s", ["MSD"], workers=1, progress=False)


@pytest.fixture(scope="session")
def two_model_collection(tmp_path_factory):
    """A collect store of the same two recordings for both models (the page's collection explorer)."""
    from musicnn_nb.model.audio import shipped_example
    from musicnn_nb.model.collect import collect

    folder = tmp_path_factory.mktemp("collection2")
    (folder / "example.flac").write_bytes(shipped_example().read_bytes())
    (folder / "clip.mp3").write_bytes(CLIP.read_bytes())
    return collect(folder, tmp_path_factory.mktemp("store") / "s", ["MSD", "MTT"], workers=1, progress=False)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for a module of browser tests (see tests/chromium.py)."""
    from chromium import launch

    with launch() as b:
        yield b
