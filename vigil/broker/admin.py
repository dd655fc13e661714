"""Topic administration: make sure Vigil's topics exist (idempotent) and probe a broker."""

from __future__ import annotations

import time
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from vigil.broker.config import client_config
from vigil.logs import get_logger

log = get_logger(__name__)


def admin_client(bootstrap: str, client_id: str = "vigil-admin") -> AdminClient:
    return AdminClient(client_config(bootstrap, client_id))


def list_topics(bootstrap: str, timeout: float = 10.0) -> dict[str, int]:
    """Topic name → partition count (internal `__` topics excluded)."""
    metadata = admin_client(bootstrap).list_topics(timeout=timeout)
    return {
        name: len(topic.partitions)
        for name, topic in metadata.topics.items()
        if not name.startswith("__") and topic.error is None
    }


def broker_ready(bootstrap: str, timeout: float = 2.0) -> bool:
    """True if the broker answers a Metadata request within `timeout` seconds."""
    try:
        admin_client(bootstrap, "vigil-probe").list_topics(timeout=timeout)
    except KafkaException:
        return False
    return True


def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    *,
    partitions: int = 3,
    replication_factor: int = 1,
    timeout: float = 10.0,
) -> list[str]:
    """Create the missing topics; returns the names created. Safe to call on every start.

    Existing topics are left as they are, even with fewer partitions: adding partitions would
    move keys (cameras) to other partitions and break per-camera ordering.
    """
    wanted = list(dict.fromkeys(topics))
    client = admin_client(bootstrap)
    existing = {
        name: len(topic.partitions)
        for name, topic in client.list_topics(timeout=timeout).topics.items()
    }
    for name in wanted:
        if name in existing and existing[name] < partitions:
            log.warning("topic_fewer_partitions", topic=name, has=existing[name], want=partitions)
    missing = [name for name in wanted if name not in existing]
    if not missing:
        return []
    futures = client.create_topics(
        [NewTopic(name, partitions, replication_factor) for name in missing],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:  # lost a race: fine
                raise
    _wait_visible(client, missing, timeout)
    if created:
        log.info("topics_created", topics=created, partitions=partitions)
    return created


def _wait_visible(client: AdminClient, names: list[str], timeout: float) -> None:
    # CreateTopics can return before Metadata lists the topic; producers need it listed.
    deadline = time.monotonic() + timeout
    while True:
        topics = client.list_topics(timeout=timeout).topics
        if all(name in topics and topics[name].error is None for name in names):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics {names} not visible after {timeout} s")
        time.sleep(0.1)
