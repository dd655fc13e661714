"""Signup, login, /me and the token rules, against real PostgreSQL and SQLite."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from api.routers.auth import SIGNUP_ACCEPTED
from tests.conftest import TEST_JWT_SECRET, signup_and_login
from vigil.auth.passwords import hash_password
from vigil.auth.tokens import create_access_token
from vigil.db.models import User
from vigil.db.session import session_scope
from vigil.logs import configure_logging
from vigil.media.paths import MediaPaths
from vigil.settings import Settings

PASSWORD = "correct horse 42"


def test_signup_login_me(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/signup", json={"email": "Carol@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 202
    assert response.json() == {"detail": SIGNUP_ACCEPTED}

    login = client.post(
        "/api/v1/auth/login", json={"email": "carol@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    token = login.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 3600

    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "carol@example.com"
    assert "password" not in me.text and "hash" not in me.text and "key" not in me.text


def test_login_accepts_oauth2_password_form(client: TestClient) -> None:
    signup_and_login(client, "form@example.com")
    response = client.post(
        "/api/v1/auth/login", data={"username": "form@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["access_token"]


def test_signup_does_not_tell_whether_an_email_is_registered(client: TestClient) -> None:
    """A taken email gets the very answer a free one gets (and the password is hashed either
    way, so the time is alike too); the account keeps its own password."""
    signup_and_login(client, "dup@example.com")
    taken = client.post(
        "/api/v1/auth/signup", json={"email": "DUP@example.com", "password": "another one 99 x"}
    )
    free = client.post(
        "/api/v1/auth/signup", json={"email": "free@example.com", "password": "another one 99 x"}
    )
    assert (taken.status_code, taken.json()) == (free.status_code, free.json())
    assert taken.status_code == 202
    assert "dup@example.com" not in taken.text
    login = {"email": "dup@example.com", "password": "another one 99 x"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 401
    login["password"] = PASSWORD
    assert client.post("/api/v1/auth/login", json=login).status_code == 200


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short", "at least 10"),
        ("password123", "too easy to guess"),
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("12345678901", "too easy to guess"),
        ("qwertyuiop1", "too easy to guess"),
        ("letmein1234", "too easy to guess"),
        ("x" * 129, "at most 128"),
        ("weak@example.com", "email"),
    ],
)
def test_weak_password_is_refused(client: TestClient, password: str, fragment: str) -> None:
    response = client.post(
        "/api/v1/auth/signup", json={"email": "weak@example.com", "password": password}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "password"]
    assert fragment in detail[0]["msg"]
    assert password not in response.text  # the refusal never echoes the password


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "", "password": PASSWORD},
        {"email": "a@b", "password": PASSWORD},
        {"password": PASSWORD},
        {"email": "x@example.com"},
        {"email": "x@example.com", "password": PASSWORD, "admin": True},
        {"email": ["x@example.com"], "password": PASSWORD},
    ],
)
def test_bad_signup_body_is_422(client: TestClient, body: dict) -> None:
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_wrong_credentials_same_message_whether_or_not_the_email_exists(
    client: TestClient,
) -> None:
    signup_and_login(client, "known@example.com")
    wrong_password = client.post(
        "/api/v1/auth/login", json={"email": "known@example.com", "password": "nope nope nope"}
    )
    unknown_email = client.post(
        "/api/v1/auth/login", json={"email": "ghost@example.com", "password": "nope nope nope"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/json", b'{"email": "a@b.c"}'),
        ("application/json", b'{"email": "\\u0000", "password": "x"}'),
        ("application/json", b'{"email": "a\\nb@c.d", "password": "x"}'),
        ("application/x-www-form-urlencoded", b"username=a%40b.c"),
        ("text/plain", b"hello"),
    ],
)
def test_malformed_login_is_422(client: TestClient, content_type: str, body: bytes) -> None:
    response = client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": content_type}
    )
    assert response.status_code == 422
    assert response.json()["detail"]


def _me(client: TestClient, token: str) -> int:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_tokens_that_must_be_refused(client: TestClient) -> None:
    signup_and_login(client, "tok@example.com")
    user_id = client.post(
        "/api/v1/auth/login", json={"email": "tok@example.com", "password": PASSWORD}
    ).json()
    valid = user_id["access_token"]
    sub = jwt.decode(valid, options={"verify_signature": False})["sub"]
    now = datetime.now(UTC)

    key = jwt.decode(valid, options={"verify_signature": False})["key"]
    expired = create_access_token(int(sub), key, TEST_JWT_SECRET, timedelta(seconds=-5))
    header, _payload, signature = valid.split(".")
    tampered_payload = jwt.utils.base64url_encode(  # type: ignore[attr-defined]
        b'{"sub":"999999","key":"k","iat":1,"exp":9999999999,"typ":"access"}'
    ).decode()
    tampered = f"{header}.{tampered_payload}.{signature}"
    alg_none = jwt.encode(
        {"sub": sub, "key": key, "iat": now, "exp": now + timedelta(hours=1), "typ": "access"},
        key=None,  # type: ignore[arg-type]
        algorithm="none",
    )
    wrong_alg = jwt.encode(
        {"sub": sub, "key": key, "iat": now, "exp": now + timedelta(hours=1), "typ": "access"},
        TEST_JWT_SECRET + "-but-longer-for-hs512",
        algorithm="HS512",
    )
    other_key = jwt.encode(
        {"sub": sub, "key": key, "iat": now, "exp": now + timedelta(hours=1), "typ": "access"},
        "another-secret-of-sufficient-length-123456",
        algorithm="HS256",
    )
    no_exp = jwt.encode(
        {"sub": sub, "key": key, "iat": now, "typ": "access"}, TEST_JWT_SECRET, "HS256"
    )

    assert _me(client, valid) == 200
    for token in (expired, tampered, alg_none, wrong_alg, other_key, no_exp, "garbage", ""):
        assert _me(client, token) == 401, token
    assert client.get("/api/v1/auth/me").status_code == 401


def test_password_never_in_logs_or_responses(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", json=True)
    secret_password = "hunter2-but-much-longer"
    client.post(
        "/api/v1/auth/signup", json={"email": "log@example.com", "password": secret_password}
    )
    ok = client.post(
        "/api/v1/auth/login", json={"email": "log@example.com", "password": secret_password}
    )
    bad = client.post(
        "/api/v1/auth/login", json={"email": "log@example.com", "password": secret_password + "x"}
    )
    client.post(
        "/api/v1/auth/login",
        data={"username": "log@example.com", "password": secret_password},
    )
    logging.getLogger().handlers.clear()
    logs = capsys.readouterr().err
    assert '"event": "login_succeeded"' in logs and '"event": "login_failed"' in logs
    assert '"request_id"' in logs
    assert secret_password not in logs
    assert secret_password not in ok.text + bad.text


def _login(client: TestClient, email: str, password: str) -> int:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code


def test_a_remote_guesser_cannot_lock_the_owner_out(settings: Settings) -> None:
    """Per (account, address) tight, per account loose: one guesser is stopped at its own
    limit and its refused attempts do not count towards the account's."""
    from api.app import create_app

    limited = settings.model_copy(
        update={"login_pair_rate_limit": "3/minute", "login_rate_limit": "7/minute"}
    )
    app = create_app(limited)
    owner = TestClient(app, client=("192.0.2.10", 40000))
    guessers = [TestClient(app, client=(f"198.51.100.{n}", 40000)) for n in (1, 2, 3)]
    signup_and_login(owner, "rl@example.com")  # the account's first counted attempt

    codes = [_login(guessers[0], "RL@example.com", "wrong one!") for _ in range(10)]
    assert codes == [401] * 3 + [429] * 7
    throttled = guessers[0].post(
        "/api/v1/auth/login", json={"email": "rl@example.com", "password": PASSWORD}
    )
    assert throttled.status_code == 429  # this address, even with the right password
    assert int(throttled.headers["retry-after"]) >= 1
    assert "too many login attempts" in throttled.json()["detail"]
    assert _login(owner, "rl@example.com", PASSWORD) == 200  # the owner is not locked out

    # Only many addresses together reach the loose per-account limit (1 + 3 + 1 + 1 + 1 = 7).
    assert _login(guessers[1], "rl@example.com", "wrong two!") == 401
    assert [_login(guessers[2], "rl@example.com", "wrong 3!") for _ in range(2)] == [401, 429]
    assert _login(owner, "rl@example.com", PASSWORD) == 429
    # The window passing, without waiting for it: the limiter's storage is emptied.
    app.state.auth_limiter.storage.reset()
    assert _login(owner, "rl@example.com", PASSWORD) == 200


