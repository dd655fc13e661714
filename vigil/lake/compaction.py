"""Merge the small Parquet files of closed hour partitions into one file per partition.

The dataflow publishes a file per partition every `lake_roll_seconds`, so an hour holds
about a hundred small files; DuckDB and the replay read one big file much faster.

A partition is compacted once it holds `min_files` files and its hour ended `grace` ago, so
the dataflow no longer writes to it (its writer drops rows that any file of the partition
already holds, so even a late recovery replay into a compacted hour adds no duplicate). The
merged file is named the way the writer names files (after its first row); rows are
deduplicated on the record's key fields.

The swap is atomic for readers. In a local lake the merged file is written into a staging
directory, which then trades places with the partition directory (Linux renameat2
RENAME_EXCHANGE), so a reader lists either the old files or the new one, never both; a crash
leaves one or the other plus a staging directory that the next run removes. On S3 the merged
file is written whole under a `.compacted` name, which hides the older small files from every
listing (vigil.lake.store) until they are deleted; a crash leaves hidden files, which take
space but no reader sees, until retention removes the partition.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from vigil.lake.layout import part_name
from vigil.lake.partitions import HourPartition, hour_partitions
from vigil.lake.store import COMPACTED, LakeRoot, LakeStore, as_store
from vigil.logs import get_logger
from vigil.records.schemas import RECORD_TYPES, RecordType

log = get_logger(__name__)

STAGING = ".staging"  # under the lake root, outside every table's glob
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass
class CompactionReport:
    partitions: int = 0
    files_before: int = 0
    files_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    rows: int = 0
    duplicates_dropped: int = 0


def _exchange(a: Path, b: Path) -> None:
    """Swap two directories atomically; where renameat2 is missing, two renames."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
        if result == 0:
            return
        errno = ctypes.get_errno()
        if errno not in (22, 38):  # EINVAL / ENOSYS: the file system cannot exchange
            raise OSError(errno, os.strerror(errno), str(a))
    aside = a.with_name(f".{a.name}.{uuid.uuid4().hex[:8]}")
    os.rename(a, aside)
    os.rename(b, a)
    os.rename(aside, b)


def _merge(store: LakeStore, record: RecordType, files: list[PurePath]) -> tuple[int, pa.Table]:
    """(rows read, the rows deduplicated on the record's key and sorted by ts)."""
    keys = ", ".join(f'"{k}"' for k in record.key_fields)
    columns = ", ".join(f'"{f.name}"' for f in record.schema)
    dataset = store.dataset([str(f) for f in files], schema=record.schema)
    db = duckdb.connect()
    try:
        db.execute("SET TimeZone = 'UTC'")
        db.register("source", dataset)
        rows = db.execute("SELECT count(*) FROM source").fetchall()[0][0]
        query = f"SELECT DISTINCT ON ({keys}) {columns} FROM source ORDER BY {keys}"  # noqa: S608 (schema names)
        table = db.sql(query).to_arrow_table()
    finally:
        db.close()
    return int(rows), table.sort_by([("ts", "ascending")]).cast(record.schema)


def compact_partition(
    lake_root: LakeRoot, record: RecordType, partition: HourPartition
) -> CompactionReport:
    store = as_store(lake_root)
    files = partition.files()
    report = CompactionReport(partitions=1, files_before=len(files))
    report.bytes_before = sum(i.size or 0 for i in store.files(str(partition.path)))
    report.rows, table = _merge(store, record, files)
    report.duplicates_dropped = report.rows - table.num_rows
    report.rows = table.num_rows
    name = part_name(table.slice(0, 1).to_pylist()[0], record.key_fields)
    if store.local:
        staging = Path(store.root) / STAGING / uuid.uuid4().hex
        staging.mkdir(parents=True)
        try:
            pq.write_table(table, staging / name, compression="zstd")
            _exchange(Path(partition.path), staging)  # staging now holds the old files
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        report.bytes_after = (Path(partition.path) / name).stat().st_size
    else:
        sources = [str(f) for f in files]
        if [i.path for i in store.files(str(partition.path))] != sources:
            # A late write arrived while merging: leave the partition to the next run rather
            # than hide (and lose) the newcomer behind the merged file.
            log.info("lake_partition_changed", table=partition.table, path=str(partition.path))
            return CompactionReport()
        merged = f"{partition.path}/{name.removesuffix('.parquet')}{COMPACTED}"
        store.write_table(table, merged, compression="zstd")  # hides the files it merged
        store.delete_files(p for p in sources if p != merged)
        report.bytes_after = store.filesystem.get_file_info(merged).size or 0
    report.files_after = 1
    return report


def compact_lake(
    lake_root: LakeRoot,
    *,
    now: datetime | None = None,
    min_files: int = 4,
    grace: timedelta = timedelta(hours=1),
    on_progress: Callable[[int, int], None] | None = None,
) -> CompactionReport:
    """Compact every closed hour partition holding at least `min_files` files."""
    now = now or datetime.now(UTC)
    store = as_store(lake_root)
    if store.local:
        shutil.rmtree(Path(store.root) / STAGING, ignore_errors=True)  # left by a crash
    due = [
        p
        for p in hour_partitions(store)
        if p.start + timedelta(hours=1) + grace <= now and len(p.files()) >= min_files
    ]
    total = CompactionReport()
    for done, partition in enumerate(due, start=1):
        one = compact_partition(store, RECORD_TYPES[partition.table], partition)
        for name in vars(total):
            setattr(total, name, getattr(total, name) + getattr(one, name))
        log.info(
            "lake_partition_compacted",
            table=partition.table,
            camera_id=partition.camera_id,
            date=partition.date,
            hour=partition.hour,
            files_before=one.files_before,
            rows=one.rows,
        )
        if on_progress is not None:
            on_progress(done, len(due))
    if store.local:
        shutil.rmtree(Path(store.root) / STAGING, ignore_errors=True)
    return total
