"""python -m musicnn_nb extract writes the documented arrays."""

import subprocess
import sys

import numpy as np

SHAPES = {"M_dB": (96, 187), "M_hat": (96, 187), "U": (561, 187), "V1": (64, 187),
          "V1_hat": (64, 187), "V2": (64, 187), "V2_hat": (64, 187), "V3": (64, 187),
          "V3_hat": (64, 187), "W": (753, 187), "max_pool": (753,), "mean_pool": (753,),
          "penultimate": (200,), "taggram": (50,)}


def test_extract_writes_every_array_in_blog_orientation(clip, tmp_path, analysis):
    out = tmp_path / "out.npz"
    result = subprocess.run([sys.executable, "-m", "musicnn_nb", "extract", str(clip), "--model",
                             analysis.model.name, "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with np.load(out) as saved:
        n = analysis.n_segments
        for name, shape in SHAPES.items():
            assert saved[name].shape == (n, *shape) and saved[name].dtype == np.float32, name
        np.testing.assert_array_equal(saved["W"], analysis.W)
        assert list(saved["tag_names"]) == list(analysis.tags)
        np.testing.assert_allclose(saved["segment_start_s"], np.arange(n) * 187 * 0.016, rtol=1e-6)