def test_login_rate_limit_per_address(settings: Settings) -> None:
    from api.app import create_app

    limited = settings.model_copy(update={"login_ip_rate_limit": "4/minute"})
    with TestClient(create_app(limited)) as client:
        codes = [_login(client, f"spray{i}@example.com", "wrong one!") for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]


def test_signup_is_rate_limited_per_address(settings: Settings) -> None:
    from api.app import create_app

    app = create_app(settings.model_copy(update={"signup_rate_limit": "2/hour"}))
    here, there = TestClient(app), TestClient(app, client=("203.0.113.7", 40000))
    bodies = [{"email": f"s{i}@example.com", "password": PASSWORD} for i in range(4)]
    codes = [here.post("/api/v1/auth/signup", json=body).status_code for body in bodies[:3]]
    assert codes == [202, 202, 429]
    assert "too many signups" in here.post("/api/v1/auth/signup", json=bodies[3]).text
    assert there.post("/api/v1/auth/signup", json=bodies[3]).status_code == 202


def test_production_without_jwt_secret_refuses_to_start(tmp_path) -> None:
    from vigil.settings import ConfigurationError

    with pytest.raises(ConfigurationError, match="VIGIL_JWT_SECRET"):
        Settings(_env_file=None, env="production", data_dir=tmp_path)  # type: ignore[call-arg]


