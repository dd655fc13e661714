"""Configuration: every setting documented, defaults usable, production strict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vigil.settings import ConfigurationError, Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^(VIGIL_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    fields = {f"VIGIL_{name.upper()}" for name in Settings.model_fields}
    assert fields - documented == set(), "undocumented settings"
    assert documented - fields == set(), "documented settings that do not exist"


def test_env_example_values_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.env == "development"
    assert settings.database_url is None  # empty means "use the embedded default"
    assert settings.resolved_database_url.startswith("sqlite:///")


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'vigil.db'}"
    secret = settings.jwt_secret_value()
    assert len(secret) >= 32
    assert Settings(_env_file=None, data_dir=tmp_path).jwt_secret_value() == secret  # type: ignore[call-arg]
    assert (tmp_path / ".jwt_secret").stat().st_mode & 0o077 == 0


def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIGIL_API_PORT", "9123")
    monkeypatch.setenv("SENTRY_DSN", "https://key@sentry.example/1")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir == tmp_path and settings.api_port == 9123
    assert settings.sentry_dsn == "https://key@sentry.example/1"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"env": "production"}, "VIGIL_JWT_SECRET must be set"),
        ({"jwt_secret": "short"}, "at least 32 characters"),
    ],
)
def test_bad_configuration_is_a_startup_error(overrides: dict, message: str, tmp_path) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings(_env_file=None, data_dir=tmp_path, **overrides)  # type: ignore[call-arg]


@pytest.mark.parametrize(("name", "value"), [("VIGIL_API_PORT", "70000"), ("VIGIL_ENV", "prod")])
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name.removeprefix("VIGIL_").lower()):
        Settings(_env_file=None)  # type: ignore[call-arg]
