"""Hourly statistics for the dashboard's charts, read from the lake with DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import duckdb
from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select

from api.deps import CurrentUser, DbDep, SettingsDep
from api.jsonbody import StrictJSONRoute
from api.params import CameraIdQuery, Instant
from api.schemas.stats import HourlyStats, HourlyStatsPage
from vigil.db.models import Camera
from vigil.lake.store import lake_from_settings
from vigil.stats import register_hourly_stats_view

router = APIRouter(prefix="/stats", tags=["stats"], route_class=StrictJSONRoute)
MAX_RANGE = timedelta(days=93)


def _unprocessable(name: str, message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": ["query", name], "msg": message, "type": "value_error"}],
    )


@router.get("/hourly")
def hourly(
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    camera_id: CameraIdQuery = None,
    since: Annotated[Instant | None, Query(description="default: 24 h ago")] = None,
    until: Annotated[Instant | None, Query(description="default: now")] = None,
) -> HourlyStatsPage:
    """Per camera and hour: analysed frames, detections, tracks, faces and events, oldest first.
    Only the caller's cameras; hours not yet materialised are absent."""
    until = until or datetime.now(UTC)
    if since is None:
        if until - datetime.min.replace(tzinfo=UTC) < timedelta(hours=24):
            raise _unprocessable("until", "is too early for the default 24 h range")
        since = until - timedelta(hours=24)
    if since >= until:
        raise _unprocessable("since", "must be before until")
    if until - since > MAX_RANGE:
        raise _unprocessable("since", f"range must be at most {MAX_RANGE.days} days")
    owned = select(Camera.id).where(Camera.owner_id == user.id)
    if camera_id is not None:
        owned = owned.where(Camera.id == camera_id)
    cameras = list(db.scalars(owned))
    if not cameras:
        return HourlyStatsPage(items=[])
    connection = duckdb.connect()
    try:
        register_hourly_stats_view(connection, lake_from_settings(settings))
        rows = connection.execute(
            "SELECT camera_id, hour_start AS hour, frames, detector_frames, detections, tracks,"
            " max_persons, faces, events, intrusion_events, motion_events FROM hourly_stats"
            " WHERE camera_id IN (SELECT unnest($cameras)) AND hour_start >= $since"
            " AND hour_start < $until ORDER BY hour_start, camera_id",
            {"cameras": cameras, "since": since, "until": until},
        )
        columns = [c[0] for c in rows.description or []]
        items = [HourlyStats(**dict(zip(columns, row, strict=True))) for row in rows.fetchall()]
    finally:
        connection.close()
    return HourlyStatsPage(items=items)
