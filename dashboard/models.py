"""What the dashboard reads from the Vigil REST API, as typed models.

Unknown fields are ignored so a newer API does not break an older dashboard.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

Point = tuple[float, float]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Token(ApiModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int


class User(ApiModel):
    id: int
    email: str
    created_at: datetime


class Camera(ApiModel):
    id: int
    name: str
    stream_url: str  # the API masks the password
    detect_stream_url: str | None = None
    enabled: bool
    detect_fps: float
    detect_width: int
    face_mode: bool
    face_recognition: bool = False
    record_retention_days: int
    clip_retention_days: int
    snapshot_retention_days: int
    status: str  # unknown | online | offline | error
    last_seen_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime
    live_url: str
    snapshot_url: str


class CameraPage(ApiModel):
    items: list[Camera]
    total: int
    limit: int
    offset: int


class HealthEntry(ApiModel):
    ts: datetime
    status: str
    previous_status: str | None = None
    error: str | None = None


class HealthPage(ApiModel):
    items: list[HealthEntry]
    total: int


class Zone(ApiModel):
    id: int
    camera_id: int
    name: str
    polygon: list[Point]
    intrusion_enabled: bool
    min_dwell_seconds: float


class Event(ApiModel):
    id: str
    camera_id: int
    zone_id: int | None = None
    type: str  # intrusion | motion | face
    status: str  # open | closed
    start: datetime
    end: datetime | None = None
    confidence: float
    frames: int = 0
    track_ids: list[int] = []
    source: str = "live"
    clip_id: str | None = None
    clip_url: str | None = None
    snapshot_url: str | None = None


class EventPage(ApiModel):
    items: list[Event]
    next_cursor: str | None = None


class HourlyStat(ApiModel):
    camera_id: int
    hour: datetime
    detections: int
    intrusion_events: int
    motion_events: int


class HourlyStats(ApiModel):
    items: list[HourlyStat]


class ServiceHealth(ApiModel):
    name: str
    url: str
    healthy: bool
    detail: str | None = None


class CameraFigures(ApiModel):
    camera_id: int
    name: str
    status: str
    fps_in: float | None = None
    fps_analysed: float | None = None
    inference_ms: float | None = None
    queue_depth: float | None = None
    frames_dropped: float | None = None
    recording_bytes: int | None = None
    object_bytes: int | None = None
    lake_bytes: int | None = None


class StorageFigures(ApiModel):
    recording_bytes: int
    object_bytes: int
    lake_bytes: int
    total_bytes: int
    cap_bytes: int | None = None
    lake_retention_days: int
    measured_at: datetime | None = None


class SystemStatus(ApiModel):
    checked_at: datetime
    services: list[ServiceHealth]
    cameras: list[CameraFigures]
    storage: StorageFigures


class KindSettings(ApiModel):
    enabled: bool
    cooldown_seconds: int


class QuietHours(ApiModel):
    start: str
    end: str


class AlertSettings(ApiModel):
    camera_id: int
    kinds: dict[str, KindSettings]
    email_enabled: bool
    recipients: list[str]
    effective_recipients: list[str]
    quiet_hours: list[QuietHours]
    min_confidence: float | None
    zone_ids: list[int] | None
    webhook_url: str | None
    webhook_secret: str | None
    time_zone: str
    smtp_configured: bool


class Delivery(ApiModel):
    id: int
    camera_id: int
    event_id: str | None
    channel: str
    kind: str
    recipient: str
    status: str
    error: str | None
    attempts: int
    merged_count: int
    event_ts: datetime | None
    created_at: datetime
    completed_at: datetime | None


class DeliveryPage(ApiModel):
    items: list[Delivery]
    next_cursor: str | None


class TestResult(ApiModel):
    deliveries: list[Delivery]


class Face(ApiModel):
    id: int
    label: str | None = None
    named: bool = False
    detection_count: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    cameras: list[int] = []
    thumbnail_url: str | None = None

    @property
    def title(self) -> str:
        return self.label or f"Unknown #{self.id}"


class FacePage(ApiModel):
    items: list[Face]
    next_cursor: str | None = None


class CoveringEvent(ApiModel):
    id: str
    camera_id: int
    type: str
    start: datetime
    end: datetime | None = None
    clip_id: str | None = None
    clip_url: str | None = None


class FaceDetection(ApiModel):
    id: str
    camera_id: int
    ts: datetime
    quality: float | None = None
    thumbnail_url: str | None = None
    event_ids: list[str] = []


class FaceDetail(Face):
    detections: list[FaceDetection] = []
    next_cursor: str | None = None
    events: list[CoveringEvent] = []


class Appearance(ApiModel):
    detection_id: str
    ts: datetime
    quality: float | None = None
    thumbnail_url: str | None = None
    event_ids: list[str] = []


class Visit(ApiModel):
    face_id: int
    label: str | None = None
    camera_id: int
    start: datetime
    end: datetime
    thumbnail_url: str | None = None
    appearances: list[Appearance] = []
    events: list[CoveringEvent] = []


class Timeline(ApiModel):
    since: datetime
    until: datetime
    visits: list[Visit]
    truncated: bool = False
