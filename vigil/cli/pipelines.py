"""`vigil replay`, `vigil retention`, `vigil dagster webserver|daemon`: the batch side by hand.

replay and retention call the same functions as the Dagster assets, without Dagster, so they
work on a machine where only the database and the lake are reachable.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from vigil.cli.common import bootstrap

dagster_app = typer.Typer(no_args_is_help=True, help="Run Dagster (webserver, daemon) for Vigil.")
console = Console(stderr=True)

_RELATIVE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def register(app: typer.Typer) -> None:
    app.command()(replay)
    app.command()(retention)
    app.add_typer(dagster_app, name="dagster")


def parse_when(value: str, now: datetime, option: str) -> datetime:
    """An ISO 8601 time (naive means UTC) or a duration before now: 90m, 6h, 3d."""
    text = value.strip()
    relative = _RELATIVE.match(text)
    if relative:
        return now - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither an ISO time (2026-11-20T12:00, Z or +01:00 allowed) "
            "nor a duration (90m, 6h, 3d)",
            param_hint=option,
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def hour_windows(since: datetime, until: datetime) -> list[datetime]:
    start = since.replace(minute=0, second=0, microsecond=0)
    hours = []
    while start < until:
        hours.append(start)
        start += timedelta(hours=1)
    return hours


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def replay(
    camera: int = typer.Option(..., "--camera", help="camera id", min=1),
    since: str = typer.Option(..., "--since", help="ISO time (UTC if no offset) or 90m/6h/3d"),
    until: str = typer.Option("0m", "--until", help="ISO time or duration ago; default now"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Re-derive a camera's events from the lake with its current zones, hour by hour, and
    reconcile them with the database (after a zone edit: what would have fired)."""
    settings = bootstrap("replay")
    now = datetime.now(UTC)
    start, end = parse_when(since, now, "--since"), parse_when(until, now, "--until")
    if start >= end:
        raise typer.BadParameter("--since must be before --until", param_hint="--since")
    if start > now:
        raise typer.BadParameter("--since is in the future", param_hint="--since")
    from vigil.db.models import Camera
    from vigil.db.session import session_factory
    from vigil.events.reconcile import ReconcileReport, replay_and_reconcile
    from vigil.logs import get_logger
    from vigil.retention.journal import drain_quietly
    from vigil.storage import object_store_from_settings

    sessions = session_factory(settings.resolved_database_url)
    with sessions() as session:
        if session.get(Camera, camera) is None:
            console.print(f"[red]no camera with id {camera}[/red]")
            raise typer.Exit(2)
    log = get_logger("vigil.cli.replay").bind(camera_id=camera)
    from vigil.lake.store import lake_from_settings

    lake = lake_from_settings(settings)
    reports: list[ReconcileReport] = []
    hours = hour_windows(start, end)
    with _progress() as bar:
        task = bar.add_task(f"camera {camera}", total=len(hours))
        for hour in hours:
            with sessions() as session:
                report = replay_and_reconcile(
                    session, lake, camera, hour, hour + timedelta(hours=1)
                )
                session.commit()
            reports.append(report)
            bar.advance(task)
    if any(r.deleted for r in reports):
        drained = drain_quietly(sessions, object_store_from_settings(settings))
        if drained is None:
            console.print(
                "[yellow]the object store is unreachable: the clips and snapshots of deleted "
                "events stay queued for the next retention sweep[/yellow]"
            )
        else:
            log.info("replay_objects_deleted", objects=drained.objects)
    _print_replay(camera, start, end, reports, as_json)


