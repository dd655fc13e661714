"""Where each camera's media lives, derived from the camera id only (never from user input).

    <root>/live/<camera>/index.m3u8, seg_<n>.ts        HLS live window (rolling)
    <root>/record/<camera>/<YYYYmmdd>/<YYYYmmddTHHMMSSZ>.mp4   recorded segments (UTC start)
    <root>/snapshots/<camera>/latest.jpg               newest snapshot

Names that arrive from outside (an HLS segment requested over HTTP, a recording file name) are
checked against strict patterns before they touch the file system, and `resolve_under` is the
last guard that the result stays below its root.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath

CAMERA_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
HLS_SEGMENT_NAME = re.compile(r"^seg_[0-9]{1,20}\.ts$")
RECORD_DAY = re.compile(r"^[0-9]{8}$")
RECORD_NAME = re.compile(r"^(?P<day>[0-9]{8})T[0-9]{6}Z\.mp4$")
RECORD_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
PLAYLIST_NAME = "index.m3u8"
SNAPSHOT_NAME = "latest.jpg"
# Percent-encoded separators, dots and NUL: a name must never need decoding to be understood.
_ENCODED = re.compile(r"%(?:2[eEfF]|5[cC]|00)")


class InvalidMediaPathError(ValueError):
    """A camera id or file name that could escape its directory or doesn't match its pattern."""


def camera_key(camera_id: int | str) -> str:
    """The directory name of a camera: its integer id, or a short slug of [A-Za-z0-9_-]."""
    if isinstance(camera_id, bool):
        raise InvalidMediaPathError("camera id must be an int or a slug")
    if isinstance(camera_id, int):
        if camera_id < 0:
            raise InvalidMediaPathError("camera id must not be negative")
        return str(camera_id)
    if not isinstance(camera_id, str) or not CAMERA_KEY.fullmatch(camera_id):
        raise InvalidMediaPathError(f"invalid camera id {camera_id!r}")
    return camera_id


def resolve_under(root: Path, relative: str | PurePosixPath) -> Path:
    """`root / relative`, refusing absolute paths, `..`, backslashes, NUL, encoded separators and
    anything that (after resolving symlinks) lands outside `root`."""
    text = str(relative)
    if not text or "\x00" in text or "\\" in text or _ENCODED.search(text):
        raise InvalidMediaPathError("invalid characters in media path")
    parts = PurePosixPath(text)
    if parts.is_absolute() or any(part in ("", ".", "..") for part in text.split("/")):
        raise InvalidMediaPathError("media path must be relative and must not contain . or ..")
    base = root.resolve()
    target = (base / parts).resolve()
    if target != base and not target.is_relative_to(base):
        raise InvalidMediaPathError("media path escapes its root")
    return target


def parse_record_name(name: str) -> datetime:
    """The UTC start time encoded in a recorded segment's file name."""
    match = RECORD_NAME.fullmatch(name)
    if match is None:
        raise InvalidMediaPathError(f"not a recorded segment name: {name!r}")
    try:
        return datetime.strptime(name[:-4], RECORD_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidMediaPathError(f"not a valid time in {name!r}") from None


class MediaPaths:
    """All media paths below one root (settings.media_dir)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def live_dir(self, camera_id: int | str) -> Path:
        return self.root / "live" / camera_key(camera_id)

    def playlist(self, camera_id: int | str) -> Path:
        return self.live_dir(camera_id) / PLAYLIST_NAME

    def live_file(self, camera_id: int | str, name: str) -> Path:
        """The playlist or one HLS segment, by a name that came from a request."""
        if name != PLAYLIST_NAME and not HLS_SEGMENT_NAME.fullmatch(name):
            raise InvalidMediaPathError(f"not a live media name: {name!r}")
        return resolve_under(self.live_dir(camera_id), name)

    def record_dir(self, camera_id: int | str) -> Path:
        return self.root / "record" / camera_key(camera_id)

    def record_day_dir(self, camera_id: int | str, day: date) -> Path:
        return self.record_dir(camera_id) / day.strftime("%Y%m%d")

    def record_template(self, camera_id: int | str) -> Path:
        """The strftime pattern FFmpeg's segment muxer expands (with TZ=UTC)."""
        return self.record_dir(camera_id) / "%Y%m%d" / "%Y%m%dT%H%M%SZ.mp4"

    def record_file(self, camera_id: int | str, name: str) -> Path:
        """A recorded segment by its file name (`20261125T204930Z.mp4`); its day dir is implied."""
        match = RECORD_NAME.fullmatch(name)
        if match is None:
            raise InvalidMediaPathError(f"not a recorded segment name: {name!r}")
        return resolve_under(self.record_dir(camera_id), f"{match['day']}/{name}")

    def snapshot_dir(self, camera_id: int | str) -> Path:
        return self.root / "snapshots" / camera_key(camera_id)

    def snapshot(self, camera_id: int | str) -> Path:
        return self.snapshot_dir(camera_id) / SNAPSHOT_NAME
