"""Build the book's default collection (chapter 14) from pinned Debian packages.

    python scripts/make_collection.py [--whole] [--out collection]

For each package of ``scripts/collection.json``: ``apt-get download NAME=VERSION`` (kept in
OUT/debs), the .deb's SHA-256 checked against the pin, ``dpkg-deb -x``; for each track its
source file(s) checked against their pinned SHA-256, mixed (Frets on Fire songs are a
backing track plus a guitar track), down-mixed to mono, cut to the middle 30 s (the whole
track with ``--whole``), resampled to 16 kHz as the model hears it (musicnn_nb.audio) and
written as 16-bit FLAC to OUT/audio/<package>/<id>.flac. Beside them: CREDITS.md and
credits.json (track, author, licence, package, genre of the package, what was changed),
each package's copyright file in OUT/licences/, and SHA256SUMS of the excerpts.
Re-running skips packages and tracks already done; nothing else is downloaded.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import soundfile

from musicnn_nb.model.audio import resample_2019
from musicnn_nb.model.spectrogram import SAMPLE_RATE

MANIFEST = Path(__file__).with_name("collection.json")
EXCERPT_S = 30.0
CHANGES = {True: "mixed to mono, resampled to 16 kHz (whole track)",
           False: "middle 30 s, mixed to mono, resampled to 16 kHz"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(package: str, pin: dict, debs: Path) -> Path:
    """The package's .deb, downloaded once with apt-get at the pinned version and checked."""
    debs.mkdir(parents=True, exist_ok=True)
    found = [p for p in debs.glob(f"{package}_*.deb") if sha256(p.read_bytes()) == pin["sha256"]]
    if not found:
        subprocess.run(["apt-get", "download", f"{package}={pin['version']}"], cwd=debs, check=True)
        found = [p for p in debs.glob(f"{package}_*.deb") if sha256(p.read_bytes()) == pin["sha256"]]
    if not found:
        sys.exit(f"{package} {pin['version']}: no .deb with the pinned SHA-256 {pin['sha256']} "
                 f"(the archive changed?): check scripts/collection.json.")
    return found[0]


def read_source(tree: Path, source: str) -> bytes:
    """A file of the unpacked package; ``archive!member`` reads a member of a zip (.pk3)."""
    if "!" in source:
        archive, member = source.split("!", 1)
        with zipfile.ZipFile(tree / archive) as z:
            return z.read(member)
    return (tree / source).read_bytes()


def _decode(blob: bytes, whole: bool) -> tuple[np.ndarray, int]:
    """Mono samples and rate of a source: the middle 30 s (read by seeking) or all of it."""
    with soundfile.SoundFile(io.BytesIO(blob)) as f:
        length = int(EXCERPT_S * f.samplerate)
        if not whole and f.frames > length:
            f.seek((f.frames - length) // 2)
            data = f.read(length, dtype="float32", always_2d=True)
        else:
            data = f.read(dtype="float32", always_2d=True)
        return data.mean(axis=1), f.samplerate


def render(sources: list[bytes], whole: bool) -> np.ndarray:
    """Mix the sources, down-mix to mono, cut the middle 30 s, resample to 16 kHz."""
    decoded = [_decode(b, whole) for b in sources]
    rate = decoded[0][1]
    if any(r != rate for _, r in decoded):
        raise ValueError("sources of one track have different sample rates")
    n = min(len(d) for d, _ in decoded)
    mono = sum(d[:n] for d, _ in decoded)
    out = resample_2019(np.ascontiguousarray(mono, dtype=np.float32), rate)
    peak = float(np.max(np.abs(out)))
    return out / peak * 0.99 if peak > 0.99 else out  # a mix may exceed full scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="collection", help="output folder (default: collection)")
    parser.add_argument("--whole", action="store_true", help="whole tracks instead of 30-s excerpts")
    args = parser.parse_args()
    manifest = json.loads(MANIFEST.read_text())
    out = Path(args.out)
    audio = out / "audio"
    credits = []
    for package, pin in manifest["packages"].items():
        tracks = [t for t in manifest["tracks"] if t["package"] == package]
        targets = {t["id"]: audio / package / f"{t['id']}.flac" for t in tracks}
        licence = out / "licences" / f"{package}.copyright"
        if not all(p.exists() for p in targets.values()) or not licence.exists():
            deb = fetch(package, pin, out / "debs")
            with tempfile.TemporaryDirectory() as tmp:
                tree = Path(tmp)
                subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
                licence.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(tree / "usr/share/doc" / package / "copyright", licence)
                for track in tracks:
                    target = targets[track["id"]]
                    if target.exists():
                        continue
                    data = [read_source(tree, s) for s in track["sources"]]
                    for source, blob, pinned in zip(track["sources"], data, track["sha256"]):
                        if sha256(blob) != pinned:
                            sys.exit(f"{package}: {source} does not have its pinned SHA-256: "
                                     "check scripts/collection.json.")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    partial = target.with_suffix(".partial.flac")
                    soundfile.write(partial, render(data, args.whole), SAMPLE_RATE, subtype="PCM_16")
                    partial.replace(target)
                    print(f"{package}: {track['id']}", flush=True)
        for track in tracks:
            credits.append({"file": f"{package}/{track['id']}.flac", "title": track["title"],
                            "author": track["author"], "licence": track["licence"], "package": package,
                            "version": pin["version"], "genre": pin["genre"], "changes": CHANGES[args.whole]})
    (out / "credits.json").write_text(json.dumps(credits, indent=1))
    lines = ["# The default collection: credits", "",
             "Excerpts of freely licensed music from Debian packages, made by `make collection` "
             "(scripts/make_collection.py). Each package's copyright file is in `licences/`; "
             "excerpts of CC BY-SA tracks are CC BY-SA 3.0 too.", "",
             "| track | author | licence | package | genre (package) | changes |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {c['title']} | {c['author']} | {c['licence']} | {c['package']} {c['version']} | {c['genre']} "
              f"| {c['changes']} |" for c in credits]
    (out / "CREDITS.md").write_text("\n".join(lines) + "\n")
    sums = [f"{sha256((audio / c['file']).read_bytes())}  audio/{c['file']}" for c in credits]
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    print(f"{len(credits)} tracks in {audio}")


if __name__ == "__main__":
    main()
