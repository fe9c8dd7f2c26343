"""Writing result files so that a failure or an interruption never destroys the previous one.

Every file is written to a temporary file in the same folder and renamed over the target
only when complete (a rename within one folder is atomic). A process killed mid-write
leaves its temporary file behind; the next write to that folder removes it once its writer
is gone or it is older than :data:`STALE_SECONDS`.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from musicnn_nb.model.errors import OutputError

STALE_SECONDS = 3600  # a temporary file this old belongs to no running write
_TEMP = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$")  # .<target name>.<pid>.<random>.tmp


def temp_path(target: Path) -> Path:
    """A fresh temporary name beside ``target``, recognisable by :func:`clean_stale_temps`."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove temporary files left in ``folder`` by killed writes; return what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match:
            continue
        pid = int(match.group(1))
        with suppress(OSError):
            if pid == os.getpid() or (_alive(pid) and now - entry.stat().st_mtime < STALE_SECONDS):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def describe_os_error(error: OSError) -> str:
    """The reason of an OSError in words, the full disk and size limit named as such."""
    if error.errno == errno.ENOSPC:
        return "no space left on the disk"
    if error.errno == errno.EFBIG:
        return "the file is larger than this process may write (file size limit)"
    return (error.strerror or str(error)).rstrip(".").lower()


def atomic_write(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``target`` through ``write(file)`` all or nothing.

    Raises :class:`OutputError` naming ``target`` if the write fails; the previous file,
    if any, is then unchanged and no temporary file remains.
    """
    clean_stale_temps(target.parent)
    tmp = temp_path(target)
    try:
        with open(tmp, "xb") as file:
            write(file)
        os.replace(tmp, target)
    except BaseException as error:
        with suppress(OSError):
            tmp.unlink()
        if isinstance(error, OSError) and not isinstance(error, OutputError):
            raise OutputError(f"could not write {target}: {describe_os_error(error)}; any previous file "
                              "there is unchanged: free some space or choose another folder.") from error
        raise
