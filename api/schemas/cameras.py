from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, field_validator

from api.schemas.common import StrictModel
from vigil.cameras.urls import mask_credentials_in_text, mask_url, validate_rtsp_url
from vigil.db.models import Camera, CameraStatus
from vigil.rules.zones import ZoneValidationError, validate_polygon

RtspUrl = Annotated[str, Field(max_length=2048), AfterValidator(validate_rtsp_url)]
CameraName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^\S(?:[^\x00-\x1f\x7f]*\S)?$")
]
Polygon = list[tuple[float, float]]


def _check_masks(masks: list[Polygon]) -> list[Polygon]:
    checked = []
    for index, polygon in enumerate(masks):
        try:
            checked.append([(float(x), float(y)) for x, y in validate_polygon(polygon)])
        except ZoneValidationError as exc:
            raise ValueError(f"motion mask {index}: {exc.message}") from None
    return checked


MotionMasks = Annotated[list[Polygon], Field(max_length=32), AfterValidator(_check_masks)]
FpsField = Annotated[float, Field(gt=0, le=30, description="frames per second analysed")]
WidthField = Annotated[int, Field(ge=160, le=1920, description="detect stream width, px")]
RetentionDays = Annotated[int, Field(ge=1, le=3650)]


class CameraCreate(StrictModel):
    name: CameraName
    stream_url: RtspUrl = Field(description="record/live stream, rtsp:// or rtsps://")
    detect_stream_url: RtspUrl | None = Field(
        default=None, description="optional low-resolution sub-stream used for detection"
    )
    enabled: bool = True
    detect_fps: FpsField = 5.0
    detect_width: WidthField = 640
    face_mode: bool = False
    face_recognition: bool = Field(
        default=False, description="group faces into identities (biometric data: opt in)"
    )
    motion_masks: MotionMasks = []
    record_retention_days: RetentionDays = 7
    clip_retention_days: RetentionDays = 30
    snapshot_retention_days: RetentionDays = 7


class CameraUpdate(StrictModel):
    """Only the fields given are changed; `null` clears the detect stream."""

    name: CameraName | None = None
    stream_url: RtspUrl | None = None
    detect_stream_url: RtspUrl | None = None
    enabled: bool | None = None
    detect_fps: FpsField | None = None
    detect_width: WidthField | None = None
    face_mode: bool | None = None
    face_recognition: bool | None = None
    motion_masks: MotionMasks | None = None
    record_retention_days: RetentionDays | None = None
    clip_retention_days: RetentionDays | None = None
    snapshot_retention_days: RetentionDays | None = None

    @field_validator(
        "name", "stream_url", "enabled", "detect_fps", "detect_width", "face_mode",
        "face_recognition", "motion_masks", "record_retention_days", "clip_retention_days",
        "snapshot_retention_days", mode="before",
    )  # fmt: skip
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class CameraResponse(BaseModel):
    id: int
    name: str
    stream_url: str = Field(description="with the password masked")
    detect_stream_url: str | None
    enabled: bool
    detect_fps: float
    detect_width: int
    face_mode: bool
    face_recognition: bool
    motion_masks: list[Polygon]
    record_retention_days: int
    clip_retention_days: int
    snapshot_retention_days: int
    status: CameraStatus
    last_seen_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    live_url: str
    snapshot_url: str

    @classmethod
    def of(cls, camera: Camera) -> CameraResponse:
        return cls(
            id=camera.id,
            name=camera.name,
            stream_url=mask_url(camera.stream_url),
            detect_stream_url=mask_url(camera.detect_stream_url)
            if camera.detect_stream_url
            else None,
            enabled=camera.enabled,
            detect_fps=camera.detect_fps,
            detect_width=camera.detect_width,
            face_mode=camera.face_mode,
            face_recognition=camera.face_recognition,
            motion_masks=[[(float(x), float(y)) for x, y in mask] for mask in camera.motion_masks],
            record_retention_days=camera.record_retention_days,
            clip_retention_days=camera.clip_retention_days,
            snapshot_retention_days=camera.snapshot_retention_days,
            status=CameraStatus(camera.status),
            last_seen_at=camera.last_seen_at,
            last_error=mask_credentials_in_text(camera.last_error) if camera.last_error else None,
            created_at=camera.created_at,
            updated_at=camera.updated_at,
            live_url=f"/api/v1/cameras/{camera.id}/live/index.m3u8",
            snapshot_url=f"/api/v1/cameras/{camera.id}/snapshot.jpg",
        )


class CameraHealthEventResponse(BaseModel):
    ts: datetime
    status: CameraStatus
    previous_status: CameraStatus | None
    error: str | None
