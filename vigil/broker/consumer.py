"""Read JSON records back from Vigil's topics in a consumer group (at-least-once).

Offsets are committed explicitly with `commit()` after the records were handled, so a consumer
that restarts resumes after the last record it finished. `session.timeout.ms` defaults to 6 s:
with librdkafka's 45 s default a restarted member waits ~23 s to join on Tansu.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

from confluent_kafka import Consumer, KafkaError, KafkaException, Message
from prometheus_client import Counter

from vigil.broker.config import client_config
from vigil.broker.producer import SCHEMA_VERSION_FIELD
from vigil.logs import get_logger

log = get_logger(__name__)

UNDECODABLE = Counter(
    "vigil_broker_records_undecodable",
    "Records skipped because they were not a JSON object",
    ["topic"],
)


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None  # the camera id
    value: dict[str, Any]
    timestamp_ms: int | None

    @property
    def schema_version(self) -> int | None:
        version = self.value.get(SCHEMA_VERSION_FIELD)
        return version if isinstance(version, int) else None


def _decode(msg: Message) -> Record | None:
    try:
        value = json.loads(msg.value() or b"")
    except (ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        return None
    key = msg.key()
    ts_type, ts = msg.timestamp()
    return Record(
        topic=msg.topic() or "",
        partition=msg.partition() or 0,
        offset=msg.offset() or 0,
        key=key.decode(errors="replace") if isinstance(key, bytes) else key,
        value=value,
        timestamp_ms=ts if ts_type != 0 else None,  # 0: TIMESTAMP_NOT_AVAILABLE
    )


class JsonConsumer:
    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        topics: Sequence[str],
        *,
        client_id: str = "vigil",
        auto_offset_reset: Literal["earliest", "latest"] = "earliest",
        session_timeout_ms: int = 6000,
        extra_config: Mapping[str, Any] | None = None,
    ) -> None:
        config = client_config(
            bootstrap,
            client_id,
            {
                "group.id": group_id,
                "auto.offset.reset": auto_offset_reset,  # where a group with no commit starts
                "session.timeout.ms": session_timeout_ms,
                "heartbeat.interval.ms": max(500, session_timeout_ms // 3),
                "enable.auto.commit": False,  # commit() after handling: at-least-once
                **(extra_config or {}),
            },
        )
        self.group_id = group_id
        self._consumer = Consumer(config)
        self._consumer.subscribe(list(topics))

    def poll(self, timeout: float = 1.0) -> Record | None:
        """The next record, or None if none arrived within `timeout` seconds.

        Records that are not JSON objects are logged, counted and skipped (their offset still
        advances, so one bad record cannot stall the group).
        """
        deadline = time.monotonic() + timeout
        while True:
            msg = self._consumer.poll(max(0.0, deadline - time.monotonic()))
            if msg is None:
                return None
            error = msg.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("broker_consume_error", error=error.str(), code=error.name())
            else:
                record = _decode(msg)
                if record is not None:
                    return record
                UNDECODABLE.labels(msg.topic() or "?").inc()
                log.warning(
                    "broker_record_undecodable",
                    topic=msg.topic(),
                    partition=msg.partition(),
                    offset=msg.offset(),
                )
            if time.monotonic() >= deadline:
                return None

    def consume(self, max_records: int, timeout: float) -> list[Record]:
        """Up to `max_records` records, waiting at most `timeout` seconds in total."""
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        while len(records) < max_records:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            record = self.poll(min(remaining, 1.0))
            if record is not None:
                records.append(record)
        return records

    def commit(self) -> None:
        """Synchronously commit the position after every record returned so far."""
        try:
            self._consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError._NO_OFFSET:  # nothing consumed since last commit
                raise

    def close(self) -> None:
        """Leave the group (its partitions are reassigned at once) and release the client."""
        self._consumer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
