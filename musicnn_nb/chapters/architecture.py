"""The whole MusiCNN network, read off the checkpoint and a real segment (chapter 2,
"The architecture").

Everything here is computed, never declared twice: parameter counts are sizes of the
checkpoint's arrays, tensor shapes are shapes of the arrays :func:`musicnn_nb.analyse`
returns, row groups come from :data:`musicnn_nb.model.weights.GROUPS`. The chapter turns these
into its tables, sentences and figures.

Vocabulary. The checkpoint holds three kinds of variables:

* **trainable parameters**: kernels, biases, and the batch-norms' γ and β;
* **moving statistics**: the batch-norms' μ and σ² (averaged during training, frozen at
  inference; stored, but not learned by gradient descent);
* **optimizer state**: Adam's two slots per trainable variable (``…/Adam``, ``…/Adam_1``)
  and its two step accumulators (``beta1_power``, ``beta2_power``). The network never
  reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from musicnn_nb.model.network import PAD
from musicnn_nb.model.pipeline import Analysis
from musicnn_nb.model.spectrogram import FRAME_SECONDS, HOP, N_MELS, SAMPLE_RATE
from musicnn_nb.model.weights import (
    BN_EPSILON,
    GROUPS,
    HIDDEN,
    INPUT_BN,
    LAYER_SIZES,
    LAYERS,
    OUTPUT,
    PENULTIMATE_BN,
    POOLED_BN,
    Group,
    Model,
    groups_of,
    unit_name,
)
from musicnn_nb.present import plots
from musicnn_nb.present.notation import mark_row_groups, robust_limit, tex, u_row_groups, w_row_groups
from musicnn_nb.present.segmentation import segmentation

ALL_STAGES = tuple(key for key, _ in plots.STAGES)  # every box of the "where we are" diagram
STAGE_ORDER = ("input", "front end", "mid end", "back end")
COUNT_COLUMNS = ("kernel", "bias", "gamma_beta", "moving")  # parameter kinds of the table
ADAM_STEP_VARIABLES = ("beta1_power", "beta2_power")

# LaTeX of the blog's symbols (Markdown math and matplotlib mathtext understand both).




# ---------------------------------------------------------------------------------------
# What the checkpoint holds
# ---------------------------------------------------------------------------------------

def variable_kind(name: str) -> str:
    """'trainable', 'moving statistics' or 'optimizer' for a checkpoint variable name."""
    if name.endswith(("/Adam", "/Adam_1")) or name in ADAM_STEP_VARIABLES:
        return "optimizer"
    if name.endswith(("/moving_mean", "/moving_variance")):
        return "moving statistics"
    return "trainable"


def parameter_kind(name: str) -> str:
    """Which column of the parameter table a model variable counts in (see COUNT_COLUMNS)."""
    if variable_kind(name) == "optimizer":
        raise ValueError(f"{name} is optimizer state, not a model parameter")
    suffix = name.rsplit("/", 1)[-1]
    kinds = {"kernel": "kernel", "bias": "bias", "gamma": "gamma_beta", "beta": "gamma_beta",
             "moving_mean": "moving", "moving_variance": "moving"}
    if suffix not in kinds:
        raise ValueError(f"unexpected checkpoint variable {name}")
    return kinds[suffix]


@dataclass(frozen=True)
class InventoryRow:
    """One kind of checkpoint variable: how many arrays and how many numbers."""

    kind: str  # trainable / moving statistics / optimizer
    what: str  # in words
    arrays: int
    values: int


def checkpoint_inventory(model: Model) -> list[InventoryRow]:
    """Every variable of the checkpoint, grouped by what it is (chapter 2)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for name, value in model.variables.items():
        kind = variable_kind(name)
        if kind == "optimizer":
            what = ("Adam's first-moment slot (`…/Adam`)" if name.endswith("/Adam") else
                    "Adam's second-moment slot (`…/Adam_1`)" if name.endswith("/Adam_1") else
                    "Adam's step accumulators (`beta1_power`, `beta2_power`)")
        elif kind == "moving statistics":
            what = "batch-norm moving mean μ and variance σ²"
        else:
            what = {"kernel": "kernels (convolutions and dense layers)", "bias": "biases",
                    "gamma_beta": "batch-norm scale γ and offset β"}[parameter_kind(name)]
        groups.setdefault((kind, what), []).append(int(np.asarray(value).size))
    order = {k: i for i, k in enumerate(("trainable", "moving statistics", "optimizer"))}
    rows = [InventoryRow(kind, what, len(sizes), sum(sizes)) for (kind, what), sizes in groups.items()]
    return sorted(rows, key=lambda r: (order[r.kind], r.what))


def inventory_totals(rows: Sequence[InventoryRow]) -> dict[str, int]:
    """Numbers per kind, plus 'model' (trainable + moving) and 'checkpoint' (everything)."""
    totals = {kind: sum(r.values for r in rows if r.kind == kind)
              for kind in ("trainable", "moving statistics", "optimizer")}
    totals["model"] = totals["trainable"] + totals["moving statistics"]
    totals["checkpoint"] = totals["model"] + totals["optimizer"]
    return totals


