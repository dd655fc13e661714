"""DuckDB over the lake: one view per record type, hive partitions as columns.

The view definitions live in sql/duckdb/views.sql; a table with no file yet gets an empty view
of the right shape, so queries work from the first second. A local lake is read by DuckDB's
own Parquet glob; a lake on S3 through a pyarrow dataset registered in its place (DuckDB needs
no extension, and so no download, for that), listed when the connection is made.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from vigil.lake.layout import table_glob
from vigil.lake.store import LakeRoot, as_store
from vigil.records.schemas import RECORD_TYPES

VIEWS_SQL = Path(__file__).resolve().parents[2] / "sql" / "duckdb" / "views.sql"
PARTITION_COLUMNS = [pa.field("date", pa.date32()), pa.field("hour", pa.int64())]
_READ_GLOB = re.compile(r"read_parquet\('\{glob\}'[^)]*\)")


def connect(lake_root: LakeRoot, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(database)
    register_views(connection, lake_root)
    return connection


def register_views(connection: duckdb.DuckDBPyConnection, lake_root: LakeRoot) -> None:
    store = as_store(lake_root)
    statements = VIEWS_SQL.read_text()
    for name, record in RECORD_TYPES.items():
        statement = _statement_for(statements, name)
        if store.local:
            pattern = table_glob(Path(store.root), name)
            if glob.glob(pattern, recursive=True):
                connection.execute(statement.replace("{glob}", pattern.replace("'", "''")))
                continue
        elif files := store.table_files(name):
            dataset = store.dataset(files, record.schema, hive_base=store.table_dir(name))
            connection.register(f"_{name}_dataset", dataset)
            connection.execute(_READ_GLOB.sub(f"_{name}_dataset", statement))
            continue
        empty = pa.schema([*record.schema, *PARTITION_COLUMNS]).empty_table()
        connection.register(f"_{name}_empty", empty)
        connection.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _{name}_empty")  # noqa: S608 (names from RECORD_TYPES)


def _statement_for(sql: str, name: str) -> str:
    for statement in sql.split(";"):
        if f"VIEW {name} AS" in statement:
            return statement
    raise LookupError(f"no view for {name} in {VIEWS_SQL}")
