"""Recorded segments made from the real footage by real FFmpeg, named like ingest names them.

vtest.avi (795 frames at 10 fps) is encoded once per session to H.264 with a keyframe every
second and split by FFmpeg's segment muxer into 4 s fragmented MP4 segments (ingest's
container), named by their UTC start from T0; each test links them under its own media root.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from vigil.media.ffmpeg import RECORD_MOVFLAGS, find_ffmpeg
from vigil.media.paths import RECORD_TIME_FORMAT, MediaPaths

FOOTAGE = Path(__file__).resolve().parents[3] / "shared" / "data" / "footage" / "vtest.avi"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FPS = 10
SEGMENT_SECONDS = 4


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def ffmpeg_exe() -> str:
    return find_ffmpeg()


@pytest.fixture(scope="session")
def segment_files(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> list[Path]:
    if not FOOTAGE.is_file():
        pytest.fail(f"{FOOTAGE} is missing (see shared/data/SOURCES.md)")
    out = tmp_path_factory.mktemp("segments")
    cmd = [ffmpeg_exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(FOOTAGE)]
    cmd += ["-an", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    cmd += ["-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0", "-bf", "0"]
    cmd += ["-f", "segment", "-segment_time", str(SEGMENT_SECONDS), "-reset_timestamps", "1"]
    cmd += ["-segment_format", "mp4", "-segment_format_options", f"movflags={RECORD_MOVFLAGS}"]
    subprocess.run([*cmd, str(out / "seg%03d.mp4")], check=True, timeout=120)
    files = sorted(out.glob("seg*.mp4"))
    assert len(files) == 20
    return files


@pytest.fixture
def record(segment_files: list[Path]) -> Callable[[MediaPaths, int], list[Path]]:
    """Link the session's segments into a camera's record dir, as ingest would have left
    them: named by UTC start, each file last written when its segment ended."""

    def link(paths: MediaPaths, camera_id: int) -> list[Path]:
        linked = []
        for i, source in enumerate(segment_files):
            start = at(i * SEGMENT_SECONDS)
            target = paths.record_dir(camera_id) / start.strftime("%Y%m%d")
            target.mkdir(parents=True, exist_ok=True)
            path = target / f"{start.strftime(RECORD_TIME_FORMAT)}.mp4"
            os.link(source, path)
            end = (start + timedelta(seconds=SEGMENT_SECONDS)).timestamp()
            os.utime(path, (end, end))
            linked.append(path)
        return linked

    return link


@pytest.fixture(scope="session")
def source_frames() -> list[np.ndarray]:
    """Every frame of the footage, small and grey: enough to tell which frame a clip shows."""
    cap = cv2.VideoCapture(str(FOOTAGE))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(_thumb(frame))
    cap.release()
    return frames


def _thumb(frame: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, (96, 72), interpolation=cv2.INTER_AREA).astype(np.float32)


def frame_index(frame: np.ndarray, source: list[np.ndarray]) -> int:
    """The source frame a decoded frame shows (nearest by mean absolute difference)."""
    thumb = _thumb(frame)
    return int(np.argmin([np.abs(thumb - s).mean() for s in source]))


def decode(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames
