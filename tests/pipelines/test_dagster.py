"""The Dagster code location: it loads, and its assets, sensors and schedules run against an
instance whose storage is a real PostgreSQL database (dagster-postgres, psycopg2)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy import select

from pipelines.assets import clips, events, hourly_stats, lake_compaction, retention
from pipelines.definitions import defs
from pipelines.partitions import CAMERAS, camera_hour_key
from pipelines.resources import (
    DatabaseResource,
    LakeResource,
    MediaResource,
    ObjectStoreResource,
    RetentionResource,
)
from pipelines.schedules import hourly_reconcile
from pipelines.sensors import camera_partitions, closed_events
from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.pipelines import lakedata
from tests.pipelines.world import box, make_camera, make_zone, move_zone
from vigil.db.models import Clip, Event
from vigil.db.session import session_scope
from vigil.lake.query import connect
from vigil.media.paths import MediaPaths
from vigil.orchestration import instance_environment, prepare_dagster_home
from vigil.orchestration.instance import instance_config
from vigil.settings import Settings
from vigil.stats import register_hourly_stats_view

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # where the recorded segments start
HOUR_KEY = "2026-11-20-12:00"
WALKS = [
    lakedata.Walk(1, T0 + timedelta(seconds=20), 15, (0.0, 0.5), (0.5, 0.5)),
    lakedata.Walk(2, T0 + timedelta(seconds=50), 15, (0.5, 0.5), (1.0, 0.5)),
]


@pytest.fixture
def postgres_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance configured the way `vigil dagster` configures it, on its own
    throw-away PostgreSQL database."""
    url = _create_postgres_database()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        dagster_postgres_url=url,  # type: ignore[arg-type]
    )
    home = prepare_dagster_home(settings)
    for name, value in instance_environment(settings).items():
        monkeypatch.setenv(name, value)
    instance = dg.DagsterInstance.from_config(str(home))
    yield instance
    instance.dispose()
    _drop_postgres_database(url)


def resources(database_url: str, tmp_path: Path, **overrides: object) -> dict[str, object]:
    return {
        "database": DatabaseResource(url=database_url),
        "lake": LakeResource(root=str(tmp_path / "lake"), compaction_min_files=2),
        "media": MediaResource(
            root=str(tmp_path / "media"), segment_seconds=4, clip_pre_seconds=1, clip_post_seconds=1
        ),
        "object_store": ObjectStoreResource(local_root=str(tmp_path / "objects")),
        "retention_policy": RetentionResource(),
        **overrides,
    }


def test_definitions_load_and_validate(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("")
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "dagster"),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr
    repository = defs.get_repository_def()
    assert {k.to_user_string() for k in repository.asset_graph.get_all_asset_keys()} >= {
        "events",
        "hourly_stats",
        "clips",
        "lake_compaction",
        "retention",
        "detections_lake",
        "face_identities",
    }
    assert {s.name for s in repository.sensor_defs} == {"camera_partitions", "closed_events"}
    assert {s.name for s in repository.schedule_defs} == {
        "hourly_reconcile",
        "lake_compaction_schedule",
        "retention_schedule",
        "face_identities_schedule",
    }


def test_processes_starting_together_write_the_instance_without_colliding(tmp_path: Path) -> None:
    """The webserver and the daemon both write dagster.yaml as they start; one shared temp name
    once made the second rename fail. Two writers with different settings, many times over."""
    variants = [
        Settings(_env_file=None, data_dir=tmp_path),  # type: ignore[call-arg]
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path,
            dagster_postgres_url="postgresql://vigil@db/vigil",  # type: ignore[arg-type]
        ),
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        homes = list(pool.map(prepare_dagster_home, variants * 50))
    assert {str(h) for h in homes} == {str(prepare_dagster_home(variants[0]))}
    assert [p.name for p in homes[0].iterdir() if p.name.startswith(".dagster.yaml")] == []
    assert yaml.safe_load((homes[0] / "dagster.yaml").read_text())


def test_repository_dagster_yaml_is_the_postgres_instance() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        dagster_postgres_url="postgresql://vigil:secret@db:5432/vigil",  # type: ignore[arg-type]
    )
    assert yaml.safe_load((ROOT / "dagster.yaml").read_text()) == instance_config(settings)
    env = instance_environment(settings)
    assert env["DAGSTER_PG_PASSWORD"] == "secret" and env["DAGSTER_PG_HOST"] == "db"
    pg = instance_config(settings)["storage"]["postgres"]["postgres_db"]
    assert pg["scheme"] == "postgresql+psycopg2" and pg["password"] == {
        "env": "DAGSTER_PG_PASSWORD"
    }


