"""The database and object store side of a dataflow partition.

For each output, in order: its JPEGs (event snapshots, face thumbnails) go to the object store
first, so a row never points at a missing image; then one transaction upserts its events
(by their deterministic ids, source='live') and inserts its face detections (by their
deterministic ids, skipping those already there), each with its identity (vigil.faces.store:
live assignment; faces of cameras with face recognition off are not stored), with the face
events assignment opens. Once committed, the 'open' records of the events opened (by the rules
or by assignment) go to the events topic through the outbox (vigil.streaming.outbox), which
also publishes, at start and periodically, any event a dead process committed but never got
acknowledged. Every write is idempotent, so a retry or a recovery replay repeats nothing.
While a store is unavailable the work waits (bounded, and part of the recovery snapshot) and is
retried with backoff; work for a camera deleted meanwhile is refused by the database and
dropped with a log line and a count.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from vigil.db.session import session_factory, session_scope
from vigil.events.store import upsert_event
from vigil.faces.store import LiveFaces, LiveResult
from vigil.logs import get_logger
from vigil.records.convert import Row
from vigil.retention.journal import drain
from vigil.storage import ObjectStore, ObjectStoreError
from vigil.streaming.metrics import SINK_ERRORS, SINK_LOST, SINK_PENDING
from vigil.streaming.outbox import EventOutbox
from vigil.streaming.outputs import Blob, CameraOutput, EventWrite, Heartbeat
from vigil.streaming.retry import Backoff

log = get_logger(__name__)

STORE_ERRORS = (SQLAlchemyError, BotoCoreError, ClientError, ObjectStoreError, OSError)


@dataclass(frozen=True)
class StoreWork:
    camera_id: int
    blobs: tuple[Blob, ...]
    events: tuple[EventWrite, ...]
    faces: tuple[Row, ...]

    @classmethod
    def of(cls, output: CameraOutput) -> StoreWork:
        return cls(
            output.camera_id,
            tuple(output.blobs),
            tuple(output.event_writes),
            tuple(output.faces),
        )

    @property
    def opened(self) -> list[Row]:
        """The 'open' records of the rules' events this work opens."""
        return [write.opened for write in self.events if write.opened is not None]


def apply(session: Session, works: Iterable[StoreWork], faces: LiveFaces) -> LiveResult:
    """The database part of `works`, in one session (the caller commits); returns what the
    faces became (its thumbnails not kept, face recognition off, to drain after the commit)."""
    works = list(works)
    for work in works:
        for write in work.events:
            upsert_event(
                session,
                write.event,
                source="live",
                rules_fingerprint=write.rules_fingerprint,
                snapshot_key=write.snapshot_key,
            )
    return faces.insert(session, (row for work in works for row in work.faces))


