"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.errors import install_error_handlers
from api.limits import BodySizeLimitMiddleware, ConcurrencyLimitMiddleware
from api.middleware import RequestContextMiddleware
from api.ratelimit import AuthRateLimiter
from api.routers import (
    alerts,
    auth,
    cameras,
    clips,
    events,
    faces,
    health,
    media,
    stats,
    users,
    zones,
)
from api.routers import system as system_router
from vigil import __version__
from vigil.db.session import session_factory
from vigil.settings import Settings, get_settings
from vigil.storage.factory import object_store_from_settings
from vigil.telemetry import init_sentry

API_PREFIX = "/api/v1"
API_OBJECT_STORE_ATTEMPTS = 2  # then a 503 with Retry-After, not a request held for seconds
# How `vigil api` runs uvicorn. Its own proxy_headers would believe X-Forwarded-For from
# loopback; the app does that only for VIGIL_TRUSTED_PROXIES (see create_app).
UVICORN_OPTIONS: dict[str, Any] = {"proxy_headers": False, "log_config": None}


class _ProcessWideMetrics(Collector):
    """Re-exports the process-wide registry (gc, process, Vigil's own metrics)."""

    def collect(self):  # type: ignore[no-untyped-def]
        yield from REGISTRY.collect()


def _app_registry() -> CollectorRegistry:
    """HTTP metrics per app instance (several apps share a process in tests), plus the
    process-wide ones, all served at /metrics."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_ProcessWideMetrics())
    return registry


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.jwt_secret_value()  # fail at startup, not on the first login, if misconfigured
    init_sentry(settings, "api")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        _app.state.sessionmaker.kw["bind"].dispose()

    app = FastAPI(
        title="Vigil API",
        version=__version__,
        description="Self-hosted AI video surveillance. Authenticate at /api/v1/auth/login.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sessionmaker = session_factory(settings.resolved_database_url)
    # Built on first use: the embedded object store may start after the API.
    app.state.object_store = lru_cache(maxsize=1)(
        lambda: object_store_from_settings(settings, max_attempts=API_OBJECT_STORE_ATTEMPTS)
    )
    app.state.auth_limiter = AuthRateLimiter(
        pair_limit=settings.login_pair_rate_limit,
        account_limit=settings.login_rate_limit,
        address_limit=settings.login_ip_rate_limit,
        signup_limit=settings.signup_rate_limit,
        storage_url=settings.rate_limit_storage_url,
    )

    app.include_router(health.router)
    for module in (auth, cameras, media, zones, events, clips, stats, alerts, users, faces):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(system_router.router, prefix=API_PREFIX)

    Instrumentator(
        excluded_handlers=["/metrics", "/healthz", "/readyz"], registry=_app_registry()
    ).instrument(app).expose(app, include_in_schema=False)
    install_error_handlers(app)
    app.add_middleware(ConcurrencyLimitMiddleware, limit=settings.api_max_concurrent_requests)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.api_max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    if settings.trusted_proxy_networks:
        # X-Forwarded-For is believed from these peers only (request.client becomes the
        # address they report); from anyone else it is ignored, loopback included.
        app.add_middleware(
            ProxyHeadersMiddleware,
            trusted_hosts=[str(net) for net in settings.trusted_proxy_networks],
        )
    return app
