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
    from api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,  # keep our JSON logging
        proxy_headers=True,
    )


def up() -> None:
    """Run the whole platform with embedded defaults (migrate, seed, start every service)."""
    from vigil.platform import run_platform

    run_platform(bootstrap("up"))
