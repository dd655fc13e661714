"""Event clips cut from real recorded segments by real FFmpeg, stored locally and on a real
S3 endpoint (SeaweedFS, which checks credentials and signatures)."""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.clips.conftest import FPS, SEGMENT_SECONDS, at, decode, frame_index
from tests.pipelines.world import make_camera
from vigil.clips.cutter import ClipPolicy, cut_pending_clips
from vigil.db.models import Clip, Event, PendingDeletion
from vigil.db.session import session_factory, session_scope
from vigil.media.paths import MediaPaths
from vigil.retention.journal import drain
from vigil.storage import LocalObjectStore, ObjectStore, S3ObjectStore

POLICY = ClipPolicy(pre=timedelta(seconds=2), post=timedelta(seconds=3), segment_seconds=4)
NOW = at(86400)


def add_event(url: str, camera: int, event_id: str, start: float, end: float) -> None:
    with session_scope(url) as session:
        session.add(
            Event(
                id=event_id,
                camera_id=camera,
                type="intrusion",
                status="closed",
                start_ts=at(start),
                end_ts=at(end),
            )
        )


def top_level_boxes(path: Path) -> list[str]:
    names, data, offset = [], path.read_bytes(), 0
    while offset + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        names.append(name.decode("latin-1"))
        offset += size if size else len(data)
    return names


def check_playable(path: Path, ffmpeg: str) -> None:
    """H.264 in a plain (non-fragmented) MP4 with its index first, decoding without error."""
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    assert "moof" not in boxes
    result = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    probe = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    assert "Video: h264" in probe.stderr


@pytest.fixture
def camera(database_url: str) -> int:
    return make_camera(database_url)


@pytest.fixture
def paths(tmp_path: Path) -> MediaPaths:
    return MediaPaths(tmp_path / "media")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (20.5, 26.2),  # padded range [18.5, 29.2] spans four segments
        (41.0, 41.5),  # padded range [39.0, 44.5] crosses one boundary
        (45.5, 46.0),  # padded range [43.5, 49.0] ...
    ],
)
def test_clip_covers_the_padded_event_and_decodes(
    database_url: str,
    camera: int,
    paths: MediaPaths,
    tmp_path: Path,
    record: Callable,
    source_frames: list,
    ffmpeg_exe: str,
    start: float,
    end: float,
) -> None:
    record(paths, camera)
    store = LocalObjectStore(tmp_path / "objects")
    add_event(database_url, camera, "e1", start, end)

    report = cut_pending_clips(session_factory(database_url), store, paths, POLICY, now=NOW)
    assert report.cut == ["e1"] and not report.failed

    with session_scope(database_url) as session:
        clip = session.scalars(select(Clip)).one()
    local = tmp_path / "clip.mp4"
    local.write_bytes(store.get_bytes(clip.object_key))
    assert clip.size_bytes == local.stat().st_size
    check_playable(local, ffmpeg_exe)

    frames = decode(local)
    want_start, want_end = start - 2, end + 3
    first = frame_index(frames[0], source_frames)
    last = frame_index(frames[-1], source_frames)
    # Starts on a keyframe (one a second) at most one segment before the padded start (a
    # stream copy can only start on one, and FFmpeg's seek in fragmented MP4 may land a
    # keyframe early), ends on the last frame before the padded end: the clip covers
    # [start - pre, end + post] within one segment.
    assert first % FPS == 0
    assert (want_start - SEGMENT_SECONDS) * FPS <= first <= want_start * FPS
    assert last == round(want_end * FPS) - 1
    assert len(frames) == last - first + 1  # every frame in between, in order
    assert clip.start_ts == at(first / FPS)
    assert clip.end_ts == at(want_end)
    assert clip.duration_seconds == pytest.approx(want_end - first / FPS, abs=0.05)


