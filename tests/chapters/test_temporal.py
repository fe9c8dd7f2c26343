"""Chapter 4: CNN_1's one-dimensional kernels as temporal filters (musicnn_nb.temporal)."""

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import CLIP

from musicnn_nb import analyse, load_model
from musicnn_nb.chapters import temporal
from musicnn_nb.facts.units import NORM_THRESHOLD, group_sensitivity
from musicnn_nb.model import network
from musicnn_nb.model.weights import GROUPS, Unit

RATE = 62.5  # frames per second


def independent_norms(model, group) -> np.ndarray:
    """Kernel norms straight from the checkpoint variable (time, rows, in, units)."""
    k = model.variables[f"{group.conv}/kernel"]
    return np.sqrt((k.astype(np.float64) ** 2).sum(axis=(0, 1, 2)))


def synthetic_unit(values: np.ndarray, group=GROUPS[2]) -> Unit:
    kernel = np.asarray(values, dtype=np.float32)[np.newaxis]
    return Unit(f"cnn1/{group.name}/{group.first_row}", group, group.first_row, kernel, 0.0, 1.0, 0.0, 0.0, 1.0)


@pytest.fixture(scope="module", params=["MSD", "MTT"])
def model(request):
    return load_model(request.param)


def test_one_d_groups_are_the_single_band_groups_of_cnn1():
    groups = temporal.one_d_groups()
    assert [g.name for g in groups] == ["1x128", "1x64", "1x32"]
    assert groups[0].first_row == 408 and groups[-1].stop_row == 561
    for g in groups:
        before, after = temporal.same_padding(g)
        assert before + after == g.frames - 1 and after - before == 1  # TF puts the odd frame after


def test_frequency_response_peaks_at_a_cosine_kernels_frequency_and_keeps_parseval():
    tau = np.arange(128)
    for f0 in (0.0, 2.0, 5.0, 12.5):
        kernel = np.cos(2 * np.pi * f0 * tau / RATE) * np.hanning(128)
        freqs, gain = temporal.frequency_response(kernel)
        assert freqs[0] == 0 and freqs[-1] == pytest.approx(RATE / 2)
        assert abs(freqs[np.argmax(gain)] - f0) < RATE / 128 / 2
    rng = np.random.default_rng(0)
    k = rng.standard_normal(32)
    _, gain = temporal.frequency_response(k)
    n = temporal.N_FFT
    energy = (gain[0] ** 2 + 2 * (gain[1:-1] ** 2).sum() + gain[-1] ** 2) / n
    assert energy == pytest.approx((k**2).sum())
    assert gain[0] == pytest.approx(abs(k.sum()))
    # a flipped or shifted kernel has the same magnitude response
    np.testing.assert_allclose(temporal.frequency_response(k[::-1])[1], gain, atol=1e-9)


def test_bpm_is_sixty_times_hz():
    assert temporal.bpm(2.0) == 120.0
    assert pytest.approx(RATE / 2) == temporal.NYQUIST_HZ


def test_correlate_band_equals_the_networks_pre_activation(model):
    rng = np.random.default_rng(1)
    m_hat = rng.standard_normal((96, 187)).astype(np.float32)
    for group in temporal.one_d_groups():
        unit = model.unit(temporal.largest_norm_unit(model, group))
        ours = temporal.correlate_band(unit.kernel, m_hat, unit.bias)
        theirs = network.unit_maps(model, unit.name, m_hat).pre_activation
        assert ours.shape == (96, 187)
        np.testing.assert_allclose(ours, theirs, atol=1e-4)
        # each band depends on its own band only
        changed = m_hat.copy()
        changed[5] += 1
        diff = np.abs(temporal.correlate_band(unit.kernel, changed, unit.bias) - ours).max(axis=1)
        assert diff[5] > 0 and np.all(np.delete(diff, 5) == 0)


