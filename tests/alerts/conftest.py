"""Alert test fixtures: users, cameras, zones and events in the real database, a snapshot in
the local object store, event records on a real Tansu topic, and the alert service in a
thread with its own consumer group."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.servers import Mailbox, smtp_server
from tests.conftest import SHARED_DATA, make_settings
from tests.fixtures.waiting import wait_for
from vigil.alerts.dispatch import Dispatcher
from vigil.alerts.service import AlertService
from vigil.auth.passwords import hash_password
from vigil.broker import JsonConsumer, JsonProducer, Topics, ensure_topics
from vigil.db.models import AlertDelivery, AlertSettings, Camera, Event, User, Zone
from vigil.db.session import session_factory, session_scope
from vigil.records import SCHEMA_VERSION
from vigil.settings import Settings
from vigil.storage.factory import object_store_from_settings

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SNAPSHOT = (SHARED_DATA / "faces" / "bus.jpg").read_bytes()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def topics() -> Topics:
    return Topics(f"t{uuid.uuid4().hex[:8]}.")


def alert_settings(
    database_url: str, data_dir: Path, topics: Topics, tansu: str, smtp_port: int | None
) -> Settings:
    return make_settings(
        database_url,
        data_dir,
        kafka_bootstrap=tansu,
        kafka_topic_prefix=topics.prefix,
        smtp_host="127.0.0.1" if smtp_port else None,
        smtp_port=smtp_port or 587,
        smtp_starttls=False,
        smtp_from="vigil@alerts.example.com",
        alerts_retry_initial_seconds=0.05,
        alerts_retry_max_seconds=0.2,
        alerts_max_attempts=3,
        alerts_event_wait_seconds=5.0,
        alerts_consumer_group=f"alerts-{uuid.uuid4().hex[:8]}",
        dashboard_url="https://vigil.example.com",
    )


@pytest.fixture
def alerting(
    database_url: str, tmp_path: Path, topics: Topics, tansu: str, smtp: tuple[Mailbox, int]
) -> Settings:
    ensure_topics(tansu, [topics.events])
    return alert_settings(database_url, tmp_path / "data", topics, tansu, smtp[1])


class World:
    """Rows and records for one test."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.resolved_database_url
        self.topics = Topics(settings.kafka_topic_prefix)
        self.producer = JsonProducer(settings.kafka_bootstrap or "", client_id="test-events")
        self.store = object_store_from_settings(settings)

    def user(self, email: str, time_zone: str = "UTC") -> int:
        with session_scope(self.url) as session:
            user = User(email=email, password_hash=hash_password("pw"), time_zone=time_zone)
            session.add(user)
            session.flush()
            return user.id

    def camera(self, owner_id: int, name: str = "Front door") -> int:
        with session_scope(self.url) as session:
            camera = Camera(owner_id=owner_id, name=name, stream_url="rtsp://cam.local/s")
            session.add(camera)
            session.flush()
            return camera.id

    def zone(self, camera_id: int, name: str = "Walkway") -> int:
        with session_scope(self.url) as session:
            zone = Zone(camera_id=camera_id, name=name, polygon=[[0, 0], [1, 0], [1, 1]])
            session.add(zone)
            session.flush()
            return zone.id

    def configure(self, camera_id: int, **fields: Any) -> None:
        with session_scope(self.url) as session:
            row = session.query(AlertSettings).filter_by(camera_id=camera_id).one_or_none()
            if row is None:
                row = AlertSettings(camera_id=camera_id)
                session.add(row)
            for name, value in fields.items():
                setattr(row, name, value)

    def open_event(
        self,
        camera_id: int,
        at: datetime = T0,
        *,
        kind: str = "intrusion",
        zone_id: int | None = None,
        confidence: float = 0.9,
        people: int = 2,
        row: bool = True,
    ) -> str:
        """An event opened at `at`: its row and snapshot (as the dataflow writes them) and its
        'open' record on the events topic, then an 'update' and a 'close' record."""
        event_id = str(uuid.uuid4())
        key = f"snapshots/events/{camera_id}/{event_id}.jpg"
        if row:
            self.store.put_bytes(key, SNAPSHOT, content_type="image/jpeg")
            with session_scope(self.url) as session:
                session.add(
                    Event(
                        id=event_id,
                        camera_id=camera_id,
                        zone_id=zone_id,
                        type=kind,
                        status="open",
                        start_ts=at - timedelta(seconds=1),
                        confidence=confidence,
                        track_ids=list(range(people)),
                        frames=5,
                        snapshot_key=key,
                    )
                )
        for change, when in (("open", at), ("update", at), ("close", at + timedelta(seconds=9))):
            value = {
                "event_id": event_id,
                "change": change,
                "at": when.isoformat(),
                "camera_id": camera_id,
                "ts": (at - timedelta(seconds=1)).isoformat(),
                "type": kind,
                "zone_id": zone_id,
                "start": (at - timedelta(seconds=1)).isoformat(),
                "confidence": confidence,
                "track_ids": list(range(people)),
            }
            self.producer.send(self.topics.events, camera_id, value, schema_version=SCHEMA_VERSION)
        self.producer.flush()
        return event_id

    def deliveries(self, **where: Any) -> list[AlertDelivery]:
        with session_scope(self.url) as session:
            query = session.query(AlertDelivery).filter_by(**where).order_by(AlertDelivery.id)
            return list(query)

    def settled(self, count: int) -> list[AlertDelivery]:
        """Wait until `count` deliveries exist and none is pending."""

        def done() -> list[AlertDelivery] | None:
            rows = self.deliveries()
            if len(rows) >= count and all(r.status != "pending" for r in rows):
                return rows
            return None

        rows = wait_for(done)
        assert rows, f"not {count} settled deliveries: {self.deliveries()}"
        return rows


@pytest.fixture
def world(alerting: Settings) -> Iterator[World]:
    world = World(alerting)
    yield world
    world.producer.close()


@contextmanager
def running(settings: Settings) -> Iterator[AlertService]:
    """The alert service in a thread, as `vigil alerts` runs it."""
    topics = Topics(settings.kafka_topic_prefix)
    consumer = JsonConsumer(
        settings.kafka_bootstrap or "", settings.alerts_consumer_group, [topics.events]
    )
    service = AlertService(
        settings,
        session_factory(settings.resolved_database_url),
        consumer,
        Dispatcher.from_settings(settings, lambda: object_store_from_settings(settings)),
    )
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        service.stop()
        thread.join(30)
        assert not thread.is_alive()


def drained(service: AlertService, records: int) -> None:
    """Wait until the service handled `records` records (each event sends three)."""
    assert wait_for(lambda: service.handled >= records), f"{service.handled} of {records} handled"
