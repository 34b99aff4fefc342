"""Atomic writes: a failed or killed write never leaves a half-written file nor destroys the old one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.atomic import atomic_open, atomic_path, atomic_write_text


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
