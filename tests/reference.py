"""The original MusiCNN TensorFlow graph, kept for the fidelity tests and chapter 1.

Builds ``musicnn.models.define_model`` exactly as ``musicnn.extractor`` does, but inside
its own ``tf.Graph`` (importing ``musicnn.extractor`` would switch eager execution off for
the whole process), restores the shipped checkpoint, and reads the tensor at every place
the book names. Needs ``tensorflow`` and ``tf-keras`` (the test extras), which the rest of
the package never imports.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from musicnn_nb.model.spectrogram import N_MELS, SEGMENT_FRAMES
from musicnn_nb.model.weights import MODELS, canonical_model_name, musicnn_folder


def _tensorflow():
    """Import TensorFlow with the legacy Keras that musicnn's tf.compat.v1.layers need."""
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    elif os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise RuntimeError("TensorFlow was imported before TF_USE_LEGACY_KERAS=1 was set; "
                           "set it in the environment before anything imports TensorFlow.")
    import tensorflow as tf

    return tf


class ReferenceGraph:
    """musicnn's own graph for one model, restored from its checkpoint."""

    def __init__(self, model: str):
        tf = _tensorflow()
        from musicnn import models

        self.name = canonical_model_name(model)
        self.graph = tf.Graph()
        with self.graph.as_default():
            with tf.compat.v1.name_scope("model"):
                self.x = tf.compat.v1.placeholder(tf.float32, [None, SEGMENT_FRAMES, N_MELS])
                self.is_training = tf.compat.v1.placeholder(tf.bool)
                logits, _, _, _, _, _, mean_pool, max_pool, penultimate = models.define_model(
                    self.x, self.is_training, MODELS[self.name][0], 50)
                taggram = tf.nn.sigmoid(logits)
            self.session = tf.compat.v1.Session(graph=self.graph)
            tf.compat.v1.train.Saver().restore(self.session, f"{musicnn_folder() / MODELS[self.name][0]}/")
        op = self.graph.get_operation_by_name
        first_input = lambda name: op(f"model/{name}").inputs[0]  # noqa: E731
        cnn1 = ["", "_1", "_2", "_3", "_4"]
        self.taps = {
            "M_hat": first_input("Pad"),
            "U": op("model/concat").outputs[0],
            **{f"Y/{i}": op(f"model/conv2d{s}/Relu").outputs[0] for i, s in enumerate(cnn1)},
            **{f"Y_hat/{i}": first_input(f"max_pooling2d{s}/MaxPool") for i, s in enumerate(cnn1)},
            "V1": op("model/conv2d_5/Relu").outputs[0], "V1_hat": first_input("transpose"),
            "V2": op("model/conv2d_6/Relu").outputs[0], "V2_hat": first_input("transpose_1"),
            "V3": op("model/conv2d_7/Relu").outputs[0], "V3_hat": first_input("transpose_2"),
            "V12_hat": op("model/Add").outputs[0], "V123_hat": op("model/Add_1").outputs[0],
            "W": op("model/concat_1").outputs[0],
            "max_pool": max_pool, "mean_pool": mean_pool,
            "pooled": op("model/flatten/Reshape").outputs[0],
            "normalised": first_input("dense/MatMul"),  # after the batch-norm (and the inactive dropout)
            "hidden_pre": op("model/dense/BiasAdd").outputs[0], "hidden": op("model/dense/Relu").outputs[0],
            "penultimate": penultimate, "logits": logits, "taggram": taggram,
        }

    def run(self, m_db: np.ndarray) -> dict[str, np.ndarray]:
        """Every tapped tensor for M_dB segments (segments, 96, 187), blog orientation.

        ``Y/k`` and ``Y_hat/k`` are CNN_1 group k's maps, (segments, units, rows, time).
        """
        feed = {self.x: np.transpose(m_db, (0, 2, 1)), self.is_training: False}
        values = self.session.run(self.taps, feed_dict=feed)
        out = {}
        for name, v in values.items():
            if name.startswith("Y"):
                out[name] = np.transpose(v, (0, 3, 2, 1))
            elif v.ndim == 4:  # (segments, time, rows, 1) or (segments, time, 1, units)
                out[name] = np.transpose(v.reshape(v.shape[0], v.shape[1], -1), (0, 2, 1))
            elif v.ndim == 3 and name in ("M_hat", "U"):
                out[name] = np.transpose(v, (0, 2, 1))
            else:
                out[name] = v.reshape(v.shape[0], -1)
        return out

    def variables(self) -> dict[str, np.ndarray]:
        """The checkpoint as TensorFlow reads it (to check :mod:`musicnn_nb.checkpoint`)."""
        tf = _tensorflow()
        reader = tf.compat.v1.train.NewCheckpointReader(f"{musicnn_folder() / MODELS[self.name][0]}/")
        return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
