"""The recorded-segment index and the clip cutter.

Segments are found from file names alone (`<YYYYmmdd>/<YYYYmmddTHHMMSSZ>.mp4`, the UTC start),
no probing. A segment ends where the next one starts when they are contiguous; otherwise (a gap:
camera offline, ingest restarted) at its file's mtime, which is when FFmpeg last wrote a fragment.
The newest segment may still be growing (`complete=False`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigil.media.ffmpeg import find_ffmpeg
from vigil.media.paths import (
    RECORD_DAY,
    RECORD_NAME,
    InvalidMediaPathError,
    MediaPaths,
    parse_record_name,
)


@dataclass(frozen=True)
class Segment:
    path: Path
    start: datetime
    end: datetime
    complete: bool

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def list_segments(
    paths: MediaPaths,
    camera_id: int | str,
    start: datetime,
    end: datetime,
    *,
    segment_seconds: float = 10.0,
    contiguity_seconds: float = 2.0,
    now: datetime | None = None,
) -> list[Segment]:
    """Recorded segments of a camera that intersect [start, end), oldest first."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    now = now or datetime.now(UTC)
    max_span = timedelta(seconds=segment_seconds * 3)  # a segment runs at most ~1 GOP over
    # The segment covering `start` may have begun up to max_span earlier, possibly yesterday.
    files = _segment_files(paths, camera_id, start - max_span, end)
    segments: list[Segment] = []
    for i, (seg_start, path, mtime) in enumerate(files):
        following = files[i + 1][0] if i + 1 < len(files) else None
        written_until = max(seg_start, min(mtime, seg_start + max_span))
        if following is not None and following <= mtime + timedelta(seconds=contiguity_seconds):
            seg_end = following
        else:
            seg_end = written_until
        growing = following is None and now - mtime < timedelta(seconds=contiguity_seconds + 1)
        if seg_start < end and seg_end > start:
            segments.append(Segment(path, seg_start, seg_end, complete=not growing))
    return segments


def _segment_files(
    paths: MediaPaths, camera_id: int | str, start: datetime, end: datetime
) -> list[tuple[datetime, Path, datetime]]:
    root = paths.record_dir(camera_id)
    found: list[tuple[datetime, Path, datetime]] = []
    day = start.astimezone(UTC).date()
    while day <= end.astimezone(UTC).date():
        day_dir = root / day.strftime("%Y%m%d")
        if RECORD_DAY.fullmatch(day_dir.name) and day_dir.is_dir():
            for entry in os.scandir(day_dir):
                if not RECORD_NAME.fullmatch(entry.name) or not entry.is_file():
                    continue
                try:
                    seg_start = parse_record_name(entry.name)
                except InvalidMediaPathError:
                    continue
                mtime = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
                found.append((seg_start, Path(entry.path), mtime))
        day += timedelta(days=1)
    found.sort()
    return found


def find_gaps(
    segments: list[Segment], start: datetime, end: datetime, *, tolerance_seconds: float = 2.0
) -> list[Gap]:
    """Stretches of [start, end) that no segment covers, longer than the tolerance."""
    gaps: list[Gap] = []
    cursor = start
    tolerance = timedelta(seconds=tolerance_seconds)
    for seg in sorted(segments, key=lambda s: s.start):
        if seg.start - cursor > tolerance:
            gaps.append(Gap(cursor, min(seg.start, end)))
        cursor = max(cursor, seg.end)
        if cursor >= end:
            break
    if end - cursor > tolerance:
        gaps.append(Gap(cursor, end))
    return gaps


class ClipError(RuntimeError):
    """No recording covers the range, or FFmpeg failed to cut it."""


def cut_clip(
    segments: list[Segment],
    start: datetime,
    end: datetime,
    dst: Path,
    *,
    ffmpeg: str | None = None,
    timeout: float = 120.0,
) -> Path:
    """Join the segments covering [start, end] by stream copy into a browser-playable MP4.

    The input seek lands on the keyframe at or before `start` (a copied stream can only begin
    on one), so the clip may start up to one GOP early; `+faststart` puts the index first so a
    browser can play while downloading. Writes to a temp file and renames into place.
    """
    covering = sorted(
        (s for s in segments if s.start < end and s.end > start), key=lambda s: s.start
    )
    if not covering or end <= start:
        raise ClipError("no recorded segment covers the requested range")
    offset = max(0.0, (start - covering[0].start).total_seconds())
    duration = (end - max(start, covering[0].start)).total_seconds()
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp:
        listing = Path(tmp) / "segments.txt"
        listing.write_text("".join(f"file '{_concat_quote(s.path)}'\n" for s in covering))
        out = Path(tmp) / "clip.mp4"
        cmd = [ffmpeg or find_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error"]
        cmd += ["-f", "concat", "-safe", "0", "-ss", f"{offset:.3f}", "-i", str(listing)]
        cmd += ["-t", f"{duration:.3f}", "-map", "0:v:0", "-c", "copy"]
        cmd += ["-avoid_negative_ts", "make_zero", "-movflags", "+faststart", "-y", str(out)]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0 or not out.exists():
            raise ClipError(f"ffmpeg could not cut the clip: {result.stderr.strip()[-500:]}")
        os.replace(out, dst)
    return dst


def _concat_quote(path: Path) -> str:
    # The concat demuxer's quoting: close the quote, escape the quote, reopen.
    return str(path.resolve()).replace("'", "'\\''")
