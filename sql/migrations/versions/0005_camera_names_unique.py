"""camera names unique per owner

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-30 10:00:00

The API checked names before inserting, which parallel requests raced past. Names that are
already duplicated (from such a race) get their camera id appended, so the constraint can be
created and no camera is lost; the owner can rename them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_LENGTH = 100


def _with_suffix(name: str, suffix: str) -> str:
    return name[: NAME_LENGTH - len(suffix)] + suffix


def _rename_duplicates() -> None:
    cameras = sa.table(
        "cameras", sa.column("id", sa.Integer), sa.column("owner_id"), sa.column("name")
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(cameras.c.id, cameras.c.owner_id, cameras.c.name).order_by(cameras.c.id)
    ).all()
    taken = {(owner, name) for _id, owner, name in rows}
    seen: set[tuple[int, str]] = set()
    for camera_id, owner, name in rows:
        if (owner, name) not in seen:
            seen.add((owner, name))
            continue  # the oldest camera keeps its name
        attempt = 1
        new_name = _with_suffix(name, f" ({camera_id})")
        while (owner, new_name) in taken:  # the suffixed name is itself taken: vary it
            attempt += 1
            new_name = _with_suffix(name, f" ({camera_id}.{attempt})")
        taken.add((owner, new_name))
        connection.execute(
            sa.update(cameras).where(cameras.c.id == camera_id).values(name=new_name)
        )


def upgrade() -> None:
    _rename_duplicates()
    with op.batch_alter_table(
        "cameras", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.create_unique_constraint("uq_cameras_owner_id_name", ["owner_id", "name"])


def downgrade() -> None:
    with op.batch_alter_table(
        "cameras", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint("uq_cameras_owner_id_name", type_="unique")
