"""The delivery log: one row per (event, channel, recipient), written before sending and
updated after. The unique key makes a re-read record plan nothing new."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tenacity import RetryCallState, wait_exponential

from vigil.alerts.config import AlertConfig
from vigil.alerts.rules import AlertEvent, within_cooldown
from vigil.alerts.senders import NO_SMTP
from vigil.db.base import utcnow
from vigil.db.models import AlertDelivery, AlertSettings, Camera, Event, User

PENDING, SENT, FAILED, SKIPPED, MERGED = "pending", "sent", "failed", "skipped", "merged"
STATUSES = (PENDING, SENT, FAILED, SKIPPED, MERGED)
CHANNELS = ("email", "webhook")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def load_config(session: Session, camera_id: int) -> tuple[Camera, AlertConfig] | None:
    found = session.execute(
        select(Camera, User).join(User, User.id == Camera.owner_id).where(Camera.id == camera_id)
    ).first()
    if found is None:
        return None
    camera, owner = found
    row = session.scalar(select(AlertSettings).where(AlertSettings.camera_id == camera_id))
    return camera, AlertConfig.of(camera_id, owner.email, owner.time_zone, row)


def ensure_event_row(session: Session, event: AlertEvent) -> None:
    """The dataflow writes the event's row; should the alert get here first for long, a
    minimal row (the dataflow's upsert completes it) keeps the delivery's key valid."""
    if session.get(Event, event.event_id) is None:
        session.add(
            Event(
                id=event.event_id,
                camera_id=event.camera_id,
                zone_id=event.zone_id,
                type=event.kind,
                status="open",
                start_ts=event.start,
                confidence=event.confidence,
                track_ids=[],
                published_at=utcnow(),  # its record is what brought it here
            )
        )
        session.flush()


def _last_alert(session: Session, event: AlertEvent, channel: str) -> datetime | None:
    """When the latest earlier alert (not merged) of this camera, kind and channel opened."""
    return session.scalar(
        select(func.max(AlertDelivery.event_ts)).where(
            AlertDelivery.camera_id == event.camera_id,
            AlertDelivery.kind == event.kind,
            AlertDelivery.channel == channel,
            AlertDelivery.status != MERGED,
            AlertDelivery.event_id != event.event_id,
            AlertDelivery.event_ts <= event.opened_at,
        )
    )


def _merged_since(session: Session, event: AlertEvent, channel: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(func.distinct(AlertDelivery.event_id))).where(
                AlertDelivery.camera_id == event.camera_id,
                AlertDelivery.kind == event.kind,
                AlertDelivery.channel == channel,
                AlertDelivery.status == MERGED,
                AlertDelivery.event_ts > since,
                AlertDelivery.event_ts < event.opened_at,
            )
        )
        or 0
    )


@dataclass(frozen=True)
class Plan:
    planned: int  # rows written now (0: the event was planned before, e.g. before a restart)
    merged: bool


def plan_deliveries(
    session: Session, event: AlertEvent, config: AlertConfig, *, smtp_configured: bool
) -> Plan:
    """Write the event's delivery rows: pending, merged (inside a cooldown) or skipped."""
    if session.scalar(select(AlertDelivery.id).where(AlertDelivery.event_id == event.event_id)):
        return Plan(0, merged=False)
    targets: list[tuple[str, str]] = []
    if config.email_enabled:
        targets += [("email", r) for r in config.email_recipients]
    if config.webhook_url:
        targets.append(("webhook", config.webhook_url))
    merged_any = False
    rows = []
    for channel in dict.fromkeys(c for c, _ in targets):
        last = _last_alert(session, event, channel)
        merged = within_cooldown(last, event.opened_at, config.cooldown(event.kind))
        merged_any |= merged
        count = 0 if merged else _merged_since(session, event, channel, last or EPOCH)
        for _, recipient in (t for t in targets if t[0] == channel):
            status, error = (MERGED, None) if merged else (PENDING, None)
            if status == PENDING and channel == "email" and not smtp_configured:
                status, error = SKIPPED, NO_SMTP
            rows.append(
                AlertDelivery(
                    event_id=event.event_id,
                    camera_id=event.camera_id,
                    channel=channel,
                    kind=event.kind,
                    recipient=recipient,
                    status=status,
                    error=error,
                    event_ts=event.opened_at,
                    merged_count=count,
                    next_attempt_at=utcnow() if status == PENDING else None,
                    completed_at=None if status == PENDING else utcnow(),
                )
            )
    try:
        with session.begin_nested():
            session.add_all(rows)
    except IntegrityError:  # planned meanwhile by another member of the group
        return Plan(0, merged=False)
    return Plan(len(rows), merged=merged_any)


def due(session: Session, limit: int = 20) -> list[AlertDelivery]:
    return list(
        session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.status == PENDING, AlertDelivery.next_attempt_at <= utcnow())
            .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL: one sender per row
        )
    )


def next_due_in(session: Session) -> tuple[int, float | None]:
    """How many deliveries are pending, and the seconds until the next is due."""
    count, when = session.execute(
        select(func.count(AlertDelivery.id), func.min(AlertDelivery.next_attempt_at)).where(
            AlertDelivery.status == PENDING
        )
    ).one()
    wait = None if when is None else max(0.0, (when - utcnow()).total_seconds())
    return int(count), wait


def retry_delay(attempt: int, initial: float, maximum: float) -> float:
    """Seconds before try `attempt + 1`: doubling from `initial`, at most `maximum`."""
    state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]  # only the count
    state.attempt_number = attempt
    return float(wait_exponential(multiplier=initial, max=maximum)(state))


def record_result(
    row: AlertDelivery,
    error: str | None,
    *,
    permanent: bool,
    max_attempts: int,
    initial: float,
    maximum: float,
) -> None:
    now = utcnow()
    row.attempts += 1
    if error is None:
        row.status, row.error, row.completed_at, row.next_attempt_at = SENT, None, now, None
    elif permanent or row.attempts >= max_attempts:
        row.status, row.error, row.completed_at, row.next_attempt_at = FAILED, error, now, None
    else:
        row.error = error
        row.next_attempt_at = now + timedelta(seconds=retry_delay(row.attempts, initial, maximum))
