"""Producer and consumer against a real in-memory Tansu."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict

import pytest
from confluent_kafka import Producer
from prometheus_client import REGISTRY

from vigil.broker import JsonConsumer, JsonProducer, ensure_topics
from vigil.embedded import free_port


def _counter(name: str, topic: str) -> float:
    return REGISTRY.get_sample_value(f"{name}_total", {"topic": topic}) or 0.0


@pytest.fixture
def topic(tansu: str) -> str:
    name = f"test.{uuid.uuid4().hex[:10]}"
    ensure_topics(tansu, [name], partitions=3)
    return name


def test_round_trip_keyed_by_camera_with_schema_version(tansu: str, topic: str) -> None:
    delivered_before = _counter("vigil_broker_records_delivered", topic)
    with JsonProducer(tansu, linger_ms=5) as producer:
        for seq in range(30):
            camera = f"cam-{seq % 3}"
            assert producer.send(topic, camera, {"seq": seq, "label": "person"}, schema_version=2)
        assert producer.flush(10) == 0
    assert (producer.stats.sent, producer.stats.delivered, producer.stats.failed) == (30, 30, 0)
    assert _counter("vigil_broker_records_delivered", topic) - delivered_before == 30

    with JsonConsumer(tansu, f"g-{uuid.uuid4().hex[:6]}", [topic]) as consumer:
        records = consumer.consume(30, timeout=30)
    assert len(records) == 30
    by_camera: dict[str | None, list[int]] = defaultdict(list)
    partitions: dict[str | None, set[int]] = defaultdict(set)
    for record in records:
        assert record.schema_version == 2
        assert record.value["label"] == "person"
        assert record.timestamp_ms is not None
        by_camera[record.key].append(record.value["seq"])
        partitions[record.key].add(record.partition)
    assert set(by_camera) == {"cam-0", "cam-1", "cam-2"}
    for key, seqs in by_camera.items():
        assert seqs == sorted(seqs)  # one camera → one partition → in order
        assert len(partitions[key]) == 1


def test_value_must_agree_with_schema_version(tansu: str, topic: str) -> None:
    with JsonProducer(tansu) as producer:
        with pytest.raises(ValueError, match="schema_version"):
            producer.send(topic, "cam", {"schema_version": 1}, schema_version=2)
        with pytest.raises(ValueError, match="not JSON compliant"):
            producer.send(topic, "cam", {"score": math.nan}, schema_version=1)
        assert producer.send(topic, 7, {"schema_version": 1, "ok": True}, schema_version=1)
        assert producer.flush(10) == 0
    assert producer.stats.sent == 1


def test_group_resumes_from_committed_offsets(tansu: str, topic: str) -> None:
    group = f"g-{uuid.uuid4().hex[:6]}"
    with JsonProducer(tansu) as producer:
        for seq in range(10):
            producer.send(topic, f"cam-{seq % 2}", {"seq": seq}, schema_version=1)
        assert producer.flush(10) == 0

    with JsonConsumer(tansu, group, [topic]) as first:
        seen = first.consume(10, timeout=30)
        first.commit()
    assert sorted(r.value["seq"] for r in seen) == list(range(10))

    with JsonProducer(tansu) as producer:
        for seq in range(10, 15):
            producer.send(topic, f"cam-{seq % 2}", {"seq": seq}, schema_version=1)
        assert producer.flush(10) == 0

    with JsonConsumer(tansu, group, [topic]) as second:
        rest = second.consume(5, timeout=30)
        assert second.consume(1, timeout=1) == []  # nothing re-delivered
    assert sorted(r.value["seq"] for r in rest) == list(range(10, 15))


def test_undecodable_records_are_skipped_and_counted(tansu: str, topic: str) -> None:
    raw = Producer({"bootstrap.servers": tansu})
    raw.produce(topic, key=b"cam", value=b"not json")
    raw.produce(topic, key=b"cam", value=b"[1, 2]")
    raw.flush(10)
    with JsonProducer(tansu) as producer:
        producer.send(topic, "cam", {"ok": 1}, schema_version=1)
    before = _counter("vigil_broker_records_undecodable", topic)
    with JsonConsumer(tansu, f"g-{uuid.uuid4().hex[:6]}", [topic]) as consumer:
        records = consumer.consume(1, timeout=30)  # the two bad ones come first: skipped
    assert [r.value for r in records] == [{"schema_version": 1, "ok": 1}]
    assert _counter("vigil_broker_records_undecodable", topic) - before == 2


def test_undeliverable_records_are_counted_as_failed() -> None:
    topic = "nowhere.detections"
    before = _counter("vigil_broker_records_failed", topic)
    producer = JsonProducer(f"127.0.0.1:{free_port()}", message_timeout_ms=1000)  # no broker
    for seq in range(3):
        assert producer.send(topic, "cam", {"seq": seq}, schema_version=1)
    assert producer.flush(10) == 0  # nothing left: each record has an outcome
    assert (producer.stats.delivered, producer.stats.failed) == (0, 3)
    assert _counter("vigil_broker_records_failed", topic) - before == 3
