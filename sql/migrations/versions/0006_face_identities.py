"""face identities: per-camera face recognition, face quality, identity change log

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-30 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vigil.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The demo cameras `vigil seed` creates (vigil.seed): face recognition is on for them only.
DEMO_CAMERAS = ("Demo plaza", "Demo desk")


def upgrade() -> None:
    with op.batch_alter_table(
        "cameras", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("face_recognition", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    cameras = sa.table("cameras", sa.column("name", sa.String), sa.column("face_recognition"))
    op.execute(
        cameras.update().where(cameras.c.name.in_(DEMO_CAMERAS)).values(face_recognition=True)
    )
    with op.batch_alter_table(
        "face_detections", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("quality", sa.Float(), nullable=True))
    with op.batch_alter_table(
        "faces", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("weight", sa.Float(), nullable=False, server_default="0"))
        batch_op.create_index("ix_faces_owner_id_last_seen_at", ["owner_id", "last_seen_at"])
    op.create_table(
        "face_changes",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("face_id", sa.Integer(), nullable=False),
        sa.Column("into_face_id", sa.Integer(), nullable=True),
        sa.Column("detection_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_face_changes_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_changes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table(
        "face_changes", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.create_index("ix_face_changes_owner_id_id", ["owner_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table(
        "face_changes", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_index("ix_face_changes_owner_id_id")
    op.drop_table("face_changes")
    with op.batch_alter_table(
        "faces", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_index("ix_faces_owner_id_last_seen_at")
        batch_op.drop_column("weight")
        batch_op.drop_column("pinned")
    with op.batch_alter_table(
        "face_detections", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("quality")
    with op.batch_alter_table(
        "cameras", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("face_recognition")
