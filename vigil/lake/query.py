"""DuckDB over the lake: one view per record type, hive partitions as columns.

The view definitions live in sql/duckdb/views.sql; a table with no file yet gets an empty view
of the right shape, so queries work from the first second.
"""

from __future__ import annotations

import glob
from pathlib import Path

import duckdb
import pyarrow as pa

from vigil.lake.layout import table_glob
from vigil.records.schemas import RECORD_TYPES

VIEWS_SQL = Path(__file__).resolve().parents[2] / "sql" / "duckdb" / "views.sql"
PARTITION_COLUMNS = [pa.field("date", pa.date32()), pa.field("hour", pa.int64())]


def connect(lake_root: Path, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(database)
    register_views(connection, lake_root)
    return connection


def register_views(connection: duckdb.DuckDBPyConnection, lake_root: Path) -> None:
    statements = VIEWS_SQL.read_text()
    for name, record in RECORD_TYPES.items():
        pattern = table_glob(Path(lake_root), name)
        if glob.glob(pattern, recursive=True):
            sql = _statement_for(statements, name).replace("{glob}", pattern.replace("'", "''"))
            connection.execute(sql)
        else:
            empty = pa.schema([*record.schema, *PARTITION_COLUMNS]).empty_table()
            connection.register(f"_{name}_empty", empty)
            connection.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _{name}_empty")  # noqa: S608 (names from RECORD_TYPES)


def _statement_for(sql: str, name: str) -> str:
    for statement in sql.split(";"):
        if f"VIEW {name} AS" in statement:
            return statement
    raise LookupError(f"no view for {name} in {VIEWS_SQL}")
