"""The events outbox end to end: the real store sink commits an event (an intrusion from the
rules, a face event from live assignment) and the process dies before its 'open' record is
published, or after publishing but before the acknowledgement is recorded; the restarted sink
publishes it, and the real alert service sends exactly one email for it."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from tests.alerts.conftest import SNAPSHOT, T0, World, drained, running
from tests.alerts.servers import Mailbox
from tests.faces.world import visit_rows
from tests.fixtures.waiting import wait_for
from vigil.broker import JsonProducer
from vigil.db.models import Camera, Event
from vigil.db.session import session_scope
from vigil.records.convert import event_row
from vigil.rules.types import Event as RulesEvent
from vigil.rules.types import EventChange, event_id_for
from vigil.storage.keys import event_snapshot_key
from vigil.streaming.outbox import EventOutbox
from vigil.streaming.outputs import Blob, CameraOutput, EventWrite, Heartbeat
from vigil.streaming.store_output import StoreOutput


class Killed(BaseException):
    """The process dies here: nothing after this point runs."""


class DiesBeforePublishing(EventOutbox):
    def publish(self, records: Any) -> None:
        raise Killed


class DiesBeforeMarking(EventOutbox):
    def mark_published(self) -> None:
        raise Killed


def outbox(world: World, kind: type[EventOutbox] = EventOutbox) -> EventOutbox:
    producer = JsonProducer(world.settings.kafka_bootstrap or "", client_id="test-outbox")
    return kind(world.url, producer, world.topics, slot=0, slots=1, grace_seconds=0.0)


def sink(world: World, box: EventOutbox) -> StoreOutput:
    return StoreOutput(world.url, lambda: world.store, "000", outbox=box)


def intrusion(camera_id: int, zone_id: int) -> CameraOutput:
    """The output of the frame at which the rules open an intrusion, with its snapshot."""
    event = RulesEvent(
        event_id=event_id_for(str(camera_id), "intrusion", str(zone_id), T0, 1),
        type="intrusion",
        camera_id=str(camera_id),
        zone_id=str(zone_id),
        start=T0,
        end=None,
        last_seen=T0 + timedelta(seconds=1),
        confidence=0.9,
        peak_ts=T0,
        peak_frame_id=3,
        peak_score=0.9,
        peak_track_id=1,
        peak_bbox=(0.1, 0.1, 0.3, 0.6),
        first_track_id=1,
        track_ids=(1,),
        frames_in_zone=4,
    )
    opened = event_row(EventChange("open", T0 + timedelta(seconds=1), event))
    key = event_snapshot_key(camera_id, str(event.event_id))
    return CameraOutput(
        camera_id,
        events=[opened],
        event_writes=[EventWrite(event, key, None, opened=opened)],
        blobs=[Blob(key, SNAPSHOT)],
    )


def faces(camera_id: int) -> CameraOutput:
    """A new face at the camera: live assignment founds an identity and opens a face event."""
    rows = visit_rows(camera_id, "orl_s01", T0, 3, track_id=1)
    blobs = [Blob(r["thumbnail_key"], r["_jpeg"]) for r in rows]
    return CameraOutput(
        camera_id, faces=[{k: v for k, v in r.items() if k != "_jpeg"} for r in rows], blobs=blobs
    )


def prepared(world: World, kind: str) -> CameraOutput:
    owner = world.user("owner@example.com")
    camera = world.camera(owner, "Front door")
    world.configure(camera, event_types=[kind], cooldown_seconds=0)
    if kind == "intrusion":
        return intrusion(camera, world.zone(camera))
    with session_scope(world.url) as session:
        session.get_one(Camera, camera).face_recognition = True
    return faces(camera)


def stored_events(world: World) -> list[tuple[str, str, bool]]:
    with session_scope(world.url) as session:
        rows = session.query(Event).order_by(Event.created_at).all()
        return [(e.id, e.type, e.published_at is not None) for e in rows]


def published(world: World, restarted: StoreOutput) -> list[tuple[str, str, bool]] | None:
    """Let the restarted sink tick (heartbeats, as an idle slot sends) until all is marked."""
    restarted.write([Heartbeat(0)])
    events = stored_events(world)
    return events if events and all(p for _, _, p in events) else None


def emails_for(mailbox: Mailbox, event_id: str) -> list[EmailMessage]:
    return [m for m in mailbox.messages() if m["X-Vigil-Event-Id"] == event_id]


@pytest.mark.parametrize("kind", ["intrusion", "face"])
def test_an_event_committed_by_a_process_that_died_before_publishing_alerts_once(
    world: World, smtp: tuple[Mailbox, int], kind: str
) -> None:
    mailbox, _ = smtp
    output = prepared(world, kind)
    with running(world.settings) as service:
        dying = outbox(world, DiesBeforePublishing)
        with pytest.raises(Killed):
            sink(world, dying).write([output])
        dying.producer.close()
        ((event_id, stored_kind, was_published),) = stored_events(world)
        assert (stored_kind, was_published) == (kind, False)  # committed, never published

        box = outbox(world)
        restarted = sink(world, box)
        assert wait_for(lambda: published(world, restarted)), stored_events(world)
        (delivery,) = world.settled(1)
        drained(service, 1)
        later = outbox(world)
        assert later.sweep() == 0  # a later start finds nothing left to publish
        assert later.close() == box.close() == 0
    assert (delivery.event_id, delivery.kind, delivery.status) == (event_id, kind, "sent")
    assert len(emails_for(mailbox, event_id)) == 1
    assert service.handled == 1


def test_an_event_published_but_not_marked_before_dying_is_published_again_and_alerts_once(
    world: World, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    output = prepared(world, "intrusion")
    with running(world.settings) as service:
        first = outbox(world, DiesBeforeMarking)
        with pytest.raises(Killed):
            sink(world, first).write([output])
        assert first.producer.close(30) == 0  # the broker had it: only the mark is missing
        ((event_id, _, was_published),) = stored_events(world)
        assert not was_published

        box = outbox(world)
        restarted = sink(world, box)
        assert wait_for(lambda: published(world, restarted)), stored_events(world)
        drained(service, 2)  # the 'open' record twice
        (delivery,) = world.settled(1)
        assert box.close() == 0
    assert (delivery.event_id, delivery.status) == (event_id, "sent")
    assert len(emails_for(mailbox, event_id)) == 1
