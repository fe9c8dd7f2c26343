"""Bad input, faults and long audio (issue 12): never a silent NaN, a lost file or a stuck cache.

Each case asserts the message, the exit status and that no earlier file was lost.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import music_like, write_wav

from musicnn_nb import AudioError, SelectionError, analyse
from musicnn_nb.model import cache, files, pipeline
from musicnn_nb.model.audio import load_audio
from musicnn_nb.model.errors import CacheWarning, SettingError, SizeWarning
from musicnn_nb.model.spectrogram import FLOAT16_MAX, MIN_SAMPLES, log_compress, mel_power
from musicnn_nb.model.weights import load_model

CLI = [sys.executable, "-m", "musicnn_nb"]


def run(*args: str, prelude: str = "", **kwargs) -> subprocess.CompletedProcess:
    """The CLI in a fresh process (``prelude`` runs first, to inject a fault)."""
    code = f"{prelude}\nimport sys\nfrom musicnn_nb.__main__ import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, **kwargs)


def one_line_error(result: subprocess.CompletedProcess, *words: str, status: int = 2) -> str:
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def temps(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


@pytest.fixture
def song(tmp_path) -> Path:
    return write_wav(tmp_path / "song.wav", music_like(3.5, seed=3))


@pytest.fixture
def previous(tmp_path, song) -> tuple[Path, bytes]:
    """A good earlier output of ``extract`` (and the disk cache primed, so faults hit the output)."""
    out = tmp_path / "out" / "features.npz"
    out.parent.mkdir()
    done = subprocess.run([*CLI, "extract", str(song), "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out, out.read_bytes()


def assert_intact(out: Path, content: bytes) -> None:
    assert out.read_bytes() == content
    with np.load(out) as saved:
        assert len(saved.files) == 19 and np.isfinite(saved["W"]).all()


# 1. Silent NaN: audio too loud for the 2019 float16 pre-processing.

def test_too_loud_audio_is_refused_with_level_limit_and_remedy(tmp_path):
    loud = write_wav(tmp_path / "int16-as-float.wav", music_like(3.5) * np.float32(32767))
    with pytest.raises(AudioError) as raised:
        analyse(loud, "MSD")
    for words in ("too loud", "dBFS", "65504", "normalise", "--normalise"):
        assert words in str(raised.value)
    one_line_error(run("tags", str(loud)), "too loud", "int16-as-float.wav", "dBFS")
    scaled = analyse(loud, "MSD", normalise=True)
    assert np.isfinite(scaled.taggram).all() and np.abs(scaled.audio.samples).max() == pytest.approx(1, abs=1e-6)
    ok = run("tags", str(loud), "--normalise", "--top", "3")
    assert ok.returncode == 0 and "nan" not in ok.stdout and len(ok.stdout.splitlines()) == 4, ok.stderr


def test_full_scale_audio_never_overflows():
    """The limit can only be reached far above full scale: the remedy (peak 1.0) always works."""
    t = np.arange(16000 * 3) / 16000
    for signal_ in (np.sign(np.sin(2 * np.pi * f * t)) for f in (31.25, 60, 250, 1000, 4000)):
        assert mel_power(signal_.astype(np.float32)).max() < FLOAT16_MAX / 10
    noise = np.sign(np.random.default_rng(0).standard_normal(t.size)).astype(np.float32)
    assert np.isfinite(log_compress(mel_power(noise))).all()


# 2. extract -o never destroys the previous output.

SLOW_SAVEZ = """
import os, time, numpy as np
def slow(file, **arrays):
    file.write(b"PK\\x03\\x04 half an npz")
    file.flush()
    open(os.environ["READY"], "w").close()
    time.sleep(120)
np.savez = slow
"""


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_killed_extract_leaves_previous_output(previous, song, tmp_path, how):
    out, content = previous
    ready = tmp_path / "ready"
    code = f"{SLOW_SAVEZ}\nimport sys\nfrom musicnn_nb.__main__ import main\nsys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "extract", str(song), "-o", str(out)],
                            env={**os.environ, "READY": str(ready)}, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not ready.exists():
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.1)
    assert len(temps(out.parent)) == 1  # the write goes to a temporary file
    proc.send_signal(how)
    proc.wait(30)
    assert_intact(out, content)
    if how == signal.SIGTERM:  # unwinds: the temporary file is removed at once
        assert proc.returncode == 128 + signal.SIGTERM and temps(out.parent) == []
    else:  # a killed write leaves it; the next write to the folder removes it
        assert len(temps(out.parent)) == 1
        again = subprocess.run([*CLI, "extract", str(song), "-o", str(out)], capture_output=True, text=True)
        assert again.returncode == 0 and temps(out.parent) == [], again.stderr
        assert_intact(out, content)


def test_full_disk_names_the_path_and_keeps_the_previous_output(previous, song):
    out, content = previous
    full = """
