"""The pretrained MusiCNN weights, named and grouped the way the blog series reads them.

The checkpoint stores TensorFlow variables (``conv2d_3/kernel``, ``batch_normalization_4/
gamma`` …). This module declares, once, which variable belongs to which layer and kernel
group (chapter 2, "The architecture"), and hands out every unit by a stable name
``layer/group/index`` such as ``cnn1/38x7/12``: the index is the unit's 0-based row in its
layer's output (for CNN_1, its row of U), the numbering the blog uses.

Kernels are returned in the blog's orientation, frequency (or input row) × time.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from musicnn_nb.model.cache import Derived
from musicnn_nb.model.checkpoint import read_checkpoint
from musicnn_nb.model.errors import ModelError, MusicnnNotInstalledError, SelectionError

BN_EPSILON = 1e-3  # tf.compat.v1.layers.batch_normalization's default
T = TypeVar("T")
INSTALL_HINT = "install it with `pip install --no-deps musicnn==0.1.0` (`make test` or `make book` do this for you)"

MTT_TAGS = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male",
    "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice",
    "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello", "no voice",
    "weird", "country", "metal", "female voice", "choral",
)
MSD_TAGS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists",
    "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill",
    "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
    "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock",
    "60s", "rnb", "indie pop", "sad", "House", "happy",
)
MODELS = {"MSD": ("MSD_musicnn", MSD_TAGS), "MTT": ("MTT_musicnn", MTT_TAGS)}


@dataclass(frozen=True)
class Group:
    """A set of units sharing one kernel shape: one convolution variable in the checkpoint."""

    layer: str  # "cnn1" … "cnn4"
    name: str  # kernel shape in the blog's orientation, "rows x time"
    size: int  # number of units
    first_row: int  # row of the group's first unit in the layer's output
    conv: str  # checkpoint scope of the kernel and bias
    bn: str  # checkpoint scope of the batch-norm that follows
    rows: int  # kernel extent over frequency (CNN_1) or input rows (CNN_2-4)
    frames: int  # kernel extent over time (16-ms frames)

    @property
    def stop_row(self) -> int:
        return self.first_row + self.size


GROUPS = (
    Group("cnn1", "38x7", 204, 0, "conv2d", "batch_normalization_1", 38, 7),
    Group("cnn1", "67x7", 204, 204, "conv2d_1", "batch_normalization_2", 67, 7),
    Group("cnn1", "1x128", 51, 408, "conv2d_2", "batch_normalization_3", 1, 128),
    Group("cnn1", "1x64", 51, 459, "conv2d_3", "batch_normalization_4", 1, 64),
    Group("cnn1", "1x32", 51, 510, "conv2d_4", "batch_normalization_5", 1, 32),
    Group("cnn2", "561x7", 64, 0, "conv2d_5", "batch_normalization_6", 561, 7),
    Group("cnn3", "64x7", 64, 0, "conv2d_6", "batch_normalization_7", 64, 7),
    Group("cnn4", "64x7", 64, 0, "conv2d_7", "batch_normalization_8", 64, 7),
)
LAYERS = ("cnn1", "cnn2", "cnn3", "cnn4")
LAYER_SIZES = {layer: sum(g.size for g in GROUPS if g.layer == layer) for layer in LAYERS}
W_ROWS = sum(LAYER_SIZES.values())  # 753: W stacks U and the mid end's three blocks
INPUT_BN = "batch_normalization"  # checkpoint scope of the scalar batch-norm of M_dB


@dataclass(frozen=True)
class BackEndLayer:
    """One layer of the back end after temporal pooling: a batch-norm or a dense layer."""

    name: str  # this book's name for the layer
    kind: str  # "batch-norm" or "dense"
    scope: str  # checkpoint scope of its variables
    inputs: int
    outputs: int


POOLED_BN = BackEndLayer("batch-norm of p", "batch-norm", "batch_normalization_9", 2 * W_ROWS, 2 * W_ROWS)
HIDDEN = BackEndLayer("dense 200 + ReLU", "dense", "dense", 2 * W_ROWS, 200)
PENULTIMATE_BN = BackEndLayer("batch-norm of the hidden layer (penultimate)", "batch-norm",
                              "batch_normalization_10", 200, 200)
OUTPUT = BackEndLayer("dense 50 (logits)", "dense", "dense_1", 200, 50)
BACK_END = (POOLED_BN, HIDDEN, PENULTIMATE_BN, OUTPUT)  # in the order the back end applies them


@dataclass(frozen=True)
class BatchNorm:
    """Inference-time batch-norm: gamma * (x - mean) / sqrt(variance + eps) + beta."""

    gamma: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    epsilon: float = BN_EPSILON

    @property
    def scale(self) -> np.ndarray:
        """The slope of the affine map the batch-norm is at inference time."""
        return self.gamma / np.sqrt(self.variance + np.float32(self.epsilon))

    @property
    def shift(self) -> np.ndarray:
        """The intercept of that affine map: beta - scale * mean."""
        return self.beta - self.scale * self.mean

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale + self.shift


@dataclass(frozen=True)
class Unit:
    """One unit (convolution channel) of CNN_1 … CNN_4 with everything that defines it."""

    name: str
    group: Group
    index: int  # the unit's 0-based row in its layer's output (the blog's numbering)
    kernel: np.ndarray  # blog orientation: rows x time
    bias: float
    gamma: float
    beta: float
    mean: float
    variance: float

    @property
    def layer(self) -> str:
        return self.group.layer

    @property
    def norm(self) -> float:
        """Frobenius norm of the kernel (in float64: "vanishing" weights near 1e-30 square to
        below float32's range)."""
        return float(np.linalg.norm(self.kernel.astype(np.float64)))


def unit_name(group: Group, index: int) -> str:
    return f"{group.layer}/{group.name}/{index}"


def musicnn_folder() -> Path:
    """The installed musicnn package's folder, which holds the checkpoints."""
    try:
        spec = importlib.util.find_spec("musicnn")
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        raise MusicnnNotInstalledError(f"musicnn is not installed: {INSTALL_HINT}.")
    return Path(spec.origin).parent


def canonical_model_name(name: str) -> str:
    """'MSD', 'msd' and 'MSD_musicnn' all mean 'MSD'."""
    key = str(name).strip().upper().removesuffix("_MUSICNN")
    if key not in MODELS:
        hint = " (MSD_musicnn_big is not shipped in musicnn 0.1.0 on PyPI)" if "BIG" in key else ""
        raise ModelError(f"unknown model {name!r}{hint}: choose one of {', '.join(MODELS)}.")
    return key


class Model:
    """One pretrained MusiCNN: its tags, its variables and its units by name.

    Built by :func:`load_model`, which caches one instance per model.
    """

    DERIVED_LIMIT = 64  # results derived from the weights kept on the model (:meth:`derived`)

    def __init__(self, name: str, variables: dict[str, np.ndarray], folder: Path):
        self.name = name
        self.folder = folder
        self.tags = MODELS[name][1]
        self.variables = variables
        self.digest = hashlib.sha256((folder / ".index").read_bytes()).hexdigest()[:16]
        self._derived = Derived(self.DERIVED_LIMIT)

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, computed once per ``key`` and kept on this model (at most
        :attr:`DERIVED_LIMIT`, least recently used dropped first): the weights' counterpart of
        :meth:`musicnn_nb.model.pipeline.Analysis.derived`."""
        return self._derived.get(key, compute)

    def __repr__(self) -> str:
        return f"Model({self.name!r})"

    def batch_norm(self, scope: str) -> BatchNorm:
        v = self.variables
        return BatchNorm(v[f"{scope}/gamma"], v[f"{scope}/beta"],
                         v[f"{scope}/moving_mean"], v[f"{scope}/moving_variance"])

    def dense(self, scope: str) -> tuple[np.ndarray, np.ndarray]:
        """Kernel (inputs x outputs) and bias of a dense layer, by scope (see :data:`BACK_END`)."""
        return self.variables[f"{scope}/kernel"], self.variables[f"{scope}/bias"]

    @property
    def input_bn(self) -> BatchNorm:
        """The scalar batch-norm that turns M_dB into the normalised M̂_dB."""
        return self.batch_norm(INPUT_BN)

    def conv_kernel(self, group: Group) -> np.ndarray:
        """The group's kernels as the checkpoint stores them: time x rows x in x units."""
        return self.variables[f"{group.conv}/kernel"]

    def kernels(self, group: Group) -> np.ndarray:
        """The group's kernels in the blog's orientation: units x rows x time."""
        k = self.conv_kernel(group)  # (time, rows, 1, units)
        return np.transpose(k[:, :, 0, :], (2, 1, 0))

    def norms(self, layer: str) -> np.ndarray:
        """Frobenius norm of every kernel of a layer, in row order."""
        return np.concatenate([np.linalg.norm(self.kernels(g).reshape(g.size, -1).astype(np.float64), axis=1)
                               for g in groups_of(layer)])

    def biases(self, layer: str) -> np.ndarray:
        """Bias b_i of every unit of a layer, in row order."""
        return np.concatenate([self.variables[f"{g.conv}/bias"] for g in groups_of(layer)])

    def unit(self, name: str | int, layer: str | None = None) -> Unit:
        """A unit by its name ``cnn1/38x7/12`` or by (row index, layer)."""
        group, index = locate_unit(name, layer)
        k = index - group.first_row
        bn = self.batch_norm(group.bn)
        return Unit(unit_name(group, index), group, index, self.kernels(group)[k],
                    float(self.variables[f"{group.conv}/bias"][k]), float(bn.gamma[k]),
                    float(bn.beta[k]), float(bn.mean[k]), float(bn.variance[k]))

    def units(self, layer: str) -> list[Unit]:
        return [self.unit(i, layer) for i in range(layer_size(layer))]

    def test_scores(self) -> dict[str, float]:
        """The published test-set scores from the checkpoint's ``experiment.result``."""
        text = (self.folder / "experiment.result").read_text()
        values = [float(v) for v in re.findall(r"AUC:\s*([0-9.]+)", text)]
        return dict(zip(("ROC-AUC", "PR-AUC"), values))  # the files list ROC-AUC first


def layer_size(layer: str) -> int:
    if layer not in LAYER_SIZES:
        raise SelectionError(f"unknown layer {layer!r}: choose one of {', '.join(LAYERS)}.")
    return LAYER_SIZES[layer]


def groups_of(layer: str) -> tuple[Group, ...]:
    layer_size(layer)
    return tuple(g for g in GROUPS if g.layer == layer)


def group_of_rows(layer: str) -> np.ndarray:
    """For every unit of a layer, in row order, the position of its group in :func:`groups_of`.

    Index a per-group sequence with it to spread one value per group over the rows, e.g.
    ``np.array([g.name for g in groups_of("cnn1")])[group_of_rows("cnn1")]``.
    """
    return np.concatenate([np.full(g.size, i) for i, g in enumerate(groups_of(layer))])


def locate_unit(name: str | int, layer: str | None = None) -> tuple[Group, int]:
    """The group and row index of a unit given by name or by (index, layer)."""
    if isinstance(name, str) and "/" in name:
        parts = name.split("/")
        if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
            raise SelectionError(f"unit name {name!r} is not of the form layer/group/index, e.g. cnn1/38x7/12.")
        layer, group_name, index = parts[0], parts[1], int(parts[2])
    else:
        if layer is None:
            raise SelectionError(f"unit {name!r} needs a layer: pass layer='cnn1' or a name like cnn1/38x7/12.")
        index, group_name = int(name), None
    size = layer_size(layer)
    if not 0 <= index < size:
        raise SelectionError(f"{layer} has units 0 to {size - 1}; {index} is out of range.")
    group = next(g for g in groups_of(layer) if g.first_row <= index < g.stop_row)
    if group_name is not None and group_name != group.name:
        raise SelectionError(f"unit {index} of {layer} is in group {group.name}, not {group_name}: "
                             f"its name is {unit_name(group, index)}.")
    return group, index


def load_model(name: str) -> Model:
    """The pretrained model 'MSD' or 'MTT', read once from the installed musicnn package."""
    return _load(canonical_model_name(name))


@functools.cache
def _load(key: str) -> Model:
    folder = musicnn_folder() / MODELS[key][0]
    if not (folder / ".index").exists():
        raise MusicnnNotInstalledError(f"musicnn is installed but {folder} holds no checkpoint: "
                                       f"reinstall it ({INSTALL_HINT}).")
    return Model(key, read_checkpoint(f"{folder}/"), folder)
