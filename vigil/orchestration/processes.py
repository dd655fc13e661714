"""Run the Dagster webserver or daemon as a child in its own process group, and stop all of it.

Dagster's processes start their own children (the code server that loads `pipelines`, run
workers launched by the daemon), and `dagster dev` is known to ignore SIGINT. So Vigil never
execs them directly: `supervise` starts the command in a new session, forwards SIGTERM/SIGINT
to the whole group, waits up to a grace period for every member to exit, then SIGKILLs what
is left; the child also gets SIGTERM if Vigil itself dies (PR_SET_PDEATHSIG). It returns the
child's exit code (0 when Vigil stopped it), so a supervisor such as `vigil up` restarts a
Dagster process that died on its own.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vigil import processes
from vigil.logs import get_logger
from vigil.processes import group_members
from vigil.settings import Settings

log = get_logger(__name__)

WORKSPACE = Path(__file__).resolve().parents[2] / "workspace.yaml"
LOCATION = "vigil"  # as in workspace.yaml
HEARTBEAT_TOLERANCE_SECONDS = 60.0
# Shorter than the 15 s a supervisor such as `vigil up` waits before SIGKILL: Vigil must finish
# stopping Dagster's group itself (a stop takes 2-4 s here).
STOP_GRACE = 10.0


def executable(name: str) -> str:
    """A console script of this environment (beside the interpreter), else from PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found: install vigil with its dagster dependencies")
    return found


def code_location_args(settings: Settings | None = None) -> list[str]:
    """A shared code server's workspace when VIGIL_DAGSTER_CODE_SERVER is set (webserver and
    daemon then load no code themselves); else the repository's workspace.yaml when present,
    else the definitions module itself."""
    if settings is not None and settings.dagster_code_server:
        host, _, port = settings.dagster_code_server.rpartition(":")
        workspace = settings.resolved_dagster_home / "workspace-grpc.yaml"
        workspace.parent.mkdir(parents=True, exist_ok=True)
        entry = {"host": host, "port": int(port), "location_name": LOCATION}
        workspace.write_text(json.dumps({"load_from": [{"grpc_server": entry}]}))  # YAML too
        return ["-w", str(workspace)]
    if WORKSPACE.is_file():
        return ["-w", str(WORKSPACE)]
    return ["-m", "pipelines.definitions"]


def code_server_argv(settings: Settings) -> list[str]:
    """One `dagster api grpc` serving Vigil's definitions to the webserver and the daemon."""
    return [
        executable("dagster"),
        "api",
        "grpc",
        "-m",
        "pipelines.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        str(settings.dagster_code_port),
        "--location-name",
        LOCATION,
        "--log-format",
        "json",
    ]


def webserver_argv(
    settings: Settings, host: str | None = None, port: int | None = None
) -> list[str]:
    return [
        executable("dagster-webserver"),
        "-h",
        host or settings.dagster_host,
        "-p",
        str(port or settings.dagster_port),
        *code_location_args(settings),
        "--log-format",
        "json",
    ]


def daemon_argv(settings: Settings | None = None) -> list[str]:
    args = code_location_args(settings)
    return [executable("dagster-daemon"), "run", *args, "--log-format", "json"]


def stop_group(proc: subprocess.Popen[Any], grace: float) -> int:
    """SIGTERM the child's process group, SIGKILL whatever outlives `grace`; reap the child."""
    code, killed = processes.stop_group(proc, grace)
    if killed:
        log.warning("dagster_kill", pid=proc.pid, grace_seconds=grace)
    return code


def supervise(
    argv: Sequence[str], env: Mapping[str, str], *, name: str, grace: float = STOP_GRACE
) -> int:
    """Run argv until it exits or we get SIGTERM/SIGINT; see the module doc."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("dagster_stopping", process=name, signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info("dagster_starting", process=name, argv=list(argv))
    try:
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=processes.die_with_parent,
        )
        try:
            while not stop.wait(0.5):
                if proc.poll() is not None:
                    log.error("dagster_exited", process=name, exit_code=proc.returncode)
                    stop_group(proc, grace)  # its children, if any survived it
                    return proc.returncode or 1
        finally:
            if proc.poll() is None or group_members(proc.pid):
                code = stop_group(proc, grace)
                log.info("dagster_stopped", process=name, exit_code=code)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class DaemonHealth:
    """Healthy while every daemon the instance requires sent a heartbeat in the last minute.
    The instance is opened once, on the first probe (importing Dagster takes a second)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._instance: Any = None

    def __call__(self) -> tuple[bool, dict[str, Any]]:
        if self._instance is None:
            from dagster import DagsterInstance

            self._instance = DagsterInstance.from_config(str(self.home))
        required = sorted(self._instance.get_required_daemon_types())
        beats = self._instance.get_daemon_heartbeats()
        now = time.time()
        ages = {kind: round(now - beats[kind].timestamp, 1) for kind in required if kind in beats}
        stale = [k for k in required if ages.get(k, float("inf")) > HEARTBEAT_TOLERANCE_SECONDS]
        return not stale, {"heartbeat_age_seconds": ages, "stale": stale}

    def close(self) -> None:
        if self._instance is not None:
            self._instance.dispose()
            self._instance = None
