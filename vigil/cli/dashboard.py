from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import typer

from vigil.cli.common import bootstrap


def register(app: typer.Typer) -> None:
    app.command()(dashboard)


def streamlit_command(host: str, port: int, *, production: bool) -> list[str]:
    """`streamlit run dashboard/server.py` as a service: headless, no telemetry, no file
    watching (code does not change under a running service), no developer menu."""
    spec = importlib.util.find_spec("dashboard")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the dashboard package is not installed")
    server = Path(next(iter(spec.submodule_search_locations))) / "server.py"
    flags = {
        "server.headless": "true",
        "server.address": host,
        "server.port": str(port),
        "server.fileWatcherType": "none",
        "server.runOnSave": "false",
        "browser.gatherUsageStats": "false",
        "client.toolbarMode": "viewer",
        # Tracebacks help on a dev box; in production they stay in the log.
        "client.showErrorDetails": "none" if production else "full",
        "global.developmentMode": "false",
    }
    argv = [sys.executable, "-m", "streamlit", "run", str(server)]
    for name, value in flags.items():
        argv += [f"--{name}", value]
    return argv


def dashboard(
    host: str = typer.Option(None, help="bind address (default VIGIL_DASHBOARD_HOST)"),
    port: int = typer.Option(None, help="port (default VIGIL_DASHBOARD_PORT)"),
) -> None:
    """Serve the web dashboard (Streamlit); health at /_stcore/health."""
    settings = bootstrap("dashboard")
    argv = streamlit_command(
        host or settings.dashboard_host,
        port or settings.dashboard_port,
        production=settings.env == "production",
    )
    # Become Streamlit (same pid): signals from `vigil up` or Docker reach it directly.
    os.execv(argv[0], argv)  # noqa: S606 (our own interpreter and arguments, no shell)
