"""face events: an event may name the face identity it is about (type 'face')

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 11:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("face_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_events_face_id"), ["face_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_events_face_id_faces"), "faces", ["face_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_events_face_id_faces"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_events_face_id"))
        batch_op.drop_column("face_id")
