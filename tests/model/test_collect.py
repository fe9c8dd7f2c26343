"""The collect command: every segment summarised once, resumable, skipping bad files, the same
on a Dask cluster as in one process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from musicnn_nb import analyse
from musicnn_nb.model.audio import shipped_example
from musicnn_nb.model.collect import CollectionError, Store, collect, unit_names

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def _tone(path: Path, seconds: float, hz: float) -> None:
    t = np.arange(int(seconds * 22050)) / 22050
    clicks = (np.arange(t.size) % 5512 < 40).astype(np.float32)
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * hz * t) + 0.3 * clicks).astype(np.float32), 22050)


@pytest.fixture(scope="module")
def source(tmp_path_factory, clip) -> Path:
    """Real music, a synthetic file, and an unreadable file sorted between them."""
    folder = tmp_path_factory.mktemp("collection")
    (folder / "real").mkdir()
    (folder / "real" / "a_example.flac").write_bytes(shipped_example().read_bytes())
    (folder / "real" / "c_clip.mp3").write_bytes(clip.read_bytes())
    (folder / "b_corrupt.flac").write_bytes(b"fLaC" + bytes(range(256)) * 8)
    _tone(folder / "d_tone.wav", 7.0, 440.0)
    (folder / "notes.txt").write_text("not audio")
    return folder


@pytest.fixture(scope="module")
def store(source, tmp_path_factory) -> Store:
    return collect(source, tmp_path_factory.mktemp("store") / "s", ["MSD"], workers=1, progress=False)


def test_every_segment_once_with_the_statistics_of_its_rows(source, store):
    table = store.table("MSD")
    files = table.column("file").to_pylist()
    assert sorted(set(files)) == ["d_tone.wav", "real/a_example.flac", "real/c_clip.mp3"]
    for name in set(files):
        a = analyse(source / name, "MSD")
        rows = [i for i, f in enumerate(files) if f == name]
        assert len(rows) == a.n_segments
        units = np.concatenate([a.U, a.V1_hat, a.V2_hat, a.V3_hat], axis=1)
        got = {c: store.matrix("MSD", c)[rows] for c in ("max", "mean", "argmax", "open", "taggram")}
        np.testing.assert_allclose(got["max"], units.max(axis=2), atol=1e-4, rtol=1e-5)
        np.testing.assert_allclose(got["mean"], units.mean(axis=2), atol=1e-4, rtol=1e-5)
        picked = np.take_along_axis(units, got["argmax"][..., None].astype(int), axis=2)[..., 0]
        np.testing.assert_allclose(picked, units.max(axis=2), atol=1e-4, rtol=1e-5)
        np.testing.assert_allclose(got["open"][:, 561:], np.concatenate([a.V1, a.V2, a.V3], 1).__gt__(0).mean(2))
        np.testing.assert_allclose(got["taggram"], a.taggram, atol=1e-5)
        for unit in (12, 300, 420):  # CNN_1: open where some row of the pre-activation is positive
            opened = [(a.unit_maps(unit, s).pre_activation > 0).any(axis=0).mean() for s in range(a.n_segments)]
            np.testing.assert_allclose(got["open"][:, unit], opened, atol=1e-6)
    assert len(unit_names()) == 753 and unit_names()[12] == "cnn1/38x7/12" and unit_names()[-1] == "cnn4/64x7/63"


def test_a_store_moved_with_its_audio_still_finds_the_audio(tmp_path):
    """The store keeps its source relative to itself: copy both elsewhere (another clone, a
    colleague's disk) and the recordings behind its segments are where the store says."""
    made = tmp_path / "made"
    (made / "audio").mkdir(parents=True)
    _tone(made / "audio" / "tone.wav", 4.0, 330.0)
    collect(made / "audio", made / "store", ["MSD"], workers=1, progress=False)
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(made, moved)
    shutil.rmtree(made)
    store = Store(moved / "store")
    assert store.root == (moved / "audio").resolve()
    assert [(store.root / f).is_file() for f in set(store.table("MSD").column("file").to_pylist())] == [True]


def test_unreadable_file_is_listed_with_its_error_and_skipped(store):
    errors = store.errors()
    assert [e["file"] for e in errors] == ["b_corrupt.flac"]
    assert "could not read" in errors[0]["error"]


def test_a_second_run_recomputes_nothing(source, store):
    parts = sorted((store.path / "parts" / "MSD").glob("*.parquet"))
    stamps = [p.stat().st_mtime_ns for p in parts]
    collect(source, store.path, ["MSD"], workers=1, progress=False)
    assert sorted((store.path / "parts" / "MSD").glob("*.parquet")) == parts
    assert [p.stat().st_mtime_ns for p in parts] == stamps


def test_resume_after_kill_finishes_without_duplicates(source, store, tmp_path):
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "musicnn_nb", "collect", str(source), "-o", str(out), "--workers", "1",
               "--quiet"]
    run = subprocess.Popen(command, env=ENV, stderr=subprocess.DEVNULL)
    parts = out / "parts" / "MSD"
    deadline = time.monotonic() + 120
    while not any(parts.glob("*.parquet")) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    first = {p: p.stat().st_mtime_ns for p in parts.glob("*.parquet")}
    assert 1 <= len(first) < 3, "the kill should land mid-run"
    assert subprocess.run(command, env=ENV, capture_output=True).returncode == 0
    resumed = Store(out)
    assert all(p.stat().st_mtime_ns == t for p, t in first.items())  # finished files not redone
    assert resumed.table("MSD").equals(store.table("MSD"))
    assert not list(out.rglob("*.tmp"))


def test_two_dask_workers_give_the_single_process_store(source, store, tmp_path):
    scheduler_file = tmp_path / "scheduler.json"
    processes = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                   "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                  env=ENV, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(2):
            processes.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--nthreads", "1",
                                               "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                              env=ENV, stderr=subprocess.DEVNULL))
        import json

        from dask.distributed import Client

        address = json.loads(scheduler_file.read_text())["address"]
        with Client(address) as client:
            client.wait_for_workers(2, timeout=60)
        cluster = collect(source, tmp_path / "cluster", ["MSD"], scheduler=address, progress=False)
    finally:
        for process in processes[::-1]:
            process.terminate()
            process.wait(timeout=30)
    assert cluster.table("MSD").equals(store.table("MSD"))
    assert cluster.errors() == store.errors()


@pytest.mark.parametrize("content, message", [({}, "is empty"), ({"a.txt": "x", "b.csv": "1"}, "no audio")])
def test_a_folder_without_audio_is_a_clear_error(tmp_path, content, message):
    folder = tmp_path / "src"
    folder.mkdir()
    for name, text in content.items():
        (folder / name).write_text(text)
    with pytest.raises(CollectionError, match=message):
        collect(folder, tmp_path / "out", ["MSD"], workers=1, progress=False)
    result = subprocess.run([sys.executable, "-m", "musicnn_nb", "collect", str(folder), "-o", str(tmp_path / "o")],
                            env=ENV, capture_output=True, text=True)
    assert result.returncode == 2 and message in result.stderr


def test_a_local_cluster_gives_the_single_process_store(source, store, tmp_path):
    local = collect(source, tmp_path / "local", ["MSD"], workers=2, progress=False)
    assert local.table("MSD").equals(store.table("MSD"))
    assert local.errors() == store.errors()
