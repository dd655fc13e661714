"""The ingest loop: read the cameras table every few seconds, make the FFmpeg supervisor match
it, and write status changes and `last_seen_at` back (batched: one write per camera per loop,
not per frame)."""

from __future__ import annotations

import queue
import threading
import time
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vigil.cameras.purge import remove_local_media
from vigil.db.models import Camera
from vigil.ingest.health import HealthRecorder, StatusChange
from vigil.logs import get_logger
from vigil.media.diagnostics import Status
from vigil.media.supervisor import CameraSpec, IngestSupervisor, SupervisorConfig

log = get_logger(__name__)

CAMERAS_INGESTING = Gauge("vigil_ingest_cameras", "Cameras with a running FFmpeg")
CAMERAS_ONLINE = Gauge("vigil_ingest_cameras_online", "Cameras whose frames are flowing")
DISABLED_ERROR = "camera disabled"


class IngestService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: SupervisorConfig,
        recorder: HealthRecorder,
        sync_seconds: float = 2.0,
    ) -> None:
        self.sessions = sessions
        self.recorder = recorder
        self.sync_seconds = sync_seconds
        self._changes: queue.Queue[StatusChange] = queue.Queue()
        self.supervisor = IngestSupervisor(config, on_status=self._on_status)
        self._stop = threading.Event()
        self._last_loop = time.monotonic()
        self._last_seen_written: dict[str, datetime] = {}

    # --- called from supervisor threads: only enqueue ----------------------------------------
    def _on_status(self, camera_id: int | str, status: Status, error: str | None) -> None:
        self._changes.put(StatusChange(int(camera_id), status, error, datetime.now(UTC)))

    # --- the loop ------------------------------------------------------------------------------
    def run(self) -> None:
        log.info("ingest_service_started", sync_seconds=self.sync_seconds)
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    self.step()
                except Exception:  # the database may be briefly unavailable: keep going
                    log.exception("ingest_step_failed")
                self._last_loop = time.monotonic()
                self._stop.wait(max(0.0, self.sync_seconds - (self._last_loop - started)))
        finally:
            self.supervisor.stop_all()
            with self.sessions.begin() as session:
                self._write_changes(session)
            self.recorder.close()
            log.info("ingest_service_stopped")

    def stop(self) -> None:
        self._stop.set()

    def step(self) -> dict[str, list[str]]:
        with self.sessions.begin() as session:
            cameras = session.scalars(select(Camera).order_by(Camera.id)).all()
            actions = self.supervisor.sync(
                CameraSpec(id=c.id, record_url=c.stream_url, enabled=c.enabled) for c in cameras
            )
            self._remove_deleted_media(actions["stopped"], {c.id for c in cameras})
            for camera in cameras:
                if not camera.enabled and camera.status != "offline":
                    self._changes.put(
                        StatusChange(camera.id, "offline", DISABLED_ERROR, datetime.now(UTC))
                    )
            self._write_changes(session)
            self._write_last_seen(session)
        if any(actions.values()):
            log.info("ingest_synced", **actions)
        states = self.supervisor.states()
        CAMERAS_INGESTING.set(len(states))
        CAMERAS_ONLINE.set(sum(1 for s in states.values() if s.status == "online"))
        return actions

    def _remove_deleted_media(self, stopped: list[str], existing: set[int]) -> None:
        """FFmpeg may write for a few seconds after the API purged a deleted camera's media;
        once it is stopped, remove what it wrote (a disabled camera keeps its files)."""
        for key in stopped:
            if key.isdigit() and int(key) not in existing:
                try:
                    remove_local_media(self.supervisor.config.paths, int(key))
                except OSError as exc:  # retention's orphan sweep catches what is left
                    log.warning("deleted_camera_media_left", camera_id=key, error=str(exc))

    def _write_changes(self, session: Session) -> None:
        while True:
            try:
                change = self._changes.get_nowait()
            except queue.Empty:
                return
            self.recorder.record(session, change)

    def _write_last_seen(self, session: Session) -> None:
        for key, state in self.supervisor.states().items():
            if state.last_seen is None or self._last_seen_written.get(key) == state.last_seen:
                continue
            camera = session.get(Camera, int(key))
            if camera is not None:
                camera.last_seen_at = state.last_seen
                self._last_seen_written[key] = state.last_seen

    # --- health --------------------------------------------------------------------------------
    def health(self) -> tuple[bool, dict[str, Any]]:
        age = time.monotonic() - self._last_loop
        healthy = age < max(30.0, 5 * self.sync_seconds)
        states = self.supervisor.states()
        return healthy, {
            "loop_age_seconds": round(age, 1),
            "cameras": {key: s.status or "starting" for key, s in states.items()},
        }
