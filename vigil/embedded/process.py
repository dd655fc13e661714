"""A managed child process for the embedded services (SeaweedFS, Tansu) started by `vigil up`.

The child runs in its own process group so that stopping it also stops anything it spawned, its
output goes to a log file (quoted in errors), and `start()` returns only once a readiness probe
passes.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from vigil.logs import get_logger
from vigil.processes import die_with_parent, stop_group

log = get_logger(__name__)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Ports picked for tests come from below Linux's ephemeral range (32768+), so the kernel never
# hands them to an outgoing connection while a service is briefly down (e.g. during a restart).
_PICK_LOW, _PICK_HIGH = 20000, 32000


class ProcessError(RuntimeError):
    """A managed service could not be started or did not become ready."""


class PortInUseError(ProcessError):
    """A port the service needs is taken, typically by another instance."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As servers do: connections of a just-stopped service in TIME_WAIT don't block a restart.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port_block(
    offsets: Sequence[int] = (0,),
    *,
    host: str = "127.0.0.1",
    low: int = _PICK_LOW,
    high: int = _PICK_HIGH,
    attempts: int = 200,
) -> int:
    """A base port `p` such that every `p + offset` is currently free on `host`."""
    for _ in range(attempts):
        base = random.randint(low, high)  # random, so concurrent test runs rarely collide
        if all(port_is_free(base + offset, host) for offset in offsets):
            return base
    raise ProcessError(f"no free port block with offsets {list(offsets)} in {low}-{high}")


def free_port(host: str = "127.0.0.1") -> int:
    return free_port_block((0,), host=host)


def tcp_port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class ManagedProcess:
    """A child process with a log file, a readiness probe and a clean stop.

    Subclasses override `probe()` (is the service answering?) and may extend `start()`.
    Usable as a context manager; `start()` after `stop()` restarts it with the same arguments.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ports: Sequence[int] = (),
        ready_timeout: float = 30.0,
        stop_grace: float = 10.0,
        stop_signal: signal.Signals = signal.SIGTERM,
        die_with_parent: bool = True,
    ) -> None:
        self.name = name
        self.argv = [str(arg) for arg in argv]
        self.log_path = Path(log_dir) / f"{name}.log"
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.ports = tuple(ports)
        self.ready_timeout = ready_timeout
        self.stop_grace = stop_grace
        self.stop_signal = stop_signal
        self.die_with_parent = die_with_parent
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    # --- to override ---------------------------------------------------------------------------
    def probe(self) -> bool:
        """True once the service answers. The default only checks that it has not exited."""
        return True

    def on_ready(self) -> None:
        """Runs once the probe passed, before `start()` returns; an error here stops the child."""

    # --- lifecycle -----------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        if self.is_running:
            return self
        if self._proc is not None:
            self.stop()  # it exited on its own: reap it and close its log first
        busy = [port for port in self.ports if not port_is_free(port)]
        if busy:
            raise PortInUseError(
                f"{self.name}: port(s) {busy} already in use on 127.0.0.1 "
                "(another instance running? pick other ports)"
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("ab")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._log_file.write(f"\n--- {stamp} starting: {' '.join(self.argv)}\n".encode())
        self._log_file.flush()
        log.info("service_starting", service=self.name, argv=self.argv, log=str(self.log_path))
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,  # own process group: stop() signals the whole group
            preexec_fn=die_with_parent if self.die_with_parent else None,
        )
        try:
            self.wait_ready(self.ready_timeout)
            self.on_ready()
        except BaseException:
            self.stop()
            raise
        log.info("service_ready", service=self.name, pid=self._proc.pid)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "probe returned False"
        while True:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                raise ProcessError(
                    f"{self.name} exited with code {code} before becoming ready; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                if self.probe():
                    return
            except Exception as exc:  # a probe may raise while the service is still booting
                last_error = f"{type(exc).__name__}: {exc}"
                log.debug("probe_failed", service=self.name, error=last_error)
            if time.monotonic() > deadline:
                raise ProcessError(
                    f"{self.name} not ready after {timeout:.0f} s (last probe: {last_error}); "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self) -> int | None:
        """`stop_signal` (SIGTERM) to the process group, SIGKILL after the grace period.

        Returns the exit code (negative: killed by that signal), None if it was not running.
        """
        proc = self._proc
        if proc is None:
            return None
        code, killed = stop_group(proc, self.stop_grace, self.stop_signal)
        if killed:
            log.warning("service_kill", service=self.name, grace_seconds=self.stop_grace)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self._proc = None
        log.info("service_stopped", service=self.name, exit_code=code)
        return code

    def log_tail(self, lines: int = 40) -> str:
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - 64 * 1024))
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(_ANSI.sub("", text).splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} pid={self.pid} running={self.is_running}>"
