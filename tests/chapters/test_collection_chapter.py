"""Chapter 14's tables state what the store holds."""

from __future__ import annotations

import numpy as np

from musicnn_nb.chapters import collection as ch
from musicnn_nb.facts.collection import cnn4_share, load, varying_units


def test_tables_count_what_the_store_holds(small_collection):
    c = load("MSD", str(small_collection.path))
    share = cnn4_share(c)
    table = ch.series_units_table(c)
    for unit in (44, 48, 1, 60, 5, 33):
        row = next(r for r in table.splitlines() if r.split("|")[2].strip() == str(unit))
        assert f"{share[:, unit].mean():.0%}" in row
        assert sum(int(x) for x in row.split("|")[5:-1]) == 2  # each recording counted once
    rows = ch.nontrivial_table([c]).splitlines()[2:]
    assert [r.split("|")[2].strip() for r in rows] == ["cnn1", "cnn2", "cnn3", "cnn4"]
    assert int(rows[0].split("|")[4]) == int(varying_units(c)[:561].sum())
    assert f"{len(c.files):,} segments of 2 recordings" in ch.summary_sentence(c)
    assert "reader's own" in ch.credits_table(c)
    assert np.all(share >= 0)
