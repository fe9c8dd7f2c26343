"""Command line: the book's numbers outside the book.

    python -m musicnn_nb extract AUDIO --model MSD -o OUT.npz
    python -m musicnn_nb tags AUDIO --model MTT --top 10
    python -m musicnn_nb collect SOURCE -o STORE --model both [--workers N | --scheduler ADDRESS]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import TextIO

import numpy as np

from musicnn_nb.model.errors import MusicnnNbError, MusicnnNbWarning, OutputError
from musicnn_nb.model.files import atomic_write, describe_os_error
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
        sub.add_argument("--normalise", action="store_true",
                         help="scale a recording louder than full scale down to peak 1.0 (otherwise it is refused)")
        if name == "extract":
            sub.add_argument("-o", "--output", required=True,
                             help="the .npz file to write (into a folder: AUDIO's name with .npz)")
        else:
            sub.add_argument("--top", type=int, default=10, help="how many tags (default 10)")
    sub = commands.add_parser("collect", help="unit statistics of every segment of a collection",
                              description="summarise every 3-s segment of every audio file of SOURCE "
                                          "into the Parquet store STORE (resumable)")
    sub.add_argument("source", help="a folder (searched recursively) or a text file listing audio paths")
    sub.add_argument("-o", "--output", required=True, help="the store folder (created, or resumed)")
    sub.add_argument("--model", default="MSD", choices=("MSD", "MTT", "both"), help="default MSD")
    sub.add_argument("--hop-frames", type=int, default=SEGMENT_FRAMES,
                     help="frames between segment starts (default 187: no overlap)")
    sub.add_argument("--workers", type=int, default=None,
                     help="local worker processes (default: every core; 1 runs without Dask)")
    sub.add_argument("--scheduler", default=None,
                     help="address of a running dask.distributed scheduler, e.g. tcp://10.0.0.1:8786")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def output_path(output: str, audio: str) -> Path:
    """Where ``extract`` writes: ``output`` (with .npz added), or AUDIO-NAME.npz inside a folder.

    Checked before the analysis: the folder must exist and be writable.
    """
    if not output.strip():
        raise OutputError("-o needs a file name, such as -o features.npz (it was empty).")
    target = Path(output).expanduser()
    if target.is_dir():
        target = target / f"{Path(audio).stem}.npz"
    elif target.suffix != ".npz":
        target = target.with_name(target.name + ".npz")  # as numpy.savez names it
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {target}: the folder {folder} does not exist; create it or choose another.")
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise OutputError(f"cannot write {target}: permission denied; choose a folder you may write to.")
    return target


def run_collect(args: argparse.Namespace) -> None:
    from musicnn_nb.model.collect import collect

    models = ("MSD", "MTT") if args.model == "both" else (args.model,)
    store = collect(args.source, args.output, models, hop_frames=args.hop_frames, scheduler=args.scheduler,
                    workers=args.workers, progress=not args.quiet)
    for failure in store.errors():
        print(f"skipped {failure['file']}: {failure['error']}", file=sys.stderr)


def extract(audio: str, model: str, hop_frames: int, output: str, normalise: bool = False) -> Path:
    target = output_path(output, audio)
    a = analyse(audio, model, hop_frames, normalise=normalise)
    arrays: dict[str, np.ndarray] = {name: np.asarray(a.arrays[name], dtype=np.float32)  # float32: no copy
                                     for name in EXPORTED}
    arrays.update(tag_names=np.array(a.tags), segment_start_s=a.segment_start_s.astype(np.float32))
    atomic_write(target, lambda file: np.savez(file, **arrays))  # type: ignore[arg-type]  # numpy stub: allow_pickle
    return target


def tags(audio: str, model: str, hop_frames: int, top: int, normalise: bool = False) -> None:
    if top < 1:
        raise MusicnnNbError(f"--top must be at least 1, not {top}.")
    a = analyse(audio, model, hop_frames, normalise=normalise)
    print(f"# top {top} tags of {a.path.name} ({a.model.name}, mean over {a.n_segments} segments)")
    for tag, weight in a.top_tags(top):
        print(f"{tag}\t{weight:.4f}")


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Our warnings as one ``warning: …`` line; others as Python prints them."""
    if issubclass(category, MusicnnNbWarning):
        print(f"warning: {message}", file=sys.stderr)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line), file=sys.stderr, end="")


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds, so a half-written file is removed


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a file name the console cannot encode is escaped, not a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    warnings.showwarning = _show_warning
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    args = _parser().parse_args(argv)
    try:
        if args.command == "extract":
            extract(args.audio, args.model, args.hop_frames, args.output, args.normalise)
        elif args.command == "collect":
            run_collect(args)
        else:
            tags(args.audio, args.model, args.hop_frames, args.top, args.normalise)
    except MusicnnNbError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        print(f"error: {describe_os_error(error)}{where}.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; no output file was changed.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
