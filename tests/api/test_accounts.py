"""Production defaults: no well-known login, signup closed (the first account is the
administrator, who creates the others), on PostgreSQL and SQLite."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from api.app import create_app
from tests.conftest import signup_and_login
from vigil.db.models import User
from vigil.db.session import session_scope
from vigil.seed import seed_demo
from vigil.settings import DEV_DEMO_PASSWORD, Settings

PASSWORD = "correct horse 42"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production(settings: Settings) -> Settings:
    return settings.model_copy(update={"env": "production"})


def _signup(client: TestClient, email: str) -> int:
    body = {"email": email, "password": PASSWORD}
    return client.post("/api/v1/auth/signup", json=body).status_code


def test_production_signup_is_closed_after_the_first_account(production: Settings) -> None:
    with TestClient(create_app(production)) as client:
        admin = signup_and_login(client, "owner@example.com")
        assert client.get("/api/v1/auth/me", headers=admin).json()["is_admin"] is True
        refused = client.post(
            "/api/v1/auth/signup", json={"email": "stranger@example.com", "password": PASSWORD}
        )
        assert refused.status_code == 403 and "closed" in refused.json()["detail"]
        # Closed for everyone alike: a registered email gets the same answer.
        assert _signup(client, "owner@example.com") == 403

        created = client.post(
            "/api/v1/users",
            json={"email": "Family@Example.com", "password": PASSWORD},
            headers=admin,
        )
        assert created.status_code == 201, created.text
        assert created.json()["email"] == "family@example.com"
        assert created.json()["is_admin"] is False
        family = {
            "Authorization": "Bearer "
            + client.post(
                "/api/v1/auth/login", json={"email": "family@example.com", "password": PASSWORD}
            ).json()["access_token"]
        }
        # Only administrators create accounts.
        body = {"email": "friend@example.com", "password": PASSWORD}
        assert client.post("/api/v1/users", json=body, headers=family).status_code == 403
        assert client.post("/api/v1/users", json=body).status_code == 401
        again = client.post("/api/v1/users", json=created.json() | body, headers=admin)
        assert again.status_code == 422  # unknown fields (id, created_at) are refused
        duplicate = {"email": "family@example.com", "password": PASSWORD}
        assert client.post("/api/v1/users", json=duplicate, headers=admin).status_code == 409
        weak = client.post(
            "/api/v1/users",
            json={"email": "weak@example.com", "password": "letmein1234"},
            headers=admin,
        )
        assert weak.status_code == 422 and "letmein1234" not in weak.text


def test_a_setting_opens_production_signup(production: Settings) -> None:
    with TestClient(create_app(production.model_copy(update={"signup_open": True}))) as client:
        signup_and_login(client, "owner@example.com")
        member = signup_and_login(client, "member@example.com")
        assert client.get("/api/v1/auth/me", headers=member).json()["is_admin"] is False


def test_development_signup_is_open_and_the_first_account_is_admin(client: TestClient) -> None:
    first = signup_and_login(client, "first@example.com")
    second = signup_and_login(client, "second@example.com")
    assert client.get("/api/v1/auth/me", headers=first).json()["is_admin"] is True
    assert client.get("/api/v1/auth/me", headers=second).json()["is_admin"] is False


def _users(settings: Settings) -> int:
    with session_scope(settings.resolved_database_url) as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


@pytest.mark.parametrize("password", [None, DEV_DEMO_PASSWORD])
def test_production_seeds_no_demo_user_without_a_password_of_its_own(
    production: Settings, password: str | None
) -> None:
    configured = production.model_copy(
        update={"demo_password": SecretStr(password) if password else None}
    )
    with session_scope(configured.resolved_database_url) as session:
        assert seed_demo(session, configured) is None
    assert _users(configured) == 0
    with TestClient(create_app(configured)) as client:
        login = {"email": configured.demo_email, "password": DEV_DEMO_PASSWORD}
        assert client.post("/api/v1/auth/login", json=login).status_code == 401


def test_production_seeds_the_demo_user_with_an_explicit_password(production: Settings) -> None:
    own = "my own demo password 7"
    configured = production.model_copy(update={"demo_password": SecretStr(own)})
    with session_scope(configured.resolved_database_url) as session:
        assert seed_demo(session, configured) is not None
    with TestClient(create_app(configured)) as client:
        login = {"email": configured.demo_email, "password": own}
        assert client.post("/api/v1/auth/login", json=login).status_code == 200
        login["password"] = DEV_DEMO_PASSWORD
        assert client.post("/api/v1/auth/login", json=login).status_code == 401


def test_env_example_ships_no_usable_production_demo_password(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    text = (ROOT / ".env.example").read_text()
    env_file.write_text(text.replace("VIGIL_ENV=development", "VIGIL_ENV=production"))
    loaded = Settings(  # type: ignore[call-arg]
        _env_file=env_file, jwt_secret=SecretStr("p" * 40), data_dir=tmp_path
    )
    assert loaded.env == "production"
    assert loaded.demo_password_value() is None
    assert loaded.resolved_signup_open is False
    assert loaded.trusted_proxy_networks == ()
    assert DEV_DEMO_PASSWORD not in text.split("VIGIL_DEMO_PASSWORD=", 1)[1].split("\n", 1)[0]


def test_concurrent_first_signups_make_one_administrator(
    client: TestClient, settings: Settings
) -> None:
    def signup(n: int) -> int:
        return _signup(client, f"racer{n}@example.com")

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(signup, range(6)))
    assert all(code in (202, 503) for code in codes), codes  # 503: SQLite busy, retry later
    with session_scope(settings.resolved_database_url) as session:
        admins = session.scalar(select(func.count()).select_from(User).where(User.is_admin))
    assert admins == 1
