"""Atomic file writes: temp file in the same folder, fsync, rename.

A failed or killed run never leaves a half-written file where a later run would trust it, and never
destroys the last good file: the old file stays until the new one is complete.

The file written has the mode a plain ``open(path, "w")`` would give it: a new file ``0666 & ~umask``
(``0644`` under the usual umask 022: a published report is readable by the web server), a replaced file
keeps its mode. Only regular files are written: a folder, a device (``/dev/full``), a pipe or a path in
``/proc`` or ``/sys`` is refused with one line (:class:`~lab.errors.OutputError`), never replaced.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lab.errors import OutputError

_SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))
"""Pseudo-filesystems no output belongs in (``/dev/shm``, a plain tmpfs, excepted)."""


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _cause(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_target(target: str | Path) -> Path:
    """``target`` as a path, if it may be written as a regular file.

    Parameters
    ----------
    target
        The file to write (it may not exist yet; a symbolic link is judged by what it points to).

    Returns
    -------
    pathlib.Path
        ``target``.

    Raises
    ------
    lab.errors.OutputError
        ``target`` is a folder, a device, a pipe or a socket, or lies in ``/proc``, ``/sys`` or ``/dev``.
    """
    target = Path(target)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"cannot write here: {_cause(exc)}", file=target) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError("is a folder, not a file: name the file to write", file=target)
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(
            "is not a regular file (a device, a pipe or a socket): name a plain file to write", file=target
        )
    if _in_system_folder(target):
        raise OutputError(
            "is in a system folder (/proc, /sys, /dev): name a plain file to write", file=target
        )
    return target


def _in_system_folder(target: Path) -> bool:
    where = Path(os.path.realpath(target))
    return any(where.is_relative_to(d) for d in _SYSTEM_FOLDERS) and not where.is_relative_to("/dev/shm")


def check_folder(target: str | Path) -> Path:
    """``target`` as a path, if it may be an output folder (one that exists, or may be created).

    Raises
    ------
    lab.errors.OutputError
        ``target`` is a file, a device or a pipe, or lies in ``/proc``, ``/sys`` or ``/dev``.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError("is a file, not a folder: name a folder to write into", file=target)
    if _in_system_folder(target):
        raise OutputError("is in a system folder (/proc, /sys, /dev): name a plain folder", file=target)
    return target


def _umask() -> int:
    """The process's umask, read without changing it (``/proc``), else by setting and restoring it."""
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open("/proc/self/status", encoding="ascii") as fh,
    ):
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(target: Path) -> int:
    """A replaced file's mode, or what a new file gets: ``0666 & ~umask``."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically.

    The caller writes the whole file to the yielded path (by any means: a library's ``to_file``,
    a download). On an exception the temporary file is removed and ``target`` is untouched. The file
    gets the mode of the file it replaces, or ``0666 & ~umask``.

    Raises
    ------
    lab.errors.OutputError
        ``target`` is not a place for a regular file (:func:`check_target`), or its folder cannot be
        created or written.
    """
    target = check_target(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write in {target.parent}: {_cause(exc)}", file=target) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.is_file():
            with open(tmp, "rb+") as fh:
                with contextlib.suppress(OSError):  # a filesystem without modes (FAT, some mounts)
                    os.fchmod(fh.fileno(), _mode_for(target))
                os.fsync(fh.fileno())
        check_target(target)  # still a place for a file (nothing put a folder or a device there meanwhile)
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
