"""Real media cut from the shared test footage with ffmpeg: an HLS live window, an MP4 clip and
a JPEG snapshot, laid out where the API reads them (media dir, local object store, database)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import SHARED_DATA
from vigil.db.models import Clip, Event
from vigil.db.session import session_scope
from vigil.media.ffmpeg import find_ffmpeg
from vigil.media.paths import MediaPaths
from vigil.storage.local import LocalObjectStore

FOOTAGE = SHARED_DATA / "footage" / "vtest.avi"
SMALL = ["-vf", "scale=320:-2", "-an"]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=120,
    )


@dataclass(frozen=True)
class Footage:
    """Media made once per test session, copied wherever a test needs it."""

    hls_dir: Path
    clip: Path
    jpeg: Path

    @classmethod
    def make(cls, root: Path) -> Footage:
        hls_dir = root / "hls"
        hls_dir.mkdir(parents=True)
        # 1 s segments with a keyframe each second (10 fps source), no end tag: a live window
        # as ingest writes it.
        _ffmpeg(
            "-i", str(FOOTAGE), "-t", "8", *SMALL, *H264, "-g", "10", "-sc_threshold", "0",
            "-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
            "-hls_flags", "independent_segments+omit_endlist",
            "-hls_segment_filename", str(hls_dir / "seg_%d.ts"), str(hls_dir / "index.m3u8"),
        )  # fmt: skip
        clip = root / "clip.mp4"
        _ffmpeg("-i", str(FOOTAGE), "-t", "4", *SMALL, *H264, "-movflags", "+faststart", str(clip))
        jpeg = root / "snapshot.jpg"
        _ffmpeg("-ss", "2", "-i", str(FOOTAGE), "-frames:v", "1", *SMALL, str(jpeg))
        return cls(hls_dir, clip, jpeg)

    def publish_live(self, media_dir: Path, camera_id: int) -> None:
        shutil.copytree(self.hls_dir, MediaPaths(media_dir).live_dir(camera_id))

    def publish_snapshot(self, media_dir: Path, camera_id: int) -> None:
        target = MediaPaths(media_dir).snapshot(camera_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.jpeg, target)

    def add_event(
        self,
        database_url: str,
        data_dir: Path,
        camera_id: int,
        *,
        start: datetime | None = None,
        kind: str = "intrusion",
        with_clip: bool = True,
    ) -> str:
        """An event row (with a snapshot, and a clip unless told not) as the pipeline leaves
        it: objects in the local object store, rows in the database. Returns the event id."""
        store = LocalObjectStore(data_dir / "objects")
        start = start or datetime.now(UTC) - timedelta(minutes=5)
        event_id = str(uuid.uuid4())
        snapshot_key = f"snapshots/events/{camera_id}/{event_id}.jpg"
        store.put_bytes(snapshot_key, self.jpeg.read_bytes(), content_type="image/jpeg")
        with session_scope(database_url) as session:
            session.add(
                Event(
                    id=event_id,
                    camera_id=camera_id,
                    type=kind,
                    status="closed",
                    start_ts=start,
                    end_ts=start + timedelta(seconds=4),
                    confidence=0.87,
                    snapshot_key=snapshot_key,
                    track_ids=[1, 2],
                    frames=30,
                )
            )
            if with_clip:
                clip_key = f"clips/{camera_id}/{event_id}.mp4"
                content = self.clip.read_bytes()
                store.put_bytes(clip_key, content, content_type="video/mp4")
                session.flush()
                session.add(
                    Clip(
                        id=str(uuid.uuid4()),
                        event_id=event_id,
                        camera_id=camera_id,
                        start_ts=start,
                        end_ts=start + timedelta(seconds=4),
                        object_key=clip_key,
                        size_bytes=len(content),
                        duration_seconds=4.0,
                    )
                )
        return event_id
