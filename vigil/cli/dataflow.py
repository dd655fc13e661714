"""`vigil dataflow`: the streaming detection dataflow (Bytewax), alone or as a cluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from vigil.cli.common import bootstrap
from vigil.settings import Settings

if TYPE_CHECKING:  # imported lazily at run time: `vigil --help` stays fast
    from bytewax.recovery import RecoveryConfig

    from dataflows.run import ClusterOptions
    from vigil.streaming.runtime import DataflowRuntime


def register(app: typer.Typer) -> None:
    app.command()(dataflow)


def dataflow(
    workers: int = typer.Option(
        None, "--workers", "-w", min=1, help="worker threads per process [VIGIL_DATAFLOW_WORKERS]"
    ),
    processes: int = typer.Option(
        1, "--processes", "-p", min=1, help="run a cluster of this many processes on this machine"
    ),
    process_id: int = typer.Option(
        None, "--process-id", "-i", min=0, help="this process's index in a multi-machine cluster"
    ),
    addresses: str = typer.Option(
        None, "--addresses", "-a", help="every cluster process as 'host:port;host:port;...'"
    ),
    recovery: bool = typer.Option(
        None, "--recovery/--no-recovery", help="resume state after a restart [on]"
    ),
    recovery_dir: Path = typer.Option(
        None, help="recovery partitions [VIGIL_DATAFLOW_RECOVERY_DIR]"
    ),
    snapshot_seconds: float = typer.Option(
        None, min=0.1, help="snapshot interval [VIGIL_DATAFLOW_SNAPSHOT_SECONDS]"
    ),
    cameras_file: Path = typer.Option(
        None, help="replay the local videos listed in this JSON file, then stop"
    ),
) -> None:
    """Analyse every enabled camera: persons, tracks, faces, motion and live events, into the
    Parquet lake, Kafka, the database and the object store."""
    settings = bootstrap("dataflow")
    overrides: dict[str, Any] = {
        "dataflow_workers": workers,
        "dataflow_recovery": recovery,
        "dataflow_recovery_dir": recovery_dir.resolve() if recovery_dir else None,
        "dataflow_snapshot_seconds": snapshot_seconds,
        "dataflow_cameras_file": cameras_file.resolve() if cameras_file else None,
    }
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    from dataflows.run import ClusterOptions
    from vigil.vision import VisionError

    try:
        if processes > 1:
            if process_id is not None or addresses:
                raise ValueError("--processes starts a local cluster: don't pass -i/-a with it")
            code = _run_local_cluster(settings, processes)
        else:
            cluster = ClusterOptions(
                settings.dataflow_workers,
                process_id,
                tuple(a.strip() for a in addresses.split(";") if a.strip()) if addresses else (),
            )
            _run(settings, cluster)
            code = 0
    except (ValueError, RuntimeError, VisionError) as exc:  # configuration: say what's wrong
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if code:
        raise typer.Exit(code)


def _recovery(
    settings: Settings, cluster: ClusterOptions, *, initialise: bool
) -> RecoveryConfig | None:
    from dataflows.run import prepare_recovery

    if not settings.dataflow_recovery:
        return None
    return prepare_recovery(
        settings.resolved_dataflow_recovery_dir,
        settings.dataflow_partitions,
        cluster.total_workers,
        initialise=initialise,
    )


def _run(settings: Settings, cluster: ClusterOptions) -> None:
    from dataflows.run import run_dataflow
    from vigil.streaming.runtime import DataflowRuntime

    # In a cluster the directory is made once for all processes (the local launcher does it).
    recovery = _recovery(settings, cluster, initialise=cluster.process_id is None)
    runtime = DataflowRuntime.from_settings(
        settings, workers_per_process=cluster.workers_per_process
    )
    runtime.env.backends.get()  # load the models now: a missing one fails here, clearly
    progress = None
    if settings.dataflow_cameras_file is not None and sys.stderr.isatty():
        progress = threading.Thread(target=_replay_progress, args=(runtime,), daemon=True)
        progress.start()
    run_dataflow(runtime, cluster, recovery=recovery)


def _run_local_cluster(settings: Settings, processes: int) -> int:
    """Start `processes` processes of one Bytewax cluster on loopback; wait for all of them.
    Stop signals are passed on, so Ctrl-C stops the whole cluster cleanly."""
    from dataflows.run import ClusterOptions
    from vigil.embedded import free_port

    addresses = ";".join(f"127.0.0.1:{free_port()}" for _ in range(processes))
    cluster = ClusterOptions(settings.dataflow_workers, 0, tuple(addresses.split(";")))
    _recovery(settings, cluster, initialise=True)
    env = dict(os.environ)
    env |= {
        "VIGIL_DATAFLOW_WORKERS": str(settings.dataflow_workers),
        "VIGIL_DATAFLOW_RECOVERY": str(settings.dataflow_recovery).lower(),
        "VIGIL_DATAFLOW_RECOVERY_DIR": str(settings.resolved_dataflow_recovery_dir.resolve()),
        "VIGIL_DATAFLOW_SNAPSHOT_SECONDS": str(settings.dataflow_snapshot_seconds),
    }
    if settings.dataflow_cameras_file is not None:
        env["VIGIL_DATAFLOW_CAMERAS_FILE"] = str(settings.dataflow_cameras_file)
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "vigil", "dataflow", "-i", str(i), "-a", addresses],
            env=env,
        )
        for i in range(processes)
    ]

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    failed = [code for code in codes if code != 0]
    return (failed[0] if failed[0] > 0 else 1) if failed else 0  # < 0: killed by a signal


def _replay_progress(runtime: DataflowRuntime) -> None:
    """A progress bar over the frames a replay will analyse (interactive terminals only)."""
    from rich.progress import Progress

    from vigil.media.ffmpeg import probe_video

    specs = runtime.catalog.cameras() or {}
    total = 0
    for spec in specs.values():
        if spec.replay is None:
            continue
        duration = spec.replay.duration_seconds
        if duration is None:
            info = probe_video(spec.source_path, runtime.env.ffmpeg)
            duration = max(0.0, (info.duration_seconds or 0.0) - spec.replay.offset_seconds)
        total += int(duration * spec.fps)
    seen: dict[str, int] = {}  # a finished camera leaves the health board: keep its count
    with Progress(transient=True) as bar:
        task = bar.add_task("replay: frames analysed", total=total or None)
        while runtime.health.state in ("starting", "running"):
            _, details = runtime.health.check()
            for camera_id, camera in details["cameras"].items():
                seen[camera_id] = max(seen.get(camera_id, 0), camera["frames_analysed"])
            bar.update(task, completed=sum(seen.values()))
            runtime.stop.wait(0.5)
