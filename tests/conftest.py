"""Shared fixtures. Database tests run against BOTH real PostgreSQL (127.0.0.1:5432, database
`test` for administration) and SQLite; each session gets its own throw-away database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from vigil.db import migrate
from vigil.db.base import Base
from vigil.db.session import engine_for
from vigil.settings import Settings

pytest_plugins = ["tests.fixtures.services", "tests.fixtures.live_api"]

POSTGRES_ADMIN_URL = os.environ.get(
    "VIGIL_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEST_JWT_SECRET = "test-secret-" + "x" * 40


def _create_postgres_database() -> str:
    name = f"vigil_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return str(make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False))


def _drop_postgres_database(url: str) -> None:
    engine_for(url).dispose()
    name = make_url(url).database
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database migrated to head, once per backend per test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'vigil.db'}"
        migrate.upgrade(url)
        yield url
        engine_for(url).dispose()
    else:
        url = _create_postgres_database()
        migrate.upgrade(url)
        yield url
        _drop_postgres_database(url)


@pytest.fixture
def database_url(migrated_database: str) -> str:
    """The migrated database, emptied before each test."""
    engine = engine_for(migrated_database)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    return migrated_database


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "data")


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        database_url=database_url,
        jwt_secret=TEST_JWT_SECRET,  # type: ignore[arg-type]
        login_rate_limit="1000/minute",
        login_ip_rate_limit="1000/minute",
        login_pair_rate_limit="1000/minute",
        signup_rate_limit="1000/minute",
        object_store="local",
        **overrides,
    )


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    """A fresh, migrated SQLite database: for slow end-to-end tests that run on one backend
    (the API's own tests cover both databases)."""
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    migrate.upgrade(url)
    return make_settings(url, tmp_path / "data")


@pytest.fixture
def sqlite_client(sqlite_settings: Settings) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(sqlite_settings)) as test_client:
        yield test_client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


def signup_and_login(client: TestClient, email: str, password: str = "correct horse 42") -> dict:
    response = client.post("/api/v1/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 202, response.text
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def alice(client: TestClient) -> dict:
    return signup_and_login(client, "alice@example.com")


@pytest.fixture
def bob(client: TestClient) -> dict:
    return signup_and_login(client, "bob@example.com")
