"""`vigil alerts`: consume the events topic in a consumer group, decide per camera, write the
deliveries, commit the offset, then send what is due (retries included).

The offset of a record is committed only once its delivery rows are written, and a row is
marked sent only after the server accepted the message: a restart re-reads at most the records
after the last commit (whose rows, if written, make planning a no-op) and resends only a
message whose acceptance it never recorded (same Message-ID, so mail clients merge it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaException
from prometheus_client import Counter, Gauge
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from vigil.alerts.dispatch import Dispatcher
from vigil.alerts.rules import AlertEvent, filtered_out
from vigil.alerts.store import (
    due,
    ensure_event_row,
    load_config,
    next_due_in,
    plan_deliveries,
    retry_delay,
)
from vigil.broker.consumer import JsonConsumer, Record
from vigil.db.models import Event
from vigil.logs import get_logger
from vigil.settings import Settings

log = get_logger(__name__)

DECISIONS = Counter(
    "vigil_alert_decisions", "Opened events seen by the alert service, by decision", ["decision"]
)
PENDING = Gauge("vigil_alert_deliveries_pending", "Deliveries waiting to be sent or retried")
ERRORS = Counter("vigil_alert_service_errors", "Errors the alert service recovered from", ["what"])
SNAPSHOT_GRACE_SECONDS = 1.0
LAST_POLL = Gauge("vigil_alert_last_poll_timestamp", "When the alert service last polled")


class AlertService:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        consumer: JsonConsumer,
        dispatcher: Dispatcher,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.consumer = consumer
        self.dispatcher = dispatcher
        self.clock = clock
        self._stop = threading.Event()
        self._last_poll = clock()
        self.handled = 0

    # --- health --------------------------------------------------------------------------------
    def health(self) -> tuple[bool, dict[str, Any]]:
        idle = self.clock() - self._last_poll
        return idle < 60.0, {
            "seconds_since_poll": round(idle, 1),
            "records_handled": self.handled,
            "smtp_configured": self.dispatcher.smtp is not None,
        }

    def stop(self) -> None:
        self._stop.set()

    # --- loop ----------------------------------------------------------------------------------
    def run(self) -> None:
        log.info("alerts_started", smtp_configured=self.dispatcher.smtp is not None)
        try:
            while not self._stop.is_set():
                wait = self.send_due()
                record = self.consumer.poll(min(wait, 0.5))
                self._last_poll = self.clock()
                LAST_POLL.set_to_current_time()
                if record is not None and self._handle_until_done(record):
                    self._commit()  # after the record's rows are written
                    self.handled += 1
        finally:
            self.consumer.close()
            log.info("alerts_stopped", records_handled=self.handled)

    def _handle_until_done(self, record: Record) -> bool:
        """Handle `record`, retrying while the database is away: the consumer's position is
        past it already, so moving on would lose it. False if stopped meanwhile."""
        failures = 0
        while not self._stop.is_set():
            try:
                self.handle(record)
                return True
            except SQLAlchemyError as exc:
                failures += 1
                delay = retry_delay(failures, 1.0, 30.0)
                ERRORS.labels("database").inc()
                log.error(
                    "alert_record_retry",
                    error=str(exc).splitlines()[0],
                    offset=record.offset,
                    retry_in_seconds=delay,
                )
                self._stop.wait(delay)
        return False

    def _commit(self) -> None:
        try:
            self.consumer.commit()
        except KafkaException as exc:  # e.g. a rebalance: the record is read again, a no-op
            ERRORS.labels("commit").inc()
            log.warning("alert_commit_failed", error=str(exc))

    def handle(self, record: Record) -> None:
        event = AlertEvent.from_record(record.value)
        if event is None:
            return
        with self.sessions.begin() as session:
            loaded = load_config(session, event.camera_id)
            if loaded is None:
                DECISIONS.labels("camera unknown").inc()
                return
            _, config = loaded
            reason = filtered_out(config, event)
            if reason is not None:
                DECISIONS.labels(reason).inc()
                log.info("alert_not_due", event_id=event.event_id, kind=event.kind, reason=reason)
                return
        self._wait_for_event(event)
        with self.sessions.begin() as session:
            ensure_event_row(session, event)
            plan = plan_deliveries(
                session, event, config, smtp_configured=self.dispatcher.smtp is not None
            )
        decision = "merged" if plan.merged else ("alert" if plan.planned else "planned before")
        DECISIONS.labels(decision).inc()
        log.info(
            "alert_planned",
            event_id=event.event_id,
            camera_id=str(event.camera_id),
            kind=event.kind,
            decision=decision,
            deliveries=plan.planned,
        )

    def _wait_for_event(self, event: AlertEvent) -> None:
        """Give the dataflow's row, and then its snapshot key, a moment to land."""
        deadline = self.clock() + self.settings.alerts_event_wait_seconds
        while not self._stop.is_set():
            with self.sessions() as session:
                row = session.get(Event, event.event_id)
                if row is not None and row.snapshot_key is not None:
                    return
            if row is not None:  # written without a picture: one may follow in the next write
                deadline = min(deadline, self.clock() + SNAPSHOT_GRACE_SECONDS)
            if self.clock() >= deadline:
                if row is None:
                    log.warning("alert_event_row_missing", event_id=event.event_id)
                return
            time.sleep(0.05)

    def send_due(self) -> float:
        """Send every delivery that is due; returns the seconds until the next one is."""
        try:
            return self._send_due()
        except SQLAlchemyError as exc:
            ERRORS.labels("database").inc()
            log.error("alert_send_loop_failed", error=str(exc).splitlines()[0])
            self._stop.wait(2.0)
            return 0.5

    def _send_due(self) -> float:
        while not self._stop.is_set():
            with self.sessions.begin() as session:
                rows = due(session, limit=1)
                if not rows:
                    pending, wait = next_due_in(session)
                    PENDING.set(pending)
                    return 0.5 if wait is None else min(wait, 0.5)
                self.dispatcher.attempt(session, rows[0])
        return 0.0
