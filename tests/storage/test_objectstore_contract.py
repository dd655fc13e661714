"""The ObjectStore contract, run against the local directory store and S3 on a real SeaweedFS."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vigil.storage import (
    InvalidKeyError,
    InvalidRangeError,
    LocalObjectStore,
    ObjectNotFoundError,
    ObjectStore,
)

BAD_KEYS = [
    "",
    "../escape.txt",
    "clips/../../escape.txt",
    "/etc/passwd",
    "clips//double-slash.jpg",
    "clips/./dot.jpg",
    "clips/..",
    ".hidden",
    "clips\\..\\escape.txt",
    "nul\x00byte",
    "x" * 1025,
]


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    return request.getfixturevalue("s3_store")


def test_round_trip_and_overwrite(store: ObjectStore) -> None:
    store.put_bytes("snapshots/cam-1/0001.jpg", b"\xff\xd8first")
    assert store.get_bytes("snapshots/cam-1/0001.jpg") == b"\xff\xd8first"
    assert store.exists("snapshots/cam-1/0001.jpg")
    assert store.size("snapshots/cam-1/0001.jpg") == 7

    store.put_bytes("snapshots/cam-1/0001.jpg", b"second")
    assert store.get_bytes("snapshots/cam-1/0001.jpg") == b"second"
    store.put_bytes("empty.bin", b"")
    assert store.get_bytes("empty.bin") == b""
    assert store.size("empty.bin") == 0


def test_put_file_large_enough_for_multipart(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(9 * 1024 * 1024)  # above boto3's 8 MiB multipart threshold
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    store.put_file("clips/cam-1/event-1.mp4", source, content_type="video/mp4")
    assert store.size("clips/cam-1/event-1.mp4") == len(data)
    assert store.get_bytes("clips/cam-1/event-1.mp4") == data
    tail = store.get_range("clips/cam-1/event-1.mp4", len(data) - 100, len(data) - 1)
    assert tail == data[-100:]


def test_range_reads_follow_http_semantics(store: ObjectStore) -> None:
    data = bytes(range(256)) * 4  # 1024 bytes
    store.put_bytes("clips/range.bin", data)
    assert store.get_range("clips/range.bin", 0, 9) == data[0:10]  # end is inclusive
    assert store.get_range("clips/range.bin", 100, 100) == data[100:101]
    assert store.get_range("clips/range.bin", 500, 899) == data[500:900]
    assert store.get_range("clips/range.bin", 1000, 5000) == data[1000:]  # end clamped
    with pytest.raises(InvalidRangeError):
        store.get_range("clips/range.bin", 1024, 2000)  # starts past the end: HTTP 416
    with pytest.raises(ValueError, match="invalid byte range"):
        store.get_range("clips/range.bin", 10, 5)
    with pytest.raises(ObjectNotFoundError):
        store.get_range("clips/missing.bin", 0, 10)


def test_list_with_prefix_sizes_and_times(store: ObjectStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    objects = {
        "cam1/a.jpg": b"a",
        "cam1/sub/b.jpg": b"bb",
        "cam10/c.jpg": b"ccc",
        "other.txt": b"dddd",
    }
    for key, data in objects.items():
        store.put_bytes(key, data)

    everything = list(store.list())
    assert [info.key for info in everything] == sorted(objects)
    assert {info.key: info.size for info in everything} == {k: len(v) for k, v in objects.items()}
    for info in everything:
        assert info.last_modified.tzinfo is not None
        assert before <= info.last_modified <= datetime.now(UTC) + timedelta(seconds=5)

    assert [i.key for i in store.list("cam1/")] == ["cam1/a.jpg", "cam1/sub/b.jpg"]
    # A prefix is a string prefix, as in S3: "cam1" also matches "cam10/...".
    assert [i.key for i in store.list("cam1")] == ["cam1/a.jpg", "cam1/sub/b.jpg", "cam10/c.jpg"]
    assert [i.key for i in store.list("cam1/sub/")] == ["cam1/sub/b.jpg"]
    assert list(store.list("nothing/")) == []


def test_delete_single_and_batch(store: ObjectStore) -> None:
    keys = [f"thumbs/face-{i}.jpg" for i in range(5)]
    for key in keys:
        store.put_bytes(key, b"x")
    store.delete(keys[0])
    assert not store.exists(keys[0])
    store.delete(keys[0])  # deleting again is not an error

    store.delete_many([keys[1], keys[2], "thumbs/never-existed.jpg"])
    assert [i.key for i in store.list("thumbs/")] == keys[3:]
    store.delete_many([])
    store.delete_many(iter(keys[3:]))
    assert list(store.list()) == []


def test_missing_key(store: ObjectStore) -> None:
    assert not store.exists("nope/missing.jpg")
    with pytest.raises(ObjectNotFoundError) as excinfo:
        store.get_bytes("nope/missing.jpg")
    assert excinfo.value.key == "nope/missing.jpg"
    with pytest.raises(ObjectNotFoundError):
        store.size("nope/missing.jpg")
    store.put_bytes("nope/dir/file.jpg", b"x")
    with pytest.raises(ObjectNotFoundError):
        store.get_bytes("nope/dir")  # a "directory" is not an object


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_refused(store: ObjectStore, key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidKeyError):
        store.put_bytes(key, b"x")
    with pytest.raises(InvalidKeyError):
        store.get_bytes(key)
    with pytest.raises(InvalidKeyError):
        store.get_range(key, 0, 1)
    with pytest.raises(InvalidKeyError):
        store.exists(key)
    with pytest.raises(InvalidKeyError):
        store.delete(key)
    with pytest.raises(InvalidKeyError):
        store.delete_many(["fine.txt", key])
    assert list(store.list()) == []
    assert not (tmp_path / "escape.txt").exists()


def test_unsafe_list_prefix_refused(store: ObjectStore) -> None:
    with pytest.raises(InvalidKeyError):
        list(store.list("../"))
    with pytest.raises(InvalidKeyError):
        list(store.list("/abs"))


def test_unicode_keys(store: ObjectStore) -> None:
    store.put_bytes("faces/Zoë 1/thumb ünï.jpg", b"u")
    assert store.get_bytes("faces/Zoë 1/thumb ünï.jpg") == b"u"
    assert [i.key for i in store.list("faces/")] == ["faces/Zoë 1/thumb ünï.jpg"]
