"""The lake side of one dataflow partition: a LakeWriter per record type, retried on failure.

While the lake is unwritable (disk full, a lost mount) rows wait in memory, the failure is
logged and counted, and writing is retried with backoff; nothing is dropped. The rows not yet
in a file are the partition's recovery snapshot, so a restarted dataflow writes them then
(the writer skips rows an earlier run already wrote).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from vigil.lake.store import LakeRoot
from vigil.lake.writer import LakeWriter
from vigil.logs import get_logger
from vigil.records.convert import Row
from vigil.records.schemas import RECORD_TYPES
from vigil.streaming.metrics import SINK_ERRORS, SINK_LOST, SINK_PENDING
from vigil.streaming.outputs import CameraOutput, Heartbeat
from vigil.streaming.retry import Backoff

log = get_logger(__name__)

LakeSnapshot = dict[str, list[Row]]


class LakeOutput:
    def __init__(
        self,
        root: LakeRoot,
        partition: str,
        *,
        roll_seconds: float,
        roll_rows: int,
        resume: LakeSnapshot | None = None,
        clock: Callable[[], float] = time.monotonic,
        backoff: Backoff | None = None,
    ) -> None:
        self.partition = partition
        self.writers = {
            name: LakeWriter(
                root, record, roll_seconds=roll_seconds, roll_rows=roll_rows, clock=clock
            )
            for name, record in RECORD_TYPES.items()
        }
        unknown = set(resume or {}) - set(self.writers)
        if unknown:
            raise ValueError(f"lake snapshot has unknown tables {sorted(unknown)}")
        # Rows of the snapshot go in with the next write (which may roll them at once).
        self.pending: dict[str, list[Row]] = {
            name: list((resume or {}).get(name, ())) for name in self.writers
        }
        self.backoff = backoff or Backoff(clock=clock)

    def write(self, items: Iterable[CameraOutput | Heartbeat]) -> None:
        for item in items:
            if isinstance(item, CameraOutput):
                for record, row in item.rows():
                    self.pending[record.name].append(row)
        if self.backoff.ready():
            self._push()
        SINK_PENDING.labels("lake", self.partition).set(self.buffered_rows)

    def _push(self) -> bool:
        try:
            for name, writer in self.writers.items():
                rows, self.pending[name] = self.pending[name], []
                writer.add(rows)  # a failed roll keeps the rows in the writer's buffer
                writer.roll()
        except OSError as exc:
            SINK_ERRORS.labels("lake").inc()
            delay = self.backoff.failed()
            log.error(
                "lake_write_failed",
                partition=self.partition,
                error=str(exc),
                buffered_rows=self.buffered_rows,
                retry_in_seconds=round(delay, 1),
            )
            return False
        if self.backoff.succeeded():
            log.info("lake_write_recovered", partition=self.partition)
        return True

    @property
    def buffered_rows(self) -> int:
        return sum(len(rows) for rows in self.pending.values()) + sum(
            w.buffered_rows for w in self.writers.values()
        )

    def snapshot(self) -> LakeSnapshot:
        return {
            name: writer.snapshot() + self.pending[name] for name, writer in self.writers.items()
        }

    def close(self, attempts: int = 5) -> None:
        """Write everything buffered (a clean stop), retrying a few times before giving up."""
        for attempt in range(attempts):
            try:
                for name, writer in self.writers.items():
                    rows, self.pending[name] = self.pending[name], []
                    writer.add(rows)
                    writer.flush()
                return
            except OSError as exc:
                log.error("lake_flush_failed", partition=self.partition, error=str(exc))
                if attempt + 1 < attempts:
                    time.sleep(min(2.0**attempt, 10.0))
        lost = self.buffered_rows
        SINK_LOST.labels("lake").inc(lost)
        log.error(
            "lake_rows_not_written",
            partition=self.partition,
            rows=lost,
            hint="kept in the recovery snapshot: a restart with the same recovery dir writes "
            "them (without recovery they are lost)",
        )
