"""Retention ages the alert delivery log out (test messages too) and never a pending delivery
the alert service has yet to send, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.pipelines.world import make_camera
from tests.retention.store import NOW
from vigil.db.models import AlertDelivery
from vigil.db.session import session_factory, session_scope
from vigil.media.paths import MediaPaths
from vigil.retention import RetentionPolicy, sweep
from vigil.storage import LocalObjectStore


def test_old_deliveries_go_pending_ones_stay(database_url: str, tmp_path: Path) -> None:
    camera = make_camera(database_url, "Gate")
    rows = {
        "old sent": ("sent", 40),
        "old failed": ("failed", 31),
        "old test message": ("skipped", 45),
        "old pending": ("pending", 60),
        "recent sent": ("sent", 29),
    }
    with session_scope(database_url) as session:
        for recipient, (status, days) in rows.items():
            session.add(
                AlertDelivery(
                    camera_id=camera,
                    recipient=recipient,
                    status=status,
                    kind="test" if "test" in recipient else "intrusion",
                    attempted_at=NOW - timedelta(days=days),
                )
            )
    report = sweep(
        session_factory(database_url),
        LocalObjectStore(tmp_path / "objects"),
        MediaPaths(tmp_path / "media"),
        tmp_path / "lake",
        RetentionPolicy(alert_delivery_days=30),
        now=NOW,
    )
    with session_scope(database_url) as session:
        kept = set(session.scalars(select(AlertDelivery.recipient)))
    assert kept == {"old pending", "recent sent"}
    assert report.deleted["alert_delivery"] == 3


def test_a_policy_keeping_no_day_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 day"):
        RetentionPolicy(alert_delivery_days=0)
