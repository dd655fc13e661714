from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ServiceHealth(BaseModel):
    name: str
    url: str
    healthy: bool
    detail: str | None = Field(None, description="why it is unhealthy or unreachable")


class CameraFigures(BaseModel):
    """One camera, from the dataflow's and the ingest service's Prometheus metrics; a figure is
    null while its service has not reported it (not running, or the camera not seen yet)."""

    camera_id: int
    name: str
    status: str
    fps_in: float | None = Field(None, description="decoded frames per second (10 s window)")
    fps_analysed: float | None = Field(None, description="analysed frames per second")
    inference_ms: float | None = Field(None, description="mean person detector time per frame")
    queue_depth: float | None = Field(None, description="decoded frames waiting for analysis")
    frames_dropped: float | None = Field(None, description="frames skipped: analysis too slow")
    recording_bytes: int | None = None
    object_bytes: int | None = Field(None, description="clips, snapshots and face thumbnails")
    lake_bytes: int | None = None


class StorageFigures(BaseModel):
    """The caller's cameras' storage against the retention caps."""

    recording_bytes: int
    object_bytes: int
    lake_bytes: int
    total_bytes: int
    cap_bytes: int | None = Field(None, description="VIGIL_STORAGE_CAP_BYTES; null: no cap")
    lake_retention_days: int
    measured_at: datetime | None = Field(None, description="when the ingest service measured")


class SystemStatus(BaseModel):
    checked_at: datetime
    services: list[ServiceHealth]
    cameras: list[CameraFigures]
    storage: StorageFigures
