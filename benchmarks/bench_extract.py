"""Time and memory of ``python -m musicnn_nb extract`` against the original musicnn extractor.

Each measurement runs in its own cold process, on the same clip and model:
  (a) musicnn.extractor.extractor(clip, model, extract_features=True)   the original
  (b) python -m musicnn_nb extract clip --model M -o out.npz            empty cache
  (c) the same command again                                            served from the cache
  (d) (b) on a --long-minute recording (the clip repeated; default 10)   empty cache
  (e) (d) again                                                         served from the cache
It prints median wall times over --repeat runs, the ratios b/a and c/a, and each peak
resident memory. Targets: b/a <= 0.5, c/a <= 0.05, peak(b) <= peak(a). For the long
recording it prints time and peak memory against (b): time should grow with the length
(20 times the audio), peak memory only by the arrays returned (about 30 MB a minute).

    make benchmark            # or: .venv/bin/python benchmarks/bench_extract.py [--clip F]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile

CLIP = Path(__file__).resolve().parents[1] / "tests" / "data" / "joram-moments_of_clarity-08-solipsism-59-88.mp3"
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - start
if done.returncode:
    sys.exit(done.stderr.decode()[-2000:])
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""
ORIGINAL = """
import os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
from musicnn.extractor import extractor
extractor(sys.argv[1], model=sys.argv[2] + "_musicnn", extract_features=True)
"""


def measure(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall time and peak RSS of one cold run of ``command``."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{out.stderr}")
    return json.loads(out.stdout)


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def long_recording(clip: Path, minutes: float, folder: Path) -> Path:
    """The clip repeated to ``minutes``, written as 16-bit FLAC at its own rate (a realistic long file)."""
    data, rate = soundfile.read(clip, dtype="float32", always_2d=True)
    n = int(minutes * 60 * rate)
    path = folder / f"long-{minutes:g}min.flac"
    soundfile.write(path, np.resize(data, (n, data.shape[1])), rate, subtype="PCM_16")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--model", default="MTT", choices=["MSD", "MTT"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--long", type=float, default=10, help="minutes of the long recording (0: skip it)")
    args = parser.parse_args()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    original, cold, cached, long_cold, long_cached = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        ours = [sys.executable, "-m", "musicnn_nb", "extract", str(args.clip), "--model", args.model,
                "-o", f"{tmp}/out.npz"]
        long_clip = long_recording(args.clip, args.long, Path(tmp)) if args.long else None
        for i in range(args.repeat):
            original.append(measure([sys.executable, "-c", ORIGINAL, str(args.clip), args.model], env))
            run_env = {**env, "MUSICNN_NB_CACHE": f"{tmp}/cache{i}"}
            cold.append(measure(ours, run_env))
            cached.append(measure(ours, run_env))
            if long_clip:
                long_env = {**env, "MUSICNN_NB_CACHE": f"{tmp}/long-cache{i}"}
                long_ours = [*ours[:4], str(long_clip), *ours[5:]]
                long_cold.append(measure(long_ours, long_env))
                long_cached.append(measure(long_ours, long_env))
                shutil.rmtree(f"{tmp}/long-cache{i}")
    a, b, c = (median(r, "seconds") for r in (original, cold, cached))
    print(f"clip: {args.clip.name}, model {args.model}, median of {args.repeat} cold processes each")
    print(f"{'':34}{'seconds':>9}{'ratio':>8}{'peak MB':>10}")
    for label, runs, t in (("(a) original musicnn extractor", original, a),
                           ("(b) musicnn_nb extract, no cache", cold, b),
                           ("(c) musicnn_nb extract, cached", cached, c)):
        print(f"{label:34}{t:9.2f}{t / a:8.3f}{median(runs, 'peak_mb'):10.0f}")
    print(f"targets: b/a <= 0.5 ({'met' if b / a <= 0.5 else 'MISSED'}), "
          f"c/a <= 0.05 ({'met' if c / a <= 0.05 else 'MISSED'}), "
          f"peak(b) <= peak(a) ({'met' if median(cold, 'peak_mb') <= median(original, 'peak_mb') else 'MISSED'})")
    if long_cold:
        print(f"\n{args.long:g}-min recording (the clip repeated), against (b):")
        print(f"{'':34}{'seconds':>9}{'x (b)':>8}{'peak MB':>10}{'x (b)':>8}")
        for label, runs in (("(d) musicnn_nb extract, no cache", long_cold),
                            ("(e) musicnn_nb extract, cached", long_cached)):
            t, peak = median(runs, "seconds"), median(runs, "peak_mb")
            print(f"{label:34}{t:9.2f}{t / b:8.1f}{peak:10.0f}{peak / median(cold, 'peak_mb'):8.1f}")


if __name__ == "__main__":
    main()
