"""Regenerate ``musicnn_nb/data/rock.flac``, the book's second recording (another genre).

Why: which of part 12's observations are fixed by the weights and which by the music can
only be told from two recordings. The second one is rock: "War of freedom", composed and
performed by Sectoid (Carlos Viola Iborra, © 2006/2007, MIT licence), which Debian ships in
the package ``fretsonfire-songs-sectoid``, so anyone can fetch the same bytes.

What: fetch the package (``apt-get download fretsonfire-songs-sectoid``) or use one already
downloaded, read the song's two stems (``song.ogg``: band; ``guitar.ogg``: lead guitar), mix
them as the game plays them (their sum, halved so the mix cannot clip), then do what
``make_example_audio.py`` does: mono, 16 kHz with resampy ``kaiser_best``, 30 s cut, 16-bit
FLAC. The output is deterministic.

Usage (from the repository root)::

    python scripts/make_rock_audio.py                       # downloads the .deb
    python scripts/make_rock_audio.py fretsonfire-songs-sectoid_1.dfsg-3.1_all.deb
    python scripts/make_rock_audio.py extracted/             # a `dpkg-deb -x` folder
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_example_audio import excerpt, extracted_package, write_flac

PACKAGE = "fretsonfire-songs-sectoid"
PACKAGE_VERSION = "1.dfsg-3.1"  # the version the shipped file was made from
SONG = Path("usr/share/games/fretsonfire/data/songs/sectoid/War of freedom")
STEMS = {  # stem file -> SHA-256 of the one the shipped file was made from
    "song.ogg": "b44e3c119d36cac6713940ff04e750c009b7c3636920414d9be72eeb0407d039",
    "guitar.ogg": "422f98a0309e8a44fe98253911b0a2f7a6677e386434160af1708f23f9d3f645",
}
OFFSET_S = 30.0  # past the intro (the first 10 s are quieter), inside the full band
DURATION_S = 30.0
OUTPUT = Path(__file__).resolve().parent.parent / "musicnn_nb" / "data" / "rock.flac"


def read_mix(root: Path) -> tuple[np.ndarray, int]:
    """The two stems' sum, halved (frames x channels, float32), and the sample rate."""
    stems, rates = [], set()
    for name, digest in STEMS.items():
        data = (root / SONG / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            print(f"warning: {SONG / name} differs from the one the shipped file was made from", file=sys.stderr)
        samples, rate = sf.read(root / SONG / name, dtype="float32", always_2d=True)
        stems.append(samples)
        rates.add(rate)
    if len(rates) != 1:
        raise SystemExit(f"the stems have different sample rates {sorted(rates)}: cannot mix them")
    n = min(len(s) for s in stems)
    return (0.5 * sum(s[:n] for s in stems)).astype(np.float32), rates.pop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path,
                        help=f"downloaded {PACKAGE} .deb or its extracted folder (default: download)")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        samples, rate = read_mix(extracted_package(args.source, Path(tmp), PACKAGE, PACKAGE_VERSION))
    pcm = excerpt(samples, rate, OFFSET_S, DURATION_S)
    write_flac(args.output, pcm)


if __name__ == "__main__":
    main()
