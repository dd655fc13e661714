"""events outbox: an event records when its 'open' record reached the events topic

Existing events count as published (set to their creation time): they predate the outbox, and
publishing them now would alert on old events.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vigil.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        "events", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("published_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_events_unpublished", ["published_at", "created_at"], unique=False)
    op.execute("UPDATE events SET published_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table(
        "events", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_index("ix_events_unpublished")
        batch_op.drop_column("published_at")
