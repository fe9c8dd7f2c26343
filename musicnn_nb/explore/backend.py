"""The back-end explorer's (chapter 13) view and its static default figure.

The explorer itself is :class:`musicnn_nb.explore.widgets.Explorer` of kind ``"backend"``: one
implementation, drawn in the reader's browser (``KINDS.backend`` in js/src/explorer.js) from
the recording's data and the back end's (:mod:`musicnn_nb.explore.web_past`), in the built book
and in Jupyter alike. Model, segment and tag → the tag's logit split over the rows of W,
coloured by stage, with the top rows named; the chosen row over the segment with the frame
that wins its maximum. Here: the view (:class:`BackEndView`, completed by :func:`complete`) and
its figure drawn once with matplotlib (:func:`draw`), what the cell shows with JavaScript off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from musicnn_nb.facts import backend as fb
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.weights import W_ROWS
from musicnn_nb.present.backend import row_contributions, row_series, stage_color, stage_label, stage_legend

N_NAMED = 5  # rows labelled on the contributions panel
UNIT_PAGES = {"cnn1": "08_cnn1_max.html", "cnn2": "10_cnn2.html", "cnn3": "11_cnn3.html",
              "cnn4": "12_cnn4_w.html"}  # the chapter whose explorer shows a layer's units, beside this one


@dataclass(frozen=True)
class BackEndView:
    """What the reader chose. ``tag`` None: the segment's top tag; ``row`` None: the tag's top row."""

    model: str = "MSD"
    segment: int = 0
    tag: str | None = None
    row: int | None = None


def tags_by_weight(a: Analysis, segment: int) -> list[str]:
    """The model's tags, the segment's largest tag weight first."""
    weights = a.taggram[a.check_segment(segment)]
    return [a.tags[i] for i in np.argsort(-weights, kind="stable")]


def complete(a: Analysis, view: BackEndView) -> BackEndView:
    """The view with a valid segment, a tag of the model and a row of W filled in."""
    segment = a.check_segment(view.segment)
    tag = view.tag if view.tag in a.tags else tags_by_weight(a, segment)[0]
    att = fb.attribute_segment(a, segment)
    row = view.row if view.row is not None and 0 <= view.row < W_ROWS else int(att.top_rows(tag, 1)[0])
    return BackEndView(a.model.name, segment, tag, row)


def draw(fig: Figure, a: Analysis, view: BackEndView) -> None:
    """The two panels of a complete view (see :func:`complete`) on an empty figure."""
    assert view.tag is not None and view.row is not None, "draw needs a complete view"
    s, k = view.segment, a.tags.index(view.tag)
    att = fb.attribute_segment(a, s)
    top, bottom = fig.subplots(2, 1, height_ratios=(1.4, 1))
    row_contributions(att.per_row[k], top, named=att.top_rows(k, N_NAMED),
                      title=f"{a.model.name}, segment {s}: “{view.tag}” (weight {a.taggram[s, k]:.2f}), logit "
                            f"{att.logits[k]:.2f} = constant {att.constant[k]:.2f} + Σ rows {att.per_row[k].sum():.2f}")
    top.axvline(view.row, color="black", linewidth=0.8, alpha=0.4)
    stage_legend(top)
    stage = fb.w_stages()[fb.stage_of_rows()[view.row]]
    row_series(a.W[s, view.row], bottom, color=stage_color(stage.key),
               title=f"row {view.row} of W ({fb.w_row_unit(view.row)}, {stage_label(stage.key)}): contribution "
                     f"{att.per_row[k, view.row]:+.3f}; ▼ the frame that wins its maximum")
    bottom.set_xlabel("time in segment (s)")


__all__ = ["UNIT_PAGES", "BackEndView", "complete", "draw", "tags_by_weight"]
