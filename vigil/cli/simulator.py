from __future__ import annotations

import signal
import threading
from pathlib import Path

import typer

from vigil.cli.common import bootstrap


def register(app: typer.Typer) -> None:
    app.command("simulate-camera")(simulate_camera)


def simulate_camera(
    file: Path = typer.Argument(
        None, exists=True, dir_okay=False, help="video to loop (default: the demo footage)"
    ),
    port: int = typer.Option(8554, min=1, max=65535, help="RTSP port on 127.0.0.1"),
    mount: list[str] = typer.Option(["/stream"], help="mount path (repeatable)"),
    user: str = typer.Option(None, help="require basic auth with this user"),
    password: str = typer.Option(None, help="... and this password"),
    stamp: bool = typer.Option(False, help="burn the wall-clock time into every frame"),
) -> None:
    """Serve a video file in a loop as an RTSP camera (GStreamer RTSP server) until Ctrl-C."""
    settings = bootstrap("simulate-camera")
    from vigil.simulator import DEFAULT_FOOTAGE, RtspSimulator, SimulatorError

    if any(not m.startswith("/") for m in mount):
        raise typer.BadParameter("mount paths start with /", param_hint="--mount")
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    simulator = RtspSimulator(
        file or DEFAULT_FOOTAGE,
        port=port,
        mounts=tuple(mount),
        user=user,
        password=password,
        stamp=stamp,
        cache_dir=settings.data_dir.resolve() / "cache" / "simulator",
    )
    try:
        with simulator:
            for path in mount:
                typer.echo(simulator.url(path))
            done.wait()
    except SimulatorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