@pytest.mark.parametrize("migrated_database", ["postgresql"], indirect=True)
def test_assets_sensors_and_schedules_on_a_postgres_instance(
    database_url: str,
    tmp_path: Path,
    postgres_instance: dg.DagsterInstance,
    record: Callable,
) -> None:
    instance = postgres_instance
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    camera = make_camera(database_url)
    zone = make_zone(database_url, camera, "Left", box(0.1, 0.3, 0.3, 0.7))
    lakedata.write(tmp_path / "lake", lakedata.rows(camera, T0, 3600, 5, WALKS), roll_rows=3000)
    record(MediaPaths(tmp_path / "media"), camera)
    res = resources(database_url, tmp_path)

    # The camera sensor creates the camera's partitions.
    result = camera_partitions(dg.build_sensor_context(instance=instance, resources=res))
    assert isinstance(result, dg.SensorResult)
    instance.add_dynamic_partitions(CAMERAS, [str(camera)])  # what the daemon does with it
    assert instance.get_dynamic_partitions(CAMERAS) == [str(camera)]

    # events + hourly_stats for one camera-hour.
    key = str(camera_hour_key(camera, HOUR_KEY))
    run = dg.materialize(
        [events, hourly_stats], partition_key=key, instance=instance, resources=res
    )
    assert run.success
    meta = run.asset_materializations_for_node("events")[0].metadata
    assert meta["inserted"].value == 1 and meta["deleted"].value == 0
    assert instance.get_latest_materialization_event(events.key) is not None
    with session_scope(database_url) as session:
        (event,) = session.scalars(select(Event))
    assert event.zone_id == zone and event.status == "closed"
    stats = connect(tmp_path / "lake")
    register_hourly_stats_view(stats, tmp_path / "lake")
    assert stats.execute("SELECT events, tracks FROM hourly_stats").fetchall() == [(1, 2)]

    # Re-materialising changes nothing.
    again = dg.materialize([events], partition_key=key, instance=instance, resources=res)
    assert again.asset_materializations_for_node("events")[0].metadata["unchanged"].value == 1

    # The clips sensor sees the closed event; the clips asset cuts it.
    request = closed_events(dg.build_sensor_context(instance=instance, resources=res))
    assert isinstance(request, dg.RunRequest) and request.run_key
    assert dg.materialize([clips], instance=instance, resources=res).success
    with session_scope(database_url) as session:
        (clip,) = session.scalars(select(Clip))
    assert clip.event_id == event.id and (tmp_path / "objects" / clip.object_key).is_file()
    quiet = closed_events(dg.build_sensor_context(instance=instance, resources=res))
    assert isinstance(quiet, dg.SkipReason)

    # A zone edit and a replay: the event moves to person 2; its clip is cut again.
    move_zone(database_url, zone, box(0.7, 0.3, 0.9, 0.7))
    moved = dg.materialize([events], partition_key=key, instance=instance, resources=res)
    meta = moved.asset_materializations_for_node("events")[0].metadata
    assert (meta["inserted"].value, meta["deleted"].value) == (1, 1)
    assert not (tmp_path / "objects" / clip.object_key).exists()  # the old clip went with it
    assert dg.materialize([clips], instance=instance, resources=res).success

    # The hourly schedule asks for every camera's hour before last.
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=T0 + timedelta(hours=2, minutes=20)
    )
    requests = hourly_reconcile(context)
    assert isinstance(requests, list)
    assert [r.partition_key for r in requests] == [key]

    # Upkeep: the closed hour's small files merged; a sweep under a cap of 1 byte empties
    # everything older than its protection window, consistently.
    compacted = dg.materialize([lake_compaction], instance=instance, resources=res)
    assert (
        compacted.asset_materializations_for_node("lake_compaction")[0]
        .metadata["files_after"]
        .value
        == 1
    )
    capped = resources(database_url, tmp_path, retention_policy=RetentionResource(cap_bytes=1))
    swept = dg.materialize([retention], instance=instance, resources=capped)
    meta = swept.asset_materializations_for_node("retention")[0].metadata
    assert meta["cap_met"].value is True and meta["deleted_clip"].value == 1
    with session_scope(database_url) as session:
        assert list(session.scalars(select(Clip))) == []
    assert not any((tmp_path / "media").rglob("*.mp4"))
    assert instance.get_runs_count() == 7  # every run recorded in PostgreSQL
