"""Intermediates are computed once per (audio content, model, settings)."""

import shutil

import numpy as np
import pytest
from conftest import music_like, write_wav

from musicnn_nb import analyse
from musicnn_nb.model import cache, pipeline


@pytest.fixture
def no_compute(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was recomputed")

    return lambda: monkeypatch.setattr(pipeline, "forward", refuse)


def test_memory_then_disk_then_content_not_name(clip, tmp_path, no_compute):
    first = analyse(clip, "MSD")
    no_compute()
    assert analyse(clip, "MSD").arrays is first.arrays  # memory
    cache.clear_memory()
    again = analyse(clip, "MSD")  # disk
    np.testing.assert_array_equal(again.W, first.W)
    renamed = shutil.copy(clip, tmp_path / "same-bytes-other-name.mp3")
    np.testing.assert_array_equal(analyse(renamed, "MSD").taggram, first.taggram)


def test_changed_content_model_or_hop_is_recomputed(tmp_path):
    path = write_wav(tmp_path / "a.wav", music_like(7.0, seed=1))
    a = analyse(path, "MSD")
    write_wav(path, music_like(7.0, seed=2))
    b = analyse(path, "MSD")
    assert not np.array_equal(a.M_dB, b.M_dB)
    assert analyse(path, "MTT").model.name == "MTT"
    overlapping = analyse(path, "MSD", hop_frames=93)
    assert overlapping.n_segments == (7 * 16000 // 256 + 1 - 187) // 93 + 1
    np.testing.assert_array_equal(overlapping.M_dB[2], b.spectrogram()[:, 186:373])
    np.testing.assert_allclose(overlapping.segment_start_s[:3], [0, 93 * 0.016, 186 * 0.016])


def test_unreadable_cache_file_is_recomputed(clip, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICNN_NB_CACHE", str(tmp_path))
    cache.clear_memory()
    a = analyse(clip, "MTT")
    (stored,) = tmp_path.glob("*.npz")
    stored.write_bytes(b"truncated")
    cache.clear_memory()
    np.testing.assert_array_equal(analyse(clip, "MTT").U, a.U)
