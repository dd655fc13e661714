"""Where the lake lives: a pyarrow filesystem and a root in it, a local directory or an S3
bucket prefix (MinIO, SeaweedFS, AWS), so writers and readers never care which.

Both give the same guarantee: a reader lists either no file or a whole one. Locally a file is
written to a hidden temporary name and renamed into place. On S3 it is uploaded to a hidden
temporary key and copied to its final key (a server-side copy is one atomic PUT; an upload that
fails half-way, even as a multipart one, never reaches the final key), then the temporary key
is deleted.

S3 has no directories to swap, so compaction there writes the merged file under a name marked
`.compacted` and then deletes the small files; a listing taken in between would hold both, so
listings apply one rule: where a partition holds a compacted file, files older than the newest
compacted file are hidden (they are the ones it merged; the dataflow no longer writes to the
partition by then, and a later late write is newer).

DuckDB reads S3 through pyarrow datasets registered as views (no DuckDB extension download).
"""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from vigil.lake.layout import TEMP_SUFFIX
from vigil.settings import Settings
from vigil.storage.factory import s3_config_from_settings
from vigil.storage.s3 import S3Config, S3ObjectStore

COMPACTED = ".compacted.parquet"  # the suffix of a merged file on S3


@dataclass(frozen=True)
class LakeStore:
    filesystem: pafs.FileSystem = field(repr=False)
    root: str  # an absolute directory, or "bucket/prefix" on S3
    local: bool
    objects: S3ObjectStore | None = field(default=None, repr=False)  # the bucket, on S3

    @classmethod
    def directory(cls, path: Path) -> LakeStore:
        return cls(pafs.LocalFileSystem(), str(Path(path).resolve()), True)

    @classmethod
    def s3(cls, config: S3Config, bucket: str, prefix: str = "lake") -> LakeStore:
        return _s3_store(config, bucket, prefix.strip("/"))

    @classmethod
    def _connect_s3(cls, config: S3Config, bucket: str, prefix: str) -> LakeStore:
        options: dict[str, Any] = {"region": config.region}
        if config.access_key and config.secret_key:
            options |= {"access_key": config.access_key, "secret_key": config.secret_key}
        if config.endpoint_url:
            url = urlsplit(config.endpoint_url)
            options["endpoint_override"] = url.netloc or url.path
            options["scheme"] = url.scheme or "https"
        filesystem = pafs.S3FileSystem(**options, allow_bucket_creation=False)
        root = "/".join(p for p in (bucket, prefix.strip("/")) if p)
        # Deletes go through boto3: pyarrow's leave an empty "directory" marker object behind.
        return cls(filesystem, root, False, S3ObjectStore.connect(config, bucket))

    @property
    def url(self) -> str:
        return self.root if self.local else f"s3://{self.root}"

    def join(self, *parts: str | int) -> str:
        return str(PurePosixPath(self.root, *(str(p) for p in parts)))

    def table_dir(self, table: str) -> str:
        return self.join(table)

    def partition_dir(self, table: str, camera_id: int, date: str, hour: int) -> str:
        return self.join(table, f"camera_id={camera_id}", f"date={date}", f"hour={hour}")

    # --- listing -------------------------------------------------------------------------------
    def _infos(self, directory: str, recursive: bool) -> list[pafs.FileInfo]:
        selector = pafs.FileSelector(directory, allow_not_found=True, recursive=recursive)
        return [
            info
            for info in self.filesystem.get_file_info(selector)
            if info.type == pafs.FileType.File
            and info.base_name.endswith(".parquet")
            and not info.base_name.startswith(".")
        ]

    def files(self, directory: str) -> list[pafs.FileInfo]:
        """The Parquet files directly in `directory` a reader should see, sorted by path."""
        return _visible(self._infos(directory, recursive=False))

    def table_files(self, table: str) -> list[str]:
        by_dir: dict[str, list[pafs.FileInfo]] = {}
        for info in self._infos(self.table_dir(table), recursive=True):
            by_dir.setdefault(info.path.rpartition("/")[0], []).append(info)
        return sorted(i.path for infos in by_dir.values() for i in _visible(infos))

    # --- reading -------------------------------------------------------------------------------
    def dataset(
        self, paths: list[str], schema: pa.Schema | None = None, hive_base: str | None = None
    ) -> ds.Dataset:
        """A pyarrow dataset over `paths`; with hive_base, `date` and `hour` become columns."""
        partitioning = None
        if hive_base is not None:
            hive = pa.schema([pa.field("date", pa.date32()), pa.field("hour", pa.int64())])
            partitioning = ds.partitioning(hive, flavor="hive")
            if schema is not None:
                schema = pa.schema([*schema, *hive])
        return ds.dataset(
            paths,
            schema=schema,
            format="parquet",
            filesystem=self.filesystem,
            partitioning=partitioning,
            partition_base_dir=hive_base,
        )

    def read_table(self, path: str, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(path, columns=columns, filesystem=self.filesystem)

    def read_metadata(self, path: str) -> pq.FileMetaData:
        with self.filesystem.open_input_file(path) as source:
            return pq.read_metadata(source)

    # --- writing -------------------------------------------------------------------------------
    def write_table(self, table: pa.Table, path: str, **options: Any) -> None:
        """Write `table` to `path` so that no reader ever sees part of it (see the module doc)."""
        directory, _, name = path.rpartition("/")
        # Hidden locally (a dot name); on S3 object keys avoid dot segments, and the suffix
        # alone keeps it out of every listing.
        temp = f"{directory}/{'.' if self.local else ''}{name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}"
        if self.local:
            Path(directory).mkdir(parents=True, exist_ok=True)
            try:
                pq.write_table(table, temp, **options)
                os.replace(temp, path)  # atomic on POSIX: readers see the old state or the new
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            return
        try:
            pq.write_table(table, temp, filesystem=self.filesystem, **options)
            self.filesystem.copy_file(temp, path)  # server-side copy: one atomic PUT
        finally:
            self.delete_files([temp])

    def delete_files(self, paths: Iterable[str]) -> None:
        if self.objects is None:
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    self.filesystem.delete_file(path)
        else:
            keys = [p.partition("/")[2] for p in paths]
            for start in range(0, len(keys), 1000):  # S3's DeleteObjects limit
                self.objects.client.delete_objects(
                    Bucket=self.objects.bucket,
                    Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]},
                )

    def delete_dir(self, directory: str) -> None:
        if self.objects is None:
            with contextlib.suppress(FileNotFoundError):
                self.filesystem.delete_dir(directory)
        else:
            selector = pafs.FileSelector(directory, allow_not_found=True, recursive=True)
            infos = self.filesystem.get_file_info(selector)
            self.delete_files(i.path for i in infos if i.type == pafs.FileType.File)


