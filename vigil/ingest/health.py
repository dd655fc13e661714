"""Recording a camera's status changes: the camera row, a health event row, the broker topic
and the lake, all from one place so every status change is recorded the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil.broker.producer import JsonProducer
from vigil.broker.topics import Topics
from vigil.cameras.urls import mask_credentials_in_text
from vigil.db.models import Camera, CameraHealthEvent
from vigil.lake.writer import LakeWriter
from vigil.logs import get_logger
from vigil.records import SCHEMA_VERSION

log = get_logger(__name__)


@dataclass(frozen=True)
class StatusChange:
    camera_id: int
    status: str
    error: str | None
    ts: datetime


class HealthRecorder:
    def __init__(
        self,
        producer: JsonProducer | None = None,
        topics: Topics | None = None,
        lake: LakeWriter | None = None,
    ) -> None:
        self.producer = producer
        self.topics = topics or Topics()
        self.lake = lake

    def record(self, session: Session, change: StatusChange) -> CameraHealthEvent | None:
        """Apply a change to its camera; None when the camera is gone or nothing changed."""
        camera = session.get(Camera, change.camera_id)
        if camera is None:
            return None
        error = mask_credentials_in_text(change.error) if change.error else None
        if camera.status == change.status and camera.last_error == error:
            return None
        previous = camera.status
        camera.status = change.status
        camera.last_error = error
        if change.status == "online":
            camera.last_seen_at = change.ts
        event = CameraHealthEvent(
            camera_id=camera.id,
            ts=change.ts,
            status=change.status,
            previous_status=previous,
            error=error,
        )
        session.add(event)
        row: dict[str, Any] = {
            "camera_id": camera.id,
            "ts": change.ts,
            "status": change.status,
            "previous_status": previous,
            "error": error,
        }
        log.info("camera_status_changed", camera_id=camera.id, status=change.status, error=error)
        if self.producer is not None:
            self.producer.send(
                self.topics.camera_health, camera.id, row, schema_version=SCHEMA_VERSION
            )
        if self.lake is not None:
            self.lake.add([row])
        return event

    def close(self) -> None:
        if self.lake is not None:
            self.lake.flush()
        if self.producer is not None:
            undelivered = self.producer.flush(10.0)
            if undelivered:
                log.error("camera_health_undelivered", records=undelivered)
