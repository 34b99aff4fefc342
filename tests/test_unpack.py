"""Bounded decompression (lab.unpack): gzip, deflate (zlib-wrapped and raw), concatenated members, limits."""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from pathlib import Path

import pytest

from lab.unpack import IncompleteError, TooLargeError, Unpacker, check_zip, gunzip_file, max_unpacked_bytes

DATA = b"ma_xa,dan_so\n" + b"20194,1000\n" * 5000


def _feed_all(unpacker: Unpacker, blob: bytes, step: int = 777) -> bytes:
    out = b"".join(unpacker.feed(blob[i : i + step]) for i in range(0, len(blob), step))
    return out + unpacker.finish()


@pytest.mark.parametrize(
    ("encoding", "blob"),
    [
        ("gzip", gzip.compress(DATA)),
        ("gzip", gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:])),  # two members
        ("deflate", zlib.compress(DATA)),
        ("deflate", zlib.compress(DATA)[2:-4]),  # raw deflate, as some servers send it
    ],
)
def test_streams_decode_whole_in_small_pieces(encoding: str, blob: bytes) -> None:
    assert _feed_all(Unpacker(encoding, limit=1 << 20), blob) == DATA


def test_the_limit_stops_a_bomb_without_producing_it() -> None:
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    unpacker = Unpacker("gzip", limit=1 << 20)
    with pytest.raises(TooLargeError, match=r"more than 1\.0 MiB"):
        _feed_all(unpacker, bomb, step=len(bomb))
    assert unpacker.produced <= 1 << 20


def test_a_cut_stream_is_incomplete(tmp_path: Path) -> None:
    with pytest.raises(IncompleteError):
        _feed_all(Unpacker("gzip", limit=1 << 20), gzip.compress(DATA)[:-20])
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(DATA))
    assert gunzip_file(path, limit=1 << 20) == DATA


def test_zip_members_are_counted_even_when_their_declared_sizes_lie(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("w.shp", b"\0" * (3 << 20))
    path = tmp_path / "w.zip"
    path.write_bytes(buf.getvalue())
    check_zip(path, limit=4 << 20)
    with pytest.raises(TooLargeError):
        check_zip(path, limit=2 << 20)


def test_the_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_MAX_UNPACKED_MB", "3")
    assert max_unpacked_bytes() == 3 << 20
    for bad in ("-1", "zero", "0"):
        monkeypatch.setenv("LAB_MAX_UNPACKED_MB", bad)
        assert max_unpacked_bytes() == 2048 << 20
