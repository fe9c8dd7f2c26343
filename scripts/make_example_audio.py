"""Regenerate ``musicnn_nb/data/example.flac``, the book's default running-example recording.

Why: the book needs a real piece of music that it may redistribute. "sixtyfour" by blkrbt,
from the game Nexuiz (© Alientrap, GPL-2+), is four-on-the-floor electronic dance music
that Debian ships in the package ``nexuiz-music``, so anyone can fetch the same bytes.

What: fetch the package (``apt-get download nexuiz-music``) or use one already downloaded,
take the track out of ``music.pk3`` (a zip), mix to mono (mean of channels), resample to
16 kHz with resampy ``kaiser_best`` (the model's input rate and filter), cut 30 s where the
full beat plays, round to 16 bits and write FLAC. The output is deterministic.

Usage (from the repository root)::

    python scripts/make_example_audio.py                    # downloads the .deb
    python scripts/make_example_audio.py nexuiz-music_2.5.2-12_all.deb
    python scripts/make_example_audio.py extracted/          # a `dpkg-deb -x` folder
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import resampy
import soundfile as sf

PACKAGE = "nexuiz-music"
PACKAGE_VERSION = "2.5.2-12"  # the version the shipped file was made from
PK3 = Path("usr/share/games/nexuiz/data/music.pk3")
TRACK = "sound/cdtracks/sixtyfour_.ogg"
TRACK_SHA256 = "a909187697584d5bf4006b14a7a2d815755df72e93fd8fa3494703c3cc146d34"
OFFSET_S = 30.0  # inside the full groove (7-65 s), past the 7 s intro, before the 66 s break
DURATION_S = 30.0
RATE = 16000
OUTPUT = Path(__file__).resolve().parent.parent / "musicnn_nb" / "data" / "example.flac"


def extracted_package(source: Path | None, workdir: Path, package: str = PACKAGE,
                      package_version: str = PACKAGE_VERSION) -> Path:
    """Folder holding the package's files: ``source`` if it is one, else the unpacked .deb."""
    if source is not None and source.is_dir():
        return source
    if source is None:
        subprocess.run(["apt-get", "download", package], cwd=workdir, check=True)
        source = next(workdir.glob(f"{package}_*.deb"))
    version = subprocess.run(["dpkg-deb", "-f", str(source), "Version"],
                             check=True, capture_output=True, text=True).stdout.strip()
    if version != package_version:
        print(f"warning: {package} {version}, not {package_version}", file=sys.stderr)
    root = workdir / "root"
    subprocess.run(["dpkg-deb", "-x", str(source), str(root)], check=True)
    return root


def read_track(root: Path) -> tuple[np.ndarray, int]:
    """The track's samples (frames x channels, float32) and sample rate."""
    with zipfile.ZipFile(root / PK3) as pk3:
        data = pk3.read(TRACK)
    if hashlib.sha256(data).hexdigest() != TRACK_SHA256:
        print(f"warning: {TRACK} differs from the one the shipped file was made from", file=sys.stderr)
    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return samples, rate


def excerpt(samples: np.ndarray, rate: int, offset_s: float = OFFSET_S, duration_s: float = DURATION_S
            ) -> np.ndarray:
    """Mono, 16 kHz, [offset_s, offset_s + duration_s), as 16-bit integers.

    The whole track is resampled before cutting, so the excerpt has no filter edge effects.
    (scripts/make_rock_audio.py reuses this for the second recording.)
    """
    mono = samples.mean(axis=1, dtype=np.float32)
    resampled = resampy.resample(mono, rate, RATE, filter="kaiser_best")
    start = round(offset_s * RATE)
    cut = resampled[start:start + round(duration_s * RATE)]
    return np.clip(np.rint(cut * 32768), -32768, 32767).astype(np.int16)


def write_flac(output: Path, pcm: np.ndarray) -> None:
    """Write the excerpt as 16-bit FLAC at the book's rate and print its size and checksum."""
    output.parent.mkdir(parents=True, exist_ok=True)
    sf.write(output, pcm, RATE, format="FLAC", subtype="PCM_16")
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    print(f"{output.name}: {pcm.size / RATE:.1f} s, {output.stat().st_size} bytes, sha256 {digest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path,
                        help=f"downloaded {PACKAGE} .deb or its extracted folder (default: download)")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        samples, rate = read_track(extracted_package(args.source, Path(tmp)))
    pcm = excerpt(samples, rate)
    write_flac(args.output, pcm)


if __name__ == "__main__":
    main()
