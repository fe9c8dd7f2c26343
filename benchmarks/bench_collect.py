"""Throughput, scaling and memory of ``collect``, and the forward pass against float32 matmul.

Prints, measured in this run on this machine (2 shared cores: expect noise when others work):
  - float32 matrix-multiply throughput, one thread (the reference);
  - the forward pass (one model, warm, one thread): segments/s, GFLOP/s, and its ratio to
    the reference (target >= 0.4);
  - collect end to end (decode, M_dB, forward, store) for one model: segments/s on a warm
    local Dask cluster of 1 and of 2 worker processes, per core, and the parallel efficiency
    rate(2) / (2 rate(1)) (target >= 0.8);
  - peak resident memory of one worker process over 10 and 100 files (target: equal);
  - the cost model: hours for GTZAN (1,000 x 30 s) and MagnaTagATune (25,863 x 29 s).

    make benchmark     # or: .venv/bin/python benchmarks/bench_collect.py [--files 24]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from musicnn_nb.model.audio import load_audio, shipped_example  # noqa: E402
from musicnn_nb.model.collect import collect, local_cluster, shut_down, summarise  # noqa: E402
from musicnn_nb.model.spectrogram import SEGMENT_FRAMES, m_db, segments  # noqa: E402
from musicnn_nb.model.weights import GROUPS  # noqa: E402

SEGMENT_S = SEGMENT_FRAMES * 256 / 16000
COLLECTIONS = {"GTZAN (1,000 x 30 s)": (1000, 30.0), "MagnaTagATune (25,863 x 29 s)": (25863, 29.0)}
MEMORY = """
import resource, sys
from musicnn_nb.model.collect import collect
collect(sys.argv[1], sys.argv[2], ["MSD"], workers=1, progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def forward_flops() -> float:
    """Floating-point operations (2 per multiply-add) of the convolutions for one segment."""
    macs = 0
    for g in GROUPS:
        if g.layer == "cnn1":
            out_rows = 96 - g.rows + 1
            macs += SEGMENT_FRAMES * out_rows * g.size * g.rows * g.frames
        else:
            macs += SEGMENT_FRAMES * g.size * g.rows * g.frames
    return 2.0 * macs


def matmul_gflops(n: int = 1536, repeat: int = 5) -> float:
    a, b = (np.random.default_rng(0).standard_normal((n, n)).astype(np.float32) for _ in range(2))
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeat))
    return 2 * n**3 / best / 1e9


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def excerpts(folder: Path, n: int, seconds: float) -> Path:
    """``n`` files of ``seconds`` cut from the shipped example at different offsets (distinct content)."""
    samples = load_audio(shipped_example()).samples
    folder.mkdir(parents=True, exist_ok=True)
    length = int(seconds * 16000)
    for i in range(n):
        start = (i * 7919) % max(1, samples.size - length)
        piece = np.roll(samples, -start)[:length] * (0.5 + 0.5 * (i % 7) / 7)
        soundfile.write(folder / f"{i:04d}.flac", piece, 16000, subtype="PCM_16")
    return folder


def collect_rate(source: Path, store: Path, workers: int) -> tuple[float, float]:
    """Segments per second of one model, end to end, on a warm local cluster of ``workers``
    processes (started, and the model loaded in each, before the clock starts), and segments
    per CPU-second of the workers (what a core delivers, whatever else the machine runs)."""
    from dask.distributed import Client

    cluster = local_cluster(workers, silence_logs=50)
    client = Client(cluster)
    try:
        client.run(lambda: summarise("MSD", np.zeros((1, 96, SEGMENT_FRAMES), np.float32)))
        cpu = sum(client.run(time.process_time).values())
        start = time.perf_counter()
        result = collect(source, store, ["MSD"], scheduler=cluster.scheduler_address, progress=False)
        seconds = time.perf_counter() - start
        cpu = sum(client.run(time.process_time).values()) - cpu
    finally:
        shut_down(client, cluster)
    n = len(result.table("MSD", ["segment"]))
    return n / seconds, n / cpu


def peak_mb(source: Path, store: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", MEMORY, str(source), str(store)], env=env, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 24 files (240 segments): long enough that a run's fixed costs (the first task's start,
    # the last file's tail on one worker) do not decide the scaling (12 gave 0.78-0.80)
    parser.add_argument("--files", type=int, default=24, help="30-s files for the throughput runs")
    parser.add_argument("--workers", type=int, nargs="*", default=[8, 32], help="cluster sizes for the cost model")
    args = parser.parse_args()
    with threadpool_limits(1):
        reference = matmul_gflops()
        cut = segments(m_db(load_audio(shipped_example()).samples))
        summarise("MSD", cut[:2])  # warm: weights loaded, code paths touched
        seconds = min(_timed(lambda: summarise("MSD", cut)) for _ in range(3))
    per_segment = seconds / len(cut)
    achieved = forward_flops() / per_segment / 1e9
    print(f"float32 matmul, 1 thread: {reference:.1f} GFLOP/s (reference)")
    print(f"forward pass + unit summaries, MSD, 1 thread: {1 / per_segment:.2f} segments/s, "
          f"{achieved:.1f} GFLOP/s = {achieved / reference:.2f} of matmul (target >= 0.4)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = excerpts(tmp / "src", args.files, 30.0)
        one, one_cpu = collect_rate(source, tmp / "one", 1)
        two, two_cpu = collect_rate(source, tmp / "two", 2)
        efficiency = two / (2 * one)
        print(f"collect, MSD, {args.files} files of 30 s: 1 worker {one:.2f} segments/s; 2 workers {two:.2f} "
              f"segments/s ({two / 2:.2f} per core); parallel efficiency {efficiency:.2f} (target >= 0.8)")
        print(f"  per CPU-second of the workers: {one_cpu:.2f} segments (1 worker), {two_cpu:.2f} (2 workers); "
              f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        small = {n: excerpts(tmp / f"m{n}", n, 6.0) for n in (10, 100)}
        peaks = {n: peak_mb(folder, tmp / f"store{n}") for n, folder in small.items()}
        print(f"peak memory of one worker: {peaks[10]:.0f} MB over 10 files, {peaks[100]:.0f} MB over 100 files "
              f"(ratio {peaks[100] / peaks[10]:.2f}; target: independent of the number of files)")
    per_core = one_cpu
    efficiency = min(1.0, two_cpu / one_cpu)  # CPU cost of coordination; wall-clock efficiency above
    print(f"cost model at {per_core:.2f} segments per core-second for one model (1 worker, CPU time), "
          f"efficiency {efficiency:.2f} from the CPU cost with 2 workers (both models: twice the hours):")
    for name, (n, seconds_each) in COLLECTIONS.items():
        segs = n * int(seconds_each // SEGMENT_S)
        cells = [f"{w} worker{'s' * (w > 1)} {segs / (w * per_core * (efficiency if w > 1 else 1)) / 3600:.2f} h"
                 for w in (1, 2, *args.workers)]
        print(f"  {name}, {segs:,} segments: " + "; ".join(cells))
    print(json.dumps({"matmul_gflops": reference, "forward_ratio": achieved / reference, "rate_1": one,
                      "rate_2": two, "cpu_rate_1": one_cpu, "cpu_rate_2": two_cpu, "peak_10": peaks[10],
                      "peak_100": peaks[100]}))


if __name__ == "__main__":
    main()
