"""LocalObjectStore specifics: atomic writes, symlink escapes, tidy directories."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import pytest

from vigil.storage import InvalidKeyError, LocalObjectStore


def test_failed_write_keeps_previous_version_and_no_temp_file(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    store.put_bytes("clips/a.mp4", b"old")

    def half_then_crash(handle: IO[bytes]) -> None:
        handle.write(b"half-written")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store._write("clips/a.mp4", half_then_crash)
    assert store.get_bytes("clips/a.mp4") == b"old"
    assert sorted(os.listdir(tmp_path / "objects" / "clips")) == ["a.mp4"]


def test_symlink_out_of_the_root_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    store = LocalObjectStore(tmp_path / "objects")
    (tmp_path / "objects" / "link").symlink_to(outside)
    with pytest.raises(InvalidKeyError, match="outside"):
        store.put_bytes("link/evil.txt", b"x")
    assert list(outside.iterdir()) == []


def test_delete_prunes_empty_directories(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    store.put_bytes("a/b/c/one.jpg", b"1")
    store.put_bytes("a/two.jpg", b"2")
    store.delete("a/b/c/one.jpg")
    assert not (tmp_path / "objects" / "a" / "b").exists()
    assert (tmp_path / "objects" / "a" / "two.jpg").exists()
    store.delete("a/two.jpg")
    assert list((tmp_path / "objects").iterdir()) == []


def test_written_files_are_readable_by_others(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    store.put_bytes("snap.jpg", b"x")
    assert (tmp_path / "objects" / "snap.jpg").stat().st_mode & 0o777 == 0o644
