"""Replay from the lake and reconcile: idempotent, and after a zone edit exactly the affected
events change (real lake files, real DuckDB, SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.pipelines import lakedata
from tests.pipelines.world import box, make_camera, make_zone, move_zone
from vigil.db.models import Event, PendingDeletion
from vigil.db.session import session_scope
from vigil.events.reconcile import replay_and_reconcile
from vigil.events.store import upsert_event
from vigil.events.zones import zone_rules
from vigil.records.convert import rule_frame
from vigil.rules import CameraRules, RulesConfig

HOUR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NOW = HOUR + timedelta(days=1)
CONFIG = RulesConfig(motion_enabled=False)

# Person 1 crosses the left zone at 12:05, person 2 the right zone at 12:20, person 3 walks
# along the bottom at 12:40 (in no zone until the right zone is moved down to meet it).
WALKS = [
    lakedata.Walk(1, HOUR + timedelta(minutes=5), 20, (0.0, 0.5), (0.5, 0.5)),
    lakedata.Walk(2, HOUR + timedelta(minutes=20), 20, (0.5, 0.5), (1.0, 0.5)),
    lakedata.Walk(3, HOUR + timedelta(minutes=40), 20, (0.5, 0.9), (1.0, 0.9)),
]
LEFT = box(0.1, 0.3, 0.3, 0.7)
RIGHT = box(0.7, 0.3, 0.9, 0.7)
RIGHT_MOVED = box(0.7, 0.75, 0.9, 0.95)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> tuple[str, Path, int, int, int]:
    camera = make_camera(database_url)
    left = make_zone(database_url, camera, "Left", LEFT)
    right = make_zone(database_url, camera, "Right", RIGHT)
    lake = tmp_path / "lake"
    lakedata.write(lake, lakedata.rows(camera, HOUR, 3600, 5, WALKS), roll_rows=2000)
    return database_url, lake, camera, left, right


def _replay(url: str, lake: Path, camera: int):
    with session_scope(url) as session:
        return replay_and_reconcile(
            session, lake, camera, HOUR, HOUR + timedelta(hours=1), config=CONFIG, now=NOW
        )


def _events(url: str) -> dict[str, tuple]:
    with session_scope(url) as session:
        return {
            e.id: (e.zone_id, e.start_ts, e.end_ts, e.updated_at, e.source, e.rules_fingerprint)
            for e in session.scalars(select(Event))
        }


def test_replay_inserts_then_changes_nothing(world) -> None:
    url, lake, camera, left, right = world
    first = _replay(url, lake, camera)
    assert first.counts() == {
        "inserted": 2,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
        "pending": 0,
    }
    assert first.synchronised and first.complete
    assert first.frames >= 3600 * 5  # the window and its lookahead (the lake ends at 13:00)
    stored = _events(url)
    assert sorted(z for z, *_ in stored.values()) == sorted([left, right])
    for _zone, start, end, _, source, fingerprint in stored.values():
        assert source == "replay" and fingerprint == first.fingerprint
        assert end is not None and timedelta(seconds=1) < end - start < timedelta(seconds=20)

    again = _replay(url, lake, camera)
    assert again.counts() == {
        "inserted": 0,
        "updated": 0,
        "deleted": 0,
        "unchanged": 2,
        "pending": 0,
    }
    assert _events(url) == stored  # not a single column touched, updated_at included


def test_zone_edit_changes_exactly_the_affected_events(world) -> None:
    url, lake, camera, left, right = world
    _replay(url, lake, camera)
    before = _events(url)
    left_events = {k: v for k, v in before.items() if v[0] == left}

    move_zone(url, right, RIGHT_MOVED)
    report = _replay(url, lake, camera)
    assert report.counts() == {
        "inserted": 1,
        "updated": 0,
        "deleted": 1,
        "unchanged": 1,
        "pending": 0,
    }
    after = _events(url)
    assert {k: v for k, v in after.items() if v[0] == left} == left_events  # untouched
    (new_id,) = report.inserted
    assert after[new_id][0] == right
    assert after[new_id][1] >= HOUR + timedelta(minutes=40)  # person 3, not person 2
    assert report.deleted[0] not in after

    assert _replay(url, lake, camera).changed == 0  # idempotent again


def test_live_events_are_reconciled_not_duplicated(world) -> None:
    """The live path (CameraRules over the same rows) and the replay agree on every event,
    ids included: a replay over live rows finds them unchanged and leaves their source."""
    url, lake, camera, _, _ = world
    with session_scope(url) as session:
        rules = CameraRules(str(camera), zone_rules(session, camera), CONFIG)
        state = rules.initial_state()
        for frame, detections in lakedata.rows(camera, HOUR, 3600, 5, WALKS):
            state, changes = rules.step(state, rule_frame(frame, detections))
            for change in changes:
                upsert_event(session, change.event, source="live")
    live = _events(url)
    assert len(live) == 2
    report = _replay(url, lake, camera)
    assert report.counts()["unchanged"] == 2 and report.changed == 0
    assert _events(url) == live


def test_deleted_events_queue_their_objects(world) -> None:
    url, lake, camera, _, right = world
    _replay(url, lake, camera)
    with session_scope(url) as session:
        for event in session.scalars(select(Event).where(Event.zone_id == right)):
            event.snapshot_key = f"snapshots/events/{camera}/{event.id}.jpg"
    move_zone(url, right, RIGHT_MOVED)
    report = _replay(url, lake, camera)
    with session_scope(url) as session:
        journal = [p.object_key for p in session.scalars(select(PendingDeletion))]
    assert journal == [f"snapshots/events/{camera}/{report.deleted[0]}.jpg"]


def test_events_the_lake_does_not_cover_are_kept(world) -> None:
    """A live event in an hour the lake holds nothing for is never judged (nor deleted)."""
    url, lake, camera, _, _ = world
    with session_scope(url) as session:
        rules = CameraRules(str(camera), zone_rules(session, camera), CONFIG)
        state = rules.initial_state()
        later = HOUR + timedelta(hours=3)
        walk = [lakedata.Walk(9, later + timedelta(minutes=1), 20, (0.0, 0.5), (0.5, 0.5))]
        for frame, detections in lakedata.rows(camera, later, 180, 5, walk):
            state, changes = rules.step(state, rule_frame(frame, detections))
            for change in changes:
                upsert_event(session, change.event, source="live")
    with session_scope(url) as session:
        report = replay_and_reconcile(
            session, lake, camera, later, later + timedelta(hours=1), config=CONFIG, now=NOW
        )
    assert report.changed == 0 and report.frames == 0
    assert len(_events(url)) == 1