def render_inventory(models: Sequence[Model]) -> str:
    """The checkpoint inventory of one or more models as a Markdown table."""
    inventories = [checkpoint_inventory(m) for m in models]
    head = "| kind | variables | " + " | ".join(f"{m.name} arrays | {m.name} values" for m in models) + " |"
    lines = [head, "| --- | --- |" + " ---: | ---: |" * len(models)]
    for i, row in enumerate(inventories[0]):
        cells = " | ".join(f"{inv[i].arrays:,} | {inv[i].values:,}" for inv in inventories)
        lines.append(f"| {row.kind} | {row.what} | {cells} |")
    totals = [inventory_totals(inv) for inv in inventories]
    for key, label in (("trainable", "trainable parameters"), ("model", "what the network uses"),
                       ("optimizer", "optimizer state"), ("checkpoint", "the whole checkpoint")):
        arrays = [sum(r.arrays for r in inv if key == "checkpoint" or r.kind == key
                      or (key == "model" and r.kind != "optimizer")) for inv in inventories]
        cells = " | ".join(f"**{a:,}** | **{t[key]:,}**" for a, t in zip(arrays, totals))
        lines.append(f"| **total** | **{label}** | {cells} |")
    return "\n".join(lines)


def inventory_summary(model: Model) -> str:
    """Sentences on how the optimizer state relates to the trainable parameters."""
    rows = checkpoint_inventory(model)
    t = inventory_totals(rows)
    slots = {r.what: r.values for r in rows if r.kind == "optimizer"}
    first = next(v for k, v in slots.items() if "`…/Adam`" in k)
    second = next(v for k, v in slots.items() if "`…/Adam_1`" in k)
    steps = next(v for k, v in slots.items() if "accumulators" in k)
    slot_note = ("each slot holds exactly one number per trainable parameter"
                 if first == second == t["trainable"] else
                 f"the slots hold {first:,} and {second:,} numbers for {t['trainable']:,} trainable parameters")
    moving_slots = [n for n in model.variables if n.endswith(("moving_mean/Adam", "moving_variance/Adam"))]
    moving_note = "some moving statistics have slots" if moving_slots else "no moving statistic has a slot"
    return (f"For {model.name}: {t['trainable']:,} trainable parameters and {t['moving statistics']:,} "
            f"moving statistics, {t['model']:,} numbers the network uses; the optimizer state adds "
            f"{t['optimizer']:,} more ({slot_note}, and {moving_note}, plus {steps:,} step accumulators), "
            f"so the checkpoint stores {t['checkpoint']:,} numbers, {t['checkpoint'] / t['model']:.2f} times "
            "what inference needs.")


# ---------------------------------------------------------------------------------------
# The network, step by step, with its parameters
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One row of the network table: a step, what it outputs, the parameters it holds."""

    stage: str  # one of STAGE_ORDER
    step: str  # what happens (Markdown, may hold $math$)
    output: str  # what comes out (Markdown); "{shape}" is replaced by the computed shape
    shape_key: str  # key of tensor_shapes()
    kernel: str = ""  # kernel shape(s), blog orientation, read off the checkpoint arrays
    variables: tuple[str, ...] = ()  # the checkpoint variables the step holds
    counts: dict[str, int] = field(default_factory=dict)  # per COUNT_COLUMNS

    @property
    def trainable(self) -> int:
        return self.counts.get("kernel", 0) + self.counts.get("bias", 0) + self.counts.get("gamma_beta", 0)

    @property
    def stored(self) -> int:
        """Trainable parameters plus moving statistics: what the network reads."""
        return self.trainable + self.counts.get("moving", 0)


def _step(model: Model, stage: str, step: str, output: str, shape_key: str, scopes: Sequence[str] = (),
          kernel: str = "") -> Step:
    names = tuple(sorted(n for n in model.variables
                         if n.rsplit("/", 1)[0] in scopes and variable_kind(n) != "optimizer"))
    counts = dict.fromkeys(COUNT_COLUMNS, 0)
    for name in names:
        counts[parameter_kind(name)] += int(model.variables[name].size)
    return Step(stage, step, output, shape_key, kernel, names, counts)


def kernel_shape(model: Model, group: Group) -> str:
    """'204 × 38×7': number of kernels × (rows × frames), from the checkpoint array."""
    units, rows, frames = model.kernels(group).shape
    return f"{units} × {rows}×{frames}"


def dense_shape(model: Model, scope: str) -> str:
    """'1506×200': inputs × outputs of a dense layer's kernel."""
    n_in, n_out = model.dense(scope)[0].shape
    return f"{n_in}×{n_out}"


def time_offset(group: Group) -> int:
    """Δ: frames of zeros before the segment in time, so [K ⋆ X]_{·,t} reads frames t−Δ … .

    The 7-frame kernels are padded by PAD on each side; the long one-dimensional ones use
    TensorFlow's "same" padding, which puts the smaller half (⌊(w−1)/2⌋) before.
    """
    return PAD if group.frames == 2 * PAD + 1 else (group.frames - 1) // 2