def _print_replay(
    camera: int, start: datetime, end: datetime, reports: list[Any], as_json: bool
) -> None:
    names = ("inserted", "updated", "deleted", "unchanged", "pending")
    totals = {name: sum(len(getattr(r, name)) for r in reports) for name in names}
    summary = {
        "camera_id": camera,
        "since": start.isoformat(),
        "until": end.isoformat(),
        "hours": len(reports),
        **totals,
        "frames": sum(r.frames for r in reports),
        "detections": sum(r.detections for r in reports),
        "unsynchronised_hours": [r.window_start.isoformat() for r in reports if not r.synchronised],
        "changed": {
            name: [i for r in reports for i in getattr(r, name)]
            for name in ("inserted", "updated", "deleted")
        },
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    title = f"replay of camera {camera}: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    table = Table(title=title)
    table.add_column("events / input")
    table.add_column("count", justify="right")
    for name in ("hours", *names, "frames", "detections"):
        table.add_row(name, str(summary[name]))
    Console().print(table)
    if summary["unsynchronised_hours"]:
        typer.echo(
            "not proven identical to the live stream (someone stayed in a zone for 24 h): "
            + ", ".join(summary["unsynchronised_hours"])
        )
    for name, ids in summary["changed"].items():
        for event_id in ids:
            typer.echo(f"{name:9} {event_id}")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def retention(
    dry_run: bool = typer.Option(False, "--dry-run", help="plan and report, delete nothing"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Run one retention sweep now: per-camera retention days, the lake's, and the global
    storage cap (VIGIL_STORAGE_CAP_BYTES), oldest first."""
    settings = bootstrap("retention")
    from vigil.db.session import session_factory
    from vigil.lake.store import lake_from_settings
    from vigil.media.paths import MediaPaths
    from vigil.retention import RetentionPolicy, sweep
    from vigil.storage import object_store_from_settings

    policy = RetentionPolicy(
        lake_days=settings.lake_retention_days,
        cap_bytes=settings.storage_cap_bytes,
        batch_size=settings.retention_batch_size,
        orphan_grace=timedelta(seconds=settings.retention_orphan_grace_seconds),
        alert_delivery_days=settings.alert_delivery_retention_days,
    )
    with _progress() as bar:
        task = bar.add_task("retention", total=None)

        def advance(batch: int, done: int, planned: int) -> None:
            bar.update(task, total=planned, completed=done)

        report = sweep(
            session_factory(settings.resolved_database_url),
            object_store_from_settings(settings),
            MediaPaths(settings.media_dir),
            lake_from_settings(settings),
            policy,
            dry_run=dry_run,
            on_batch=advance,
        )
    summary = report.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    verb = "would free" if dry_run else "freed"
    table = Table(title=f"retention sweep: {verb} {_size(summary['freed_bytes'])}")
    table.add_column("kind")
    table.add_column("items", justify="right")
    table.add_column("bytes", justify="right")
    for kind, count in sorted(summary["deleted"].items()):
        table.add_row(kind, str(count), _size(summary["freed_bytes_by_kind"][kind]))
    Console().print(table)
    cap = settings.storage_cap_bytes
    typer.echo(
        f"stored: {_size(summary['bytes_before'])} -> {_size(summary['bytes_after'])}"
        + (f" (cap {_size(cap)}, {'met' if summary['cap_met'] else 'NOT met'})" if cap else "")
    )
    if summary["recovered_objects"]:
        typer.echo(f"finished {summary['recovered_objects']} deletions of an interrupted sweep")


def _dagster_env() -> tuple[Any, dict[str, str]]:
    settings = bootstrap("dagster")
    from vigil.orchestration import instance_environment, prepare_dagster_home

    home = prepare_dagster_home(settings)
    os.environ.update(instance_environment(settings))  # the health check opens the instance too
    env = dict(os.environ)
    # Runs load Vigil's settings in other processes (and other working directories).
    env |= {"VIGIL_DATA_DIR": str(settings.data_dir.resolve()), "PYTHONUNBUFFERED": "1"}
    return (settings, home), env


@dagster_app.command()
def webserver(
    host: str = typer.Option(None, help="bind address (default VIGIL_DAGSTER_HOST)"),
    port: int = typer.Option(None, help="port (default VIGIL_DAGSTER_PORT)", min=1, max=65535),
) -> None:
    """Serve the Dagster UI (assets, lineage, runs, backfills); health: GET /server_info."""
    (settings, _home), env = _dagster_env()
    from vigil.orchestration.processes import supervise, webserver_argv

    code = supervise(webserver_argv(settings, host, port), env, name="dagster-webserver")
    raise typer.Exit(code)


@dagster_app.command("code-server")
def code_server() -> None:
    """Serve Vigil's Dagster definitions over gRPC on 127.0.0.1:VIGIL_DAGSTER_CODE_PORT, for
    a webserver and a daemon started with VIGIL_DAGSTER_CODE_SERVER=127.0.0.1:<that port>."""
    (settings, _home), env = _dagster_env()
    from vigil.orchestration.processes import code_server_argv, supervise

    raise typer.Exit(supervise(code_server_argv(settings), env, name="dagster-code-server"))


@dagster_app.command()
def daemon() -> None:
    """Run the Dagster daemon (schedules, sensors, run queue); health: GET /healthz on
    VIGIL_DAGSTER_DAEMON_HEALTH_PORT."""
    (settings, home), env = _dagster_env()
    from vigil.healthserver import HealthServer
    from vigil.orchestration.processes import DaemonHealth, daemon_argv, supervise

    check = DaemonHealth(home)
    health = HealthServer(check, settings.dagster_daemon_health_port).start()
    try:
        code = supervise(daemon_argv(settings), env, name="dagster-daemon")
    finally:
        health.stop()
        check.close()
    raise typer.Exit(code)