import errno, numpy as np
def full(file, **arrays):
    file.write(b"x" * 1000)
    raise OSError(errno.ENOSPC, "No space left on device")
np.savez = full
"""
    one_line_error(run("extract", str(song), "-o", str(out), prelude=full), str(out), "no space left",
                   "unchanged")
    assert_intact(out, content)
    assert temps(out.parent) == []


def test_file_size_limit_keeps_the_previous_output(previous, song):
    out, content = previous
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # noqa: E731 (ulimit -f 100)
    result = subprocess.run([*CLI, "extract", str(song), "-o", str(out)], capture_output=True, text=True,
                            preexec_fn=limit)
    one_line_error(result, str(out), "file size limit")
    assert_intact(out, content)
    assert temps(out.parent) == []


def test_output_folder_empty_name_and_folder_target(previous, song, tmp_path):
    out, content = previous
    never = "import musicnn_nb.model.pipeline as p\np.analyse = lambda *a, **k: 1 / 0"  # checked before analysing
    one_line_error(run("extract", str(song), "-o", str(tmp_path / "no" / "x.npz"), prelude=never),
                   "does not exist", str(tmp_path / "no"))
    one_line_error(run("extract", str(song), "-o", "", prelude=never), "-o needs a file name")
    into = run("extract", str(song), "-o", str(out.parent))
    assert into.returncode == 0, into.stderr
    with np.load(out.parent / "song.npz") as saved:
        assert "W" in saved.files
    assert not (tmp_path / "out.npz").exists() and not list(tmp_path.glob(".npz"))
    assert_intact(out, content)


# 3. A corrupt cache entry is a miss: recomputed, replaced, reported once.

def _corrupt(entry: Path, how: str) -> None:
    data = bytearray(entry.read_bytes())
    if how == "truncated":
        entry.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "bit-flipped":
        data[len(data) // 3] ^= 0x10
        entry.write_bytes(bytes(data))
    else:  # a complete zip with only the first arrays (an interrupted numpy.savez of old)
        with np.load(entry) as stored:
            first = {k: stored[k] for k in ("M_dB", "M_hat", "U")}
        with open(entry, "wb") as file:
            np.savez(file, **first)


@pytest.mark.parametrize("how", ["truncated", "bit-flipped", "incomplete"])
def test_corrupt_cache_entry_is_recomputed_replaced_and_reported_once(tmp_path, monkeypatch, song, how):
    monkeypatch.setenv("MUSICNN_NB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "_reported", set())
    cache.clear_memory()
    good = analyse(song, "MSD")
    (entry,) = (tmp_path / "cache").glob("*.npz")
    _corrupt(entry, how)
    cache.clear_memory()
    with pytest.warns(CacheWarning, match="corrupt.*recomputing and replacing"):
        again = analyse(song, "MSD")
    np.testing.assert_array_equal(again.taggram, good.taggram)
    cache.clear_memory()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # replaced: read back silently
        np.testing.assert_array_equal(analyse(song, "MSD").W, good.W)
    _corrupt(entry, how)
    result = run("tags", str(song))
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 11
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == ["warning"], result.stderr
    assert "corrupt" in result.stderr and str(entry) in result.stderr


def test_stray_temporary_files_are_removed_on_start(tmp_path, monkeypatch, song):
    folder = tmp_path / "cache"
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stray = folder / f".abc.npz.{dead.stdout.strip()}.0123abcd.tmp"
    stray.write_bytes(b"half")
    old_live = folder / f".def.npz.{os.getppid()}.0123abcd.tmp"
    old_live.write_bytes(b"half")
    os.utime(old_live, (time.time() - 2 * files.STALE_SECONDS,) * 2)
    fresh_live = folder / f".ghi.npz.{os.getppid()}.0123abcd.tmp"  # a concurrent write in progress
    fresh_live.write_bytes(b"half")
    monkeypatch.setenv("MUSICNN_NB_CACHE", str(folder))
    monkeypatch.setattr(cache, "_cleaned", set())
    cache.clear_memory()
    analyse(song, "MSD")
    assert temps(folder) == [fresh_live]


def test_read_only_cache_says_so_once(tmp_path, monkeypatch, song):
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o555)

    def refused(*args, **kwargs):  # root ignores the mode bits: refuse as a read-only folder does
        raise PermissionError(errno.EACCES, "Permission denied", str(args[0]))

    monkeypatch.setattr(files, "open", refused, raising=False)
    monkeypatch.setenv("MUSICNN_NB_CACHE", str(folder))
    monkeypatch.setattr(cache, "_reported", set())
    cache.clear_memory()
    with pytest.warns(CacheWarning, match="cannot be written.*permission denied.*MUSICNN_NB_CACHE") as caught:
        a = analyse(song, "MSD")
        cache.clear_memory()
        b = analyse(song, "MTT")
    assert len(caught) == 1 and str(folder) in str(caught[0].message)
    assert np.isfinite(a.taggram).all() and np.isfinite(b.taggram).all() and list(folder.iterdir()) == []


# Issue 11 point 3: a change to the code that computes the arrays is a cache miss.

def test_changed_model_code_is_recomputed(tmp_path, monkeypatch, song):
    analyse(song, "MSD")
    calls = []
    real = pipeline.compute
    monkeypatch.setattr(pipeline, "compute", lambda *a: calls.append(1) or real(*a))
    analyse(song, "MSD")
    assert calls == []
    monkeypatch.setattr(cache, "code_digest", lambda: "another forward pass")
    cache.clear_memory()
    analyse(song, "MSD")
    assert calls == [1]


def test_code_digest_follows_every_source_byte(tmp_path):
    import shutil

    scratch = Path(shutil.copytree(cache.MODEL_SOURCES, tmp_path / "model", ignore=shutil.ignore_patterns("__py*")))
    before = cache.code_digest(scratch)
    assert before == cache.code_digest(cache.MODEL_SOURCES)
    network = scratch / "network.py"
    network.write_text(network.read_text().replace("np.maximum(x, 0, out=x)", "np.maximum(x, 0.0, out=x)"))
    assert cache.code_digest.__wrapped__(scratch) != before


def test_blas_thread_count_is_part_of_the_key(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert cache.blas_threads() == 1
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert cache.blas_threads() == 2


# 4. Random bytes with an audio extension.

@pytest.mark.parametrize("name", ["noise.mp3", "noise.flac", "empty.mp3"])
def test_random_bytes_named_as_audio(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"" if name.startswith("empty") else np.random.default_rng(1).bytes(50_000))
    with pytest.raises(AudioError, match="choose another file"):
        load_audio(path)
    one_line_error(run("tags", str(path)), name, "choose another file")


# 5. Bounded resources.

def test_memory_cache_holds_a_bounded_number_of_analyses(tmp_path, monkeypatch):
    cache.clear_memory()
    n = cache.MEMORY_MAX_ANALYSES + 2
    paths = [write_wav(tmp_path / f"{i}.wav", music_like(3.2, seed=10 + i)) for i in range(n)]
    for path in paths:
        analyse(path, "MSD")
    assert len(cache._memory) == cache.MEMORY_MAX_ANALYSES


def test_disk_cache_limit_evicts_least_recently_used(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("MUSICNN_NB_CACHE", str(folder))
    paths = [write_wav(tmp_path / f"{i}.wav", music_like(3.2, seed=20 + i)) for i in range(3)]
    cache.clear_memory()
    analyse(paths[0], "MSD")
    (first,) = folder.glob("*.npz")
    monkeypatch.setenv("MUSICNN_NB_CACHE_MAX", str(int(first.stat().st_size * 2.5)))
    analyse(paths[1], "MSD")
    time.sleep(0.05)
    cache.clear_memory()
    analyse(paths[0], "MSD")  # used again: now the most recent
    time.sleep(0.05)
    analyse(paths[2], "MSD")
    assert len(list(folder.glob("*.npz"))) == 2 and first.exists()
    monkeypatch.setenv("MUSICNN_NB_CACHE_MAX", "lots")
    with pytest.raises(SettingError, match="MUSICNN_NB_CACHE_MAX='lots' is not a size"):
        cache.cache_max_bytes()
    monkeypatch.setenv("MUSICNN_NB_CACHE_MAX", "1.5G")
    assert cache.cache_max_bytes() == int(1.5 * 2**30)


def test_size_warning_before_a_large_analysis(tmp_path, monkeypatch, song):
    a = analyse(song, "MSD", hop_frames=5)
    assert pipeline.analysis_bytes(a.n_segments) == sum(v.nbytes for v in a.arrays.values())
    monkeypatch.setattr(pipeline, "LARGE_ANALYSIS_BYTES", pipeline.analysis_bytes(a.n_segments) - 1)
    cache.clear_memory()
    with pytest.warns(SizeWarning, match=r"hop of 3 frames gives \d+ segments.*GB of memory"):
        analyse(song, "MSD", hop_frames=3)


def test_peak_memory_does_not_grow_with_length_beyond_the_arrays(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH_SEGMENTS", 4)  # small batches: short files to compare
    weights = load_model("MSD")
    extra = []
    for seconds in (15, 60):
        audio = load_audio(write_wav(tmp_path / f"{seconds}.wav", music_like(seconds, seed=5)))
        tracemalloc.start()
        out = pipeline.compute(weights, audio, 187)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        extra.append(peak - sum(v.nbytes for v in out.values()) - audio.samples.nbytes)
    assert extra[1] < 1.2 * extra[0], extra  # four times the audio, about the same working memory


def test_batches_equal_the_whole_recording_bit_for_bit(tmp_path, monkeypatch):
    from musicnn_nb.model.network import forward
    from musicnn_nb.model.spectrogram import m_db, segments

    monkeypatch.setattr(pipeline, "BATCH_SEGMENTS", 4)
    audio = load_audio(write_wav(tmp_path / "six.wav", music_like(6.0, seed=8)))
    weights = load_model("MTT")
    batched = pipeline.compute(weights, audio, 20)
    whole = forward(weights, segments(m_db(audio.samples), 20))
    assert len(batched["W"]) > 8 and batched.keys() == whole.keys()
    for name in whole:
        np.testing.assert_array_equal(batched[name], whole[name], err_msg=name)


# 6. Smaller cases.

def test_top_tags_and_hop_must_be_whole_numbers_at_least_one(song):
    a = analyse(song, "MSD")
    for bad in (-1, 0, True, 2.5):
        with pytest.raises(SelectionError, match="top tags must be a whole number >= 1"):
            a.top_tags(bad)
    assert len(a.top_tags(100)) == 50
    with pytest.raises(SelectionError, match="not True"):
        analyse(song, "MSD", hop_frames=True)


def test_too_short_message_numbers_agree(tmp_path):
    path = write_wav(tmp_path / "almost.wav", music_like((MIN_SAMPLES - 1) / 16000))
    message = one_line_error(run("tags", str(path)), "2.975 s", "47615 samples", "187 frames, one every 16 ms",
                             "2.976 s (47616 samples)")
    assert "2.98" not in message


def test_antiphase_stereo_says_the_mono_mix_is_silent(tmp_path):
    mono = music_like(4.0)
    path = write_wav(tmp_path / "antiphase.wav", np.stack([mono, -mono], axis=1))
    one_line_error(run("tags", str(path)), "mono mix", "channels cancel", "inverted")


def test_non_utf8_names_and_ascii_console(tmp_path, song):
    weird = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.wav"))
    weird.write_bytes(song.read_bytes())
    ok = run("tags", str(weird), "--top", "2")
    assert ok.returncode == 0 and "caf\\udce9.wav" in ok.stdout, ok.stderr
    one_line_error(run("tags", os.fsdecode(bytes(tmp_path) + b"/missing\xff.wav")), "no audio file", "\\udcff")
    accented = tmp_path / "café.wav"
    accented.write_bytes(song.read_bytes())
    ascii_console = run("tags", str(accented), "--top", "2", env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert ascii_console.returncode == 0 and "caf\\xe9.wav" in ascii_console.stdout, ascii_console.stderr
