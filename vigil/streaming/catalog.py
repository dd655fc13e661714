"""Which cameras the dataflow analyses: the cameras table, or a replay file of local videos.

Both are re-read periodically (CatalogCache), so a camera added, edited, disabled or deleted
is picked up by the slot that owns it without a restart. One cache per process serves every
slot, so the database sees one query per interval, not one per slot.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vigil.db.models import Camera
from vigil.db.session import session_scope
from vigil.events.zones import zone_rules
from vigil.logs import get_logger
from vigil.rules.zones import ZoneRule, ZoneValidationError
from vigil.streaming.specs import CameraSpec, Polygon, ReplaySpec

log = get_logger(__name__)


class CatalogError(ValueError):
    """The camera list cannot be read or is invalid; the message says which camera and why."""


class Catalog(Protocol):
    finite: bool  # True: every camera ends (replay); the dataflow stops when all are done

    def cameras(self) -> dict[int, CameraSpec]:
        """Every camera to analyse now, by id. Raises on an unreachable source."""
        ...


def _masks(value: Any) -> tuple[Polygon, ...]:
    if not value:
        return ()
    return tuple(tuple((float(x), float(y)) for x, y in polygon) for polygon in value)


def _zones(session: Session, camera_id: int) -> tuple[ZoneRule, ...]:
    try:
        return tuple(zone_rules(session, camera_id))
    except ZoneValidationError as exc:  # a zone stored before stricter validation
        log.error("zone_invalid", camera_id=str(camera_id), error=exc.message)
        return ()


class DatabaseCatalog:
    """Enabled cameras from the cameras table, each with its zones."""

    finite = False

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def cameras(self) -> dict[int, CameraSpec]:
        specs: dict[int, CameraSpec] = {}
        with session_scope(self.database_url) as session:
            rows = session.scalars(select(Camera).where(Camera.enabled.is_(True)))
            for camera in rows:
                try:
                    specs[camera.id] = CameraSpec(
                        camera_id=camera.id,
                        source=camera.detect_stream_url or camera.stream_url,
                        fps=camera.detect_fps,
                        width=camera.detect_width,
                        face_mode=camera.face_mode,
                        face_recognition=camera.face_recognition,
                        motion_masks=_masks(camera.motion_masks),
                        zones=_zones(session, camera.id),
                    )
                except (ValueError, TypeError) as exc:
                    log.error("camera_config_invalid", camera_id=str(camera.id), error=str(exc))
        return specs


class ReplayCamera(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera_id: int = Field(ge=1)
    file: Path
    start: datetime  # timestamp of the first frame (timezone-aware)
    fps: float = Field(default=5.0, gt=0, le=30)
    width: int = Field(default=640, ge=64, le=4096)
    offset_seconds: float = Field(default=0.0, ge=0)
    duration_seconds: float | None = Field(default=None, gt=0)
    face_mode: bool = False


class ReplayFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cameras: list[ReplayCamera] = Field(min_length=1)


class ReplayCatalog:
    """Local video files as cameras (tests, benchmarks, re-analysing recordings), e.g.

        {"cameras": [{"camera_id": 1, "file": "plaza.mp4", "start": "2026-11-23T12:00:00Z",
                      "fps": 5, "width": 640, "duration_seconds": 20}]}

    Zones come from the database when `database_url` is given (the camera ids are the
    database's), so live rules and replays agree.
    """

    finite = True

    def __init__(self, path: Path, database_url: str | None = None) -> None:
        self.path = Path(path)
        self.database_url = database_url
        self._cameras = self._load()

    def _load(self) -> list[ReplayCamera]:
        try:
            parsed = ReplayFile.model_validate(json.loads(self.path.read_text()))
        except OSError as exc:
            raise CatalogError(f"cannot read cameras file {self.path}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise CatalogError(f"cameras file {self.path} is not JSON: {exc}") from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise CatalogError(f"cameras file {self.path} is invalid: {problems}") from None
        ids = [c.camera_id for c in parsed.cameras]
        if len(set(ids)) != len(ids):
            raise CatalogError(f"cameras file {self.path} repeats a camera_id: {ids}")
        for camera in parsed.cameras:
            if camera.start.tzinfo is None:
                raise CatalogError(f"camera {camera.camera_id}: start must include a timezone")
            path = camera.file if camera.file.is_absolute() else self.path.parent / camera.file
            if not (path.is_file() or path.is_fifo()):  # a pipe: another program sets the pace
                raise CatalogError(f"camera {camera.camera_id}: video file {path} not found")
            camera.file = path.resolve()
        return parsed.cameras

    def cameras(self) -> dict[int, CameraSpec]:
        zones: dict[int, tuple[ZoneRule, ...]] = {}
        if self.database_url is not None:
            with session_scope(self.database_url) as session:
                zones = {c.camera_id: _zones(session, c.camera_id) for c in self._cameras}
        return {
            c.camera_id: CameraSpec(
                camera_id=c.camera_id,
                source=str(c.file),
                fps=c.fps,
                width=c.width,
                face_mode=c.face_mode,
                zones=zones.get(c.camera_id, ()),
                replay=ReplaySpec(c.start, c.offset_seconds, c.duration_seconds),
            )
            for c in self._cameras
        }


class CatalogCache:
    """A catalog read at most every `ttl` seconds, shared by all slots of a process.

    While the source is unreachable the last good list is kept (cameras keep running) and the
    failure is logged once per outage; before any successful read, `cameras()` is None.
    """

    def __init__(
        self, catalog: Catalog, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.catalog = catalog
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._specs: dict[int, CameraSpec] | None = None
        self._read_at = -float("inf")
        self._failing = False

    @property
    def finite(self) -> bool:
        return self.catalog.finite

    def cameras(self) -> dict[int, CameraSpec] | None:
        with self._lock:
            now = self.clock()
            if now - self._read_at >= self.ttl:
                self._read_at = now
                try:
                    self._specs = self.catalog.cameras()
                    if self._failing:
                        log.info("camera_catalog_recovered", cameras=len(self._specs))
                    self._failing = False
                except (SQLAlchemyError, OSError) as exc:
                    if not self._failing:
                        log.error("camera_catalog_unavailable", error=str(exc).splitlines()[0])
                    self._failing = True
            return self._specs
