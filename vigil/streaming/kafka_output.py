"""The Kafka side of a dataflow worker: every row to its record type's topic, keyed by camera,
except the events' 'open' records: the store sink publishes those once the event row is
committed (vigil.streaming.outbox), so an alert never goes out for an event that isn't stored
and a stored event is never left unannounced.

The idempotent JsonProducer keeps records in its bounded buffer while the broker is down and
delivers them when it is back (failed, lost and delivered counts in its stats, the log and
Prometheus). Topics are created in the background, retried with backoff until the broker
answers, so a broker that is down at start delays nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from confluent_kafka import KafkaException

from vigil.broker import JsonProducer, Topics, ensure_topics
from vigil.logs import get_logger
from vigil.records.schemas import EVENTS, SCHEMA_VERSION
from vigil.streaming.metrics import SINK_PENDING
from vigil.streaming.outputs import CameraOutput, Heartbeat
from vigil.streaming.retry import Backoff

log = get_logger(__name__)


class KafkaOutput:
    def __init__(
        self,
        bootstrap: str,
        topics: Topics,
        *,
        worker: int,
        partitions: int = 3,
        message_timeout_ms: int = 300_000,
        buffer_max_messages: int = 100_000,
    ) -> None:
        self.topics = topics
        self.worker = str(worker)
        self.producer = JsonProducer(
            bootstrap,
            client_id=f"vigil-dataflow-{worker}",
            message_timeout_ms=message_timeout_ms,
            buffer_max_messages=buffer_max_messages,
        )
        self._stop = threading.Event()
        self._topics_ready = threading.Event()
        self._ensurer = threading.Thread(
            target=self._ensure_topics,
            args=(bootstrap, partitions),
            daemon=True,
            name="kafka-topics",
        )
        self._ensurer.start()

    def _ensure_topics(self, bootstrap: str, partitions: int) -> None:
        backoff = Backoff(initial=1.0, maximum=30.0)
        while not self._stop.is_set():
            try:
                ensure_topics(bootstrap, self.topics.all(), partitions=partitions, timeout=5.0)
            except (KafkaException, TimeoutError) as exc:
                delay = backoff.failed()
                if backoff.failures == 1:
                    log.error("kafka_topics_unavailable", error=str(exc), retry="with backoff")
                self._stop.wait(delay)
                continue
            if backoff.failing:
                log.info("kafka_topics_ready", after_failures=backoff.failures)
            self._topics_ready.set()
            return

    def write(self, items: Iterable[CameraOutput | Heartbeat]) -> None:
        for item in items:
            if not isinstance(item, CameraOutput):
                continue
            for record, row in item.rows():
                if record is EVENTS and row["change"] == "open":
                    continue  # the outbox's
                self.producer.send(
                    self.topics.name(record.topic),
                    item.camera_id,
                    row,
                    schema_version=SCHEMA_VERSION,
                )
        self.producer.poll(0)
        SINK_PENDING.labels("kafka", self.worker).set(len(self.producer))

    def close(self, timeout: float = 30.0) -> int:
        """Deliver what is buffered (up to `timeout` s); returns the records still undelivered."""
        self._stop.set()
        remaining = self.producer.close(timeout)
        SINK_PENDING.labels("kafka", self.worker).set(remaining)
        stats = self.producer.stats
        log.info(
            "kafka_output_closed",
            worker=self.worker,
            sent=stats.sent,
            delivered=stats.delivered,
            failed=stats.failed,
            lost=stats.lost,
            undelivered=remaining,
        )
        return remaining
