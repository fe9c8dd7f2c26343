"""Chapter 3's measurements of the pre-processing traps."""

import numpy as np
from conftest import CLIP, README_MTT_TOP10

from musicnn_nb import load_model
from musicnn_nb.chapters import preprocessing
from musicnn_nb.model.audio import load_audio, shipped_example
from musicnn_nb.model.spectrogram import m_db


def test_todays_m_db_overflows_exactly_where_mel_power_exceeds_float16_range():
    today = preprocessing.todays_m_db(CLIP)
    ours = m_db(load_audio(CLIP).samples)
    assert today.shape == ours.shape
    assert np.isinf(today).any()
    np.testing.assert_array_equal(np.isinf(today), ours > np.log10(65504 + 1) - 1e-6)


def test_differences_measure_each_decision():
    rows = {(r.step, r.measure.split(" on ")[0]): r.value
            for r in preprocessing.differences(shipped_example(), mp3=CLIP)}
    assert rows[("mel filterbank", "largest change of a weight")] == 0
    overflow = next(v for (step, m), v in rows.items() if "inf" in m)
    assert 0 < overflow < 0.2
    assert rows[("STFT edges", "largest change of M_dB in the first frame")] > 0.01
    assert next(v for (step, _), v in rows.items() if step == "MP3 decoding") < 0.01
    table = preprocessing.differences_table(preprocessing.differences(CLIP))
    assert table.count("\n") == 1 + 6 and all(line.count("|") == 6 for line in table.splitlines())


def test_tags_both_ways_reproduces_the_readme_only_with_2019_preprocessing():
    then, now = preprocessing.tags_both_ways(CLIP, load_model("MTT"), n=10)
    assert then == README_MTT_TOP10 and now != README_MTT_TOP10


def test_input_bn_table_and_segmentation_summary():
    table = preprocessing.input_bn_table([load_model("MSD"), load_model("MTT")])
    msd = load_model("MSD").input_bn
    assert f"{msd.scale[0]:.4f}" in table and table.count("\n") == 3
    text = preprocessing.segmentation_summary(29 * 16000 + 100)
    assert "1,813 frames" in text and "9 segments" in text and "the last 130 frames" in text


def test_figures_draw_what_they_say():
    fig = preprocessing.steps_figure(load_audio(CLIP).samples, start_frame=187)
    assert len([ax for ax in fig.axes if ax.images]) == 3
    fig, ax, image, bar, marks = preprocessing.overflow_figure(CLIP)
    assert len(marks.get_offsets()) == np.isinf(preprocessing.todays_m_db(CLIP)).sum()
    fig, ax, lines, twin = preprocessing.input_bn_figure([load_model("MSD")], np.array([0.0, 5.0]))
    x, y = lines[0].get_data()
    np.testing.assert_allclose(y, load_model("MSD").input_bn(x.astype(np.float32)), rtol=1e-6)
