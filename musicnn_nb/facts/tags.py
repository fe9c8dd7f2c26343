"""Facts about the tag outputs of an analysis."""

from __future__ import annotations

import numpy as np

from musicnn_nb.model.pipeline import Analysis


def segment_top_tags(a: Analysis, segment: int, n: int = 10) -> list[tuple[str, float]]:
    """The ``n`` largest tag weights of one segment, largest first."""
    weights = a.taggram[a.check_segment(segment)]
    order = np.argsort(weights, kind="stable")[::-1][:n]
    return [(a.tags[i], float(weights[i])) for i in order]
