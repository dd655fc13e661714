"""Face alerts end to end: face rows through the real store sink (live assignment on real
SFace embeddings), its face events on a real Tansu topic, the alert service, a real SMTP
server. One email when a named identity appears and one for a new unknown identity, none for
the rest of a visit; none with the face kind off; none for another user's camera."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from tests.alerts.conftest import T0, World, drained, running
from tests.alerts.servers import Mailbox
from tests.faces.world import visit_rows
from tests.fixtures.waiting import wait_for
from vigil.broker import JsonProducer
from vigil.db.models import Camera, Face, FaceDetection
from vigil.db.session import session_scope
from vigil.faces.edits import set_label
from vigil.streaming.outbox import EventOutbox
from vigil.streaming.outputs import Blob, CameraOutput
from vigil.streaming.store_output import StoreOutput


@pytest.fixture
def sink(world: World) -> Iterator[StoreOutput]:
    """The dataflow's store sink for one partition, publishing its face events."""
    producer = JsonProducer(world.settings.kafka_bootstrap or "", client_id="test-store-events")
    outbox = EventOutbox(world.url, producer, world.topics, slot=0, slots=1)
    yield StoreOutput(
        world.url,
        lambda: world.store,
        "000",
        face_visit_gap_seconds=30.0,
        outbox=outbox,
    )
    assert outbox.close() == 0


def watched(world: World, owner: int, name: str) -> int:
    camera = world.camera(owner, name)
    with session_scope(world.url) as session:
        session.get_one(Camera, camera).face_recognition = True
    return camera


def seen(sink: StoreOutput, rows: list[dict[str, Any]]) -> None:
    """One dataflow output with these faces and their thumbnails, written by the sink."""
    camera = rows[0]["camera_id"]
    blobs = [Blob(r["thumbnail_key"], r["_jpeg"]) for r in rows]
    faces = [{k: v for k, v in r.items() if k != "_jpeg"} for r in rows]
    sink.write([CameraOutput(camera, faces=faces, blobs=blobs)])
    assert not sink.pending


def identity(world: World, rows: list[dict[str, Any]]) -> int:
    with session_scope(world.url) as session:
        face_id = session.get_one(FaceDetection, rows[0]["face_detection_id"]).face_id
    assert face_id is not None
    return face_id


def picture(message: EmailMessage) -> bytes:
    (image,) = [p for p in message.walk() if p.get_content_type() == "image/jpeg"]
    data = image.get_content()
    assert isinstance(data, bytes)
    html = message.get_body(("html",))
    assert html is not None and f"cid:{image['Content-ID'].strip('<>')}" in html.get_content()
    return data


def test_named_and_new_identities_alert_once_per_visit(
    world: World, smtp: tuple[Mailbox, int], sink: StoreOutput
) -> None:
    mailbox, _ = smtp
    owner = world.user("owner@example.com")
    door = watched(world, owner, "Front door")
    world.configure(door, event_types=["face"], cooldown_seconds=0)
    with running(world.settings) as service:
        first = visit_rows(door, "orl_s01", T0, 4, track_id=1)
        seen(sink, first)
        (founded,) = world.settled(1)
        ana = identity(world, first)
        with session_scope(world.url) as session:
            set_label(session, session.get_one(Face, ana), "Ana")
        seen(sink, visit_rows(door, "orl_s01", T0 + timedelta(seconds=20), 3, first_photo=4))
        back_at = T0 + timedelta(hours=1)
        back = visit_rows(door, "orl_s01", back_at, 5, track_id=2)
        stranger = visit_rows(door, "orl_s02", back_at + timedelta(seconds=5), 4, track_id=3)
        seen(sink, back)
        seen(sink, stranger)
        rows = world.settled(3)
        drained(service, 3)
    assert service.handled == 3  # one record per event: none for the visit that went on
    assert [(r.kind, r.status, r.recipient) for r in rows] == [
        ("face", "sent", "owner@example.com")
    ] * 3
    assert rows[0].id == founded.id
    unknown = identity(world, stranger)
    messages = {m["X-Vigil-Event-Id"]: m for m in mailbox.messages()}
    assert len(messages) == 3
    subjects = [" ".join(str(messages[r.event_id]["Subject"]).split()) for r in rows]  # unfolded
    assert subjects == [
        f"[Vigil] New unknown face (identity #{ana}) at Front door, 2026-11-25 12:00:00 UTC",
        "[Vigil] Ana at Front door, 2026-11-25 13:00:00 UTC",
        f"[Vigil] New unknown face (identity #{unknown}) at Front door, 2026-11-25 13:00:05 UTC",
    ]
    pictures = [picture(messages[r.event_id]) for r in rows]
    assert pictures == [first[0]["_jpeg"], back[0]["_jpeg"], stranger[0]["_jpeg"]]
    text = messages[rows[1].event_id].get_body(("plain",))
    assert text is not None and "Person: Ana" in text.get_content()
    assert f"https://vigil.example.com/events?event={rows[1].event_id}" in text.get_content()


def test_face_kind_off_and_another_users_camera_send_nothing_to_this_user(
    world: World, smtp: tuple[Mailbox, int], sink: StoreOutput
) -> None:
    mailbox, _ = smtp
    owner = world.user("owner@example.com")
    other = world.user("other@example.com")
    door = watched(world, owner, "Front door")  # the face kind is off by default
    theirs = watched(world, other, "Their door")
    world.configure(theirs, event_types=["face"], cooldown_seconds=0)
    with running(world.settings) as service:
        seen(sink, visit_rows(door, "orl_s01", T0, 3, track_id=1))
        seen(sink, visit_rows(theirs, "orl_s01", T0, 3, track_id=1))
        (row,) = world.settled(1)
        drained(service, 2)
    assert (row.camera_id, row.kind, row.status, row.recipient) == (
        theirs,
        "face",
        "sent",
        "other@example.com",
    )
    messages = wait_for(mailbox.messages)
    assert messages, "no email for the other user"
    assert [m["To"] for m in messages] == ["other@example.com"]
    assert world.deliveries(camera_id=door) == []
