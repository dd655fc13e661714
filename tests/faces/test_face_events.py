"""Face events from live assignment (real SFace embeddings, both databases): one per named or
new identity per camera per visit, never per frame; a replay's reconcile leaves them alone;
they follow their identity through a merge and go with it on delete."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.faces.world import T0, add_camera, add_user, identity_of, visit_rows
from vigil.db.models import Event, Face, PendingDeletion
from vigil.db.session import session_factory, session_scope
from vigil.events.reconcile import reconcile_events
from vigil.faces.edits import delete_identity, merge, set_label
from vigil.faces.store import LiveFaces, LiveResult
from vigil.faces.timeline import timeline
from vigil.retention import drain
from vigil.storage import LocalObjectStore

GAP = timedelta(seconds=30)


@pytest.fixture
def objects(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


@pytest.fixture
def door(database_url: str) -> tuple[int, int]:
    """(owner, camera with face recognition on)."""
    with session_scope(database_url) as session:
        owner = add_user(session, "owner@example.com")
        return owner, add_camera(session, owner, "Front door")


def stored(
    url: str, objects: LocalObjectStore, live: LiveFaces, rows: list[dict[str, Any]]
) -> LiveResult:
    for row in rows:
        objects.put_bytes(row["thumbnail_key"], row["_jpeg"], content_type="image/jpeg")
    with session_scope(url) as session:
        return live.insert(session, ({k: v for k, v in r.items() if k != "_jpeg"} for r in rows))


def face_events(url: str) -> list[Event]:
    with session_scope(url) as session:
        rows = list(session.scalars(select(Event).where(Event.type == "face")))
        session.expunge_all()
        return sorted(rows, key=lambda e: e.start_ts)


def test_one_event_per_named_or_new_identity_per_visit(
    database_url: str, objects: LocalObjectStore, door: tuple[int, int]
) -> None:
    owner, camera = door
    live = LiveFaces(visit_gap_seconds=GAP.total_seconds())
    first = visit_rows(camera, "orl_s01", T0, 4, track_id=1)
    founded = stored(database_url, objects, live, first)
    (ana,) = set(identity_of(database_url, [r["face_detection_id"] for r in first]).values())
    assert ana is not None
    assert [(r["type"], r["change"], r["face_id"], r["new_identity"]) for r in founded.events] == [
        ("face", "open", ana, True)
    ]
    (event,) = face_events(database_url)
    assert event.id == founded.events[0]["event_id"]
    assert (event.face_id, event.status, event.start_ts) == (ana, "closed", T0)
    assert event.source == "live"
    assert event.snapshot_key == first[0]["thumbnail_key"]
    assert 0.0 < event.confidence <= 1.0

    # The same visit goes on (a later batch, less than the gap after): no event, even once named.
    more = stored(database_url, objects, live, visit_rows(camera, "orl_s01", T0 + GAP, 2))
    assert more.events == []
    with session_scope(database_url) as session:
        set_label(session, session.get_one(Face, ana), "Ana")
    still = stored(database_url, objects, live, visit_rows(camera, "orl_s01", T0 + 2 * GAP, 2))
    assert still.events == []

    # Ana comes back after the gap: one event, named, however many frames.
    back_at = T0 + timedelta(hours=1)
    back = stored(database_url, objects, live, visit_rows(camera, "orl_s01", back_at, 5))
    assert [(r["face_id"], r["label"], r["new_identity"]) for r in back.events] == [
        (ana, "Ana", False)
    ]
    # A stranger: one event for the identity founded; an unknown one coming back: none.
    stranger = stored(database_url, objects, live, visit_rows(camera, "orl_s02", back_at, 3))
    (new,) = stranger.events
    assert new["face_id"] != ana and new["label"] is None and new["new_identity"]
    later = back_at + timedelta(hours=1)
    assert stored(database_url, objects, live, visit_rows(camera, "orl_s02", later, 3)).events == []
    events = face_events(database_url)
    assert sorted((e.start_ts, e.face_id or 0) for e in events) == sorted(
        [(T0, ana), (back_at, ana), (back_at, new["face_id"])]
    )
    # The timeline's visits list the events that cover them with clips, not face events.
    with session_scope(database_url) as session:
        visits = timeline(session, owner, T0, later + GAP, gap=GAP).visits
    assert visits and all(v.events == [] for v in visits)


def test_reconcile_leaves_face_events_and_their_thumbnails_alone(
    database_url: str, objects: LocalObjectStore, door: tuple[int, int]
) -> None:
    _owner, camera = door
    rows = visit_rows(camera, "orl_s01", T0, 3, track_id=1)
    stored(database_url, objects, LiveFaces(), rows)
    (event,) = face_events(database_url)
    window = (T0 - timedelta(minutes=30), T0 + timedelta(minutes=30))
    with session_scope(database_url) as session:  # a replay that found no events in the window
        report = reconcile_events(
            session, camera, *window, [], rules_fingerprint="rules", covered=window
        )
    assert report.deleted == []
    assert [e.id for e in face_events(database_url)] == [event.id]
    with session_scope(database_url) as session:
        assert session.scalars(select(PendingDeletion)).all() == []
    assert objects.exists(rows[0]["thumbnail_key"])


def test_face_events_follow_a_merge_and_go_with_a_deleted_identity(
    database_url: str, objects: LocalObjectStore, door: tuple[int, int]
) -> None:
    _owner, camera = door
    live = LiveFaces()
    a_rows = visit_rows(camera, "orl_s01", T0, 3)
    b_rows = visit_rows(camera, "orl_s02", T0 + timedelta(minutes=5), 3)
    c_rows = visit_rows(camera, "orl_s03", T0 + timedelta(minutes=10), 3)
    ids = [
        stored(database_url, objects, live, rows).events[0]["face_id"]
        for rows in (a_rows, b_rows, c_rows)
    ]
    a, b, c = ids
    with session_scope(database_url) as session:
        merge(session, session.get_one(Face, b), session.get_one(Face, a))
    assert sorted(e.face_id or 0 for e in face_events(database_url)) == sorted([a, a, c])
    with session_scope(database_url) as session:
        delete_identity(session, session.get_one(Face, c))
    assert {e.face_id for e in face_events(database_url)} == {a}
    drain(session_factory(database_url), objects)
    assert not any(objects.exists(r["thumbnail_key"]) for r in c_rows)  # biometric data gone
    assert objects.exists(a_rows[0]["thumbnail_key"])