def test_nontrivial_counts_match_norms_read_independently(model):
    counts = temporal.nontrivial_counts(model)
    for count, group in zip(counts, temporal.one_d_groups()):
        norms = independent_norms(model, group)
        expected = group.first_row + np.flatnonzero(norms > NORM_THRESHOLD)
        assert count.rows == tuple(expected) and count.total == group.size == norms.size
        assert str(NORM_THRESHOLD) in count.criterion and f"of {group.size}" in str(count)
        assert all(n.startswith(f"cnn1/{group.name}/") for n in count.names)
        sens = group_sensitivity(model, group)
        assert sens == {t: int((norms > t).sum()) for t in sens}
        assert list(sens.values()) == sorted(sens.values(), reverse=True)
    units = temporal.nontrivial_1d(model)
    assert len(units) == sum(c.count for c in counts)
    for group in temporal.one_d_groups():
        norms = [u.norm for u in units if u.group == group]
        assert norms == sorted(norms, reverse=True)


def test_largest_norm_unit(model):
    all_norms = np.concatenate([independent_norms(model, g) for g in temporal.one_d_groups()])
    assert model.unit(temporal.largest_norm_unit(model), "cnn1").index == 408 + int(np.argmax(all_norms))
    for group in temporal.one_d_groups():
        row = model.unit(temporal.largest_norm_unit(model, group)).index
        assert row == group.first_row + int(np.argmax(independent_norms(model, group)))


def test_click_track_spacing_and_a_comb_kernel_prefers_its_tempo():
    track = temporal.click_track(120.0, 1250)
    spacing = np.diff(np.flatnonzero(track))
    assert set(spacing) <= {31, 32} and spacing.mean() == pytest.approx(RATE * 60 / 120, abs=0.1)
    comb = np.zeros(128)
    comb[::30] = 1.0  # a spike every 30 frames: a beat every 0.48 s, 125 BPM
    m = temporal.modulation(synthetic_unit(comb))
    assert abs(m.best_tempo - RATE * 60 / 30) <= 3
    assert m.best_response == pytest.approx(5.0) and m.tempo_tuned
    # the comb's magnitude response peaks at a multiple of its rate (here 0 Hz: all spikes positive)
    assert m.peak_hz == 0.0 and m.band == "below"
    flat = temporal.modulation(synthetic_unit(np.r_[1.0, np.zeros(31)], GROUPS[4]))
    assert flat.worst_response == flat.best_response and not flat.tempo_tuned


def test_group_counts_partition_the_nontrivial_units(model):
    peaks = temporal.modulations(model)
    assert temporal.modulations(model) is peaks  # kept on the model, computed once
    by_band = temporal.tempo_counts(model)
    for i, count in enumerate(temporal.nontrivial_counts(model)):
        parts = [set(by_band[b][i].rows) for b in ("below", "within", "above")]
        assert set().union(*parts) == set(count.rows) and sum(map(len, parts)) == count.count
    lowpass = {r for c in temporal.lowpass_counts(model) for r in c.rows}
    for unit in temporal.nontrivial_1d(model):
        k = unit.kernel[0].astype(np.float64)
        gain = np.abs(np.fft.rfft(k, 4096))
        assert (unit.index in lowpass) == (abs(k.sum()) >= gain.max() / np.sqrt(2))
    tuned = {r for c in temporal.tuned_counts(model) for r in c.rows}
    assert tuned == {model.unit(m.name).index for m in peaks if m.tempo_tuned}


def test_tables_have_one_row_per_item():
    models = [load_model("MSD"), load_model("MTT")]
    table = temporal.groups_table(models)
    assert table.count("\n| 1x") == 3 and f"{127 // 2} / {128 // 2}" in table and f"{187 - 128 + 1} of 187" in table
    peaks = temporal.modulations(models[0])
    assert temporal.peaks_table(peaks).count("\n| `cnn1/") == len(peaks)
    tempo = temporal.tempo_table(models)
    assert tempo.count("\n| MSD |") == 3 and tempo.count("\n| MTT |") == 3
    msd_row = tempo.splitlines()[2].split("|")
    assert int(msd_row[3]) == temporal.nontrivial_counts(models[0])[0].count
    assert int(msd_row[3]) == sum(int(x) for x in msd_row[4:7])
    summary = temporal.tuning_summary(models)
    assert summary.count("\n") == 1 and "`cnn1/1x" in summary


