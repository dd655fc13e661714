"""What one step of a camera produces: rows per record type plus the side effects (event
upserts, JPEGs to store) the sinks carry out. Plain picklable values, so they can cross
Bytewax workers and sit in a sink's recovery snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from vigil.records.convert import Row
from vigil.records.schemas import DETECTIONS, EVENTS, FACES, FRAMES, RecordType
from vigil.rules.types import Event


@dataclass(frozen=True)
class Blob:
    key: str  # object store key
    data: bytes
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class EventWrite:
    """Upsert `event` into the database (its snapshot JPEG, if any, is a Blob of the output)."""

    event: Event
    snapshot_key: str | None
    rules_fingerprint: str | None = None  # which zones and rules decided it (replay check)
    opened: Row | None = None  # its 'open' record, published once stored (the outbox)


@dataclass
class CameraOutput:
    camera_id: int
    frame_ts: datetime | None = None  # the analysed frame's time (None: no frame this step)
    frames: list[Row] = field(default_factory=list)
    detections: list[Row] = field(default_factory=list)
    faces: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    event_writes: list[EventWrite] = field(default_factory=list)
    blobs: list[Blob] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[RecordType, Row]]:
        """Every row with its record type, in a fixed order (frame first)."""
        for record, rows in (
            (FRAMES, self.frames),
            (DETECTIONS, self.detections),
            (FACES, self.faces),
            (EVENTS, self.events),
        ):
            for row in rows:
                yield record, row

    @property
    def has_store_work(self) -> bool:
        return bool(self.event_writes or self.blobs or self.faces)

    def __bool__(self) -> bool:
        return bool(self.frames or self.faces or self.events or self.blobs)


@dataclass(frozen=True)
class Heartbeat:
    """Sent by an idle slot so the sinks still roll lake files and retry pending writes."""

    slot: int
