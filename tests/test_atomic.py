"""Atomic writes: a failed or killed write never leaves a half-written file nor destroys the old one."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.atomic import atomic_open, atomic_path, atomic_write_text, check_target
from lab.errors import OutputError


def test_success_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")
    atomic_write_text(target, "mới")
    assert target.read_text(encoding="utf-8") == "mới"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_an_exception_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("last good", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_open(target, "w", encoding="utf-8") as fh:
        fh.write("half")
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "last good"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_atomic_path_for_library_writers(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "x.parquet"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and not target.exists()
        tmp.write_bytes(b"PAR1")
    assert target.read_bytes() == b"PAR1"


def test_a_killed_writer_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    target.write_bytes(b"last good")
    code = (
        "import sys, time\nfrom lab.atomic import atomic_open\n"
        f"with atomic_open({str(target)!r}) as fh:\n"
        "    fh.write(b'x' * 1000); fh.flush(); print('writing', flush=True); time.sleep(60)\n"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    time.sleep(0.1)
    assert target.read_bytes() == b"last good"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "big.bin"]
    assert all(name.endswith(".part") and name.startswith(".big.bin.") for name in leftovers)


def test_process_exists_tells_a_live_process_from_a_gone_one() -> None:
    import os
    import subprocess
    import sys

    from lab.atomic import process_exists

    assert process_exists(os.getpid())
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    assert not process_exists(int(done.stdout))  # reaped: that id names no process now


# ------------------------------------------------------------------------------- modes and targets
@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_file_gets_the_umasks_mode(tmp_path: Path, umask_027: None) -> None:
    """Not 0600 whatever the umask (a published report must be readable by the web server)."""
    atomic_write_text(tmp_path / "r.html", "x")
    with atomic_path(tmp_path / "t.parquet") as tmp:
        tmp.write_bytes(b"PAR1")
    for name in ("r.html", "t.parquet"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~0o027, name


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask_027: None) -> None:
    target = tmp_path / "index.html"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o604)
    atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new" and stat.S_IMODE(target.stat().st_mode) == 0o604


def test_non_regular_targets_are_refused_and_left_alone(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    link = tmp_path / "link.csv"
    link.symlink_to(fifo)
    cases = {fifo: "not a regular file", folder: "is a folder", link: "not a regular file"}
    for target, cause in cases.items():
        with pytest.raises(OutputError, match=cause) as err:
            atomic_write_text(target, "x")
        assert str(target) in str(err.value) and "\n" not in str(err.value)
    assert stat.S_ISFIFO(fifo.stat().st_mode) and folder.is_dir() and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.csv", "link.csv", "pipe.csv"]
    for target in (Path("/proc/self/out.csv"), Path("/sys/out.csv"), Path("/dev/full")):
        with pytest.raises(OutputError, match=r"system folder|not a regular file"):
            check_target(target)  # never written: /dev/full would be replaced when run as root


def test_an_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot write") as err:
        atomic_write_text(blocker / "sub" / "out.csv", "x")
    assert "\n" not in str(err.value)


def test_the_published_reports_index_is_readable_by_the_web_server(tmp_path: Path) -> None:
    from lab.reports import write_index

    old = os.umask(0o022)
    try:
        page = write_index(tmp_path, [])
    finally:
        os.umask(old)
    assert stat.S_IMODE(page.stat().st_mode) == 0o644
