"""The object store contract used for clips, snapshots and face thumbnails.

Keys are `/`-separated relative paths such as `clips/cam-1/2026-11-23/abc.mp4`. Every
implementation validates them the same way (`validate_key`), so a key accepted by the local
directory store is accepted by S3 and vice versa, and no key can escape the store's root.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

MAX_KEY_BYTES = 1024  # S3's limit


class ObjectStoreError(RuntimeError):
    """Base class of the object store errors."""


class ObjectNotFoundError(ObjectStoreError, LookupError):
    def __init__(self, key: str) -> None:
        super().__init__(f"object not found: {key!r}")
        self.key = key


class InvalidKeyError(ObjectStoreError, ValueError):
    """The key is empty, too long, absolute, or has `.`/`..`/hidden/empty path segments."""


class ObjectStoreUnavailableError(ObjectStoreError):
    """The store cannot be reached or answers with a server error; worth retrying later."""


class InvalidRangeError(ObjectStoreError, ValueError):
    """The requested byte range starts at or past the end of the object (HTTP 416)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime  # timezone-aware, UTC


def _check_segments(value: str, what: str) -> None:
    for segment in value.split("/"):
        if segment == "":
            raise InvalidKeyError(f"{what} {value!r} has an empty path segment")
        if segment.startswith("."):
            # Refuses '.', '..' (traversal) and hidden names (the local store's temp files).
            raise InvalidKeyError(f"{what} {value!r} has a segment starting with '.'")


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a safe object key, else raise InvalidKeyError."""
    if not isinstance(key, str) or not key:
        raise InvalidKeyError("object key must be a non-empty string")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"object key longer than {MAX_KEY_BYTES} bytes")
    if any(ord(ch) < 0x20 or ch in "\\\x7f" for ch in key):
        raise InvalidKeyError(f"object key {key!r} contains a control character or backslash")
    if key.startswith("/"):
        raise InvalidKeyError(f"object key {key!r} must be relative (no leading '/')")
    _check_segments(key, "object key")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a key, optionally ending with '/'."""
    if prefix:
        validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def check_range(start: int, end: int) -> None:
    if start < 0 or end < start:
        raise ValueError(f"invalid byte range {start}-{end}")


@runtime_checkable
class ObjectStore(Protocol):
    """Storage of immutable blobs by key. Writes are atomic: readers see old or new, never half."""

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None: ...

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> None: ...

    def get_bytes(self, key: str) -> bytes:
        """The whole object; ObjectNotFoundError if missing."""
        ...

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes `start..end` INCLUSIVE, as in an HTTP `Range: bytes=start-end` header.

        An `end` past the object is clamped; a `start` at or past its size raises
        InvalidRangeError; a missing key raises ObjectNotFoundError.
        """
        ...

    def size(self, key: str) -> int:
        """Size in bytes; ObjectNotFoundError if missing."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    def delete_many(self, keys: Iterable[str]) -> None:
        """Remove many objects (batched on S3); missing keys are ignored."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix` (a string prefix, as in S3), sorted by key."""
        ...

    def presigned_url(self, key: str, expires_in: int = 3600) -> str | None:
        """A time-limited GET URL, or None when the store cannot presign (local directory)."""
        ...
