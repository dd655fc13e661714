"""The record types the dataflow emits, each with ONE Arrow schema used by every writer
(Kafka, the Parquet lake) and every reader (DuckDB, Dagster, tests)."""

from vigil.records.schemas import (
    CAMERA_HEALTH,
    DETECTIONS,
    EVENTS,
    FACES,
    FRAMES,
    RECORD_TYPES,
    SCHEMA_VERSION,
    RecordType,
    record_type,
)

__all__ = [
    "CAMERA_HEALTH",
    "DETECTIONS",
    "EVENTS",
    "FACES",
    "FRAMES",
    "RECORD_TYPES",
    "SCHEMA_VERSION",
    "RecordType",
    "record_type",
]
