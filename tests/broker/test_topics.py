"""Topic names and idempotent topic creation on a real Tansu."""

from __future__ import annotations

import uuid

import pytest

from vigil.broker import TopicKind, Topics, bootstrap_from_settings, ensure_topics, list_topics
from vigil.settings import Settings


def test_topic_names_come_from_one_place() -> None:
    topics = Topics("site1.")
    assert topics.detections == "site1.detections"
    assert topics.camera_health == "site1.camera_health"
    assert topics.name(TopicKind.EVENTS) == topics.events == "site1.events"
    assert topics.all() == [
        "site1.detections",
        "site1.faces",
        "site1.motion",
        "site1.events",
        "site1.camera_health",
    ]
    settings = Settings(_env_file=None, kafka_topic_prefix="x-")  # type: ignore[call-arg]
    assert Topics.from_settings(settings).faces == "x-faces"
    assert Topics().motion == "vigil.motion"


@pytest.mark.parametrize("prefix", ["has space.", "slash/", "ümlaut."])
def test_invalid_prefix_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="invalid Kafka topic prefix"):
        Topics(prefix)


def test_ensure_topics_is_idempotent(tansu: str) -> None:
    topics = Topics(f"t{uuid.uuid4().hex[:8]}.")
    created = ensure_topics(tansu, topics.all(), partitions=3)
    assert sorted(created) == sorted(topics.all())
    assert ensure_topics(tansu, topics.all(), partitions=3) == []
    existing = list_topics(tansu)
    assert {name: existing[name] for name in topics.all()} == dict.fromkeys(topics.all(), 3)
    # Asking for more partitions later does not repartition (keys would move).
    assert ensure_topics(tansu, [topics.events], partitions=6) == []
    assert list_topics(tansu)[topics.events] == 3


def test_bootstrap_from_settings() -> None:
    embedded = Settings(_env_file=None, kafka_embedded_port=19092)  # type: ignore[call-arg]
    assert bootstrap_from_settings(embedded) == "127.0.0.1:19092"
    external = Settings(_env_file=None, kafka_bootstrap="kafka-1:9092,kafka-2:9092")  # type: ignore[call-arg]
    assert bootstrap_from_settings(external) == "kafka-1:9092,kafka-2:9092"
