"""docs/operations.md cannot go stale: every SQL example runs through `vigil sql` over a lake
written by the real lake writer (each returning rows), and the backup and restore commands
are run exactly as written, restoring into a fresh data directory that the API and
`vigil sql` then serve (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from tests.conftest import _create_postgres_database, _drop_postgres_database, make_settings
from tests.pipelines import lakedata
from vigil.db import migrate
from vigil.db.session import engine_for, session_scope
from vigil.lake.writer import LakeWriter
from vigil.records import CAMERA_HEALTH, EVENTS, FACES
from vigil.records.schemas import RecordType
from vigil.seed import seed_demo
from vigil.settings import Settings
from vigil.stats import write_hourly_stats
from vigil.storage import LocalObjectStore

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "operations.md"
BIN = Path(sys.executable).parent
HOUR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WALKS = [
    lakedata.Walk(1, HOUR + timedelta(minutes=1), 30, (0.0, 0.5), (0.5, 0.5)),
    lakedata.Walk(2, HOUR + timedelta(minutes=2), 20, (0.5, 0.9), (1.0, 0.9)),
]


def sql_examples() -> list[str]:
    return [m.strip() for m in re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)]


def block(name: str) -> str:
    """The bash block right after `<!-- test: NAME -->`."""
    match = re.search(rf"<!-- test: {name} -->\n```bash\n(.*?)```", DOC.read_text(), re.S)
    assert match, f"docs/operations.md lost its '{name}' block"
    return match.group(1)


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # `vigil` as the doc runs it
    env |= {"VIGIL_DATA_DIR": str(data_dir), "VIGIL_OBJECT_STORE": "local"}
    return env | extra


def run_bash(script: str, env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{script}\n{result.stdout}\n{result.stderr}"


def vigil_sql_json(env: dict[str, str], query: str) -> list[dict[str, Any]]:
    """One statement through `vigil sql --json`, from stdin as in `vigil sql < queries.sql`
    (the examples start with a comment, which the command line would take for an option)."""
    result = subprocess.run(
        [sys.executable, "-m", "vigil", "sql", "--json"],
        input=query,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"{query}\n{result.stderr}"
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def filled(record: RecordType, **values: Any) -> dict[str, Any]:
    """A row of `record` with a plausible value for every field not given."""
    row: dict[str, Any] = {}
    for field in record.schema:
        kind = field.type
        if pa.types.is_timestamp(kind):
            row[field.name] = HOUR + timedelta(minutes=1)
        elif pa.types.is_boolean(kind):
            row[field.name] = False
        elif pa.types.is_integer(kind):
            row[field.name] = 1
        elif pa.types.is_floating(kind):
            row[field.name] = 0.5
        elif pa.types.is_string(kind):
            row[field.name] = "x"
        elif pa.types.is_fixed_size_list(kind):
            row[field.name] = [0.25] * kind.list_size
        elif pa.types.is_list(kind):
            row[field.name] = [1]
    return row | values


def write_lake(lake: Path, camera_id: int) -> int:
    """Every table of the lake, through the real writers; returns the frames written."""
    frames = lakedata.write(lake, lakedata.rows(camera_id, HOUR, 300, 5, WALKS), roll_rows=400)
    others = [
        (FACES, filled(FACES, camera_id=camera_id, face_detection_id="f1", quality=0.8)),
        (EVENTS, filled(EVENTS, camera_id=camera_id, event_id="e1", type="intrusion", end=None)),
        (CAMERA_HEALTH, filled(CAMERA_HEALTH, camera_id=camera_id, status="online")),
    ]
    for record, row in others:
        writer = LakeWriter(lake, record)
        writer.add([row])
        writer.flush()
    stats = {
        "camera_id": camera_id,
        "hour_start": HOUR,
        "frames": frames,
        "detector_frames": frames,
        "detections": 1,
        "tracks": 2,
        "max_persons": 2,
        "faces": 1,
        "events": 1,
        "intrusion_events": 1,
        "motion_events": 0,
        "computed_at": HOUR + timedelta(hours=2),
    }
    write_hourly_stats(lake, stats)
    return frames


@pytest.fixture(scope="module")
def lake_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data_dir = tmp_path_factory.mktemp("ops")
    write_lake(data_dir / "lake", camera_id=5)
    return env_for(data_dir)


def test_the_doc_has_examples() -> None:
    assert len(sql_examples()) >= 8
    assert "vigil sql" in DOC.read_text()


@pytest.mark.parametrize("index", range(len(sql_examples())))
def test_every_example_query_runs_and_finds_rows(lake_env: dict[str, str], index: int) -> None:
    query = sql_examples()[index]
    rows = vigil_sql_json(lake_env, query)
    assert rows, f"no rows from the example:\n{query}"


def _serves(settings: Settings, camera_name: str) -> None:
    """The API on the restored data logs the demo user in and lists its camera."""
    from api.app import create_app

    with TestClient(create_app(settings)) as client:
        login = client.post(
            "/api/v1/auth/login",
            json={
                "email": settings.demo_email,
                "password": settings.demo_password_value(),
            },
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        cameras = client.get("/api/v1/cameras", headers=headers)
        assert cameras.status_code == 200, cameras.text
        assert camera_name in [c["name"] for c in cameras.json()["items"]]


def _installation(url: str, data_dir: Path) -> tuple[Settings, int, int, str]:
    """A database with the demo user and camera, a lake, and an object: (settings, camera,
    frames, camera name)."""
    migrate.upgrade(url)
    settings = make_settings(url, data_dir)
    with session_scope(url) as session:
        seeded = seed_demo(session, settings)
    assert seeded is not None
    frames = write_lake(settings.resolved_lake_dir, seeded.camera_id)
    LocalObjectStore(data_dir / "objects").put_bytes("snapshots/1/a.jpg", b"\xff\xd8 snapshot")
    from vigil.db.models import Camera

    with session_scope(url) as session:
        camera = session.get(Camera, seeded.camera_id)
        assert camera is not None
        name = camera.name
    return settings, seeded.camera_id, frames, name


def _check_restored(settings: Settings, env: dict[str, str], frames: int, name: str) -> None:
    _serves(settings, name)
    counted = vigil_sql_json(env, "SELECT count(*) AS n FROM frames")
    assert counted == [{"n": frames}]
    store = LocalObjectStore(settings.data_dir / "objects")
    assert store.get_bytes("snapshots/1/a.jpg") == b"\xff\xd8 snapshot"


def test_backup_and_restore_an_embedded_installation(tmp_path: Path) -> None:
    source, backup, fresh = tmp_path / "var", tmp_path / "backup", tmp_path / "fresh"
    _, _, frames, name = _installation(f"sqlite:///{source / 'vigil.db'}", source)
    backup_env = env_for(source, BACKUP=str(backup))
    run_bash(block("backup-sqlite"), backup_env, tmp_path)
    run_bash(block("backup-files"), backup_env, tmp_path)
    engine_for(f"sqlite:///{source / 'vigil.db'}").dispose()
    shutil.rmtree(source)  # the restore needs nothing but the backup

    env = env_for(fresh, BACKUP=str(backup))
    for name_ in ("restore-files", "restore-sqlite", "migrate"):
        run_bash(block(name_), env, tmp_path)
    _check_restored(make_settings(f"sqlite:///{fresh / 'vigil.db'}", fresh), env, frames, name)


@pytest.fixture
def postgres_pair() -> Iterator[tuple[str, str]]:
    source, target = _create_postgres_database(), _create_postgres_database()
    yield source, target
    for url in (source, target):
        _drop_postgres_database(url)


def test_backup_and_restore_with_postgres(tmp_path: Path, postgres_pair: tuple[str, str]) -> None:
    source_url, target_url = postgres_pair
    source, backup, fresh = tmp_path / "var", tmp_path / "backup", tmp_path / "fresh"
    _, _, frames, name = _installation(source_url, source)

    def plain(url: str) -> str:
        return url.replace("+psycopg2", "")

    backup_env = env_for(source, BACKUP=str(backup), PGURL=plain(source_url))
    run_bash(block("backup-postgres"), backup_env, tmp_path)
    run_bash(block("backup-files"), backup_env, tmp_path)
    engine_for(source_url).dispose()
    shutil.rmtree(source)

    env = env_for(
        fresh, BACKUP=str(backup), RESTORE_PGURL=plain(target_url), VIGIL_DATABASE_URL=target_url
    )
    for name_ in ("restore-files", "restore-postgres", "migrate"):
        run_bash(block(name_), env, tmp_path)
    assert not (fresh / "vigil.db").exists()  # the database really is the restored Postgres
    _check_restored(
        make_settings(target_url, fresh), env | {"VIGIL_DATABASE_URL": target_url}, frames, name
    )
