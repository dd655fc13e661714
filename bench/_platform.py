"""`vigil up` for benchmarks: a fresh data dir on free ports, its services found in /proc by
their command lines, their RSS, and SIGKILL faults with the time the platform takes to bring
a service back. Benchmarks may not import tests/, so this is their own small launcher."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from vigil.broker.admin import broker_ready
from vigil.embedded.process import free_port, free_port_block, tcp_port_open
from vigil.embedded.seaweedfs import SeaweedPorts

ROOT = Path(__file__).resolve().parents[1]
DEMO_EMAIL = "soak@example.com"
DEMO_PASSWORD = "a long soak password"  # noqa: S105 (a throwaway demo account)

# Settings naming a port: every one gets a free port so nothing collides with a running Vigil.
PORT_SETTINGS = (
    "VIGIL_API_PORT",
    "VIGIL_KAFKA_EMBEDDED_PORT",
    "VIGIL_DEMO_RTSP_PORT",
    "VIGIL_DEMO_DESK_RTSP_PORT",
    "VIGIL_INGEST_HEALTH_PORT",
    "VIGIL_DATAFLOW_HEALTH_PORT",
    "VIGIL_ALERTS_HEALTH_PORT",
    "VIGIL_DAGSTER_PORT",
    "VIGIL_DAGSTER_DAEMON_HEALTH_PORT",
    "VIGIL_DAGSTER_CODE_PORT",
    "VIGIL_DASHBOARD_PORT",
)


# --- /proc -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    argv: tuple[str, ...]
    rss_bytes: int


def parse_rss(status: str) -> int:
    """Resident set size in bytes from a /proc/<pid>/status text (0 for a kernel thread)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            assert unit == "kB", unit
            return int(value) * 1024
    return 0


def parse_ppid(stat: str) -> int:
    """The parent pid from a /proc/<pid>/stat text (the command may hold spaces and parens)."""
    return int(stat.rpartition(")")[2].split()[1])


def process_table() -> dict[int, Proc]:
    table: dict[int, Proc] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = parse_ppid((entry / "stat").read_text())
            argv = tuple(
                a.decode(errors="replace")
                for a in (entry / "cmdline").read_bytes().split(b"\0")
                if a
            )
            rss = parse_rss((entry / "status").read_text())
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        table[int(entry.name)] = Proc(int(entry.name), ppid, argv, rss)
    return table