LakeRoot = Path | str | LakeStore


@functools.lru_cache(maxsize=16)
def _s3_store(config: S3Config, bucket: str, prefix: str) -> LakeStore:
    """One store (an S3 filesystem and a boto3 client, both thread-safe) per bucket and
    process, however many dataflow partitions, writers and requests use it."""
    return LakeStore._connect_s3(config, bucket, prefix)


def as_store(root: LakeRoot) -> LakeStore:
    """A LakeStore from a store or a local directory (what most callers and tests pass)."""
    return root if isinstance(root, LakeStore) else LakeStore.directory(Path(root))


def _visible(infos: list[pafs.FileInfo]) -> list[pafs.FileInfo]:
    compacted = [i for i in infos if i.base_name.endswith(COMPACTED)]
    if compacted:
        newest = max(compacted, key=lambda i: (i.mtime_ns or 0, i.path))
        cutoff = newest.mtime_ns or 0
        infos = [i for i in infos if i is newest or (i.mtime_ns or 0) > cutoff]
    return sorted(infos, key=lambda i: i.path)


def lake_from_settings(settings: Settings) -> LakeStore:
    """The lake on the object store's bucket when that is S3 (see `lake_store`), else the
    `lake_dir` directory."""
    if settings.resolved_lake_store == "s3":
        config = s3_config_from_settings(settings)
        return LakeStore.s3(config, settings.s3_bucket, settings.lake_s3_prefix)
    return LakeStore.directory(settings.resolved_lake_dir)
