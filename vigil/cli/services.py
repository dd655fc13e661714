from __future__ import annotations

import typer
import uvicorn

from vigil.cli.common import bootstrap


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
        **UVICORN_OPTIONS,  # our JSON logging; X-Forwarded-For only from trusted proxies
    )


def up(
    skip: list[str] = typer.Option(
        [],
        "--skip",
        help="a service not to start (repeatable): object-store, broker, demo-camera, api, "
        "ingest, dataflow, dagster, dashboard",
    ),
) -> None:
    """Run the whole platform with embedded defaults (migrate, seed, start every service)."""
    from vigil.platform import run_platform

    try:
        run_platform(bootstrap("up"), skip=skip)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
