"""The book's notation and the marks every chapter shares: the blog's symbols as TeX,
W's and U's row groups, kernel-group colours, symmetric colour limits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes

from musicnn_nb.model.weights import LAYER_SIZES, LAYERS, groups_of

_BN_SYMBOLS = {"gamma": (r"\gamma_{}", "scale"), "beta": (r"\beta_{}", "offset"), "mean": (r"\mu_{}", "running mean"),
               "variance": (r"\sigma_{}^2", "running variance")}
_BN_AFFINE = {"scale": "slope $a_{}$", "shift": "intercept $c_{}$"}  # BN as x ↦ a x + c


def bn_parameters(index: str = "i", described: bool = False, affine: bool = False) -> tuple[tuple[str, str], ...]:
    """(attribute of :class:`~musicnn_nb.model.weights.BatchNorm`, label) for γ, β, μ, σ² of unit
    ``index`` ("i" in CNN_1, "j" in the mid end), with what each is if ``described``, and the slope
    and intercept of the batch-norm as an affine map if ``affine``."""
    labels = [(key, f"${symbol.format(index)}$" + (f" ({what})" if described else ""))
              for key, (symbol, what) in _BN_SYMBOLS.items()]
    if affine:
        labels += [(key, label.format(index)) for key, label in _BN_AFFINE.items()]
    return tuple(labels)


PARAMETERS = bn_parameters("i", described=True)  # CNN_1's batch-norm parameters, as chapter 7 labels them


def number(value: float, spec: str = ".3g") -> str:
    """A number for a table or a sentence, ``spec`` as in :func:`format` ("–" for NaN)."""
    return "–" if np.isnan(value) else format(value, spec)


TEX = {
    "M_dB": r"\mathbf{M}_{\mathrm{dB}}", "M_hat": r"\hat{\mathbf{M}}_{\mathrm{dB}}",
    "Y": r"\mathbf{Y}_i", "Y_hat": r"\hat{\mathbf{Y}}_i", "U": r"\mathbf{U}",
    "V1": r"\mathbf{V}_1", "V1_hat": r"\hat{\mathbf{V}}_1", "V2": r"\mathbf{V}_2",
    "V2_hat": r"\hat{\mathbf{V}}_2", "V3": r"\mathbf{V}_3", "V3_hat": r"\hat{\mathbf{V}}_3",
    "V12_hat": r"\hat{\mathbf{V}}_1+\hat{\mathbf{V}}_2",
    "V123_hat": r"\hat{\mathbf{V}}_1+\hat{\mathbf{V}}_2+\hat{\mathbf{V}}_3", "W": r"\mathbf{W}",
    "pooled": r"\mathbf{p}", "penultimate": r"\mathbf{h}", "logits": r"\mathbf{z}",
    "taggram": r"\mathbf{y}",
}


def tex(key: str) -> str:
    """The blog's symbol for an array of :class:`Analysis`, as inline math ``$…$``."""
    return f"${TEX[key]}$"


def show(item) -> None:
    """Display a Markdown string (tables, sentences with $math$) or a figure in a notebook."""
    from IPython.display import Markdown, display

    display(Markdown(item) if isinstance(item, str) else item)


def robust_limit(data: np.ndarray, percentile: float = 99.5) -> float:
    """A symmetric colour limit: the given percentile of |data| (the largest few values saturate)."""
    limit = float(np.percentile(np.abs(data), percentile))
    return limit if limit > 0 else float(np.max(np.abs(data))) or 1.0


def u_row_groups() -> list[tuple[str, int, int]]:
    """(kernel group, first row, stop row) of U, bottom to top."""
    return [(g.name, g.first_row, g.stop_row) for g in groups_of("cnn1")]


def w_row_groups() -> list[tuple[str, int, int]]:
    """(symbol key, first row, stop row) of W's four blocks: U, V̂_1, V̂_1+V̂_2, V̂_1+V̂_2+V̂_3."""
    rows, start = [], 0
    for key, layer in zip(("U", "V1_hat", "V12_hat", "V123_hat"), LAYERS):
        rows.append((key, start, start + LAYER_SIZES[layer]))
        start += LAYER_SIZES[layer]
    return rows


def mark_row_groups(ax: Axes, groups: Sequence[tuple[str, int, int]], *, labels: bool = True,
                    color: str = "black", linestyle: str = "-", linewidth: float = 1.0,
                    fontsize: float = 7.5, x: float = 0.005) -> list:
    """Horizontal lines between row groups of an image (rows as data y), labels at the left."""
    artists = []
    for label, start, stop in groups:
        if start:
            artists.append(ax.axhline(start - 0.5, color=color, linestyle=linestyle, linewidth=linewidth))
        if labels:
            text = f"${TEX[label]}$" if label in TEX else label
            artists.append(ax.text(x, (start + stop - 1) / 2, f"{text}  (rows {start}–{stop - 1})",
                                   transform=ax.get_yaxis_transform(), va="center", ha="left",
                                   fontsize=fontsize, bbox=dict(facecolor="white", alpha=0.75,
                                                                edgecolor="none", pad=1)))
    return artists


CNN1_GROUPS = groups_of("cnn1")


GROUP_COLORS = {g.name: f"C{i}" for i, g in enumerate(CNN1_GROUPS)}
