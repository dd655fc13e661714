"""Error reporting: Sentry only when a DSN is configured, so nothing leaves the box by default."""

from __future__ import annotations

from vigil.settings import Settings


def init_sentry(settings: Settings, service: str) -> bool:
    if not settings.sentry_dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.env,
        server_name=service,
        send_default_pii=False,  # never ship emails, tokens or camera URLs
        traces_sample_rate=0.0,
    )
    return True
