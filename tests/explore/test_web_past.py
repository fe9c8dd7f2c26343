"""The data of chapters 13 and 14's page explorers (explore/web_past.py), read back in Python:
the packing round-trips, and the quantised values stay within their stated bounds of the
package's. (The page's own computations are compared in tests/book/test_browser_past.py.)"""

from __future__ import annotations

import base64
import io
import json
import shutil
import zlib

import numpy as np
import pytest
import soundfile
from conftest import decode, match

from musicnn_nb.explore.web import island_html
from musicnn_nb.explore.web_past import (
    CONTRIBUTION_STEPS,
    EXAMPLE_KBPS,
    EXAMPLE_SAMPLES,
    M_DB_ERROR,
    M_DB_TOP,
    Packed,
    backend_part,
    collection_part,
    pooled_m_db,
    quantise_m_db,
    write_past,
)
from musicnn_nb.facts import backend as fb
from musicnn_nb.facts.collection import NAMES, load
from musicnn_nb.model.spectrogram import SAMPLE_RATE


def unpack(payload: dict) -> dict[str, np.ndarray]:
    """The arrays of a :class:`Packed` payload, as the page decodes them."""
    data = zlib.decompress(base64.b64decode(payload["blob"]))
    out = {}
    for name, (dtype, offset, shape) in payload["index"].items():
        kind = np.dtype("<" + dtype)
        size = int(np.prod(shape)) if shape else 1
        grouped = np.frombuffer(data, np.uint8, size * kind.itemsize, offset).reshape(kind.itemsize, size)
        out[name] = grouped.T.copy().view(kind).reshape(shape)
    return out


def test_packed_arrays_round_trip():
    rng = np.random.default_rng(0)
    arrays = {"f4": rng.normal(size=(3, 5)).astype(np.float32), "f8": rng.normal(size=7),
              "i2": rng.integers(-30000, 30000, size=(4, 2)).astype(np.int16),
              "i4": rng.integers(-2**31, 2**31 - 1, size=9).astype(np.int32),
              "u1": rng.integers(0, 256, size=(2, 3, 4)).astype(np.uint8)}
    packed = Packed()
    for dtype, values in arrays.items():
        packed.add(dtype, values, dtype)
    back = unpack(json.loads(json.dumps(packed.payload({"x": 1}))))
    for dtype, values in arrays.items():
        assert back[dtype].dtype == values.dtype and np.array_equal(back[dtype], values), dtype


def test_backend_contributions_are_within_one_half_step(analysis):
    payload = backend_part(analysis)
    arrays = unpack(payload)
    atts = fb.attributions(analysis)
    per_row = np.stack([att.per_row for att in atts])
    values = arrays["contributions"] * arrays["step"][..., None]
    largest = np.abs(per_row).max(axis=2, keepdims=True)
    assert (np.abs(values - per_row) <= largest / (2 * CONTRIBUTION_STEPS) * (1 + 1e-9) + 1e-300).all()
    assert np.array_equal(arrays["logit"], np.stack([att.logits for att in atts]))
    assert np.array_equal(arrays["constant"], np.stack([att.constant for att in atts]))
    # the split still adds up: constant + Σ rows within the rows' summed quantisation error
    total = arrays["constant"] + values.sum(axis=2)
    assert (np.abs(total - arrays["logit"]) <= 753 * largest[..., 0] / (2 * CONTRIBUTION_STEPS) + 1e-9).all()
    assert payload["meta"]["row_units"][12] == "cnn1/38x7/12" and len(payload["meta"]["stages"]) == 8


def test_m_db_quantisation_bound_and_pooling():
    rng = np.random.default_rng(1)
    m = rng.uniform(0, M_DB_TOP, size=(96, 187))
    pooled = pooled_m_db(m)
    assert pooled.shape == (48, 93)
    assert pooled[3, 5] == pytest.approx(m[6:8, 10:12].mean())
    codes = quantise_m_db(pooled)
    assert codes.dtype == np.uint8
    assert np.abs(codes * (M_DB_TOP / 255) - pooled).max() <= M_DB_ERROR + 1e-12
    assert quantise_m_db(np.array([-1.0, M_DB_TOP + 3])).tolist() == [0, 255]  # outside the range: clipped


