"""Alembic migrations upgrade and downgrade cleanly and match the models, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

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
