"""Arrow schemas of the records Vigil streams and stores.

Rows are plain dicts keyed by field name. Every table is partitioned in the lake by
`camera_id / date / hour` (hive style); the partition values are derived from `camera_id` and
`ts`, which every record has. Boxes are normalised to the frame (0..1, x right, y down).
Bump SCHEMA_VERSION on any incompatible change; readers see it in every Kafka record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from vigil.broker.topics import TopicKind

SCHEMA_VERSION = 1

TS = pa.timestamp("us", tz="UTC")
BOX = pa.list_(pa.float32(), 4)  # x1, y1, x2, y2
EMBEDDING_DIM = 128


@dataclass(frozen=True)
class RecordType:
    name: str  # lake table name
    schema: pa.Schema
    topic: TopicKind
    key_fields: tuple[str, ...]  # identify a row: duplicates across files are a bug

    def table(self, rows: list[dict[str, Any]]) -> pa.Table:
        return pa.Table.from_pylist(rows, schema=self.schema)

    def validate(self, row: dict[str, Any]) -> None:
        """Raise if `row` does not fit the schema (missing or mistyped fields)."""
        missing = [f.name for f in self.schema if not f.nullable and row.get(f.name) is None]
        if missing:
            raise ValueError(f"{self.name} row lacks {missing}")
        self.table([row])


FRAMES = RecordType(
    "frames",
    pa.schema(
        [
            pa.field("camera_id", pa.int64(), nullable=False),
            pa.field("ts", TS, nullable=False),
            pa.field("frame_index", pa.int64(), nullable=False),
            pa.field("width", pa.int32(), nullable=False),
            pa.field("height", pa.int32(), nullable=False),
            pa.field("analysed", pa.bool_(), nullable=False),  # the person detector ran
            pa.field("skipped_by_gate", pa.bool_(), nullable=False),
            pa.field("motion_area", pa.float32(), nullable=False),
            pa.field("motion_calibrating", pa.bool_(), nullable=False),
            pa.field("scene_change", pa.bool_(), nullable=False),
            pa.field("motion_boxes", pa.list_(BOX), nullable=False),
            pa.field("track_ids", pa.list_(pa.int64()), nullable=False),  # live tracks
            pa.field("persons", pa.int32(), nullable=False),
            pa.field("inference_ms", pa.float32(), nullable=False),
            pa.field("total_ms", pa.float32(), nullable=False),
        ]
    ),
    TopicKind.MOTION,
    ("camera_id", "ts"),
)

DETECTIONS = RecordType(
    "detections",
    pa.schema(
        [
            pa.field("camera_id", pa.int64(), nullable=False),
            pa.field("ts", TS, nullable=False),
            pa.field("frame_index", pa.int64(), nullable=False),
            pa.field("index", pa.int32(), nullable=False),  # position within the frame
            pa.field("label", pa.string(), nullable=False),  # "person"
            pa.field("class_name", pa.string(), nullable=False),  # the model's own class
            pa.field("track_id", pa.int64()),  # None until the tracker confirms the track
            pa.field("score", pa.float32(), nullable=False),
            pa.field("bbox", BOX, nullable=False),
            pa.field("stationary", pa.bool_(), nullable=False),
            pa.field("detected", pa.bool_(), nullable=False),  # False: carried by the tracker
        ]
    ),
    TopicKind.DETECTIONS,
    ("camera_id", "ts", "index"),
)

FACES = RecordType(
    "faces",
    pa.schema(
        [
            pa.field("face_detection_id", pa.string(), nullable=False),
            pa.field("camera_id", pa.int64(), nullable=False),
            pa.field("ts", TS, nullable=False),
            pa.field("frame_index", pa.int64(), nullable=False),
            pa.field("track_id", pa.int64()),
            pa.field("bbox", BOX, nullable=False),
            pa.field("score", pa.float32(), nullable=False),
            pa.field("blur", pa.float32(), nullable=False),
            pa.field("quality", pa.float32(), nullable=False),
            pa.field("embedding", pa.list_(pa.float32(), EMBEDDING_DIM), nullable=False),
            pa.field("thumbnail_key", pa.string()),
        ]
    ),
    TopicKind.FACES,
    ("face_detection_id",),
)

EVENTS = RecordType(
    "events",
    pa.schema(
        [
            pa.field("event_id", pa.string(), nullable=False),
            pa.field("change", pa.string(), nullable=False),  # open | update | close
            pa.field("at", TS, nullable=False),  # frame time at which the rules decided
            pa.field("camera_id", pa.int64(), nullable=False),
            pa.field("ts", TS, nullable=False),  # = start (partitions events by start)
            pa.field("type", pa.string(), nullable=False),
            pa.field("zone_id", pa.int64()),
            pa.field("start", TS, nullable=False),
            pa.field("end", TS),
            pa.field("last_seen", TS, nullable=False),
            pa.field("confidence", pa.float32(), nullable=False),
            pa.field("peak_ts", TS, nullable=False),
            pa.field("peak_frame_index", pa.int64(), nullable=False),
            pa.field("peak_score", pa.float32(), nullable=False),
            pa.field("peak_track_id", pa.int64()),
            pa.field("peak_bbox", BOX),
            pa.field("track_ids", pa.list_(pa.int64()), nullable=False),
            pa.field("frames_in_zone", pa.int64(), nullable=False),
        ]
    ),
    TopicKind.EVENTS,
    ("event_id", "change", "at"),
)

CAMERA_HEALTH = RecordType(
    "camera_health",
    pa.schema(
        [
            pa.field("camera_id", pa.int64(), nullable=False),
            pa.field("ts", TS, nullable=False),
            pa.field("status", pa.string(), nullable=False),
            pa.field("previous_status", pa.string()),
            pa.field("error", pa.string()),  # credentials masked
        ]
    ),
    TopicKind.CAMERA_HEALTH,
    ("camera_id", "ts", "status"),
)

RECORD_TYPES: dict[str, RecordType] = {
    r.name: r for r in (FRAMES, DETECTIONS, FACES, EVENTS, CAMERA_HEALTH)
}


def record_type(name: str) -> RecordType:
    try:
        return RECORD_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown record type {name!r}; known: {sorted(RECORD_TYPES)}") from None


def partition_of(row: dict[str, Any]) -> tuple[int, str, int]:
    """(camera_id, date 'YYYY-MM-DD', hour) of a row, from its UTC `ts`."""
    ts: datetime = row["ts"]
    return int(row["camera_id"]), ts.strftime("%Y-%m-%d"), ts.hour
