"""Command line: the book's numbers outside the book.

    python -m musicnn_nb extract AUDIO --model MSD -o OUT.npz
    python -m musicnn_nb tags AUDIO --model MTT --top 10
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from musicnn_nb.model.errors import MusicnnNbError
from musicnn_nb.model.pipeline import analyse
from musicnn_nb.model.spectrogram import SEGMENT_FRAMES

EXPORTED = ("M_dB", "M_hat", "U", "V1", "V1_hat", "V2", "V2_hat", "V3", "V3_hat", "V12_hat",
            "V123_hat", "W", "max_pool", "mean_pool", "penultimate", "logits", "taggram")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m musicnn_nb", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("extract", "write every intermediate to an .npz file"),
                       ("tags", "print the top tags by mean tag weight")):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("audio", help="an audio file (WAV, FLAC, OGG, MP3, …)")
        sub.add_argument("--model", default="MSD", help="MSD or MTT (default MSD)")
        sub.add_argument("--hop-frames", type=int, default=SEGMENT_FRAMES,
                         help="frames between segment starts (default 187: no overlap)")
        if name == "extract":
            sub.add_argument("-o", "--output", required=True, help="the .npz file to write")
        else:
            sub.add_argument("--top", type=int, default=10, help="how many tags (default 10)")
    return parser


def extract(audio: str, model: str, hop_frames: int, output: str) -> None:
    a = analyse(audio, model, hop_frames)
    arrays = {name: a.arrays[name].astype(np.float32) for name in EXPORTED}
    np.savez(output, **arrays, tag_names=np.array(a.tags),
             segment_start_s=a.segment_start_s.astype(np.float32))


def tags(audio: str, model: str, hop_frames: int, top: int) -> None:
    if top < 1:
        raise MusicnnNbError(f"--top must be at least 1, not {top}.")
    a = analyse(audio, model, hop_frames)
    print(f"# top {top} tags of {a.path.name} ({a.model.name}, mean over {a.n_segments} segments)")
    for tag, weight in a.top_tags(top):
        print(f"{tag}\t{weight:.4f}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "extract":
            extract(args.audio, args.model, args.hop_frames, args.output)
        else:
            tags(args.audio, args.model, args.hop_frames, args.top)
    except MusicnnNbError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error.strerror or error}: {error.filename or ''}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
