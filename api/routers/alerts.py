"""Alert settings per camera, a test message, and the delivery log (owner only)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import select

from api.deps import CurrentUser, DbDep, OwnedCamera, SettingsDep
from api.jsonbody import StrictJSONRoute
from api.params import CameraIdQuery, Instant
from api.schemas.alerts import (
    AlertSettingsResponse,
    AlertSettingsUpdate,
    Channel,
    DeliveryPage,
    DeliveryResponse,
    DeliveryStatus,
    TestResult,
)
from vigil.alerts.config import AlertConfig
from vigil.alerts.dispatch import Dispatcher
from vigil.alerts.senders import NO_SMTP, safe_url
from vigil.alerts.store import PENDING, SKIPPED
from vigil.db.base import utcnow
from vigil.db.models import AlertDelivery, AlertSettings, Camera, User, Zone
from vigil.logs import get_logger

router = APIRouter(tags=["alerts"], route_class=StrictJSONRoute)
log = get_logger(__name__)

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such camera"}}


def _unprocessable(field: str, message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": ["body", field], "msg": message, "type": "value_error"}],
    )


def _config(db: DbDep, camera: Camera, user: User) -> AlertConfig:
    row = db.scalar(select(AlertSettings).where(AlertSettings.camera_id == camera.id))
    return AlertConfig.of(camera.id, user.email, user.time_zone, row)


def delivery_response(row: AlertDelivery) -> DeliveryResponse:
    return DeliveryResponse(
        id=row.id,
        camera_id=row.camera_id,
        event_id=row.event_id,
        channel=row.channel,
        kind=row.kind,
        recipient=row.recipient if row.channel == "email" else safe_url(row.recipient),
        status=row.status,
        error=row.error,
        attempts=row.attempts,
        merged_count=row.merged_count,
        event_ts=row.event_ts,
        created_at=row.attempted_at,
        completed_at=row.completed_at,
    )


@router.get("/cameras/{camera_id}/alerts", responses=NOT_FOUND)
def get_alert_settings(
    camera: OwnedCamera, user: CurrentUser, db: DbDep, settings: SettingsDep
) -> AlertSettingsResponse:
    """The camera's alert settings (defaults until saved: intrusion on, to your email)."""
    config = _config(db, camera, user)
    return AlertSettingsResponse.of(config, smtp_configured=bool(settings.smtp_host))


@router.put("/cameras/{camera_id}/alerts", responses=NOT_FOUND)
def put_alert_settings(
    body: AlertSettingsUpdate,
    camera: OwnedCamera,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
) -> AlertSettingsResponse:
    if body.zone_ids is not None:
        own = set(db.scalars(select(Zone.id).where(Zone.camera_id == camera.id)))
        unknown = sorted(set(body.zone_ids) - own)
        if unknown:
            raise _unprocessable("zone_ids", f"not zones of this camera: {unknown}")
    row = db.scalar(select(AlertSettings).where(AlertSettings.camera_id == camera.id))
    if row is None:
        row = AlertSettings(camera_id=camera.id)
        db.add(row)
    row.event_types = [k for k, v in body.kinds.items() if v.enabled]
    row.cooldowns = {k: v.cooldown_seconds for k, v in body.kinds.items()}
    row.email_enabled = body.email_enabled
    row.recipients = [str(r) for r in body.recipients]
    row.quiet_hours = [q.model_dump() for q in body.quiet_hours]
    row.min_confidence = body.min_confidence or 0.0
    row.zone_ids = sorted(set(body.zone_ids)) if body.zone_ids is not None else None
    row.webhook_url = str(body.webhook_url) if body.webhook_url else None
    if body.webhook_secret:
        row.webhook_secret = body.webhook_secret
    elif row.webhook_url and not row.webhook_secret:
        row.webhook_secret = secrets.token_urlsafe(32)
    if body.time_zone:
        user.time_zone = body.time_zone
    db.flush()
    log.info("alert_settings_saved", camera_id=str(camera.id), kinds=row.event_types)
    config = AlertConfig.of(camera.id, user.email, user.time_zone, row)
    return AlertSettingsResponse.of(config, smtp_configured=bool(settings.smtp_host))


@router.post("/cameras/{camera_id}/alerts/test", responses=NOT_FOUND)
def send_test_alert(
    request: Request, camera: OwnedCamera, user: CurrentUser, db: DbDep, settings: SettingsDep
) -> TestResult:
    """Send a test message now over every configured channel; returns its deliveries."""
    config = _config(db, camera, user)
    targets = []
    if config.email_enabled or not config.webhook_url:
        targets += [("email", r) for r in config.email_recipients]
    if config.webhook_url:
        targets.append(("webhook", config.webhook_url))
    dispatcher = Dispatcher.from_settings(settings, request.app.state.object_store)
    rows = []
    for channel, recipient in targets:
        row = AlertDelivery(
            camera_id=camera.id,
            channel=channel,
            kind="test",
            recipient=recipient,
            status=PENDING,
            attempts=0,
            merged_count=0,
            attempted_at=utcnow(),
        )
        db.add(row)
        db.flush()
        if channel == "email" and dispatcher.smtp is None:
            row.status, row.error, row.completed_at = SKIPPED, NO_SMTP, utcnow()
        else:
            dispatcher.attempt(db, row, max_attempts=1)
        rows.append(row)
    db.flush()
    return TestResult(deliveries=[delivery_response(r) for r in rows])


@router.get("/alerts/deliveries")
def list_deliveries(
    user: CurrentUser,
    db: DbDep,
    camera_id: CameraIdQuery = None,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    channel: Annotated[Channel | None, Query()] = None,
    since: Annotated[Instant | None, Query(description="created at or after (ISO 8601)")] = None,
    until: Annotated[Instant | None, Query(description="created before (ISO 8601)")] = None,
    cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    """Deliveries of your cameras' alerts, newest first, with cursor pagination."""
    query = (
        select(AlertDelivery)
        .join(Camera, Camera.id == AlertDelivery.camera_id)
        .where(Camera.owner_id == user.id)
    )
    if camera_id is not None:
        query = query.where(AlertDelivery.camera_id == camera_id)
    if status_ is not None:
        query = query.where(AlertDelivery.status == status_)
    if channel is not None:
        query = query.where(AlertDelivery.channel == channel)
    if since is not None:
        query = query.where(AlertDelivery.attempted_at >= since)
    if until is not None:
        query = query.where(AlertDelivery.attempted_at < until)
    if cursor is not None:
        query = query.where(AlertDelivery.id < cursor)
    rows = list(db.scalars(query.order_by(AlertDelivery.id.desc()).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return DeliveryPage(items=[delivery_response(r) for r in rows[:limit]], next_cursor=next_cursor)
