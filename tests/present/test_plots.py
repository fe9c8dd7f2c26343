"""The book's figure policy: figures fit the text column and their text reads when shown there."""

from __future__ import annotations

from itertools import pairwise

import matplotlib

matplotlib.use("agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrowPatch

from musicnn_nb.present import plots

BODY_PX = 16  # the theme's body text


@pytest.mark.parametrize("design", [(13, 5.2), (11, 1.6), (6.2 * 2, 7)])
def test_a_wide_design_is_fitted_to_the_column(design):
    width, height = plots.column_size(*design)
    assert width == pytest.approx(plots.COLUMN_INCHES)
    assert width * plots.DPI == pytest.approx(plots.COLUMN_PX)
    assert height == design[1]  # the text keeps its size, so the panels need their height


def test_a_narrow_design_is_kept():
    assert plots.column_size(5, 3) == (5, 3)


def test_the_small_font_reads_at_80_percent_of_the_body_text_in_the_column():
    small = matplotlib.font_manager.FontProperties(size="small").get_size_in_points()
    assert small * plots.DPI / 72 >= 0.8 * BODY_PX


def test_the_diagram_text_is_readable_and_inside_its_boxes():
    fig, ax, boxes = plots.network_diagram("cnn3")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert fig.get_size_inches()[0] <= plots.COLUMN_INCHES
    assert len(ax.texts) == len(plots.STAGES) == len(boxes)
    for text, box in zip(ax.texts, boxes):
        assert text.get_fontsize() * plots.DPI / 72 >= 0.8 * BODY_PX, text.get_text()
        inner, outer = text.get_window_extent(renderer), box.get_window_extent(renderer)
        assert outer.x0 <= inner.x0 and inner.x1 <= outer.x1 and outer.y0 <= inner.y0 and inner.y1 <= outer.y1, \
            f"{text.get_text()!r} spills out of its box"


def test_label_step_thins_labels_only_when_rows_are_too_close():
    fig, ax = plt.subplots(figsize=(4, 4))
    assert plots.label_step(ax, 10) == 1  # about 20 pt a row: room for every label
    many = plots.label_step(ax, 60)  # about 3.5 pt a row
    assert many > 1
    spacing = 72 * ax.get_position().height * 4 / 60 * many
    assert spacing >= 1.3 * FontProperties(size="small").get_size_in_points()
    assert plots.label_step(ax, 1) == 1


def _segments(patch) -> list[tuple[np.ndarray, np.ndarray]]:
    """The drawn outline of an arrow as straight pieces (curves flattened), in pixels."""
    pieces = []
    for poly in patch.get_path().to_polygons(closed_only=False):
        pieces += list(pairwise(poly))
    return pieces


def _cross(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    def turn(p, q, r):
        return np.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))
    (p1, p2), (q1, q2) = a, b
    return turn(p1, p2, q1) * turn(p1, p2, q2) < 0 and turn(q1, q2, p1) * turn(q1, q2, p2) < 0


def test_network_diagram_arrows_never_cross():
    fig, ax, boxes = plots.network_diagram("cnn1")
    fig.canvas.draw()
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(plots.STAGES) - 1 + 4  # the flow, three connections down, one under
    outlines = [_segments(a) for a in arrows]
    crossing = [(i, j) for i in range(len(arrows)) for j in range(i + 1, len(arrows))
                if any(_cross(s, t) for s in outlines[i] for t in outlines[j])]
    assert not crossing, crossing


def test_the_crossing_check_sees_a_crossing():
    square = [(np.array([0.0, 0.0]), np.array([1.0, 1.0]))]
    other = [(np.array([0.0, 1.0]), np.array([1.0, 0.0]))]
    assert _cross(square[0], other[0]) and not _cross(square[0], (np.array([2.0, 0.0]), np.array([3.0, 1.0])))


def test_mel_axis_fits_its_labels_to_the_axes_height():
    tall = plt.subplots(figsize=(4, 6))[1]
    short = plt.subplots(figsize=(4, 1.6))[1]
    for ax in (tall, short):
        plots.mel_axis(ax)
    assert len(tall.get_yticks()) == 6 and 2 <= len(short.get_yticks()) < 6
    for ax in (tall, short):
        ticks = ax.get_yticks()
        spacing = 72 * ax.get_position().height * ax.figure.get_figheight() * np.diff(ticks).min() / 96
        assert spacing >= 2.4 * FontProperties(size="small").get_size_in_points()  # two lines of text
        assert ticks.min() > 0 and ticks.max() < 95  # no label hangs over an end of the axis


def test_tick_fitting_works_in_subfigures():
    fig = plt.figure(figsize=(4, 6))
    top, _ = fig.subfigures(2, 1)
    ax = top.subplots()
    plots.mel_axis(ax)
    assert 2 <= len(ax.get_yticks()) <= 6
    assert plots.label_step(ax, 100) > 1


def test_row_numbers_of_neighbouring_rows_do_not_overlap():
    """Chapter 13's contributions by row of W: rows 690 and 702 both among the largest (as on the
    book's recording) get labels on separate lines, and a lone row keeps its label at the bar."""
    from musicnn_nb.present.backend import row_contributions

    values = np.zeros(753)
    values[[690, 702, 705, 100]] = [2.0, 1.8, 1.5, -1.0]
    fig, ax = plt.subplots(figsize=plots.column_size(11, 2.3))
    row_contributions(values, ax, named=[690, 702, 705, 100])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = {t.get_text(): t.get_window_extent(renderer) for t in ax.texts}
    assert set(labels) == {"690", "702", "705", "100"}
    for a, b in [("690", "702"), ("702", "705"), ("690", "705")]:
        assert not labels[a].overlaps(labels[b]), (a, b)
    assert labels["100"].y1 < ax.transData.transform((100, 0))[1]  # below a negative bar, on its first line
    plt.close(fig)
