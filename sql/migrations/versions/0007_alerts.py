"""alerts: per-kind cooldowns, quiet hours, zone filter, webhook; delivery keys; user time zone

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-30 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vigil.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        "users", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )

    with op.batch_alter_table(
        "alert_settings", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("cooldowns", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(
            sa.Column("quiet_hours", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.add_column(sa.Column("zone_ids", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("webhook_url", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("webhook_secret", sa.String(length=128), nullable=True))

    with op.batch_alter_table(
        "alert_deliveries", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=16), server_default="email", nullable=False)
        )
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="intrusion", nullable=False)
        )
        batch_op.add_column(
            sa.Column("event_ts", vigil.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("merged_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("next_attempt_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("completed_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column(
            "recipient",
            existing_type=sa.String(length=320),
            type_=sa.String(length=2048),
            existing_nullable=False,
        )
        # Deliveries go with their event (retention), instead of being left without one.
        batch_op.drop_constraint("fk_alert_deliveries_event_id_events", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_alert_deliveries_event_id_events",
            "events",
            ["event_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            "uq_alert_deliveries_event_channel_recipient", ["event_id", "channel", "recipient"]
        )
        batch_op.create_index(
            "ix_alert_deliveries_status_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_alert_deliveries_cooldown",
            ["camera_id", "kind", "channel", "event_ts"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "alert_deliveries", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_index("ix_alert_deliveries_cooldown")
        batch_op.drop_index("ix_alert_deliveries_status_due")
        batch_op.drop_constraint("uq_alert_deliveries_event_channel_recipient", type_="unique")
        batch_op.drop_constraint("fk_alert_deliveries_event_id_events", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_alert_deliveries_event_id_events",
            "events",
            ["event_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.alter_column(
            "recipient",
            existing_type=sa.String(length=2048),
            type_=sa.String(length=320),
            existing_nullable=False,
        )
        for column in (
            "completed_at",
            "next_attempt_at",
            "merged_count",
            "attempts",
            "event_ts",
            "kind",
            "channel",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table(
        "alert_settings", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        for column in ("webhook_secret", "webhook_url", "zone_ids", "quiet_hours", "cooldowns"):
            batch_op.drop_column(column)

    with op.batch_alter_table(
        "users", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("time_zone")
