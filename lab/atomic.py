"""Atomic file writes: temp file in the same folder, fsync, rename.

A failed or killed run never leaves a half-written file where a later run would trust it, and never
destroys the last good file: the old file stays until the new one is complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically.

    The caller writes the whole file to the yielded path (by any means: a library's ``to_file``,
    a download). On an exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.is_file():
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(target: str | Path, mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; it replaces ``target`` only when the block ends cleanly."""
    with atomic_path(target) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_text(target: str | Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``target`` atomically."""
    with atomic_open(target, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def atomic_write_bytes(target: str | Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_open(target, "wb") as fh:
        fh.write(data)


def process_exists(pid: int) -> bool:
    """Whether a process with this id exists (one of another user counts: it may still be writing).

    Writers name their temporary files and folders after their process id; a leftover whose process is
    gone was left by a killed run and can be removed.

    Parameters
    ----------
    pid
        A process id.

    Returns
    -------
    bool
        ``False`` only when no such process exists.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