def descendants(pid: int, table: Mapping[int, Proc]) -> set[int]:
    """`pid` and everything below it (decoders run in sessions of their own, so not groups)."""
    children: dict[int, list[int]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        todo.extend(children.get(current, ()))
    return found & table.keys()


def service_name(argv: Sequence[str], ports: Mapping[str, str] | None = None) -> str:
    """Which service of `vigil up` a direct child is, from its command line."""
    words = list(argv)
    if (
        "-m" in words
        and words.index("-m") + 1 < len(words)
        and words[words.index("-m") + 1] == "vigil"
    ):
        rest = words[words.index("-m") + 2 :]
        command = [w for w in rest if not w.startswith("-")][:2]
        if command[:1] == ["dagster"]:
            return "dagster-" + (command[1] if len(command) > 1 else "cli")
        return command[0] if command else "vigil"
    if words[1:2] == ["-m"] and words[2:3] == ["streamlit"]:
        return "dashboard"  # `vigil dashboard` execs streamlit
    program = Path(words[0]).name if words else "?"
    if program.startswith("python") and len(words) > 1:
        program = Path(words[1]).name  # a console script run by its shebang's interpreter
    text = " ".join(words)
    if program == "tansu":
        return "broker"
    if program == "weed":
        return "object-store"
    if "rtsp_server.py" in text:
        desk = (ports or {}).get("VIGIL_DEMO_DESK_RTSP_PORT")
        return "demo-desk" if desk and desk in words else "demo-camera"
    if "dagster-webserver" in program or (
        "dagster" in program and "grpc" not in words and "-p" in words
    ):
        return "dagster-webserver"
    if "grpc" in words:
        return "dagster-code-server"
    return program


def rss_by_service(
    root: int, table: Mapping[int, Proc], ports: Mapping[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """Per direct child of `root` (one service each): its pid, process count and the RSS of
    its whole tree; `vigil up` itself as "supervisor"."""
    services: dict[str, dict[str, Any]] = {}
    if root in table:
        services["supervisor"] = {"pid": root, "processes": 1, "rss_bytes": table[root].rss_bytes}
    for proc in table.values():
        if proc.ppid != root:
            continue
        tree = descendants(proc.pid, table)
        name = service_name(proc.argv, ports)
        entry = services.setdefault(name, {"pid": proc.pid, "processes": 0, "rss_bytes": 0})
        entry["processes"] += len(tree)
        entry["rss_bytes"] += sum(table[p].rss_bytes for p in tree)
    return services


# --- the platform --------------------------------------------------------------------------------
def wait_for(predicate: Callable[[], Any], timeout: float, what: str, poll: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if result := predicate():
                return result
        except (httpx.HTTPError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(poll)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


class UpPlatform:
    """`vigil up` on `data_dir` with every port free; `extra` settings on top."""

    def __init__(self, data_dir: Path, extra: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
        self.env |= {name: str(free_port()) for name in PORT_SETTINGS}
        self.env |= {
            "VIGIL_DATA_DIR": str(data_dir),
            "VIGIL_SEAWEEDFS_S3_PORT": str(free_port_block(SeaweedPorts.OFFSETS)),
            "VIGIL_DEMO_EMAIL": DEMO_EMAIL,
            "VIGIL_DEMO_PASSWORD": DEMO_PASSWORD,
            "VIGIL_LOG_JSON": "true",
            **(extra or {}),
        }
        self.base = f"http://127.0.0.1:{self.env['VIGIL_API_PORT']}"
        self.log_path = data_dir.parent / "vigil-up.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""

    def port(self, setting: str) -> int:
        return int(self.env[setting])

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port('VIGIL_KAFKA_EMBEDDED_PORT')}"

    def health(self) -> dict[str, Callable[[], bool]]:
        """Each supervised service's readiness check, as `vigil up` itself probes it."""

        def url(setting: str, path: str) -> Callable[[], bool]:
            return lambda: answers(f"http://127.0.0.1:{self.port(setting)}{path}")

        return {
            "api": url("VIGIL_API_PORT", "/readyz"),
            "ingest": url("VIGIL_INGEST_HEALTH_PORT", "/healthz"),
            "dataflow": url("VIGIL_DATAFLOW_HEALTH_PORT", "/healthz"),
            "alerts": url("VIGIL_ALERTS_HEALTH_PORT", "/healthz"),
            "dagster-webserver": url("VIGIL_DAGSTER_PORT", "/server_info"),
            "dagster-daemon": url("VIGIL_DAGSTER_DAEMON_HEALTH_PORT", "/healthz"),
            "dashboard": url("VIGIL_DASHBOARD_PORT", "/_stcore/health"),
            "broker": lambda: (
                tcp_port_open(self.port("VIGIL_KAFKA_EMBEDDED_PORT"))
                and broker_ready(self.bootstrap, timeout=2.0)
            ),
        }

    def start(self, timeout: float = 600.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vigil", "up"],
            env=self.env,
            cwd=self.data_dir,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name, check in self.health().items():  # in start order, API first
            wait_for(partial(self._alive_and, check), timeout, f"{name} healthy")
        login = httpx.post(
            f"{self.base}/api/v1/auth/login",
            json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
            timeout=30,
        )
        login.raise_for_status()
        self.token = login.json()["access_token"]

    def _alive_and(self, check: Callable[[], bool]) -> bool:
        return self._alive() and check()

    def _alive(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"vigil up exited:\n{tail}")
        return True

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        response = httpx.request(
            method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs
        )
        response.raise_for_status()
        return response

    def services(self) -> dict[str, dict[str, Any]]:
        assert self.proc is not None
        return rss_by_service(self.proc.pid, process_table(), self.env)

    def strays(self) -> list[int]:
        """Processes of this platform (their command line names its data dir or a demo camera's
        port) outside `vigil up`'s tree: orphans of a killed service, or leftovers after stop."""
        table = process_table()
        tree = descendants(self.proc.pid, table) if self.proc is not None else set()
        markers = [str(self.data_dir)] + [
            f":{self.env[s]}/" for s in ("VIGIL_DEMO_RTSP_PORT", "VIGIL_DEMO_DESK_RTSP_PORT")
        ]
        return sorted(
            p.pid
            for p in table.values()
            if p.pid not in tree
            and p.pid != os.getpid()
            and any(m in " ".join(p.argv) for m in markers)
        )

    def kill(self, service: str) -> float:
        """SIGKILL the service's main process (as the OOM killer would); returns when, and how
        long `vigil up` took until the service answered its health check again, in seconds."""
        before = self.services()[service]["pid"]
        os.kill(before, signal.SIGKILL)
        killed = time.monotonic()
        check = self.health()[service]

        def back() -> bool:
            now = self.services().get(service)
            return self._alive() and now is not None and now["pid"] != before and check()

        wait_for(back, 300, f"{service} back after SIGKILL", poll=0.5)
        return round(time.monotonic() - killed, 1)

    def stop(self, timeout: float = 180.0) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        self.proc = None
        return code

    def log_events(self, name: str) -> int:
        """How many times `vigil up` logged the event `name` (e.g. service_died)."""
        return self.log_path.read_text(errors="replace").count(f'"{name}"')
