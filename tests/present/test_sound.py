"""The pages' audio players: MP3 that decodes to the same sound, far smaller than WAV."""

import base64
import io
import re

import numpy as np
import pytest
import soundfile

from musicnn_nb.present.sound import mp3_bytes, player

RATE = 16000


def tone(seconds: float = 3.0, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.25 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_mp3_decodes_to_the_same_tone_at_peak_one():
    x = tone()
    y, rate = soundfile.read(io.BytesIO(mp3_bytes(x)), dtype="float32")
    assert rate == RATE
    assert abs(len(y) - len(x)) <= RATE // 10  # the encoder pads at most a few frames
    spectrum = np.abs(np.fft.rfft(y))
    assert np.fft.rfftfreq(len(y), 1 / RATE)[spectrum.argmax()] == pytest.approx(440, abs=2)
    assert np.abs(y).max() == pytest.approx(1.0, abs=0.1)  # scaled to peak 1, as IPython's player


def test_mp3_is_a_fraction_of_wav():
    x = np.random.default_rng(0).normal(0, 0.1, 30 * RATE).astype(np.float32)
    assert len(mp3_bytes(x)) < 0.3 * 2 * len(x)  # 16-bit WAV is 2 bytes a sample


def test_silence_stays_silent():
    y, _ = soundfile.read(io.BytesIO(mp3_bytes(np.zeros(RATE, np.float32))))
    assert np.abs(y).max() < 1e-3


@pytest.mark.parametrize("bad, message", [(np.zeros(0), "non-empty"), (np.zeros((2, 100)), "mono"),
                                          (np.array([0.0, np.nan, 0.1] * 100), "NaN")])
def test_bad_signals_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        mp3_bytes(bad)


def test_player_embeds_the_mp3():
    html = player(tone(1.0)).data
    data = re.search(r'src="data:audio/mpeg;base64,([^"]+)"', html).group(1)
    y, rate = soundfile.read(io.BytesIO(base64.b64decode(data)))
    assert rate == RATE and len(y) > 0.9 * RATE
