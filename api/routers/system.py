"""The platform's health for the System page: services, per camera throughput and storage.

Figures come from the services' Prometheus metrics at request time; a user sees the figures of
their own cameras only (the services report all cameras, the rest are dropped here)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from sqlalchemy import select

from api.deps import CurrentUser, DbDep, SettingsDep
from api.schemas.system import CameraFigures, ServiceHealth, StorageFigures, SystemStatus
from vigil.db.models import Camera
from vigil.system import Probe, Samples, take_snapshot

router = APIRouter(prefix="/system", tags=["system"])


def _value(samples: Samples, name: str, camera: str) -> float | None:
    return samples.get(name, {}).get(camera)


def _bytes(samples: Samples, area: str, camera: str) -> int | None:
    value = _value(samples, f"vigil_storage_bytes:{area}", camera)
    return None if value is None else int(value)


@router.get("")
def system_status(user: CurrentUser, db: DbDep, settings: SettingsDep) -> SystemStatus:
    """Each service's health, each of the caller's cameras' fps in and analysed, inference
    time, queue depth, dropped frames and storage, and storage against the retention caps."""
    cameras = list(db.scalars(select(Camera).where(Camera.owner_id == user.id).order_by(Camera.id)))
    snapshot = take_snapshot(settings, [Probe("api", settings.resolved_api_url, True)])
    flow, ingest = snapshot.dataflow, snapshot.ingest
    figures = []
    for camera in cameras:
        label = str(camera.id)
        count = _value(flow, "vigil_dataflow_inference_ms_count", label)
        total = _value(flow, "vigil_dataflow_inference_ms_sum", label)
        figures.append(
            CameraFigures(
                camera_id=camera.id,
                name=camera.name,
                status=camera.status,
                fps_in=_value(flow, "vigil_dataflow_fps_in", label),
                fps_analysed=_value(flow, "vigil_dataflow_fps_analysed", label),
                inference_ms=total / count if count and total is not None else None,
                queue_depth=_value(flow, "vigil_dataflow_queue_depth", label),
                frames_dropped=_value(flow, "vigil_dataflow_frames_dropped_total", label),
                recording_bytes=_bytes(ingest, "recordings", label),
                object_bytes=_bytes(ingest, "objects", label),
                lake_bytes=_bytes(ingest, "lake", label),
            )
        )
    recordings = sum(f.recording_bytes or 0 for f in figures)
    objects = sum(f.object_bytes or 0 for f in figures)
    lake = sum(f.lake_bytes or 0 for f in figures)
    measured = _value(ingest, "vigil_storage_measured_timestamp_seconds", "")
    return SystemStatus(
        checked_at=datetime.now(UTC),
        services=[ServiceHealth(**vars(p)) for p in snapshot.probes],
        cameras=figures,
        storage=StorageFigures(
            recording_bytes=recordings,
            object_bytes=objects,
            lake_bytes=lake,
            total_bytes=recordings + objects + lake,
            cap_bytes=settings.storage_cap_bytes or None,
            lake_retention_days=settings.lake_retention_days,
            measured_at=datetime.fromtimestamp(measured, UTC) if measured else None,
        ),
    )
