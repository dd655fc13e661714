"""Kafka client helpers: topic names, an idempotent JSON producer, a JSON consumer, admin."""

from vigil.broker.admin import broker_ready, ensure_topics, list_topics
from vigil.broker.config import bootstrap_from_settings
from vigil.broker.consumer import JsonConsumer, Record
from vigil.broker.producer import SCHEMA_VERSION_FIELD, JsonProducer, ProducerStats
from vigil.broker.topics import TopicKind, Topics

__all__ = [
    "SCHEMA_VERSION_FIELD",
    "JsonConsumer",
    "JsonProducer",
    "ProducerStats",
    "Record",
    "TopicKind",
    "Topics",
    "bootstrap_from_settings",
    "broker_ready",
    "ensure_topics",
    "list_topics",
]
