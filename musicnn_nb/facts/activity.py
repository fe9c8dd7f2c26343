"""How often CNN_4's units open (V_3 > 0): the thresholds of chapter 12's activity classes, and
the units part 12 of the series names, in one place for chapter 12 and the collection (chapter 14)."""

from __future__ import annotations

SPARSE_SHARE = 0.2  # open (V_3 > 0) on fewer than this share of frames, but on some: sparse
ALWAYS_ON_SHARE = 0.99  # open on at least this share of frames (with a steady value: constantly high)
STEADY_VARIATION = 0.25  # std/mean of V_3 below this counts as steady

# The six CNN_4 units part 12 of the series (Sturm, "Digging into MusiCNN", pt. 12) picks out on
# four segments of Disco Duck (MSD), by the class it gives each. They are the series' choice, read
# from its figures, not something to compute; the chapters recompute each unit's class here.
SERIES_UNITS: dict[str, tuple[int, ...]] = {"active": (44, 48), "sparse": (1, 60), "constantly high": (5, 33)}

__all__ = ["ALWAYS_ON_SHARE", "SERIES_UNITS", "SPARSE_SHARE", "STEADY_VARIATION"]
