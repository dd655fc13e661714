"""Alembic migrations upgrade and downgrade cleanly and match the models, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Integer, inspect, text

import vigil.db.models  # noqa: F401  (registers every table)
from tests.conftest import _create_postgres_database, _drop_postgres_database
from vigil.db import migrate
from vigil.db.base import Base
from vigil.db.session import make_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = _create_postgres_database()
        yield url
        _drop_postgres_database(url)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert migrate.current_revision(empty_database) == migrate.head_revision(empty_database)
    assert _tables(empty_database) == set(Base.metadata.tables)

    migrate.downgrade(empty_database, "base")
    assert migrate.current_revision(empty_database) is None
    assert _tables(empty_database) == set()

    migrate.upgrade(empty_database)
    assert _tables(empty_database) == set(Base.metadata.tables)


def test_migrated_schema_matches_the_models(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_api_query_indexes_exist(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    inspector = inspect(engine)
    index_columns = {
        table: [tuple(ix["column_names"]) for ix in inspector.get_indexes(table)]
        for table in ("events", "face_detections", "camera_health_events", "cameras")
    }
    engine.dispose()
    assert ("camera_id", "start_ts") in index_columns["events"]
    assert ("camera_id", "ts") in index_columns["face_detections"]
    assert ("camera_id", "ts") in index_columns["camera_health_events"]
    assert ("owner_id", "id") in index_columns["cameras"]


def _never_reused_tables() -> list[str]:
    return [
        t.name for t in Base.metadata.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]
    ]


def test_integer_ids_are_never_reused_after_migrating(empty_database: str) -> None:
    """Every table with a generated integer id is AUTOINCREMENT (SQLite) or an identity
    (PostgreSQL) at head: a later batch migration that copies one of these tables without
    `table_kwargs={"sqlite_autoincrement": True}` would bring id reuse back."""
    generated = [
        t.name
        for t in Base.metadata.sorted_tables
        if len(t.primary_key.columns) == 1
        and isinstance(next(iter(t.primary_key.columns)).type, Integer)
        and next(iter(t.primary_key.columns)).autoincrement is not False
    ]
    assert set(generated) == set(_never_reused_tables()) and "users" in generated

    migrate.upgrade(empty_database, "0003")
    engine = make_engine(empty_database)
    with engine.begin() as conn:  # ids 1..3 handed out, the newest deleted before the upgrade
        for n in range(3):
            conn.execute(
                text(
                    "INSERT INTO users (email, password_hash, is_active, created_at) "
                    "VALUES (:e, 'x', :t, CURRENT_TIMESTAMP)"
                ),
                {"e": f"u{n}@example.com", "t": True},
            )
        conn.execute(text("DELETE FROM users WHERE id = 3"))
    migrate.upgrade(empty_database)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            ddl: dict[str, str] = dict(
                conn.execute(text("SELECT name, sql FROM sqlite_master")).all()
            )
            assert all("AUTOINCREMENT" in ddl[t] for t in generated), generated
        else:
            identities = set(
                conn.scalars(
                    text(
                        "SELECT table_name FROM information_schema.columns "
                        "WHERE column_name = 'id' AND is_identity = 'YES'"
                    )
                )
            )
            assert set(generated) <= identities
        new_ids = []
        for n in range(2):  # insert, delete the newest, insert again
            conn.execute(
                text(
                    "INSERT INTO users (email, password_hash, is_active, is_admin, token_key, "
                    "created_at) VALUES (:e, 'x', :t, :f, 'k', CURRENT_TIMESTAMP)"
                ),
                {"e": f"new{n}@example.com", "t": True, "f": False},
            )
            new_ids.append(conn.scalar(text("SELECT MAX(id) FROM users")))
            if n == 0:
                conn.execute(text("DELETE FROM users WHERE id = :i"), {"i": new_ids[0]})
        keys = conn.execute(text("SELECT id, token_key, is_admin FROM users ORDER BY id")).all()
    engine.dispose()
    assert new_ids[1] > new_ids[0]
    if engine.dialect.name == "postgresql":
        # Not 3: the sequence's position carries over. (SQLite without AUTOINCREMENT kept no
        # record of deleted ids; new cameras clear stale media under their id for that case.)
        assert new_ids[0] == 4
    assert all(key for _id, key, _admin in keys)
    assert [bool(admin) for _id, _key, admin in keys] == [True, False, False]


def test_upgrading_keeps_every_child_row(empty_database: str) -> None:
    """Batch migrations copy and drop whole tables on SQLite: with foreign keys enforced, the
    drop of `users` once cascaded into every camera, zone and health event of an upgraded
    install. Every row written at 0003 must still be there at head, on both databases."""
    migrate.upgrade(empty_database, "0003")
    engine = make_engine(empty_database)
    stamp = "CURRENT_TIMESTAMP"
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, is_active, created_at)"
                    f" VALUES (1, 'owner@example.com', 'x', :t, {stamp})"
                ),
                {"t": True},
            )
            conn.execute(
                text(
                    "INSERT INTO cameras (id, owner_id, name, stream_url, enabled, detect_fps,"
                    " detect_width, face_mode, motion_masks, record_retention_days,"
                    " clip_retention_days, snapshot_retention_days, status, created_at,"
                    " updated_at) VALUES (1, 1, 'Gate', 'rtsp://h/s', :t, 5, 640, :f, '[]',"
                    f" 7, 30, 7, 'unknown', {stamp}, {stamp})"
                ),
                {"t": True, "f": False},
            )
            conn.execute(
                text(
                    "INSERT INTO camera_health_events (camera_id, status, ts)"
                    f" VALUES (1, 'online', {stamp})"
                )
            )
        migrate.upgrade(empty_database)
        with engine.connect() as conn:
            counts = {
                table: conn.scalar(text(f"SELECT COUNT(*) FROM {table}"))
                for table in ("users", "cameras", "camera_health_events")
            }
        assert counts == {"users": 1, "cameras": 1, "camera_health_events": 1}
    finally:
        engine.dispose()
