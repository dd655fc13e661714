"""`vigil alerts`: the alert service (events topic → email and webhooks)."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from vigil.cli.common import bootstrap


def register(app: typer.Typer) -> None:
    app.command()(alerts)


def alerts() -> None:
    """Send email and webhook alerts for opened events, once per event, channel and recipient."""
    settings = bootstrap("alerts")
    from functools import lru_cache

    from vigil.alerts.dispatch import Dispatcher
    from vigil.alerts.service import AlertService
    from vigil.broker import JsonConsumer, Topics, bootstrap_from_settings, ensure_topics
    from vigil.db.session import session_factory
    from vigil.healthserver import HealthServer
    from vigil.storage.factory import object_store_from_settings

    bootstrap_servers = bootstrap_from_settings(settings)
    topics = Topics.from_settings(settings)
    ensure_topics(bootstrap_servers, [topics.events], partitions=settings.kafka_topic_partitions)
    consumer = JsonConsumer(
        bootstrap_servers,
        settings.alerts_consumer_group,
        [topics.events],
        client_id="vigil-alerts",
    )
    store = lru_cache(maxsize=1)(lambda: object_store_from_settings(settings))
    service = AlertService(
        settings,
        session_factory(settings.resolved_database_url),
        consumer,
        Dispatcher.from_settings(settings, store),
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        service.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = None
    if settings.alerts_health_port:
        server = HealthServer(service.health, settings.alerts_health_port).start()
    try:
        service.run()
    finally:
        if server is not None:
            server.stop()
