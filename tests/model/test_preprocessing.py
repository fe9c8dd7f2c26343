"""One test per pre-processing decision (musicnn_nb.spectrogram and musicnn_nb.audio docstrings)."""

import shutil

import librosa
import numpy as np
import pytest
import resampy
import soundfile
from conftest import music_like, write_wav

from musicnn_nb.model.audio import load_audio, to_16bit_grid
from musicnn_nb.model.spectrogram import (
    HOP,
    MIN_SAMPLES,
    N_FFT,
    SAMPLE_RATE,
    SEGMENT_FRAMES,
    log_compress,
    m_db,
    mel_filterbank,
    mel_power,
    power_spectrogram,
    segment_starts,
    segments,
)

MEL = np.array([[1e-5, 3e-3, 0.41, 2.5, 6.0, 6.6, 42.0, 900.0]], dtype=np.float32)


def test_decision_1_float16_product_is_promoted_to_float32_as_in_2019():
    # NumPy < 1.17 promoted float16 * 10000 through min_scalar_type(10000) = uint16 to float32
    assert np.promote_types(np.float16, np.min_scalar_type(10000)) == np.float32
    with np.errstate(over="ignore"):
        today = np.log10(10000 * MEL.astype(np.float16) + 1)  # the 2019 line under NumPy 2
    ours = log_compress(MEL)
    assert ours.dtype == np.float32 and np.all(np.isfinite(ours))
    assert np.all(np.isinf(today[MEL > 65504 / 10000]))
    exact = np.log10(10000 * MEL.astype(np.float16).astype(np.float64) + 1)
    np.testing.assert_allclose(ours, exact, rtol=1e-6)
    finite = np.isfinite(today)
    assert np.abs(today[finite] - ours[finite]).max() > 1e-4  # float16 arithmetic is visibly coarser


def test_decision_2_stft_pads_by_reflection_like_librosa_0_7():
    y = music_like(4.0, seed=1)
    ours = power_spectrogram(y)
    reflect = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, pad_mode="reflect")) ** 2
    today_default = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    np.testing.assert_allclose(ours, reflect, rtol=1e-4, atol=1e-6)
    edge_change = np.abs(today_default[:, 0] - ours[:, 0]).max() / ours[:, 0].max()
    assert edge_change > 1e-2  # librosa >= 0.10's zero padding changes the first frame
    np.testing.assert_allclose(today_default[:, 2:-2], ours[:, 2:-2], rtol=1e-4, atol=1e-6)


def test_decision_3_mel_filterbank_is_librosa_0_7s_and_still_equals_todays():
    ours = mel_filterbank()
    assert ours.shape == (96, 257) and ours.dtype == np.float32
    np.testing.assert_array_equal(ours, librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=96))
    # Slaney normalisation: height 2 / (band width in Hz), so every triangle has area ~1
    area = ours.sum(axis=1) * SAMPLE_RATE / N_FFT
    assert np.all(np.abs(area - 1) < 0.08) and abs(area.mean() - 1) < 0.01


def test_decision_4_and_5_mel_power_is_float64_fft_then_dot():
    y = music_like(3.5, seed=2)
    padded = np.pad(y.astype(np.float64), N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    exact = mel_filterbank().astype(np.float64) @ (np.abs(np.fft.rfft(frames * window)) ** 2).T
    ours = mel_power(y)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, exact, rtol=2e-5, atol=1e-9)
    todays = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP,
                                            n_mels=96, pad_mode="reflect")
    np.testing.assert_allclose(ours, todays, rtol=1e-5, atol=1e-9)


def test_decision_6_resampling_uses_resampy_kaiser_best_with_fixed_length(tmp_path):
    x = music_like(3.3, rate=22050, seed=3)
    path = write_wav(tmp_path / "22k.wav", x, 22050)
    ours = load_audio(path).samples
    n_out = int(np.ceil(x.size * SAMPLE_RATE / 22050))
    expected = resampy.resample(x, 22050, SAMPLE_RATE, filter="kaiser_best")[:n_out]
    assert ours.size == n_out and ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, atol=1e-7)
    todays, _ = librosa.load(path, sr=SAMPLE_RATE)  # soxr_hq since librosa 0.10
    assert np.abs(todays[:n_out] - ours).max() > 1e-4


def test_decision_7_mp3_is_rounded_to_16_bit_as_audioread_delivered_it(clip):
    ours = load_audio(clip).samples
    np.testing.assert_array_equal(ours * 32768, np.round(ours * 32768))
    float_decode, _ = soundfile.read(clip, dtype="float32")
    assert ours.size == float_decode.size
    assert np.abs(ours - float_decode).max() <= 1 / 32768
    np.testing.assert_array_equal(ours, to_16bit_grid(float_decode))


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed (apt-get install ffmpeg)")
def test_decision_7_matches_audioreads_ffmpeg_decoder_within_one_step(clip):
    import audioread

    with audioread.ffdec.FFmpegAudioFile(str(clip)) as f:
        ffmpeg = np.frombuffer(b"".join(f), dtype="<i2") / 32768
    ours = load_audio(clip).samples
    assert ffmpeg.size == ours.size
    assert np.abs(ffmpeg - ours).max() <= 1 / 32768 + 1e-9


def test_stereo_is_the_mean_of_the_channels(tmp_path):
    x = music_like(3.2, channels=2, seed=4)
    ours = load_audio(write_wav(tmp_path / "stereo.wav", x)).samples
    np.testing.assert_allclose(ours, x.mean(axis=1), atol=1e-7)


def test_segments_are_musicnns_187_frame_patches(tmp_path):
    assert librosa.time_to_frames(3, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP) + 1 == SEGMENT_FRAMES
    spec = m_db(music_like(10.0, seed=5))
    assert spec.shape == (96, 10 * SAMPLE_RATE // HOP + 1)
    cut = segments(spec)
    assert len(cut) == (spec.shape[1] - SEGMENT_FRAMES) // SEGMENT_FRAMES + 1
    np.testing.assert_array_equal(cut[2], spec[:, 2 * SEGMENT_FRAMES : 3 * SEGMENT_FRAMES])
    assert list(segment_starts(400, 100)) == [0, 100, 200]
    # the shortest file that gives one whole segment, and one sample less
    assert m_db(music_like(MIN_SAMPLES / SAMPLE_RATE)).shape[1] == SEGMENT_FRAMES
    with pytest.raises(Exception, match="shorter than one segment"):
        load_audio(write_wav(tmp_path / "short.wav", music_like((MIN_SAMPLES - 1) / SAMPLE_RATE)))