def parameter_table(model: Model) -> list[Step]:
    """Every step of the network in order, with its parameters counted from the checkpoint."""
    bn_scalar = model.input_bn.gamma.size
    steps = [
        _step(model, "input", "log-compressed mel spectrogram of one segment", f"{tex('M_dB')} {{shape}}", "M_dB"),
        _step(model, "input", f"batch-norm: {bn_scalar} value each of γ, β, μ, σ², shared by every bin",
              f"{tex('M_hat')} {{shape}}", "M_hat", [INPUT_BN]),
    ]
    for g in groups_of("cnn1"):
        steps.append(_step(
            model, "front end", f"CNN_1 {g.name}: convolution, bias, ReLU, batch-norm, max over frequency",
            f"{tex('Y_hat')} {{shape}} each → rows {g.first_row}–{g.stop_row - 1} of {tex('U')}",
            f"Y/{g.name}", [g.conv, g.bn], kernel_shape(model, g)))
    for layer, (out, source) in zip(LAYERS[1:], (("V1", "U"), ("V2", "V1_hat"), ("V3", "V12_hat"))):
        (g,) = groups_of(layer)
        summed = {"V1": "", "V2": f"; skip sum {tex('V12_hat')}", "V3": f"; skip sum {tex('V123_hat')}"}[out]
        steps.append(_step(
            model, "mid end", f"CNN_{layer[-1]} on {tex(source)}: convolution, bias, ReLU, batch-norm",
            f"{tex(out)}, {tex(out + '_hat')} {{shape}}{summed}", f"{out}_hat", [g.conv, g.bn],
            kernel_shape(model, g)))
    steps += [
        _step(model, "mid end", "dense connection: stack " + ", ".join(tex(k) for k, _, _ in w_row_groups()),
              f"{tex('W')} {{shape}}", "W"),
        _step(model, "back end", f"max and mean of every row of {tex('W')} over time, interleaved",
              f"{tex('pooled')} {{shape}}", "pooled"),
        _step(model, "back end", f"batch-norm of {tex('pooled')}", "{shape}", "pooled", [POOLED_BN.scope]),
        _step(model, "back end", "dense layer, ReLU, batch-norm", f"{tex('penultimate')} (penultimate) {{shape}}",
              "penultimate", [HIDDEN.scope, PENULTIMATE_BN.scope], dense_shape(model, HIDDEN.scope)),
        _step(model, "back end", "dense layer", f"{tex('logits')} (logits) {{shape}}", "logits", [OUTPUT.scope],
              dense_shape(model, OUTPUT.scope)),
        _step(model, "back end", "sigmoid", f"{tex('taggram')} (tag weights) {{shape}}", "taggram"),
    ]
    return steps


def stage_totals(steps: Sequence[Step]) -> dict[str, dict[str, int]]:
    """Counts per stage (and 'all'): COUNT_COLUMNS plus 'trainable' and 'stored'."""
    totals: dict[str, dict[str, int]] = {}
    for stage in (*STAGE_ORDER, "all"):
        chosen = [s for s in steps if stage in ("all", s.stage)]
        row = {c: sum(s.counts[c] for s in chosen) for c in COUNT_COLUMNS}
        row["trainable"] = sum(s.trainable for s in chosen)
        row["stored"] = sum(s.stored for s in chosen)
        totals[stage] = row
    return totals


def tensor_shapes(analysis: Analysis, segment: int = 0) -> dict[str, tuple[int, ...]]:
    """Per-segment shape of every array of the analysis, and of each CNN_1 group's Ŷ_i.

    The CNN_1 maps are computed on ``segment`` for each group's first unit.
    """
    shapes = {key: tuple(value.shape[1:]) for key, value in analysis.arrays.items()}
    for g in groups_of("cnn1"):
        shapes[f"Y/{g.name}"] = analysis.unit_maps(unit_name(g, g.first_row), segment).Y_hat.shape
    return shapes


def format_shape(shape: tuple[int, ...]) -> str:
    return " × ".join(str(n) for n in shape)


def _count(n: int) -> str:
    return f"{n:,}" if n else "–"


