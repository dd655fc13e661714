"""Migration 0005 makes camera names unique per owner, keeping cameras whose names a race had
already duplicated (renamed, never dropped), on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.db.test_migrations import empty_database  # noqa: F401 (fixture)
from vigil.db import migrate
from vigil.db.session import make_engine


def test_duplicate_names_are_renamed_then_refused(empty_database: str) -> None:  # noqa: F811
    migrate.upgrade(empty_database, "0003")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as conn:
            for user_id in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO users (id, email, password_hash, is_active, created_at)"
                        " VALUES (:id, :email, 'x', true, CURRENT_TIMESTAMP)"
                    ),
                    {"id": user_id, "email": f"u{user_id}@example.com"},
                )
            rows = [(1, 1, "Gate"), (2, 1, "Gate"), (3, 1, "Gate (2)"), (4, 2, "Gate")]
            rows.append((5, 1, "G" * 100))
            rows.append((6, 1, "G" * 100))
            for camera_id, owner, name in rows:
                conn.execute(
                    text(
                        "INSERT INTO cameras (id, owner_id, name, stream_url, enabled, detect_fps,"
                        " detect_width, face_mode, motion_masks, record_retention_days,"
                        " clip_retention_days, snapshot_retention_days, status, created_at,"
                        " updated_at) VALUES (:id, :owner, :name, 'rtsp://h/s', true, 5, 640,"
                        " false, '[]', 7, 30, 7, 'unknown', CURRENT_TIMESTAMP,"
                        " CURRENT_TIMESTAMP)"
                    ),
                    {"id": camera_id, "owner": owner, "name": name},
                )
        migrate.upgrade(empty_database)
        with engine.connect() as conn:
            names: dict[int, str] = dict(conn.execute(text("SELECT id, name FROM cameras")).all())
        assert names[1] == "Gate" and names[4] == "Gate"  # oldest keeps it; other owners too
        assert names[3] == "Gate (2)"
        assert names[2] == "Gate (2.2)"  # "Gate (2)" was taken
        assert names[5] == "G" * 100
        assert names[6] == "G" * 96 + " (6)" and len(names[6]) == 100
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("UPDATE cameras SET name = 'Gate' WHERE id = 3"))
    finally:
        engine.dispose()
