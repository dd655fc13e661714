"""Object key layout of everything Vigil keeps in the object store, in one place.

    clips/<camera_id>/<YYYY-MM-DD>/<event_id>-<cut>.mp4   an event's clip (one per cut)
    snapshots/events/<camera_id>/<event_id>.jpg           an event's snapshot
    faces/<camera_id>/<YYYY-MM-DD>/<face_detection_id>.jpg  a face thumbnail

Keys start with the kind and the camera so that retention can list one camera's objects of
one kind with a prefix, and dated kinds carry their UTC day so age is known from the key.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

CLIPS = "clips"
EVENT_SNAPSHOTS = "snapshots/events"
FACE_THUMBNAILS = "faces"
KINDS = (CLIPS, EVENT_SNAPSHOTS, FACE_THUMBNAILS)

# Built from the kinds above, so a layout change is made here only.
_DATED = "|".join(re.escape(kind) for kind in (CLIPS, FACE_THUMBNAILS))
_DAY = re.compile(rf"^(?:{_DATED})/[0-9]+/(?P<day>[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})/[^/]+$")
_CAMERA = re.compile(rf"^(?:{'|'.join(re.escape(kind) for kind in KINDS)})/(?P<camera>[0-9]+)/")
_CUT = re.compile(r"^[0-9a-f]{1,32}$")


def camera_prefix(kind: str, camera_id: int) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown object kind {kind!r}; known: {KINDS}")
    return f"{kind}/{int(camera_id)}/"


def clip_key(camera_id: int, event_id: str, start: datetime, cut: str) -> str:
    """A new key per cut: a re-cut never overwrites an object a pending delete refers to."""
    if not _CUT.fullmatch(cut):
        raise ValueError(f"cut id must be 1-32 lowercase hex digits, got {cut!r}")
    day = start.astimezone(UTC).date().isoformat()
    return f"{CLIPS}/{int(camera_id)}/{day}/{event_id}-{cut}.mp4"


def event_snapshot_key(camera_id: int, event_id: str) -> str:
    return f"{EVENT_SNAPSHOTS}/{int(camera_id)}/{event_id}.jpg"


def face_thumbnail_key(camera_id: int, ts: datetime, face_detection_id: str) -> str:
    day = ts.astimezone(UTC).date().isoformat()
    return f"{FACE_THUMBNAILS}/{int(camera_id)}/{day}/{face_detection_id}.jpg"


def key_day(key: str) -> date | None:
    """The UTC day in a clip or face thumbnail key; None for undated or foreign keys."""
    match = _DAY.match(key)
    if match is None:
        return None
    try:
        return date.fromisoformat(match["day"])
    except ValueError:
        return None


def key_camera(key: str) -> int | None:
    """The camera id a key of one of Vigil's kinds belongs to; None for foreign keys."""
    match = _CAMERA.match(key)
    return int(match["camera"]) if match else None
