"""An idempotent JSON producer keyed by camera id, which accounts for every record.

Each record ends in exactly one of: delivered (acknowledged by all in-sync replicas), failed (the
broker refused it, or it was not acknowledged within `message.timeout.ms`) or lost (the local
buffer was full when it was sent). All three are counted (per instance and in Prometheus) and
failures and losses are logged, so nothing disappears silently. While the broker is down,
librdkafka keeps records in its bounded buffer and retries them until `message.timeout.ms`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from confluent_kafka import KafkaError, Message, Producer
from prometheus_client import Counter

from vigil.broker.config import bootstrap_from_settings, client_config
from vigil.logs import get_logger
from vigil.settings import Settings

log = get_logger(__name__)

SCHEMA_VERSION_FIELD = "schema_version"

DELIVERED = Counter(
    "vigil_broker_records_delivered", "Records acknowledged by the broker", ["topic"]
)
FAILED = Counter(
    "vigil_broker_records_failed",
    "Records refused by the broker or not acknowledged within message.timeout.ms",
    ["topic"],
)
LOST = Counter(
    "vigil_broker_records_lost", "Records refused because the local buffer was full", ["topic"]
)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_value(value: Mapping[str, Any], schema_version: int) -> bytes:
    """The record body: `value` as a JSON object carrying its `schema_version`."""
    existing = value.get(SCHEMA_VERSION_FIELD, schema_version)
    if existing != schema_version:
        raise ValueError(f"value says schema_version={existing}, send() says {schema_version}")
    body = {SCHEMA_VERSION_FIELD: schema_version, **value}
    # allow_nan=False: NaN/Infinity are not JSON and would break strict consumers downstream.
    return json.dumps(body, separators=(",", ":"), default=_json_default, allow_nan=False).encode()


@dataclass
class ProducerStats:
    sent: int = 0  # accepted into the local buffer
    delivered: int = 0
    failed: int = 0
    lost: int = 0  # never buffered: the buffer was full


class _Reporter:
    """Logs failures at most every `interval` seconds, with the count since the last line."""

    def __init__(self, event: str, interval: float = 10.0) -> None:
        self.event = event
        self.interval = interval
        self.pending = 0
        self.last = 0.0
        self.detail: dict[str, Any] = {}

    def note(self, **detail: Any) -> None:
        self.pending += 1
        self.detail = detail
        self.report(force=False)

    def report(self, *, force: bool) -> None:
        now = time.monotonic()
        if self.pending and (force or now - self.last >= self.interval):
            log.error(self.event, count=self.pending, **self.detail)
            self.pending, self.last = 0, now


class JsonProducer:
    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "vigil",
        linger_ms: int = 20,
        message_timeout_ms: int = 300_000,
        buffer_max_messages: int = 100_000,
        buffer_max_kbytes: int = 256 * 1024,
        extra_config: Mapping[str, Any] | None = None,
    ) -> None:
        config = client_config(
            bootstrap,
            client_id,
            {
                "enable.idempotence": True,  # broker-side dedup of retries, per-partition order
                "acks": "all",
                "linger.ms": linger_ms,
                "message.timeout.ms": message_timeout_ms,  # how long records wait for a broker
                "queue.buffering.max.messages": buffer_max_messages,
                "queue.buffering.max.kbytes": buffer_max_kbytes,
                **(extra_config or {}),
            },
        )
        self._producer = Producer(config)
        self.stats = ProducerStats()
        self._lock = threading.Lock()  # delivery callbacks run in whichever thread polls
        self._failures = _Reporter("broker_records_failed")
        self._losses = _Reporter("broker_records_lost")

    @classmethod
    def from_settings(cls, settings: Settings, *, client_id: str = "vigil") -> JsonProducer:
        return cls(bootstrap_from_settings(settings), client_id=client_id)

    def send(
        self,
        topic: str,
        camera_id: str | int,
        value: Mapping[str, Any],
        *,
        schema_version: int,
        timestamp_ms: int | None = None,
        on_result: Callable[[bool], None] | None = None,
    ) -> bool:
        """Queue one record, keyed by camera (one camera → one partition → ordered).

        Returns False if the local buffer is full: the record is counted as lost and reported.
        `on_result(delivered)` is called once the record is delivered or failed (while polling).
        """
        payload = encode_value(value, schema_version)
        key = str(camera_id).encode()
        callback = self._on_delivery if on_result is None else partial(self._tell, on_result)
        for attempt in (1, 2):
            try:
                self._producer.produce(
                    topic,
                    value=payload,
                    key=key,
                    timestamp=timestamp_ms or 0,  # 0: librdkafka stamps the current time
                    on_delivery=callback,
                )
            except BufferError:
                if attempt == 1:
                    self._producer.poll(0)  # serve callbacks, which may free buffer space
                    continue
                LOST.labels(topic).inc()
                with self._lock:
                    self.stats.lost += 1
                    self._losses.note(topic=topic, camera_id=str(camera_id), total=self.stats.lost)
                return False
            break
        with self._lock:
            self.stats.sent += 1
        self._producer.poll(0)
        return True

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        topic = msg.topic() or "?"
        if err is None:
            with self._lock:
                self.stats.delivered += 1
            DELIVERED.labels(topic).inc()
            return
        FAILED.labels(topic).inc()
        if err.fatal():  # e.g. an idempotence invariant broken: this producer is unusable
            log.critical("broker_producer_fatal", error=err.str(), code=err.name())
        key = msg.key()
        with self._lock:
            self.stats.failed += 1
            self._failures.note(
                topic=topic,
                camera_id=key.decode(errors="replace") if isinstance(key, bytes) else key,
                error=err.name(),
                reason=err.str(),
                total=self.stats.failed,
            )

    def _tell(
        self, on_result: Callable[[bool], None], err: KafkaError | None, msg: Message
    ) -> None:
        self._on_delivery(err, msg)
        on_result(err is None)

    def poll(self, timeout: float = 0.0) -> int:
        """Serve delivery callbacks; returns how many ran."""
        return self._producer.poll(timeout)

    def __len__(self) -> int:
        """Records buffered and not yet delivered or failed."""
        return len(self._producer)

    def flush(self, timeout: float = 10.0) -> int:
        """Wait up to `timeout` s for buffered records; returns how many are still undelivered."""
        remaining = self._producer.flush(timeout)
        with self._lock:
            self._failures.report(force=True)
            self._losses.report(force=True)
        if remaining:
            log.warning("broker_flush_incomplete", undelivered=remaining, timeout=timeout)
        return remaining

    def close(self, timeout: float = 10.0) -> int:
        """Flush; records still undelivered after `timeout` are reported and returned."""
        return self.flush(timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
