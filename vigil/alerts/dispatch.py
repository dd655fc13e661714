"""Send one delivery row: build its message from the database (event, camera, zone, the
snapshot from the object store), send it over its channel, and record the outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from prometheus_client import Counter, Histogram
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.alerts.message import AlertContent, build_email, webhook_body
from vigil.alerts.senders import DeliveryError, SmtpSender, WebhookSender, safe_url
from vigil.alerts.store import SENT, load_config, record_result
from vigil.db.base import utcnow
from vigil.db.models import AlertDelivery, Camera, Event, Face, Zone
from vigil.logs import get_logger
from vigil.settings import Settings
from vigil.storage import ObjectStore, ObjectStoreError

log = get_logger(__name__)

ATTEMPTS = Counter(
    "vigil_alert_attempts", "Alert send attempts by channel and outcome", ["channel", "outcome"]
)
DELIVERED = Counter(
    "vigil_alert_deliveries_finished",
    "Deliveries finished, by channel and status",
    ["channel", "status"],
)
SEND_SECONDS = Histogram("vigil_alert_send_seconds", "Time to hand one message over", ["channel"])


def event_link(settings: Settings, event_id: str) -> str:
    return f"{settings.resolved_dashboard_url}/events?event={event_id}"


@dataclass(frozen=True)
class Prepared:
    content: AlertContent
    picture: bytes | None
    webhook_secret: str | None


@dataclass
class Dispatcher:
    settings: Settings
    smtp: SmtpSender | None
    webhook: WebhookSender
    object_store: Callable[[], ObjectStore]

    @classmethod
    def from_settings(
        cls, settings: Settings, object_store: Callable[[], ObjectStore]
    ) -> Dispatcher:
        return cls(
            settings,
            SmtpSender.from_settings(settings),
            WebhookSender(settings.alerts_webhook_timeout_seconds),
            object_store,
        )

    def prepare(self, session: Session, row: AlertDelivery) -> Prepared:
        loaded = load_config(session, row.camera_id)
        if loaded is None:
            raise DeliveryError("camera deleted", permanent=True)
        camera, config = loaded
        secret = config.webhook_secret
        event = session.get(Event, row.event_id) if row.event_id else None
        if event is None:
            test = AlertContent(camera.id, camera.name, "test", utcnow(), config.time_zone)
            return Prepared(test, self._test_picture(session, camera), secret)
        zone = session.get(Zone, event.zone_id) if event.zone_id is not None else None
        face = session.get(Face, event.face_id) if event.face_id is not None else None
        content = AlertContent(
            camera_id=camera.id,
            camera_name=camera.name,
            kind=row.kind,
            when=row.event_ts or event.start_ts,
            time_zone=config.time_zone,
            event_id=event.id,
            confidence=event.confidence,
            zone_name=zone.name if zone else None,
            people=None if face is not None else len(event.track_ids or ()) or None,
            link=event_link(self.settings, event.id),
            merged_count=row.merged_count,
            label=face.label if face is not None and face.named else None,
            face_id=face.id if face is not None else None,
        )
        return Prepared(content, self._picture(event.snapshot_key), secret)

    def _picture(self, key: str | None) -> bytes | None:
        if not key:
            return None
        try:
            return self.object_store().get_bytes(key)
        except (ObjectStoreError, BotoCoreError, ClientError, OSError) as exc:
            log.warning("alert_snapshot_unavailable", key=key, error=str(exc).splitlines()[0])
            return None

    def _test_picture(self, session: Session, camera: Camera) -> bytes | None:
        latest = session.scalar(
            select(Event.snapshot_key)
            .where(Event.camera_id == camera.id, Event.snapshot_key.is_not(None))
            .order_by(Event.start_ts.desc())
            .limit(1)
        )
        return self._picture(latest)

    def attempt(
        self, session: Session, row: AlertDelivery, *, max_attempts: int | None = None
    ) -> None:
        """One try of `row`; its status, attempts and next try are updated (not committed)."""
        error: str | None = None
        permanent = False
        try:
            with SEND_SECONDS.labels(row.channel).time():
                self._send(row, self.prepare(session, row))
        except DeliveryError as exc:
            error, permanent = str(exc), exc.permanent
        ATTEMPTS.labels(row.channel, "ok" if error is None else "error").inc()
        record_result(
            row,
            error,
            permanent=permanent,
            max_attempts=max_attempts or self.settings.alerts_max_attempts,
            initial=self.settings.alerts_retry_initial_seconds,
            maximum=self.settings.alerts_retry_max_seconds,
        )
        if row.status != "pending":
            DELIVERED.labels(row.channel, row.status).inc()
        recipient = row.recipient if row.channel == "email" else safe_url(row.recipient)
        if error is None:
            log.info(
                "alert_sent",
                delivery_id=row.id,
                event_id=row.event_id,
                channel=row.channel,
                recipient=recipient,
                status=SENT,
            )
        else:
            log.warning(
                "alert_send_failed",
                delivery_id=row.id,
                event_id=row.event_id,
                channel=row.channel,
                recipient=recipient,
                error=error,
                attempts=row.attempts,
                status=row.status,
            )

    def _send(self, row: AlertDelivery, prepared: Prepared) -> None:
        content = prepared.content
        if row.channel == "webhook":
            body = webhook_body(content, row.id)
            self.webhook.send(row.recipient, body, prepared.webhook_secret, row.id)
            return
        if self.smtp is None:
            raise DeliveryError("no SMTP server configured", permanent=True)
        message = build_email(
            content,
            sender=self.smtp.sender,
            recipient=row.recipient,
            snapshot=prepared.picture,
            delivery_id=row.id,
        )
        self.smtp.send(message)