def test_tempo_and_modulation_of_synthetic_audio():
    rate = 16000
    samples = np.zeros(20 * rate, dtype=np.float32)
    beat = int(rate * 0.5)  # 120 BPM
    for start in range(0, samples.size - 400, beat):
        samples[start : start + 400] = np.sin(2 * np.pi * 1000 * np.arange(400) / rate) * np.hanning(400)
    fake = SimpleNamespace(audio=SimpleNamespace(samples=samples))
    assert temporal.tempo_bpm(fake) == pytest.approx(120, rel=0.03)
    t = np.arange(187) / RATE
    m_hat = np.tile(np.sin(2 * np.pi * 3.0 * t), (4, 96, 1))
    freqs, spectrum = temporal.music_modulation(SimpleNamespace(M_hat=m_hat))
    assert abs(freqs[np.argmax(spectrum)] - 3.0) < 0.05


@pytest.fixture(scope="module")
def clip_analysis():
    return analyse(CLIP, "MSD")


def test_figures_draw_what_they_say(clip_analysis):
    msd = load_model("MSD")
    units = temporal.nontrivial_1d(msd)
    fig = temporal.gallery(msd, columns=7)
    drawn = [ax for ax in fig.axes if ax.lines]
    assert len(drawn) == len(units)
    assert sorted(ax.get_title() for ax in drawn) == sorted(f"{u.index} ({u.group.name}), {u.norm:.2f}" for u in units)
    group = temporal.one_d_groups()[1]
    count = temporal.nontrivial_counts(msd)[1].count
    fig, ax, image, bar, peaks = temporal.modulation_image(msd, group, tempo=120)
    assert image.get_array().shape[0] == count and len(peaks[0].get_xdata()) == count
    expected = [temporal.modulation(u).peak_hz for u in units if u.group == group][::-1]
    np.testing.assert_allclose(peaks[0].get_xdata(), expected)
    fig, ax, image, bar, peaks = temporal.tempo_image(msd, group)
    assert image.get_array().shape == (count, temporal.TEMPO_GRID_BPM.size)
    np.testing.assert_allclose(peaks[0].get_xdata(),
                               [temporal.modulation(u).best_tempo for u in units if u.group == group][::-1])
    names = [temporal.largest_norm_unit(msd, g) for g in temporal.one_d_groups()]
    fig = temporal.filtered_maps_figure(clip_analysis, 1, names)
    assert len([ax for ax in fig.axes if ax.images]) == len(names) + 1
    fig = temporal.band_figure(clip_analysis, 1, names, temporal.busiest_band(clip_analysis, 1))
    assert sum(1 for ax in fig.axes if ax.lines) == len(names) + 1
    fig = temporal.responses_figure(msd, names[:2])
    assert len([ax for ax in fig.axes if ax.lines]) == 2 * 3
    fig, ax, handles = temporal.norms_figure([msd])
    assert ax.get_xlim()[0] < 408 and ax.get_xlim()[1] >= 560


def test_convolution_check_reports_rounding_only(clip_analysis):
    names = [temporal.largest_norm_unit(clip_analysis.model, g) for g in temporal.one_d_groups()]
    table = temporal.convolution_check(clip_analysis, names, 0)
    differences = [float(line.split("|")[3]) for line in table.splitlines()[2:]]
    assert len(differences) == 3 and max(differences) < 1e-5


def test_tuning_summary_names_the_kernel_with_the_smallest_worst_to_best_ratio():
    from musicnn_nb import load_model

    model = load_model("MSD")
    tuned = [m for m in temporal.modulations(model) if m.tempo_tuned and m.best_response > 0]
    if not tuned:
        pytest.skip("no tempo-tuned 1-D kernel")
    sharpest = min(tuned, key=lambda m: m.worst_response / m.best_response)
    summary = temporal.tuning_summary([model])
    assert f"`{sharpest.name}`" in summary
    assert f"{sharpest.worst_response / sharpest.best_response:.2f} times" in summary
