"""The real pedestrian footage, analysed by the real detector and tracker into a lake, with a
zone drawn across the walkway: the replay's intrusion events open and close at sane times,
agree with the live path, and get clips cut from the recording of the same footage."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.pipelines.footage import T0, vtest_rows
from tests.pipelines.world import make_camera, make_zone
from vigil.clips.cutter import ClipPolicy, cut_pending_clips
from vigil.db.models import Clip, Event
from vigil.db.session import session_factory, session_scope
from vigil.events.reconcile import replay_and_reconcile
from vigil.events.zones import zone_rules
from vigil.lake.writer import LakeWriter
from vigil.media.paths import MediaPaths
from vigil.records.convert import rule_frame
from vigil.records.schemas import DETECTIONS, FRAMES
from vigil.rules import CameraRules, RulesConfig
from vigil.rules.geometry import PreparedPolygon
from vigil.storage import LocalObjectStore

# A band across the walkway under the lamp post; people walk through it in both directions.
WALKWAY = [[0.38, 0.30], [0.52, 0.30], [0.52, 0.70], [0.38, 0.70]]
CONFIG = RulesConfig(motion_enabled=False)
NOW = T0 + timedelta(days=1)


@pytest.fixture(scope="module")
def footage_rows() -> Callable[[int], tuple[list, list]]:
    vtest_rows(0)  # analyse (or load) once for the module
    return vtest_rows


def test_intrusions_on_real_footage_open_and_close_sanely(
    database_url: str,
    tmp_path: Path,
    footage_rows: Callable[[int], tuple[list, list]],
    record: Callable,
) -> None:
    camera = make_camera(database_url)
    zone = make_zone(database_url, camera, "Walkway", WALKWAY, dwell=1.0)
    frames, detections = footage_rows(camera)
    lake = tmp_path / "lake"
    for record_type, rows in ((FRAMES, frames), (DETECTIONS, detections)):
        writer = LakeWriter(lake, record_type, roll_seconds=1e9, roll_rows=200)
        writer.add(rows)
        writer.flush()

    hour = T0.replace(minute=0)
    with session_scope(database_url) as session:
        report = replay_and_reconcile(
            session, lake, camera, hour, hour + timedelta(hours=1), config=CONFIG, now=NOW
        )
    assert report.frames == len(frames) and report.detections == len(detections)
    assert report.counts()["inserted"] >= 2 and report.counts()["pending"] == 0
    with session_scope(database_url) as session:
        events = sorted(session.scalars(select(Event)), key=lambda e: e.start_ts)

    # In-zone sightings per track, from the rows themselves.
    polygon = PreparedPolygon([(x, y) for x, y in WALKWAY])
    seen: dict[int, list] = {}
    for d in detections:
        x1, _, x2, y2 = d["bbox"]
        if d["track_id"] is not None and polygon.contains((x1 + x2) / 2, y2):
            seen.setdefault(d["track_id"], []).append(d["ts"])
    last_frame = frames[-1]["ts"]
    for event in events:
        assert (event.type, event.zone_id, event.status) == ("intrusion", zone, "closed")
        assert event.end_ts is not None and T0 <= event.start_ts < event.end_ts <= last_frame
        assert event.end_ts - event.start_ts >= timedelta(seconds=1.0)  # the zone's dwell
        sightings = sorted(ts for t in event.track_ids for ts in seen.get(t, []))
        assert event.start_ts in sightings and event.end_ts in sightings
        assert event.frames > 0 and 0 < event.confidence <= 1
    for before, after in itertools.pairwise(events):
        # Distinct events: a gap longer than the close timeout separates them.
        assert before.end_ts is not None
        assert after.start_ts - before.end_ts > timedelta(seconds=CONFIG.close_timeout_seconds)

    # The live path, stepping the same rows frame by frame, finds the same events.
    with session_scope(database_url) as session:
        rules = CameraRules(str(camera), zone_rules(session, camera), CONFIG)
    by_ts: dict = {}
    for d in detections:
        by_ts.setdefault(d["ts"], []).append(d)
    state, live = rules.initial_state(), {}
    for frame in frames:
        state, changes = rules.step(state, rule_frame(frame, by_ts.get(frame["ts"], [])))
        live.update({str(c.event.event_id): c.event for c in changes})
    state, changes = rules.finish(state, last_frame)
    live.update({str(c.event.event_id): c.event for c in changes})
    assert sorted(live) == sorted(e.id for e in events)
    assert all(live[e.id].start == e.start_ts and live[e.id].end == e.end_ts for e in events)

    # And each intrusion gets its clip from the recording of the same footage.
    paths = MediaPaths(tmp_path / "media")
    record(paths, camera)
    policy = ClipPolicy(pre=timedelta(seconds=2), post=timedelta(seconds=2), segment_seconds=4)
    clips = cut_pending_clips(
        session_factory(database_url),
        LocalObjectStore(tmp_path / "objects"),
        paths,
        policy,
        now=NOW,
    )
    assert sorted(clips.cut) == sorted(e.id for e in events) and not clips.failed
    with session_scope(database_url) as session:
        for clip in session.scalars(select(Clip)):
            owner = session.get(Event, clip.event_id)
            assert owner is not None and owner.end_ts is not None
            # Padded by 2 s each side, within what was recorded (79.5 s from T0).
            assert clip.start_ts <= max(owner.start_ts - timedelta(seconds=2), T0)
            assert clip.end_ts >= min(
                owner.end_ts + timedelta(seconds=2), T0 + timedelta(seconds=79)
            )
