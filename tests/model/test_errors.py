"""Bad input gets a clear error that says what is wrong and what to do."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import music_like, write_wav

from musicnn_nb import AudioError, ModelError, MusicnnNotInstalledError, SelectionError, analyse, load_model
from musicnn_nb.model.weights import _load, locate_unit


def cli(*args: str, prelude: str = "") -> subprocess.CompletedProcess:
    code = f"{prelude}\nimport sys\nfrom musicnn_nb.__main__ import main\nsys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture
def files(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    nan = music_like(4.0)
    nan[1000] = np.nan
    return {
        "missing": tmp_path / "nothing-here.wav",
        "folder": tmp_path,
        "unreadable": text,
        "short": write_wav(tmp_path / "short.wav", music_like(1.5)),
        "silent": write_wav(tmp_path / "silent.wav", np.zeros(16000 * 4, np.float32)),
        "nan": write_wav(tmp_path / "nan.wav", nan),
    }


@pytest.mark.parametrize("case, words", [
    ("missing", ["no audio file", "nothing-here.wav", "check the path"]),
    ("folder", ["no audio file", "a folder"]),
    ("unreadable", ["could not read", "notes.wav", "choose another file"]),
    ("short", ["1.50 s", "shorter than one segment", "use a longer file"]),
    ("silent", ["silent", "choose a file with sound"]),
    ("nan", ["NaN", "re-export"]),
])
def test_bad_audio_raises_audio_error_and_cli_prints_one_line(files, case, words):
    with pytest.raises(AudioError) as raised:
        analyse(files[case], "MSD")
    for word in words:
        assert word in str(raised.value)
    assert_one_line_error(cli("tags", str(files[case]), "--model", "MSD"), *words)


def test_stereo_at_another_rate_works(tmp_path):
    path = write_wav(tmp_path / "stereo44k.wav", music_like(7.0, rate=44100, channels=2), 44100)
    a = analyse(path, "MTT")
    assert a.n_segments == 2 and a.audio.channels == 2 and a.audio.native_rate == 44100
    assert a.U.shape == (2, 561, 187) and np.all(np.isfinite(a.taggram))


def test_unknown_model(clip):
    with pytest.raises(ModelError, match="unknown model 'GTZAN': choose one of MSD, MTT"):
        analyse(clip, "GTZAN")
    with pytest.raises(ModelError, match="not shipped"):
        load_model("MSD_musicnn_big")
    assert load_model("mtt_musicnn") is load_model("MTT")
    assert_one_line_error(cli("tags", str(clip), "--model", "VGG"), "unknown model")


@pytest.mark.parametrize("unit, layer, message", [
    (561, "cnn1", "cnn1 has units 0 to 560"),
    (-1, "cnn4", "cnn4 has units 0 to 63"),
    ("cnn1/38x7/300", None, "in group 67x7, not 38x7: its name is cnn1/67x7/300"),
    ("cnn5/64x7/3", None, "unknown layer 'cnn5'"),
    ("cnn1-38x7-12", None, "needs a layer"),
    ("cnn2/561x7", None, "not of the form layer/group/index"),
])
def test_wrong_unit(unit, layer, message):
    with pytest.raises(SelectionError, match=message.replace("(", r"\(")):
        locate_unit(unit, layer)


def test_wrong_segment_or_non_cnn1_unit_map(analysis):
    with pytest.raises(SelectionError, match=f"segments 0 to {analysis.n_segments - 1}"):
        analysis.unit_maps("cnn1/38x7/12", analysis.n_segments)
    with pytest.raises(SelectionError):
        analysis.segment_samples(-1)
    with pytest.raises(SelectionError, match="cnn1 has units 0 to 560"):
        analysis.unit_maps("cnn1/38x7/600", 0)
    with pytest.raises(SelectionError, match="in group 1x32, not 38x7"):
        analysis.unit_maps("cnn1/38x7/530", 0)


def test_wrong_hop_and_top(clip):
    with pytest.raises(SelectionError, match="whole number of frames"):
        analyse(clip, "MSD", hop_frames=0)
    assert_one_line_error(cli("tags", str(clip), "--top", "0"), "--top must be at least 1")


def test_musicnn_not_installed(clip, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "musicnn" else real_find_spec(name, *a))
    _load.cache_clear()
    with pytest.raises(MusicnnNotInstalledError, match=r"pip install --no-deps musicnn==0\.1\.0"):
        analyse(clip, "MSD")
    monkeypatch.undo()
    _load.cache_clear()
    hide = "import sys; sys.modules['musicnn'] = None"
    assert_one_line_error(cli("tags", str(clip), "--model", "MSD", prelude=hide),
                          "musicnn is not installed", "pip install --no-deps musicnn==0.1.0")