class StoreOutput:
    def __init__(
        self,
        database_url: str,
        object_store: Callable[[], ObjectStore],
        partition: str,
        *,
        resume: list[StoreWork] | None = None,
        max_pending: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        face_reload_seconds: float = 60.0,
        face_visit_gap_seconds: float = 30.0,
        outbox: EventOutbox | None = None,
    ) -> None:
        self.database_url = database_url
        self.faces = LiveFaces(
            reload_seconds=face_reload_seconds,
            visit_gap_seconds=face_visit_gap_seconds,
            clock=clock,
        )
        self.outbox = outbox
        self._make_store = object_store
        self._store: ObjectStore | None = None
        self.partition = partition
        self.max_pending = max_pending
        self.pending: deque[StoreWork] = deque(resume or ())
        self.backoff = Backoff(clock=clock)

    def write(self, items: Iterable[CameraOutput | Heartbeat]) -> None:
        for item in items:
            if isinstance(item, CameraOutput) and item.has_store_work:
                self.pending.append(StoreWork.of(item))
        self._bound()
        if self.pending and self.backoff.ready():
            self._drain()
        if self.outbox is not None and not self.backoff.failing:
            self._tick_outbox(self.outbox)
        SINK_PENDING.labels("store", self.partition).set(len(self.pending))

    def _bound(self) -> None:
        overflow = len(self.pending) - self.max_pending
        if overflow > 0:
            for _ in range(overflow):
                self.pending.popleft()
            SINK_LOST.labels("store").inc(overflow)
            log.error(
                "store_backlog_overflow",
                partition=self.partition,
                dropped=overflow,
                max_pending=self.max_pending,
            )

    def _drain(self) -> bool:
        works = list(self.pending)
        try:
            if self._store is None:
                self._store = self._make_store()
            for work in works:
                for blob in work.blobs:
                    self._store.put_bytes(blob.key, blob.data, content_type=blob.content_type)
            try:
                with session_scope(self.database_url) as session:
                    results = [(works, apply(session, works, self.faces))]
            except IntegrityError:
                self.faces.reset()
                results = self._one_by_one(works)
            dropped = [i for _, r in results for i in r.thumbnails_dropped]
            for committed, result in results:
                result.count()
                if self.outbox is not None:
                    opened = [row for work in committed for row in work.opened]
                    self.outbox.publish(opened + result.events)
            if dropped:
                self._drop_thumbnails(dropped)
        except STORE_ERRORS as exc:
            self.faces.reset()  # its identities may be those of a rolled-back transaction
            SINK_ERRORS.labels("store").inc()
            delay = self.backoff.failed()
            log.error(
                "store_write_failed",
                partition=self.partition,
                error=str(exc).splitlines()[0],
                pending=len(self.pending),
                retry_in_seconds=round(delay, 1),
            )
            return False
        for _ in works:
            self.pending.popleft()
        if self.backoff.succeeded():
            log.info("store_write_recovered", partition=self.partition)
        return True

    def _drop_thumbnails(self, journal_ids: list[int]) -> None:
        """Thumbnails of faces not kept (recognition off): the rows are committed, so a failure
        here leaves the journal entries for the next retention sweep, not a retry."""
        assert self._store is not None
        try:
            drain(session_factory(self.database_url), self._store, ids=journal_ids)
        except STORE_ERRORS as exc:
            log.warning("face_thumbnails_left", error=str(exc).splitlines()[0])

    def _tick_outbox(self, outbox: EventOutbox) -> None:
        try:
            outbox.tick()
        except STORE_ERRORS as exc:  # the outbox keeps what it has not done for the next tick
            SINK_ERRORS.labels("outbox").inc()
            log.warning(
                "outbox_tick_failed", partition=self.partition, error=str(exc).splitlines()[0]
            )

    def _one_by_one(self, works: list[StoreWork]) -> list[tuple[list[StoreWork], LiveResult]]:
        """A batch was refused: apply each output alone, dropping those the database refuses
        (their camera was deleted meanwhile)."""
        results: list[tuple[list[StoreWork], LiveResult]] = []
        for work in works:
            try:
                with session_scope(self.database_url) as session:
                    results.append(([work], apply(session, [work], self.faces)))
            except IntegrityError as exc:
                self.faces.reset()
                SINK_LOST.labels("store").inc()
                log.error(
                    "store_write_refused",
                    camera_id=str(work.camera_id),
                    events=len(work.events),
                    faces=len(work.faces),
                    error=str(exc.orig).splitlines()[0],
                )
        return results

    def snapshot(self) -> list[StoreWork]:
        return list(self.pending)

    def close(self, attempts: int = 3) -> None:
        for attempt in range(attempts):
            if not self.pending or self._drain():
                return
            time.sleep(min(2.0**attempt, 10.0))
        SINK_LOST.labels("store").inc(len(self.pending))
        log.error(
            "store_writes_not_done",
            partition=self.partition,
            pending=len(self.pending),
            hint="kept in the recovery snapshot: a restart with the same recovery dir retries them",
        )