def _signed(claims: dict) -> str:
    now = datetime.now(UTC)
    return jwt.encode(
        {"iat": now, "exp": now + timedelta(hours=1), "typ": "access", **claims},
        TEST_JWT_SECRET,
        algorithm="HS256",
    )


def test_a_token_names_the_very_user_it_was_issued_to(
    client: TestClient, settings: Settings
) -> None:
    """A deleted user's token must not act as whoever holds that id next (ids are not reused,
    and even a row written with the same id has another token key)."""
    headers = signup_and_login(client, "gone@example.com")
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    user_id, key = int(claims["sub"]), claims["key"]
    assert _me(client, token) == 200
    with session_scope(settings.resolved_database_url) as session:
        session.execute(delete(User).where(User.id == user_id))
    with session_scope(settings.resolved_database_url) as session:
        session.add(
            User(id=user_id, email="next@example.com", password_hash=hash_password(PASSWORD))
        )
    assert _me(client, token) == 401
    assert _me(client, _signed({"sub": str(user_id), "key": key + "0"})) == 401
    assert _me(client, _signed({"sub": str(user_id)})) == 401  # no key at all
    assert _me(client, _signed({"sub": str(user_id), "key": "\ud800"})) == 401


@pytest.mark.parametrize(
    "sub",
    [
        "\u0661",
        "\uff11",
        "1.0",
        " 1",
        "+1",
        "1_0",
        "01",
        "0",
        "-1",
        "99999999999",
        "9" * 400,
        "",
        "1\n",
    ],
)
def test_a_subject_that_is_not_plain_ascii_digits_is_401(client: TestClient, sub: str) -> None:
    signup_and_login(client, "sub@example.com")
    assert _me(client, _signed({"sub": sub, "key": "k"})) == 401


@pytest.mark.parametrize("sub", [1, 10**30, None, ["1"], {"a": 1}])
def test_a_subject_that_is_not_a_string_is_401(client: TestClient, sub: object) -> None:
    assert _me(client, _signed({"sub": sub, "key": "k"})) == 401


def test_a_token_in_the_url_is_accepted_on_media_routes_only(
    client: TestClient, settings: Settings
) -> None:
    headers = signup_and_login(client, "url@example.com")
    token = headers["Authorization"].removeprefix("Bearer ")
    camera = client.post(
        "/api/v1/cameras",
        json={"name": "Gate", "stream_url": "rtsp://cam.local/s"},
        headers=headers,
    ).json()
    snapshot = MediaPaths(settings.media_dir).snapshot(camera["id"])
    snapshot.parent.mkdir(parents=True)
    snapshot.write_bytes(b"\xff\xd8jpeg\xff\xd9")
    query = f"access_token={token}"
    for path in ("/api/v1/auth/me", "/api/v1/cameras", f"/api/v1/cameras/{camera['id']}"):
        assert client.get(f"{path}?{query}").status_code == 401, path
        assert client.get(path, headers=headers).status_code == 200, path
    assert client.delete(f"/api/v1/cameras/{camera['id']}?{query}").status_code == 401
    media = client.get(f"/api/v1/cameras/{camera['id']}/snapshot.jpg?{query}")
    assert media.status_code == 200 and media.content == b"\xff\xd8jpeg\xff\xd9"
