from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from vigil.media.paths import (
    InvalidMediaPathError,
    MediaPaths,
    camera_key,
    parse_record_name,
    resolve_under,
)


@pytest.fixture
def paths(tmp_path: Path) -> MediaPaths:
    return MediaPaths(tmp_path)


def test_layout_is_derived_from_the_camera_id(paths: MediaPaths, tmp_path: Path) -> None:
    assert paths.playlist(7) == tmp_path / "live" / "7" / "index.m3u8"
    assert paths.snapshot("front-door") == tmp_path / "snapshots" / "front-door" / "latest.jpg"
    assert (
        paths.record_file(7, "20261125T204930Z.mp4")
        == (tmp_path / "record" / "7" / "20261125" / "20261125T204930Z.mp4").resolve()
    )
    assert paths.live_file(7, "seg_1795639780.ts").name == "seg_1795639780.ts"


@pytest.mark.parametrize("bad", ["../1", "a/b", "", ".", "..", "-x", "a" * 65, "1\x00", True, -1])
def test_camera_ids_that_could_escape_are_refused(bad: object) -> None:
    with pytest.raises(InvalidMediaPathError):
        camera_key(bad)  # type: ignore[arg-type]


TRAVERSALS = [
    "../secret",
    "../../etc/passwd",
    "/etc/passwd",
    "seg_1.ts/../../x",
    "..%2fsecret",
    "%2e%2e/secret",
    "..%5csecret",
    "..\\secret",
    "seg_1.ts\x00.jpg",
    "seg_1.ts%00",
    "./seg_1.ts",
    "",
]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_resolve_under_refuses_traversal(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidMediaPathError):
        resolve_under(tmp_path, name)


def test_resolve_under_refuses_symlinks_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(InvalidMediaPathError):
        resolve_under(root, "link/other")
    assert resolve_under(root, "inside/file.ts") == root.resolve() / "inside" / "file.ts"


@pytest.mark.parametrize(
    "name", [*TRAVERSALS, "index.m3u8.tmp", "seg_1.mp4", "seg_.ts", "latest.jpg", "SEG_1.TS"]
)
def test_live_file_accepts_only_playlist_and_segment_names(paths: MediaPaths, name: str) -> None:
    with pytest.raises(InvalidMediaPathError):
        paths.live_file(1, name)


@pytest.mark.parametrize(
    "name",
    [*TRAVERSALS, "20261125T204930Z.ts", "20261125T204930.mp4", "x20261125T204930Z.mp4"],
)
def test_record_file_accepts_only_segment_names(paths: MediaPaths, name: str) -> None:
    with pytest.raises(InvalidMediaPathError):
        paths.record_file(1, name)


def test_record_names_parse_to_utc_start_times() -> None:
    assert parse_record_name("20261125T204930Z.mp4") == datetime(
        2026, 11, 25, 20, 49, 30, tzinfo=UTC
    )
    with pytest.raises(InvalidMediaPathError):
        parse_record_name("20261345T204930Z.mp4")  # month 13
