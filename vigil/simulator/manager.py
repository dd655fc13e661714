"""`RtspSimulator`: start/stop the GStreamer RTSP camera simulator from the venv.

The server itself (`rtsp_server.py`) needs PyGObject, which only the system interpreter has, so
it runs as a subprocess in its own process group; `stop()` ends that whole group.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from vigil.logs import get_logger
from vigil.processes import stop_group
from vigil.simulator.transcode import transcode_for_simulator

log = get_logger(__name__)

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
# shared/ sits beside the repository (here and in CI).
DEFAULT_FOOTAGE = Path(
    os.environ.get("VIGIL_DEMO_VIDEO")
    or Path(__file__).resolve().parents[3] / "shared" / "data" / "footage" / "vtest.avi"
)


class SimulatorError(RuntimeError):
    """The simulator did not start or did not serve its stream in time."""


class RtspSimulator:
    """A looping RTSP camera on loopback. Use as a context manager or call start()/stop().

    `mode="copy"` serves the transcoded file's H.264 unchanged (cheap); `stamp=True` re-encodes
    and burns each frame's wall-clock time into its top rows (see `vigil.simulator.stamp`).
    After the first start the port is kept, so stop() + start() brings the "camera" back at
    the same address.
    """

    def __init__(
        self,
        source: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        mounts: tuple[str, ...] = ("/stream",),
        user: str | None = None,
        password: str | None = None,
        mode: Literal["copy", "encode"] = "copy",
        stamp: bool = False,
        keyint: int = 10,
        cache_dir: Path | None = None,
        python: str = SYSTEM_PYTHON,
        ready_timeout: float = 30.0,
    ) -> None:
        if not mounts or any(not m.startswith("/") for m in mounts):
            raise ValueError("mount paths must start with /")
        self.source = Path(source) if source is not None else DEFAULT_FOOTAGE
        self.host, self.port, self.mounts = host, port, mounts
        self.user, self.password = user, password
        self.mode, self.stamp, self.keyint = mode, stamp, keyint
        self.cache_dir, self.python, self.ready_timeout = cache_dir, python, ready_timeout
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: deque[str] = deque(maxlen=30)

    # --- addresses -----------------------------------------------------------------------------
    def url(
        self, mount: str | None = None, *, user: str | None = None, password: str | None = None
    ) -> str:
        """rtsp:// URL of a mount, with this simulator's credentials unless others are given."""
        user = user if user is not None else self.user
        password = password if password is not None else self.password
        auth = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else ""
        return f"rtsp://{auth}{self.host}:{self.port}{mount or self.mounts[0]}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> RtspSimulator:
        if self.running:
            return self
        media = transcode_for_simulator(self.source, cache_dir=self.cache_dir)
        cmd = [self.python, str(SERVER_SCRIPT), "--file", str(media), "--host", self.host]
        cmd += ["--port", str(self.port), "--mode", self.mode, "--keyint", str(self.keyint)]
        for mount in self.mounts:
            cmd += ["--mount", mount]
        if self.stamp:
            cmd.append("--stamp")
        if self.user:
            cmd += ["--user", self.user, "--password", self.password or ""]
        self._stderr.clear()
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            self.port = self._read_port()
            self._wait_until_serving()
        except BaseException:
            self.stop()
            raise
        log.info("simulator.started", port=self.port, pid=self._proc.pid, mounts=self.mounts)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        stop_group(proc, timeout)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> RtspSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- readiness -----------------------------------------------------------------------------
    def _read_port(self) -> int:
        assert self._proc is not None
        assert self._proc.stdout is not None
        lines: deque[str] = deque()
        stdout, stderr = self._proc.stdout, self._proc.stderr
        threading.Thread(target=lambda: lines.extend(stdout), daemon=True).start()
        threading.Thread(target=lambda: self._stderr.extend(stderr or ()), daemon=True).start()
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            while lines:
                line = lines.popleft()
                if line.startswith("READY "):
                    return int(line.split()[1])
            if self._proc.poll() is not None:
                time.sleep(0.1)  # let the stderr reader catch up
                raise SimulatorError(f"simulator exited: {''.join(self._stderr)[-800:]}")
            time.sleep(0.05)
        raise SimulatorError("simulator did not report its port in time")

    def _wait_until_serving(self) -> None:
        """Until every mount answers DESCRIBE with 200 (the media pipeline is prepared)."""
        deadline = time.monotonic() + self.ready_timeout
        for mount in self.mounts:
            status: int | str = "no answer"
            while time.monotonic() < deadline:
                try:
                    status = rtsp_describe(self.url(mount), timeout=5.0)
                    if status == 200:
                        break
                except OSError as exc:
                    status = str(exc)
                time.sleep(0.2)
            else:
                raise SimulatorError(f"{mount} not served in time (last DESCRIBE: {status})")


def rtsp_describe(url: str, timeout: float = 5.0) -> int:
    """Send one RTSP DESCRIBE (with basic auth if the URL has credentials); return the status."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 554
    clean = f"rtsp://{host}:{port}{parts.path or '/'}"
    request = f"DESCRIBE {clean} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n"
    if parts.username:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        request += f"Authorization: Basic {base64.b64encode(token).decode()}\r\n"
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(f"{request}\r\n".encode())
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(1024)
            if not chunk:
                raise ConnectionError("connection closed before a status line")
            head += chunk
    fields = head.split(b"\r\n", 1)[0].split()
    if len(fields) < 2 or not fields[1].isdigit():
        raise ConnectionError(f"not an RTSP answer: {head[:80]!r}")
    return int(fields[1])
