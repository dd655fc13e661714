"""The events outbox: an event's 'open' record goes to the events topic only once its row is
committed, and the row records when the broker acknowledged it (events.published_at).

The store sink commits event rows (intrusion and motion from the rules, face events from live
assignment) and then hands their 'open' records to `publish`; each acknowledgement marks its row
published. Should the process die in between, or the broker refuse the record, the row stays
unpublished, and the sweep (when the sink starts, then every `sweep_seconds`) publishes again
every unpublished live event of the partition's cameras older than `grace_seconds`, rebuilt
from its row. At least once, then: the alert service keys its deliveries by (event, channel,
recipient), so a record published twice still alerts once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import partial

from confluent_kafka import KafkaException
from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from vigil.broker import JsonProducer, Topics
from vigil.db.base import utcnow
from vigil.db.models import Event, Face
from vigil.db.session import session_scope
from vigil.logs import get_logger
from vigil.records.convert import Row
from vigil.records.schemas import EVENTS, SCHEMA_VERSION

log = get_logger(__name__)

REPUBLISHED = Counter(
    "vigil_outbox_events_republished",
    "Events the outbox sweep published again (their first publication was never acknowledged)",
)


def open_record(event: Event, label: str | None) -> Row:
    """An event's 'open' record, rebuilt from its row (`label`: its named identity's, if any).
    The open time is not stored, so `at` is the start: the earliest it can have been."""
    record: Row = {
        "event_id": event.id,
        "change": "open",
        "at": event.start_ts,
        "camera_id": event.camera_id,
        "ts": event.start_ts,
        "type": event.type,
        "zone_id": event.zone_id,
        "start": event.start_ts,
        "end": None,
        "last_seen": event.peak_ts or event.start_ts,
        "confidence": event.confidence,
        "peak_ts": event.peak_ts,
        "peak_frame_index": 0,
        "peak_score": event.peak_score or 0.0,
        "peak_track_id": None,
        "peak_bbox": None,
        "track_ids": list(event.track_ids or ()),
        "frames_in_zone": event.frames,
    }
    if event.face_id is not None:
        record |= {"face_id": event.face_id, "label": label, "new_identity": label is None}
    return record


class EventOutbox:
    """Publishes the 'open' records of one store partition's cameras (camera_id % slots ==
    slot, so partitions never sweep each other's events); used from the sink's thread only."""

    def __init__(
        self,
        database_url: str,
        producer: JsonProducer,
        topics: Topics,
        *,
        slot: int,
        slots: int,
        grace_seconds: float = 5.0,
        sweep_seconds: float = 10.0,
        batch: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database_url = database_url
        self.producer = producer
        self.topic = topics.name(EVENTS.topic)
        self.slot, self.slots = slot, slots
        self.grace = timedelta(seconds=grace_seconds)
        self.sweep_seconds = sweep_seconds
        self.batch = batch
        self.clock = clock
        self._in_flight: set[str] = set()
        self._acknowledged: list[str] = []
        self._next_sweep = clock()  # the first tick sweeps: what a dead process left

    def publish(self, records: Iterable[Row]) -> None:
        """Send committed events' 'open' records; never raises (the sweep retries)."""
        for record in records:
            event_id = str(record["event_id"])
            if event_id in self._in_flight:
                continue
            try:
                sent = self.producer.send(
                    self.topic,
                    record["camera_id"],
                    record,
                    schema_version=SCHEMA_VERSION,
                    on_result=partial(self._on_result, event_id),
                )
            except (KafkaException, ValueError) as exc:
                log.error("outbox_event_not_sent", event_id=event_id, error=str(exc))
                continue
            if sent:
                self._in_flight.add(event_id)
        self.producer.poll(0)

    def _on_result(self, event_id: str, delivered: bool) -> None:
        self._in_flight.discard(event_id)
        if delivered:
            self._acknowledged.append(event_id)

    def tick(self) -> None:
        """Mark the acknowledged rows published, and sweep when due. Database errors propagate
        (the caller logs them); what was not done is done at a later tick."""
        self.producer.poll(0)
        self.mark_published()
        if self.clock() >= self._next_sweep:
            self._next_sweep = self.clock() + self.sweep_seconds
            self.sweep()

    def mark_published(self) -> None:
        ids = list(self._acknowledged)
        if not ids:
            return
        with session_scope(self.database_url) as session:
            session.execute(
                update(Event)
                .where(Event.id.in_(ids), Event.published_at.is_(None))
                # updated_at kept: being published is not a change of the event
                .values(published_at=utcnow(), updated_at=Event.updated_at)
            )
        del self._acknowledged[: len(ids)]

    def sweep(self) -> int:
        """Publish the partition's unpublished live events older than the grace time (not
        those in flight); returns how many were sent."""
        with session_scope(self.database_url) as session:
            rows = session.execute(
                select(Event, Face.named, Face.label)
                .outerjoin(Face, Face.id == Event.face_id)
                .where(
                    Event.published_at.is_(None),
                    Event.source == "live",
                    Event.created_at <= utcnow() - self.grace,
                    Event.camera_id % self.slots == self.slot,
                )
                .order_by(Event.created_at)
                .limit(self.batch)
            ).all()
            records = [
                open_record(event, label if named else None)
                for event, named, label in rows
                if event.id not in self._in_flight
            ]
        if records:
            REPUBLISHED.inc(len(records))
            log.warning(
                "outbox_events_republished",
                slot=self.slot,
                events=len(records),
                event_ids=[r["event_id"] for r in records[:10]],
            )
            self.publish(records)
        return len(records)

    def close(self, timeout: float = 30.0) -> int:
        """Deliver what is in flight (up to `timeout` s) and mark it; returns the records still
        undelivered (their rows stay unpublished for the next start's sweep)."""
        remaining = self.producer.close(timeout)
        try:
            self.mark_published()
        except (SQLAlchemyError, OSError) as exc:  # the next start's sweep covers them
            log.warning("outbox_not_marked", events=len(self._acknowledged), error=str(exc))
        if remaining:
            log.error("outbox_events_undelivered", slot=self.slot, records=remaining)
        return remaining
