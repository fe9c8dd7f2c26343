"""What the explorers share: the units a unit control offers, the path an audio box shows,
the resolution of their static figures."""

from __future__ import annotations

import os
from pathlib import Path

from musicnn_nb.facts.units import nontrivial_units
from musicnn_nb.model.weights import layer_size, load_model

PNG_DPI = 90  # pixels per inch of an explorer's figure


def unit_choices(model: str, layer: str, group: str | None = None, nontrivial_only: bool = False) -> list[str]:
    """Names of the units of ``layer`` (optionally one kernel group, optionally only the
    units :func:`musicnn_nb.facts.units.nontrivial_units` keeps) for a unit control."""
    weights = load_model(model)
    rows = nontrivial_units(weights, layer).rows if nontrivial_only else range(layer_size(layer))
    names = [weights.unit(r, layer).name for r in rows]
    return [n for n in names if group in (None, "all") or n.split("/")[1] == group]


def shown_path(path: str | Path) -> str:
    """The path as the reader would type it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)

