"""Configuration shared by every confluent-kafka client Vigil creates."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from vigil.settings import Settings

# librdkafka's own log lines (connection refused, broker down, ...) go through the standard
# logging tree, hence structlog's JSON output, instead of raw "%3|...|FAIL|" lines on stderr.
RDKAFKA_LOGGER = logging.getLogger("vigil.broker.librdkafka")


def client_config(
    bootstrap: str, client_id: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "client.id": client_id,
        "logger": RDKAFKA_LOGGER,
        # Retry a lost broker every <= 2 s (default: backoff up to 10 s), so records buffered
        # during an outage of the local broker flow again soon after it is back.
        "reconnect.backoff.max.ms": 2000,
        **(extra or {}),
    }


def bootstrap_from_settings(settings: Settings) -> str:
    """VIGIL_KAFKA_BOOTSTRAP, or the embedded Tansu that `vigil up` starts on loopback."""
    return settings.kafka_bootstrap or f"127.0.0.1:{settings.kafka_embedded_port}"
