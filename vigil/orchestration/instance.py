"""The Dagster instance (`$DAGSTER_HOME/dagster.yaml`) derived from Vigil's settings.

Without VIGIL_DAGSTER_POSTGRES_URL the instance keeps runs, schedules and the event log in
SQLite under DAGSTER_HOME (Dagster's default). With it, in PostgreSQL through dagster-postgres,
always with the psycopg2 driver: SQLAlchemy 2.1 picks psycopg 3 for a bare `postgresql://`,
which breaks dagster-postgres' LISTEN/NOTIFY, so the scheme is set explicitly. The connection
fields come from environment variables (DAGSTER_PG_*) so the password never lands on disk;
`instance_environment` provides them. The repository's dagster.yaml is the PostgreSQL variant,
for deployments that run `dagster-webserver` directly (tests keep the two identical).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from sqlalchemy.engine import make_url

from vigil.settings import ConfigurationError, Settings

PG_ENV = {
    "username": "DAGSTER_PG_USERNAME",
    "password": "DAGSTER_PG_PASSWORD",
    "hostname": "DAGSTER_PG_HOST",
    "port": "DAGSTER_PG_PORT",
    "db_name": "DAGSTER_PG_DB",
}

# Shared by both variants: a bounded run queue (two cores: two runs at a time, one retention
# or compaction at a time), no telemetry, and purged tick history (the clips sensor ticks
# every 30 s).
COMMON: dict[str, Any] = {
    "run_coordinator": {
        "module": "dagster._core.run_coordinator",
        "class": "QueuedRunCoordinator",
        "config": {
            "max_concurrent_runs": 2,
            "tag_concurrency_limits": [{"key": "vigil/exclusive", "limit": 1}],
        },
    },
    "telemetry": {"enabled": False},
    "retention": {
        "schedule": {"purge_after_days": 90},
        "sensor": {"purge_after_days": {"skipped": 7, "failure": 30, "success": -1}},
    },
}


def postgres_fields(url: str) -> dict[str, str]:
    """username, password, hostname, port, db_name of a PostgreSQL URL (any driver suffix)."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigurationError(f"VIGIL_DAGSTER_POSTGRES_URL is not a URL: {exc}") from None
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(
            "VIGIL_DAGSTER_POSTGRES_URL must be a postgresql:// URL, "
            f"got {parsed.get_backend_name()}://"
        )
    if not parsed.username or not parsed.host or not parsed.database:
        raise ConfigurationError(
            "VIGIL_DAGSTER_POSTGRES_URL needs a user, a host and a database name, "
            "e.g. postgresql://vigil:password@postgres:5432/vigil"
        )
    return {
        "username": unquote(parsed.username),
        "password": unquote(parsed.password or ""),
        "hostname": parsed.host,
        "port": str(parsed.port or 5432),
        "db_name": parsed.database,
    }


def instance_config(settings: Settings) -> dict[str, Any]:
    config = dict(COMMON)
    if settings.dagster_postgres_url is not None:
        fields = postgres_fields(settings.dagster_postgres_url.get_secret_value())
        db = {name: {"env": var} for name, var in PG_ENV.items()}
        if not fields["password"]:
            del db["password"]  # an empty variable reads as unset to Dagster
        config["storage"] = {"postgres": {"postgres_db": {**db, "scheme": "postgresql+psycopg2"}}}
    return config


def instance_environment(settings: Settings) -> dict[str, str]:
    """What a Dagster process needs in its environment for this instance."""
    env = {"DAGSTER_HOME": str(settings.resolved_dagster_home.resolve())}
    if settings.dagster_postgres_url is not None:
        fields = postgres_fields(settings.dagster_postgres_url.get_secret_value())
        env |= {PG_ENV[name]: value for name, value in fields.items() if value}
    return env


def render(config: dict[str, Any]) -> str:
    header = "# Written by Vigil from its settings (vigil/orchestration/instance.py).\n"
    return header + yaml.safe_dump(config, sort_keys=False)


def prepare_dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME and write its dagster.yaml; returns the directory."""
    home = settings.resolved_dagster_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    text = render(instance_config(settings))
    if not target.exists() or target.read_text() != text:
        # A private temp name: the webserver and the daemon may start together and both write.
        with tempfile.NamedTemporaryFile(
            "w", dir=home, prefix=".dagster.yaml.", delete=False
        ) as temp:
            temp.write(text)
        Path(temp.name).replace(target)
    return home
