"""Write locks taken inside a transaction, for check-then-insert sequences (count, then add)
that must not interleave with another transaction doing the same."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from vigil.db.base import Base


def lock_row(session: Session, model: type[Base], row_id: int) -> None:
    """Hold a write lock on one row until the transaction ends.

    PostgreSQL: `SELECT ... FOR UPDATE`, so others doing the same wait for the commit. SQLite
    has a single writer and no FOR UPDATE: a no-op write takes the database's write lock now
    (waiting out the busy timeout), like `BEGIN IMMEDIATE`, and reads after it see the latest
    commit.
    """
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(f"UPDATE {table.name} SET id = id WHERE id = :id"),  # noqa: S608 (own table)
            {"id": row_id},
        )
    else:
        session.execute(select(table.c.id).where(table.c.id == row_id).with_for_update())