def test_clip_within_one_segment(
    database_url: str,
    camera: int,
    paths: MediaPaths,
    tmp_path: Path,
    record: Callable,
    source_frames: list,
) -> None:
    record(paths, camera)
    store = LocalObjectStore(tmp_path / "objects")
    add_event(database_url, camera, "e1", 50.5, 50.9)  # padded: [50.2, 51.2] in segment 12
    policy = ClipPolicy(pre=timedelta(seconds=0.3), post=timedelta(seconds=0.3), segment_seconds=4)
    assert cut_pending_clips(session_factory(database_url), store, paths, policy, now=NOW).cut
    with session_scope(database_url) as session:
        clip = session.scalars(select(Clip)).one()
    local = tmp_path / "clip.mp4"
    local.write_bytes(store.get_bytes(clip.object_key))
    frames = decode(local)
    first, last = (frame_index(f, source_frames) for f in (frames[0], frames[-1]))
    assert first % FPS == 0 and 48 - SEGMENT_SECONDS * FPS <= first <= 502
    assert last == 511  # 51.1 s: the last frame before the padded end, 51.2 s
    assert len(frames) == last - first + 1


def test_clips_go_to_s3_and_are_replaced_when_the_event_changes(
    database_url: str,
    camera: int,
    paths: MediaPaths,
    tmp_path: Path,
    record: Callable,
    s3_store: S3ObjectStore,
    ffmpeg_exe: str,
) -> None:
    record(paths, camera)
    add_event(database_url, camera, "e1", 10.0, 14.0)
    add_event(database_url, camera, "e2", 60.0, 63.0)
    sessions = session_factory(database_url)
    report = cut_pending_clips(sessions, s3_store, paths, POLICY, now=NOW)
    assert sorted(report.cut) == ["e1", "e2"]
    with session_scope(database_url) as session:
        clips = {c.event_id: c for c in session.scalars(select(Clip))}
    for clip in clips.values():
        assert s3_store.size(clip.object_key) == clip.size_bytes
        assert clip.object_key.startswith(f"clips/{camera}/2026-11-20/{clip.event_id}-")
    local = tmp_path / "e1.mp4"
    local.write_bytes(s3_store.get_bytes(clips["e1"].object_key))
    check_playable(local, ffmpeg_exe)
    assert s3_store.get_range(clips["e1"].object_key, 0, 7)[4:8] == b"ftyp"

    # Nothing changed: nothing to cut.
    assert cut_pending_clips(sessions, s3_store, paths, POLICY, now=NOW).counts()["cut"] == 0

    # A replay moved e1's end: its clip is cut again and the old object goes.
    with session_scope(database_url) as session:
        event = session.get(Event, "e1")
        assert event is not None
        event.end_ts = at(18.0)
    report = cut_pending_clips(sessions, s3_store, paths, POLICY, now=NOW)
    assert report.replaced == ["e1"]
    with session_scope(database_url) as session:
        clip = session.scalars(select(Clip).where(Clip.event_id == "e1")).one()
        journal = [p.object_key for p in session.scalars(select(PendingDeletion))]
    assert clip.id == clips["e1"].id and clip.end_ts == at(21.0)
    assert journal == [clips["e1"].object_key]
    assert drain(sessions, s3_store).objects == 1
    assert not s3_store.exists(clips["e1"].object_key)
    assert s3_store.exists(clip.object_key)


def test_events_without_recording_or_not_ready_are_skipped(
    database_url: str, camera: int, paths: MediaPaths, tmp_path: Path, record: Callable
) -> None:
    record(paths, camera)
    add_event(database_url, camera, "gone", -3600.0, -3590.0)  # before any recording
    add_event(database_url, camera, "headless", -5.0, 3.0)  # its start was never recorded
    add_event(database_url, camera, "fresh", 70.0, 72.0)
    store: ObjectStore = LocalObjectStore(tmp_path / "objects")
    sessions = session_factory(database_url)
    # Seconds after the event: its recording may still be written, so it waits.
    early = cut_pending_clips(sessions, store, paths, POLICY, now=at(74.0))
    assert early.no_recording == ["gone", "headless"] and early.cut == []
    later = cut_pending_clips(sessions, store, paths, POLICY, now=NOW)
    assert later.cut == ["fresh"] and later.no_recording == ["gone", "headless"]
    assert [info.key for info in store.list("clips/")] == [session_scope_key(database_url, "fresh")]


def session_scope_key(url: str, event_id: str) -> str:
    with session_scope(url) as session:
        return session.scalars(select(Clip.object_key).where(Clip.event_id == event_id)).one()