def render_parameter_table(steps: Sequence[Step], shapes: dict[str, tuple[int, ...]]) -> str:
    """The network table as Markdown: steps, output shapes, kernels, counts, stage totals."""
    head = ("| stage | step | output (per segment, rows × frames) | kernels | kernel values | biases "
            "| γ, β | μ, σ² (moving) | trainable | used at inference |")
    lines = [head, "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    totals = stage_totals(steps)

    def counts(c: dict[str, int], bold: bool = False) -> str:
        cells = [_count(c[k]) for k in (*COUNT_COLUMNS, "trainable", "stored")]
        return " | ".join(f"**{x}**" if bold and x != "–" else x for x in cells)

    for stage in STAGE_ORDER:
        for s in (s for s in steps if s.stage == stage):
            output = s.output.replace("{shape}", format_shape(shapes[s.shape_key]))
            c = dict(s.counts, trainable=s.trainable, stored=s.stored)
            lines.append(f"| {stage} | {s.step} | {output} | {s.kernel} | {counts(c)} |")
        lines.append(f"| **{stage}** | **total** | | | {counts(totals[stage], True)} |")
    lines.append(f"| **network** | **total** | | | {counts(totals['all'], True)} |")
    return "\n".join(lines)


def network_table(analysis: Analysis) -> str:
    """The chapter's big table for the analysis' model, shapes from its first segment."""
    return render_parameter_table(parameter_table(analysis.model), tensor_shapes(analysis))


def describe_variable(name: str) -> str:
    """What a checkpoint variable is in the book's words: 'CNN_2 kernels', 'first dense layer kernel' …"""
    scope, _, what = name.rpartition("/")
    what = {"kernel": "kernels", "bias": "biases", "gamma": "γ", "beta": "β", "moving_mean": "μ",
            "moving_variance": "σ²"}.get(what, what)
    for g in GROUPS:
        if scope == g.conv:
            return f"CNN_{g.layer[-1]} {g.name} {what}"
        if scope == g.bn:
            return f"CNN_{g.layer[-1]} {g.name} batch-norm {what}"
    names = {HIDDEN.scope: "first dense layer", OUTPUT.scope: "last dense layer", INPUT_BN: "input batch-norm",
             POOLED_BN.scope: "batch-norm of p", PENULTIMATE_BN.scope: "batch-norm of h"}
    if scope in names:
        return f"{names[scope]} {'weight matrix' if what == 'kernels' else what}"
    raise ValueError(f"unexpected checkpoint variable {name}")


def largest_arrays(model: Model, n: int = 3) -> list[tuple[str, tuple[int, ...], int]]:
    """The n largest trainable arrays: (checkpoint name, stored shape, size)."""
    arrays = [(k, tuple(v.shape), int(v.size)) for k, v in model.variables.items() if variable_kind(k) == "trainable"]
    return sorted(arrays, key=lambda r: -r[2])[:n]


def same_architecture(a: Model, b: Model) -> bool:
    """True when both checkpoints hold the same variables with the same shapes."""
    return ({k: v.shape for k, v in a.variables.items()} == {k: v.shape for k, v in b.variables.items()})


def differing_parameters(a: Model, b: Model) -> int:
    """How many model variables (trainable or moving) hold different values in a and b."""
    return sum(not np.array_equal(a.variables[k], b.variables[k]) for k in a.variables
               if variable_kind(k) != "optimizer" and k in b.variables)


def _model_totals_sentence(model: Model, label: str) -> str:
    t = stage_totals(parameter_table(model))
    parts = ", ".join(f"{stage} {t[stage]['trainable']:,}" for stage in STAGE_ORDER)
    ranked = sorted(STAGE_ORDER[1:], key=lambda s: -t[s]["trainable"])
    units = sum(LAYER_SIZES.values())
    contrast = (f", although the front end has {LAYER_SIZES['cnn1']} of the {units} convolution units"
                if ranked[-1] == "front end" else "")
    big = ", ".join(f"`{name}` ({describe_variable(name)}: {size:,} values, {100 * size / t['all']['trainable']:.0f} %)"
                    for name, _, size in largest_arrays(model))
    return (f"**{label}**: {t['all']['trainable']:,} trainable parameters ({parts}); with "
            f"{t['all']['moving']:,} moving statistics the network reads {t['all']['stored']:,} numbers. "
            f"By trainable parameters the stages rank {' > '.join(ranked)}{contrast}. The largest "
            f"arrays, with their share of the trainable parameters: {big}.")


def totals_summary(models: Sequence[Model]) -> str:
    """Parameters per stage and overall, once if the models share their architecture."""
    first = models[0]
    if all(same_architecture(first, m) for m in models[1:]):
        n_model = sum(variable_kind(k) != "optimizer" for k in first.variables)
        names = " and ".join(m.name for m in models)
        text = _model_totals_sentence(first, names)
        if len(models) > 1:
            differ = ", ".join(f"{differing_parameters(first, m)} of {n_model} for {m.name}" for m in models[1:])
            text += (f"\n\nThe {names} checkpoints hold the same variables with the same shapes, so these counts "
                     f"hold for both; the model arrays whose values differ from {first.name}'s: {differ}.")
        return text
    return "\n\n".join(_model_totals_sentence(m, m.name) for m in models)




# ---------------------------------------------------------------------------------------
# Segmentation
# ---------------------------------------------------------------------------------------









def segmentation_summary(analysis: Analysis) -> str:
    """The numbers of the segmentation in sentences (chapter 2)."""
    s = segmentation(analysis)
    dropped = (f"the last {s.dropped_frames} frames ({s.dropped_frames * s.frame_s:.3f} s) fall in no "
               "segment and are ignored" if s.dropped_frames else "every frame falls in a segment")
    return (f"One frame every {HOP} samples at {SAMPLE_RATE:,} Hz is one frame every "
            f"{1000 * s.frame_s:.0f} ms. A segment is {s.segment_frames} frames, "
            f"{s.segment_frames} × {1000 * s.frame_s:.0f} ms = {s.segment_s:.3f} s, and segments start every "
            f"{s.hop_frames} frames ({s.hop_frames * s.frame_s:.3f} s), so they "
            f"{'do not overlap' if s.hop_frames >= s.segment_frames else 'overlap'}. This recording lasts "
            f"{s.duration_s:.2f} s, {s.frames:,} frames of {N_MELS} mel bands: {s.n_segments} whole segments, "
            f"and {dropped}.")






# ---------------------------------------------------------------------------------------
# Row groups and the shapes of one segment
# ---------------------------------------------------------------------------------------







SHAPE_PANELS = ("M_hat", "U", "V1_hat", "V123_hat", "W")


def shapes_figure(analysis: Analysis, segment: int, keys: Sequence[str] = SHAPE_PANELS,
                  fig: Figure | None = None, percentile: float = 99.5) -> tuple[Figure, list[Axes]]:
    """One segment's arrays side by side on a common row axis, each as tall as its rows.

    Each panel has its own symmetric colour scale, clipped at ``percentile`` of |values|.
    """
    segment = analysis.check_segment(segment)
    columns = 3  # five panels with colour bars do not fit the text column side by side
    rows = -(-len(keys) // columns)
    fig = fig or Figure(figsize=plots.column_size(13, 4.6 * rows), layout="constrained")
    grid = fig.subplots(rows, columns, sharey=True, squeeze=False)
    for spare in grid.flat[len(keys):]:
        spare.remove()
    axes = list(grid.flat[:len(keys)])
    top = max(analysis.arrays[k].shape[1] for k in keys)
    start = analysis.segment_start_s[segment]
    for ax, key in zip(axes, keys):
        data = analysis.arrays[key][segment]
        limit = robust_limit(data, percentile)
        plots.matrix(data, ax, start_s=start, title=f"{tex(key)}: {format_shape(data.shape)}",
                     row_label="row (0 at the bottom)" if ax in grid[:, 0] else "", vmin=-limit, vmax=limit,
                     cmap=plots.DIVERGING, colorbar_label=f"value, clipped at ±{limit:.3g}")
        ax.set_ylim(-0.5, top - 0.5)
        ax.tick_params(labelsize="small")
        if key == "W":
            mark_row_groups(ax, w_row_groups(), fontsize="small")
        if key == "U":
            mark_row_groups(ax, u_row_groups(), linestyle=":", linewidth=0.7, fontsize="small")
    fig.suptitle(f"{analysis.path.name}, {analysis.model.name}, segment {segment}:\neach panel is as tall "
                 "as its number of rows", fontsize=10)
    return fig, axes


def back_end_figure(analysis: Analysis, segment: int, fig: Figure | None = None, n_tags: int = 10):
    """One segment through the back end: pooled rows of W, penultimate, top tag weights."""
    segment = analysis.check_segment(segment)
    fig = fig or Figure(figsize=plots.column_size(13, 6.4), layout="constrained")
    axes = fig.subplot_mosaic([["pool", "pool"], ["pen", "tag"]], width_ratios=(1.4, 1))  # W's rows need the width
    pool_ax, pen_ax, tag_ax = axes["pool"], axes["pen"], axes["tag"]
    rows = np.arange(analysis.max_pool.shape[1])
    pool_ax.plot(rows, analysis.max_pool[segment], lw=0.8, label="max over time (even entries of p)")
    pool_ax.plot(rows, analysis.mean_pool[segment], lw=0.8, label="mean over time (odd entries of p)")
    for key, start, stop in w_row_groups():
        if start:
            pool_ax.axvline(start - 0.5, color="gray", lw=0.8)
        pool_ax.text((start + stop) / 2, 1.0, tex(key) if key != "V123_hat" else r"$\Sigma_3$",
                     transform=pool_ax.get_xaxis_transform(), ha="center", va="bottom", fontsize="small")
    pool_ax.set(xlabel=f"row of {tex('W')}", ylabel="pooled value", xlim=(rows[0] - 0.5, rows[-1] + 0.5))
    pool_ax.legend(fontsize="small", loc="upper left")
    h = analysis.penultimate[segment]
    pen_ax.stem(np.arange(h.size), h, markerfmt=" ", basefmt="gray")
    pen_ax.set(xlabel=f"entry of {tex('penultimate')} (penultimate)", ylabel="value",
               title="after the first dense layer,\nReLU, batch-norm", xlim=(-1, h.size))
    weights = analysis.taggram[segment]
    order = np.argsort(weights)[::-1][:n_tags]
    plots.top_tags([(analysis.tags[i], float(weights[i])) for i in order], tag_ax,
                   title=f"top {n_tags} of {weights.size} tag weights")
    tag_ax.set_xlabel(f"tag weight {tex('taggram')}, segment {segment}")
    tag_ax.tick_params(labelsize="small")
    fig.suptitle(f"Back end of segment {segment} ({analysis.model.name}); the W blocks:\nU, "
                 r"$\hat{\mathbf{V}}_1$, $\Sigma_2=\hat{\mathbf{V}}_1+\hat{\mathbf{V}}_2$, "
                 r"$\Sigma_3=\Sigma_2+\hat{\mathbf{V}}_3$", fontsize=10)
    return fig, (pool_ax, pen_ax, tag_ax)


# ---------------------------------------------------------------------------------------
# The three stages, in numbers
# ---------------------------------------------------------------------------------------

def front_end_table(analysis: Analysis, segment: int = 0) -> str:
    """CNN_1's kernel groups as Markdown: units, rows of U, kernel, time span, Δ, map shape."""
    shapes = tensor_shapes(analysis, segment)
    lines = ["| kernel group (bands × frames) | units | rows of $\\mathbf{U}$ | kernel span in time "
             "| Δ (frames of zeros before) | $\\hat{\\mathbf{Y}}_i$ per segment | positions over frequency |",
             "| --- | ---: | --- | ---: | ---: | --- | ---: |"]
    for g in groups_of("cnn1"):
        units, rows, frames = analysis.model.kernels(g).shape
        shape = shapes[f"Y/{g.name}"]
        lines.append(f"| {g.name} | {units} | {g.first_row}–{g.stop_row - 1} | {1000 * frames * FRAME_SECONDS:,.0f} ms "
                     f"| {time_offset(g)} | {format_shape(shape)} | {shape[0]} |")
    total = sum(g.size for g in groups_of("cnn1"))
    lines.append(f"| **all** | **{total}** | 0–{total - 1} | | | | |")
    return "\n".join(lines)


def mid_end_table(analysis: Analysis) -> str:
    """CNN_2-4 as Markdown: input, kernels, time span, outputs, skip sums."""
    shapes = tensor_shapes(analysis)
    inputs = {"cnn2": "U", "cnn3": "V1_hat", "cnn4": "V12_hat"}
    outs = {"cnn2": ("V1", "V1_hat", None), "cnn3": ("V2", "V2_hat", "V12_hat"),
            "cnn4": ("V3", "V3_hat", "V123_hat")}
    lines = ["| layer | input (rows × frames) | kernels | kernel span in time | Δ | output | skip sum |",
             "| --- | --- | --- | ---: | ---: | --- | --- |"]
    for layer in LAYERS[1:]:
        (g,) = groups_of(layer)
        source = inputs[layer]
        out, out_hat, skip = outs[layer]
        skip_text = f"{tex(skip)}: {format_shape(shapes[skip])}" if skip else "–"
        lines.append(f"| CNN_{layer[-1]} | {tex(source)}: {format_shape(shapes[source])} | "
                     f"{kernel_shape(analysis.model, g)} | {1000 * g.frames * FRAME_SECONDS:,.0f} ms | "
                     f"{time_offset(g)} | {tex(out)}, {tex(out_hat)}: {format_shape(shapes[out_hat])} | {skip_text} |")
    return "\n".join(lines)


def w_blocks_table(analysis: Analysis) -> str:
    """W's four blocks as Markdown, with the rows each occupies."""
    w = analysis.W.shape[1]
    lines = ["| block of $\\mathbf{W}$ | rows | how many |", "| --- | --- | ---: |"]
    for key, start, stop in w_row_groups():
        lines.append(f"| {tex(key)} | {start}–{stop - 1} | {stop - start} |")
    lines.append(f"| **$\\mathbf{{W}}$** | 0–{w - 1} | **{w}** |")
    return "\n".join(lines)


def back_end_summary(analysis: Analysis) -> str:
    """The back end in numbers, with a check of the interleaving on every segment."""
    model, a = analysis.model, analysis
    rows, frames = a.W.shape[1:]
    interleaved = bool(np.array_equal(a.pooled[:, 0::2], a.max_pool) and np.array_equal(a.pooled[:, 1::2], a.mean_pool))
    n_in, n_hidden = model.dense(HIDDEN.scope)[0].shape
    _, n_tags = model.dense(OUTPUT.scope)[0].shape
    check = ("on this recording, every segment's $\\mathbf{p}$ holds the maxima at its even and the means at its odd "
             f"entries ({a.n_segments} segments checked)" if interleaved else
             "**on this recording the interleaving check fails**")
    return (f"Pooling turns the {rows} × {frames} matrix $\\mathbf{{W}}$ into {a.pooled.shape[1]} numbers, "
            f"two per row: {check}. The first dense layer maps {n_in} inputs to {n_hidden}, the second "
            f"{n_hidden} to {n_tags}, one per tag of the {model.name} vocabulary. After pooling, time is gone: "
            f"the back end sees a {frames}-frame segment only through these "
            f"{a.pooled.shape[1]} summaries.")


NOTATION = (  # (symbol, meaning, array key or None, in the package)
    (r"\mathbf{M}_{\mathrm{dB}}", "log-compressed mel spectrogram of one segment (bands × frames)", "M_dB",
     "a.M_dB[s]"),
    (r"\hat{\mathbf{M}}_{\mathrm{dB}}", "the same after the input batch-norm: what CNN_1 reads", "M_hat", "a.M_hat[s]"),
    (r"\mathbf{K}_i,\ b_i", "kernel and bias of unit $i$ of a layer (blog orientation: rows × frames)", None,
     'a.model.unit("cnn1/38x7/12").kernel'),
    (r"\mathbf{K}\star\mathbf{X}",
     "cross-correlation over time (zero-padded by Δ before) and, in CNN_1, over frequency", None,
     "musicnn_nb.architecture.correlate"),
    (r"\mathbf{Y}_i", "rectified output of CNN_1 unit $i$: "
     "$\\mathrm{ReLU}(\\mathbf{K}_i\\star\\hat{\\mathbf{M}}_{\\mathrm{dB}} + b_i)$", "Y/38x7", "a.unit_maps(i, s).Y"),
    (r"\hat{\mathbf{Y}}_i", "$\\mathbf{Y}_i$ after unit $i$'s batch-norm", "Y/38x7", "a.unit_maps(i, s).Y_hat"),
    (r"\gamma_i, \beta_i, \mu_i, \sigma_i^2", "batch-norm scale, offset, moving mean and variance of unit $i$", None,
     'a.model.unit(name).gamma …'),
    (r"\mathbf{U}", "max of every $\\hat{\\mathbf{Y}}_i$ over frequency, stacked: the front end's output", "U",
     "a.U[s]"),
    (r"[\mathbf{U}]_{i,t},\ [\mathbf{U}]_{i,*}", "entry in row $i$ (0-based) at frame $t$; the whole row $i$", None,
     "a.U[s, i, t], a.U[s, i]"),
    (r"\mathbf{V}_1,\ \hat{\mathbf{V}}_1", "CNN_2 output before and after its batch-norm", "V1_hat",
     "a.V1[s], a.V1_hat[s]"),
    (r"\mathbf{V}_2,\ \hat{\mathbf{V}}_2", "CNN_3 output before and after its batch-norm", "V2_hat",
     "a.V2[s], a.V2_hat[s]"),
    (r"\mathbf{V}_3,\ \hat{\mathbf{V}}_3", "CNN_4 output before and after its batch-norm", "V3_hat",
     "a.V3[s], a.V3_hat[s]"),
    (r"\hat{\mathbf{V}}_1+\hat{\mathbf{V}}_2", "first skip sum (input of CNN_4)", "V12_hat", "a.V12_hat[s]"),
    (r"\hat{\mathbf{V}}_1+\hat{\mathbf{V}}_2+\hat{\mathbf{V}}_3", "second skip sum", "V123_hat", "a.V123_hat[s]"),
    (r"\mathbf{W}", "$[\\mathbf{U};\\ \\hat{\\mathbf{V}}_1;\\ \\hat{\\mathbf{V}}_1+\\hat{\\mathbf{V}}_2;\\ "
     "\\hat{\\mathbf{V}}_1+\\hat{\\mathbf{V}}_2+\\hat{\\mathbf{V}}_3]$, the mid end's output", "W", "a.W[s]"),
    (r"\mathbf{p}", "pooled vector, max and mean of each row of $\\mathbf{W}$, interleaved (this book's symbol)",
     "pooled", "a.pooled[s]"),
    (r"\mathbf{h}", "penultimate layer (this book's symbol)", "penultimate", "a.penultimate[s]"),
    (r"\mathbf{z},\ \mathbf{y}", "logits and tag weights $\\mathbf{y}=\\sigma(\\mathbf{z})$ (this book's symbols)",
     "taggram", "a.logits[s], a.taggram[s]"),
)


def notation_table(analysis: Analysis) -> str:
    """The notation of the rest of the book as Markdown, each with its computed shape."""
    shapes = tensor_shapes(analysis)
    lines = ["| symbol | meaning | shape per segment | in `musicnn_nb` (`a = analyse(…)`, segment `s`) |",
             "| --- | --- | --- | --- |"]
    for symbol, meaning, key, code in NOTATION:
        shape = format_shape(shapes[key]) if key else ""
        if key and key.startswith("Y/"):
            shape = ", ".join(format_shape(shapes[f"Y/{g.name}"]) for g in groups_of("cnn1")) + " by group"
        lines.append(f"| ${symbol}$ | {meaning} | {shape} | `{code}` |")
    lines.append(f"| `cnn1/38x7/12` | a unit's name: layer, kernel group, 0-based row in the layer's output "
                 f"(ε = {BN_EPSILON:g} in every batch-norm) | | `a.model.unit(\"cnn1/38x7/12\")` |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# The equations, evaluated directly
# ---------------------------------------------------------------------------------------

def correlate(kernels: np.ndarray, x: np.ndarray, offset: int) -> np.ndarray:
    """[K ⋆ X]_{f,t} = Σ_φ Σ_τ [K]_{φ,τ} [X]_{f+φ, t+τ−Δ}, zeros outside X in time.

    ``kernels`` (units, h, w), ``x`` (rows, T), ``offset`` Δ; returns (units, rows−h+1, T).
    Written from the chapter's equation, independently of :mod:`musicnn_nb.network`.
    """
    units, h, w = kernels.shape
    rows, frames = x.shape
    padded = np.zeros((rows, frames + w - 1), dtype=np.float64)
    padded[:, offset : offset + frames] = x
    out = np.zeros((units, rows - h + 1, frames), dtype=np.float64)
    for tau in range(w):
        windows = np.lib.stride_tricks.sliding_window_view(padded[:, tau : tau + frames], h, axis=0)
        out += np.einsum("uh,fth->uft", kernels[:, :, tau].astype(np.float64), windows)
    return out


def batch_norm_formula(x: np.ndarray, gamma, beta, mean, variance, epsilon: float = BN_EPSILON) -> np.ndarray:
    """γ (x − μ) / √(σ² + ε) + β, with the parameters broadcast over x's first axis."""
    shape = (-1,) + (1,) * (np.ndim(x) - 1)
    g, b, m, v = (np.reshape(np.asarray(p, dtype=np.float64), shape) for p in (gamma, beta, mean, variance))
    return g * (x - m) / np.sqrt(v + epsilon) + b


def _bn(model: Model, scope: str, x: np.ndarray) -> np.ndarray:
    bn = model.batch_norm(scope)
    return batch_norm_formula(x, bn.gamma, bn.beta, bn.mean, bn.variance)


def _conv_layer(model: Model, group: Group, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V, V̂) of a CNN_2-4 layer on x (rows × frames), from the equations."""
    z = correlate(model.kernels(group), x, time_offset(group))[:, 0, :]
    v = np.maximum(z + model.variables[f"{group.conv}/bias"][:, None], 0)
    return v, _bn(model, group.bn, v)


@dataclass(frozen=True)
class Check:
    """An equation of the chapter evaluated directly and compared with the package's array."""

    equation: str  # LaTeX
    array: str  # what it is compared with
    max_difference: float
    largest_value: float

    @property
    def relative(self) -> float:
        return self.max_difference / max(self.largest_value, np.finfo(np.float32).tiny)


def _check(equation: str, array: str, direct: np.ndarray, package: np.ndarray) -> Check:
    return Check(equation, array, float(np.max(np.abs(direct - package))), float(np.max(np.abs(package))))


def check_equations(analysis: Analysis, segment: int = 0) -> list[Check]:
    """Evaluate each equation of chapter 2 in float64 on one segment and compare.

    CNN_1 is checked on the largest-norm unit of each kernel group; every later equation on
    all its units, each fed with the direct evaluation of the one before (from U on).
    """
    a, model = analysis, analysis.model
    s = a.check_segment(segment)
    checks = [_check(r"\hat{\mathbf{M}}_{\mathrm{dB}} = "
                     r"\gamma\frac{\mathbf{M}_{\mathrm{dB}}-\mu}{\sqrt{\sigma^2+\epsilon}}+\beta",
                     "a.M_hat", _bn(model, INPUT_BN, a.M_dB[s][None])[0], a.M_hat[s])]
    m_hat = a.M_hat[s].astype(np.float64)
    for g in groups_of("cnn1"):
        k = int(np.argmax(np.linalg.norm(model.kernels(g).reshape(g.size, -1), axis=1)))
        kernel = model.kernels(g)[k : k + 1]
        y = np.maximum(correlate(kernel, m_hat, time_offset(g))[0] + model.variables[f"{g.conv}/bias"][k], 0)
        bn = model.batch_norm(g.bn)
        u_row = batch_norm_formula(y[None], bn.gamma[k:k + 1], bn.beta[k:k + 1], bn.mean[k:k + 1],
                                   bn.variance[k:k + 1])[0].max(axis=0)
        i = g.first_row + k
        checks.append(_check(rf"[\mathbf{{U}}]_{{{i},t}} = \max_f [\hat{{\mathbf{{Y}}}}_{{{i}}}]_{{f,t}}\ "
                             rf"\text{{({g.name}, largest norm)}}", f"a.U[s, {i}]", u_row, a.U[s, i]))
    v1, v1_hat = _conv_layer(model, groups_of("cnn2")[0], a.U[s].astype(np.float64))
    v2, v2_hat = _conv_layer(model, groups_of("cnn3")[0], v1_hat)
    v3, v3_hat = _conv_layer(model, groups_of("cnn4")[0], v1_hat + v2_hat)
    w = np.concatenate([a.U[s], v1_hat, v1_hat + v2_hat, v1_hat + v2_hat + v3_hat])
    checks += [
        _check(r"\hat{\mathbf{V}}_1 = \mathrm{BN}(\mathrm{ReLU}(\mathbf{K}\star\mathbf{U}+\mathbf{b}))",
               "a.V1_hat", v1_hat, a.V1_hat[s]),
        _check(r"\hat{\mathbf{V}}_2 = \mathrm{BN}(\mathrm{ReLU}(\mathbf{K}\star\hat{\mathbf{V}}_1+\mathbf{b}))",
               "a.V2_hat", v2_hat, a.V2_hat[s]),
        _check(r"\hat{\mathbf{V}}_3 = "
               r"\mathrm{BN}(\mathrm{ReLU}(\mathbf{K}\star(\hat{\mathbf{V}}_1+\hat{\mathbf{V}}_2)+\mathbf{b}))",
               "a.V3_hat", v3_hat, a.V3_hat[s]),
        _check(r"\mathbf{W} = [\mathbf{U};\hat{\mathbf{V}}_1;\hat{\mathbf{V}}_1+\hat{\mathbf{V}}_2;"
               r"\hat{\mathbf{V}}_1+\hat{\mathbf{V}}_2+\hat{\mathbf{V}}_3]",
               "a.W", w, a.W[s]),
    ]
    p = np.empty(2 * len(w))
    p[0::2], p[1::2] = w.max(axis=1), w.mean(axis=1)
    kernel, bias = model.dense(HIDDEN.scope)
    h = _bn(model, PENULTIMATE_BN.scope, np.maximum(_bn(model, POOLED_BN.scope, p) @ kernel + bias, 0))
    kernel, bias = model.dense(OUTPUT.scope)
    y = 1 / (1 + np.exp(-(h @ kernel + bias)))
    checks += [
        _check(r"[\mathbf{p}]_{2r} = \max_t [\mathbf{W}]_{r,t},\ "
               r"[\mathbf{p}]_{2r+1} = \mathrm{mean}_t [\mathbf{W}]_{r,t}",
               "a.pooled", p, a.pooled[s]),
        _check(r"\mathbf{h} = \mathrm{BN}(\mathrm{ReLU}(\mathrm{BN}(\mathbf{p})\mathbf{A}_1+\mathbf{a}_1))",
               "a.penultimate", h, a.penultimate[s]),
        _check(r"\mathbf{y} = \sigma(\mathbf{h}\mathbf{A}_2+\mathbf{a}_2)", "a.taggram", y, a.taggram[s]),
    ]
    return checks


def render_checks(checks: Sequence[Check]) -> str:
    """The equation checks as a Markdown table."""
    lines = ["| equation, evaluated directly in float64 | compared with | max difference | largest value | relative |",
             "| --- | --- | ---: | ---: | ---: |"]
    for c in checks:
        lines.append(f"| ${c.equation}$ | `{c.array}` | {c.max_difference:.1e} | {c.largest_value:.3g} | "
                     f"{c.relative:.1e} |")
    return "\n".join(lines)
