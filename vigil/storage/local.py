"""ObjectStore on a plain directory: one file per key, written atomically (temp file + rename)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from vigil.storage.objectstore import (
    InvalidKeyError,
    InvalidRangeError,
    ObjectInfo,
    ObjectNotFoundError,
    check_range,
    validate_key,
    validate_prefix,
)


class LocalObjectStore:
    """Objects as files under `root`. Unlike S3, a key cannot also be the "directory" of other
    keys (`a` and `a/b` cannot both exist); Vigil's keys never need that."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        path = self.root / validate_key(key)
        # Defence in depth: validation already refuses '..', this also catches symlinks.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidKeyError(f"object key {key!r} resolves outside the store")
        return path

    def _write(self, key: str, fill: Callable[[IO[bytes]], None]) -> None:
        path = self._path(key)
        for attempt in range(3):
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # Temp file in the target directory (same filesystem) so os.replace is atomic; its
                # leading '.' keeps it out of listings (keys may not have '.'-prefixed segments).
                fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            except FileNotFoundError:
                if attempt == 2:
                    raise
                continue  # a concurrent delete() pruned the directory; recreate it
            break
        try:
            os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide media from other local readers
            with os.fdopen(fd, "wb") as handle:
                fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        def fill(handle: IO[bytes]) -> None:
            handle.write(data)

        self._write(key, fill)

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> None:
        with Path(path).open("rb") as source:
            self._write(key, lambda handle: shutil.copyfileobj(source, handle, 1024 * 1024))

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFoundError(key) from None

    def get_range(self, key: str, start: int, end: int) -> bytes:
        check_range(start, end)
        try:
            with self._path(key).open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if start >= size:
                    raise InvalidRangeError(f"range start {start} >= size {size} of {key!r}")
                handle.seek(start)
                return handle.read(min(end, size - 1) - start + 1)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFoundError(key) from None

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFoundError(key)
        return path.stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError):
            return
        # Prune directories left empty, as S3 has no directories to leave behind.
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        for key in keys:
            validate_key(key)  # all or nothing on a bad key, as for the S3 store
        for key in keys:
            self.delete(key)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        # S3 prefixes are string prefixes ("cam1" matches "cam10/x"), so walk the deepest
        # directory the prefix names completely and filter the rest by string comparison.
        base = self.root / prefix.rpartition("/")[0]
        infos = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [name for name in dirnames if not name.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue  # in-flight temp file
                full = Path(dirpath) / name
                key = full.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    stat = full.stat()
                except FileNotFoundError:
                    continue  # deleted while listing
                modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
                infos.append(ObjectInfo(key=key, size=stat.st_size, last_modified=modified))
        infos.sort(key=lambda info: info.key.encode("utf-8"))  # S3's order: UTF-8 bytes
        return iter(infos)

    def presigned_url(self, key: str, expires_in: int = 3600) -> str | None:
        validate_key(key)
        return None
