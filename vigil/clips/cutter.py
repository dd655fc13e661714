"""Cut each pending event's clip, store it and link it to its event.

A clip covers [start - pre, end + post] (settings), cut from the recorded segments by stream
copy (vigil.media.recordings.cut_clip: no re-encode, starts on the keyframe at or before the
padded start, index first so a browser plays it while downloading). Order of writes: the
object is uploaded under a new key, then the row is inserted or pointed at it in one
transaction that also queues the replaced object for deletion. A crash in between leaves an
object without a row, which the retention sweep removes as an orphan; never the reverse.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from vigil.clips.pending import ClipJob, clips_to_cut
from vigil.db.base import utcnow
from vigil.db.models import Clip, Event
from vigil.logs import get_logger
from vigil.media.ffmpeg import probe_video
from vigil.media.paths import MediaPaths
from vigil.media.recordings import ClipError, list_segments
from vigil.media.recordings import cut_clip as cut_segments
from vigil.retention.journal import Doomed, enqueue
from vigil.storage.keys import clip_key
from vigil.storage.objectstore import ObjectStore

log = get_logger(__name__)

#: Clip row ids derive from the event id: one clip per event, the same id across re-cuts.
CLIP_NAMESPACE = uuid.UUID("3f6c2a51-7d0e-4a8b-9c43-2e1f5b7a9d06")


def clip_id_for(event_id: str) -> str:
    return str(uuid.uuid5(CLIP_NAMESPACE, event_id))


@dataclass(frozen=True)
class ClipPolicy:
    pre: timedelta
    post: timedelta
    segment_seconds: float

    @property
    def settle(self) -> timedelta:
        """How long after a clip's end its recording is surely complete: a segment runs up to
        about three times its nominal length when keyframes are sparse."""
        return timedelta(seconds=3 * self.segment_seconds)


@dataclass
class ClipsReport:
    cut: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    no_recording: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)  # the event changed while it was cut
    bytes: int = 0
    seconds_of_video: float = 0.0

    def counts(self) -> dict[str, int]:
        return {
            "cut": len(self.cut),
            "replaced": len(self.replaced),
            "no_recording": len(self.no_recording),
            "waiting": len(self.waiting),
            "failed": len(self.failed),
            "stale": len(self.stale),
            "bytes": self.bytes,
        }


@dataclass(frozen=True)
class CutClip:
    path: Path
    start: datetime
    end: datetime
    duration_seconds: float
    size_bytes: int


class RecordingNotReadyError(RuntimeError):
    """The segment holding the clip's end is still being written."""


class NoRecordingError(LookupError):
    """No recorded segment covers any of the clip's range."""


def cut_event_clip(
    paths: MediaPaths,
    camera_id: int,
    start: datetime,
    end: datetime,
    policy: ClipPolicy,
    work_dir: Path,
    *,
    ffmpeg: str | None = None,
    now: datetime | None = None,
) -> CutClip:
    """Cut [start - pre, end + post] of a camera's recording into an MP4 under work_dir."""
    want_start, want_end = start - policy.pre, end + policy.post
    segments = list_segments(
        paths,
        camera_id,
        want_start,
        want_end,
        segment_seconds=policy.segment_seconds,
        now=now,
    )
    if not segments or segments[0].start > start:
        # Without the event's start the clip is pointless (and after the size cap deleted the
        # oldest recordings, cutting what is left would only be deleted again).
        raise NoRecordingError(f"no recording of camera {camera_id} covers the event's start")
    if not segments[-1].complete:
        raise RecordingNotReadyError("the last segment of the clip is still being written")
    out = cut_segments(
        segments, want_start, want_end, work_dir / f"{uuid.uuid4().hex}.mp4", ffmpeg=ffmpeg
    )
    duration = probe_video(out, ffmpeg).duration_seconds or 0.0
    # The cut ends at the requested end (or where the recording stops) and starts on the
    # keyframe at or before the requested start: its true start is its end minus its length.
    clip_end = min(want_end, segments[-1].end)
    clip_start = clip_end - timedelta(seconds=duration)
    return CutClip(out, clip_start, clip_end, duration, out.stat().st_size)


def _link(session: Session, job: ClipJob, key: str, cut: CutClip) -> tuple[bool, bool]:
    """Point the event's clip row at the new object. Returns (linked, replaced)."""
    event = session.get(Event, job.event_id)
    if event is None or event.updated_at != job.event_updated_at or event.status != "closed":
        enqueue(session, [Doomed(key, job.camera_id, cut.size_bytes)], "stale")
        return False, False
    row = session.get(Clip, job.clip_id) if job.clip_id else None
    if row is None:
        row = Clip(id=clip_id_for(job.event_id), event_id=job.event_id, camera_id=job.camera_id)
        session.add(row)
    elif job.old_key and job.old_key != key:
        enqueue(session, [Doomed(job.old_key, job.camera_id, job.old_size)], "replaced")
    row.start_ts, row.end_ts = cut.start, cut.end
    row.object_key, row.size_bytes = key, cut.size_bytes
    row.duration_seconds = cut.duration_seconds
    row.created_at = utcnow()  # wall clock, as the event's updated_at it is compared with
    return True, job.clip_id is not None


def cut_pending_clips(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    paths: MediaPaths,
    policy: ClipPolicy,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    ffmpeg: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ClipsReport:
    """Cut, store and link the clip of every pending event (see vigil.clips.pending)."""
    now = now or datetime.now(UTC)
    report = ClipsReport()
    with sessions() as session:
        jobs = clips_to_cut(
            session, now, ready_before=now - policy.post - policy.settle, limit=limit
        )
    with tempfile.TemporaryDirectory(prefix="vigil-clips-") as tmp:
        for done, job in enumerate(jobs, start=1):
            _one(sessions, store, paths, policy, job, Path(tmp), report, now, ffmpeg)
            if on_progress is not None:
                on_progress(done, len(jobs))
    return report


def _one(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    paths: MediaPaths,
    policy: ClipPolicy,
    job: ClipJob,
    work_dir: Path,
    report: ClipsReport,
    now: datetime,
    ffmpeg: str | None,
) -> None:
    bound = log.bind(camera_id=job.camera_id, event_id=job.event_id)
    try:
        cut = cut_event_clip(
            paths, job.camera_id, job.start, job.end, policy, work_dir, ffmpeg=ffmpeg, now=now
        )
    except NoRecordingError:
        report.no_recording.append(job.event_id)
        return
    except RecordingNotReadyError:
        report.waiting.append(job.event_id)
        return
    except (ClipError, ValueError, OSError) as exc:
        report.failed[job.event_id] = str(exc)
        bound.warning("clip_failed", error=str(exc))
        return
    try:
        key = clip_key(job.camera_id, job.event_id, cut.start, uuid.uuid4().hex[:12])
        store.put_file(key, cut.path, content_type="video/mp4")
        with sessions() as session:
            linked, replaced = _link(session, job, key, cut)
            session.commit()
    finally:
        cut.path.unlink(missing_ok=True)
    if not linked:
        report.stale.append(job.event_id)
        return
    (report.replaced if replaced else report.cut).append(job.event_id)
    report.bytes += cut.size_bytes
    report.seconds_of_video += cut.duration_seconds
    bound.info("clip_stored", key=key, size_bytes=cut.size_bytes, seconds=cut.duration_seconds)
