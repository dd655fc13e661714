from __future__ import annotations

import signal
from types import FrameType

import typer

from vigil.cli.common import bootstrap


def register(app: typer.Typer) -> None:
    app.command()(ingest)


def ingest() -> None:
    """Record every enabled camera: HLS live view, 10 s segments, snapshots, health."""
    settings = bootstrap("ingest")
    from vigil.broker.producer import JsonProducer
    from vigil.broker.topics import Topics
    from vigil.db.session import session_factory
    from vigil.healthserver import HealthServer
    from vigil.ingest.health import HealthRecorder
    from vigil.ingest.service import IngestService
    from vigil.lake.store import lake_from_settings
    from vigil.lake.writer import LakeWriter
    from vigil.media.paths import MediaPaths
    from vigil.media.supervisor import SupervisorConfig
    from vigil.records import CAMERA_HEALTH
    from vigil.retention.usage import StorageMeter, measure
    from vigil.storage.factory import object_store_from_settings

    producer = (
        JsonProducer(settings.kafka_bootstrap, client_id="vigil-ingest")
        if settings.kafka_bootstrap
        else None
    )
    recorder = HealthRecorder(
        producer,
        Topics.from_settings(settings),
        LakeWriter(
            lake_from_settings(settings),
            CAMERA_HEALTH,
            roll_seconds=settings.lake_roll_seconds,
            roll_rows=settings.lake_roll_rows,
        ),
    )
    service = IngestService(
        session_factory(settings.resolved_database_url),
        SupervisorConfig.from_settings(settings),
        recorder,
        sync_seconds=settings.ingest_sync_seconds,
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        service.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = None
    if settings.ingest_health_port:
        server = HealthServer(service.health, settings.ingest_health_port).start()
    store = object_store_from_settings(settings)
    paths, lake = MediaPaths(settings.media_dir), lake_from_settings(settings)
    meter = StorageMeter(
        lambda: measure(paths, store, lake), settings.storage_metrics_seconds
    ).start()
    try:
        service.run()
    finally:
        meter.stop()
        if server is not None:
            server.stop()
