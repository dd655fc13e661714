"""`vigil sql`: DuckDB over the Parquet lake, with the views of sql/duckdb/views.sql (frames,
detections, faces, events, camera_health) and `hourly_stats` loaded, wherever the lake lives
(a directory or the object store's bucket)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import typer

from vigil.cli.common import bootstrap

PROMPT = "vigil> "


def _plain(value: Any) -> Any:
    """A JSON-friendly value: timestamps in ISO 8601, decimals as numbers."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _print(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_cell(v) for v in row] for row in rows)
    elif fmt == "json":
        records = [dict(zip(columns, (_plain(v) for v in row), strict=True)) for row in rows]
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns, show_lines=False, caption=f"{len(rows)} row(s)")
        for row in rows:
            table.add_row(*("NULL" if v is None else str(_plain(v)) for v in row))
        Console(soft_wrap=True).print(table)
    sys.stdout.flush()


def _csv_cell(value: Any) -> Any:
    plain = _plain(value)
    return json.dumps(plain) if isinstance(plain, list | dict) else plain


def statements(lines: Iterable[str]) -> Iterator[str]:
    """SQL statements from lines of input: each ends with a line ending in `;` (or at EOF)."""
    buffer: list[str] = []
    for line in lines:
        buffer.append(line)
        if line.rstrip().endswith(";"):
            if text := "".join(buffer).strip().rstrip(";").strip():
                yield text
            buffer = []
    if text := "".join(buffer).strip().rstrip(";").strip():
        yield text


def _error_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else 'failed'}"


def register(app: typer.Typer) -> None:
    @app.command()
    def sql(
        query: str | None = typer.Argument(
            None, help="SQL to run; omitted: read statements (ending in ;) from stdin"
        ),
        as_csv: bool = typer.Option(False, "--csv", help="print CSV"),
        as_json: bool = typer.Option(False, "--json", help="print a JSON array of objects"),
    ) -> None:
        """Ad-hoc SQL over the lake (DuckDB). Views: frames, detections, faces, events,
        camera_health, hourly_stats; camera_id, date and hour are partition columns."""
        if as_csv and as_json:
            typer.echo("error: choose one of --csv and --json", err=True)
            raise typer.Exit(2)
        fmt = "csv" if as_csv else "json" if as_json else "table"
        settings = bootstrap("sql")
        import duckdb

        from vigil.lake.query import connect
        from vigil.lake.store import lake_from_settings
        from vigil.stats import register_hourly_stats_view

        lake = lake_from_settings(settings)
        try:
            connection = connect(lake)
            register_hourly_stats_view(connection, lake)
            connection.execute("SET TimeZone = 'UTC'")
        except Exception as exc:  # an unreachable bucket, a corrupt file: one line, not a trace
            typer.echo(f"error: cannot open the lake at {lake.url}: {_error_line(exc)}", err=True)
            raise typer.Exit(2) from None

        def run(statement: str) -> bool:
            try:
                cursor = connection.execute(statement)
                if cursor.description is not None:
                    columns = [d[0] for d in cursor.description]
                    _print(columns, cursor.fetchall(), fmt)
            except duckdb.Error as exc:
                typer.echo(f"error: {_error_line(exc)}", err=True)
                return False
            return True

        try:
            if query is not None:
                if not query.strip():
                    typer.echo("error: the query is empty", err=True)
                    raise typer.Exit(2)
                if not run(query):
                    raise typer.Exit(2)
                return
            interactive = sys.stdin.isatty()
            if interactive:
                typer.echo(f"DuckDB over {lake.url}; end statements with ; and quit with Ctrl-D")
            ok = True
            for statement in statements(_lines(interactive)):
                ok = run(statement) and ok
            if not ok:
                raise typer.Exit(2)  # a statement failed: scripts piping SQL see it
        finally:
            connection.close()


def _lines(interactive: bool) -> Iterator[str]:
    """stdin's lines, with a prompt when a person is typing."""
    if not interactive:
        yield from sys.stdin
        return
    while True:
        try:
            yield input(PROMPT) + "\n"
        except EOFError:
            typer.echo()
            return
