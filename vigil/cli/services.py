from __future__ import annotations

import os
from pathlib import Path

import typer
import uvicorn

from vigil.cli.common import bootstrap
from vigil.settings import get_settings


def register(app: typer.Typer) -> None:
    app.command()(api)
    app.command()(up)


def api(
    host: str = typer.Option(None, help="bind address (default VIGIL_API_HOST)"),
    port: int = typer.Option(None, help="port (default VIGIL_API_PORT)"),
) -> None:
    """Serve the REST API."""
    settings = bootstrap("api")
    from api.app import UVICORN_OPTIONS, create_app

    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        # h11 bounds the request line and headers it buffers (httptools has no such limit);
        # a larger header block is refused with a 400 before the app sees it.
        http="h11",
        h11_max_incomplete_event_size=settings.api_max_header_bytes,
        **UVICORN_OPTIONS,  # our JSON logging; X-Forwarded-For only from trusted proxies
    )


def up(
    skip: list[str] = typer.Option(
        [],
        "--skip",
        help="a service not to start (repeatable): object-store, broker, demo-camera, api, "
        "ingest, dataflow, alerts, dagster, dashboard",
    ),
    data_dir: Path = typer.Option(None, help="data directory (default VIGIL_DATA_DIR)"),
    api_port: int = typer.Option(None, min=1, max=65535, help="default VIGIL_API_PORT"),
    dashboard_port: int = typer.Option(None, min=1, max=65535, help="default VIGIL_DASHBOARD_PORT"),
    dagster_port: int = typer.Option(None, min=1, max=65535, help="default VIGIL_DAGSTER_PORT"),
    no_demo: bool = typer.Option(
        False, "--no-demo", help="no demo user, camera or footage (VIGIL_DEMO=false)"
    ),
) -> None:
    """Run the whole platform with embedded defaults (migrate, seed, start every service)."""
    from vigil.platform import run_platform

    flags = {
        "VIGIL_DATA_DIR": data_dir,
        "VIGIL_API_PORT": api_port,
        "VIGIL_DASHBOARD_PORT": dashboard_port,
        "VIGIL_DAGSTER_PORT": dagster_port,
        "VIGIL_DEMO": "false" if no_demo else None,
    }
    # Through the environment, so every child reads the same values as `vigil up` itself.
    os.environ.update({name: str(value) for name, value in flags.items() if value is not None})
    get_settings.cache_clear()
    try:
        run_platform(bootstrap("up"), skip=skip)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
