"""Where lake files live. Paths come from ids and timestamps only, never from user input."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

TEMP_SUFFIX = ".tmp"  # in-progress files end in .tmp, so `*.parquet` globs never see them


def partition_dir(root: Path, table: str, camera_id: int, date: str, hour: int) -> Path:
    return root / table / f"camera_id={camera_id}" / f"date={date}" / f"hour={hour}"


def part_name(first_row: dict[str, Any], key_fields: tuple[str, ...]) -> str:
    """A file name that is a pure function of the file's first row: rewriting the same rows
    after a crash replaces the same file instead of adding a duplicate one."""
    ts: datetime = first_row["ts"]
    key = "\x1f".join(str(first_row[name]) for name in key_fields)
    digest = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:10]
    return f"part-{ts:%Y%m%dT%H%M%S%f}-{digest}.parquet"


def table_glob(root: Path, table: str) -> str:
    return str(root / table / "**" / "*.parquet")