def test_collection_data_matches_the_store(two_model_collection, tmp_path):
    store = str(two_model_collection.path)
    part = collection_part(store)
    key, payload = part.key, part.payload
    arrays, meta = unpack(payload), payload["meta"]
    c = load("MTT", store)
    examples = sorted({int(i) for m in ("MSD", "MTT") for u in NAMES for i in load(m, store).top(u)})
    assert len(meta["examples"]) == len(examples) == arrays["M_dB"].shape[0]
    expected = np.stack([pooled_m_db(c.segment_m_db(i)) for i in examples])
    assert expected.max() <= M_DB_TOP, "the fixed range would clip this collection's M_dB"
    assert np.abs(arrays["M_dB"] * (M_DB_TOP / 255) - expected).max() <= M_DB_ERROR + 1e-6
    j = c.column("cnn4/64x7/44")
    top = arrays["top/MTT"][j]
    assert [meta["examples"][e]["start_s"] for e in top] == pytest.approx(c.starts[c.top("cnn4/64x7/44")].tolist())
    assert arrays["hist/MTT"][j].sum() == len(c.files)
    written = write_past(tmp_path, ("collection",), store=store)
    names = [f"collection-{key}/{k}.mp3" for k in range(len(examples))]
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [f"collection.{key}.js", *names]
    assert [p.read_bytes() for p in written[1:]] == list(part.audio) and list(part.media()) == names
    assert [meta["audio"].replace("{k}", str(k)) for k in range(len(examples))] == names  # as the page names them
    island = island_html("collection", "k", {"unit": "cnn4/64x7/44"}, ("cnn4",), ".flac", {"collection": key})
    assert f"&quot;collection&quot;: &quot;{key}&quot;" in island


def test_each_example_plays_from_its_own_mp3(two_model_collection):
    store = str(two_model_collection.path)
    part = collection_part(store)
    n = len(part.payload["meta"]["examples"])
    assert len(part.audio) == n and len({len(data) for data in part.audio}) == 1  # constant rate, one length
    for data in part.audio:
        with soundfile.SoundFile(io.BytesIO(data)) as f:
            assert (f.format, f.samplerate, f.channels) == ("MP3", SAMPLE_RATE, 1)
            assert abs(len(data) * 8 / (f.frames / SAMPLE_RATE) / 1000 - EXAMPLE_KBPS) < 0.05 * EXAMPLE_KBPS
    c = load("MSD", store)
    examples = sorted({int(i) for m in ("MSD", "MTT") for u in NAMES for i in load(m, store).top(u)})
    truths = [c.segment_audio(i) for i in examples]
    for k, (data, truth) in enumerate(zip(part.audio, truths)):
        heard = decode(data)
        r, lag = match(heard, truth)
        assert r > 0.9, f"file {k} is not example {k}"
        # one segment after the encoder's delay (a few tens of ms); MP3 pads the end to its frame of 576 samples
        assert lag < SAMPLE_RATE // 10 and 0 <= heard.size - lag - EXAMPLE_SAMPLES < 2 * 576, k
        if k:  # nor its neighbour in the list
            assert match(heard, truths[k - 1])[0] < 0.5, f"file {k} is example {k - 1}"


def test_a_store_whose_audio_moved_ships_a_note_not_a_failure(two_model_collection, tmp_path):
    moved = tmp_path / "store"
    shutil.copytree(two_model_collection.path, moved)
    meta = json.loads((moved / "store.json").read_text())
    meta["root"] = str(tmp_path / "gone")
    (moved / "store.json").write_text(json.dumps(meta))
    part = collection_part(str(moved))
    here = collection_part(str(two_model_collection.path))
    assert part.audio is None and part.payload["meta"]["audio"] is None
    note = part.payload["meta"]["audio_note"]
    assert "not available" in note and "\n" not in note and str(tmp_path) not in note
    arrays, kept = unpack(part.payload), unpack(here.payload)
    assert "M_dB" not in arrays and set(kept) - set(arrays) == {"M_dB"}
    for name in arrays:  # everything else as when the audio is there
        assert np.array_equal(arrays[name], kept[name]), name
    written = write_past(tmp_path / "site", ("collection",), store=str(moved))
    assert [p.suffix for p in written] == [".js"]


def test_the_examples_are_decoded_and_encoded_once_then_read_from_the_cache(two_model_collection, tmp_path,
                                                                              monkeypatch):
    """A second build reads the examples' M_dB and MP3s from the disk cache; a recording whose
    bytes changed is decoded and encoded again."""
    from musicnn_nb.explore import web_past
    from musicnn_nb.model import cache

    audio = tmp_path / "audio"
    shutil.copytree(two_model_collection.root, audio)
    store = tmp_path / "store"
    shutil.copytree(two_model_collection.path, store)
    meta = json.loads((store / "store.json").read_text())
    meta["root"] = str(audio)
    (store / "store.json").write_text(json.dumps(meta))
    first = collection_part(str(store))
    cache.clear_memory()

    def no_encoding(samples):
        raise AssertionError("an example was encoded again")

    monkeypatch.setattr(web_past, "example_mp3", no_encoding)
    again = collection_part(str(store))
    assert again.audio == first.audio
    assert np.array_equal(unpack(again.payload)["M_dB"], unpack(first.payload)["M_dB"])
    flac = audio / "example.flac"
    samples, rate = soundfile.read(flac, dtype="float32")
    soundfile.write(flac, 0.5 * samples, rate)  # the same recording, quieter: other bytes
    cache.clear_memory()
    with pytest.raises(AssertionError, match="encoded again"):
        collection_part(str(store))
