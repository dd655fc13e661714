"""ManagedProcess with small real children: readiness, errors with log tails, clean stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vigil.embedded import ManagedProcess, PortInUseError, ProcessError, free_port
from vigil.embedded.process import free_port_block, port_is_free, tcp_port_open
from vigil.processes import group_members

PY = sys.executable


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


class FileProbe(ManagedProcess):
    """Ready once the child has written its marker file."""

    def __init__(self, marker: Path, argv: list[str], **kwargs: object) -> None:
        super().__init__("child", argv, **kwargs)  # type: ignore[arg-type]
        self.marker = marker

    def probe(self) -> bool:
        return self.marker.exists()


def test_start_waits_for_probe_and_stop_kills_the_whole_group(tmp_path: Path) -> None:
    marker = tmp_path / "ready"
    script = f"sleep 300 & sleep 300 & touch {marker}; wait"
    proc = FileProbe(marker, ["/bin/sh", "-c", script], log_dir=tmp_path)
    with proc:
        assert proc.is_running
        assert marker.exists()
        pgid = proc.pid
        assert pgid is not None
        assert len(group_members(pgid)) == 3  # the shell and its two sleeps
    assert not proc.is_running
    assert group_members(pgid) == []


def test_sigterm_ignored_then_sigkill_after_grace(tmp_path: Path) -> None:
    marker = tmp_path / "ready"
    code = (
        "import signal, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(marker)!r}).touch(); time.sleep(300)"
    )
    proc = FileProbe(marker, [PY, "-c", code], log_dir=tmp_path, stop_grace=0.5)
    proc.start()
    pgid = proc.pid
    assert pgid is not None
    started = time.monotonic()
    assert proc.stop() == -signal.SIGKILL
    assert time.monotonic() - started < 5
    assert group_members(pgid) == []
    assert proc.stop() is None  # stopping twice is harmless


def test_exit_before_ready_reports_code_and_log_tail(tmp_path: Path) -> None:
    proc = FileProbe(
        tmp_path / "never",
        [PY, "-c", "print('config file broken: line 3'); raise SystemExit(3)"],
        log_dir=tmp_path,
    )
    with pytest.raises(ProcessError, match="exited with code 3") as excinfo:
        proc.start()
    assert "config file broken: line 3" in str(excinfo.value)
    assert not proc.is_running


def test_not_ready_in_time_is_stopped_with_log_tail(tmp_path: Path) -> None:
    proc = FileProbe(
        tmp_path / "never",
        [PY, "-u", "-c", "print('still booting'); import time; time.sleep(300)"],
        log_dir=tmp_path,
        ready_timeout=1.0,
    )
    with pytest.raises(ProcessError, match=r"not ready after 1 s \(last probe: ") as excinfo:
        proc.start()
    assert "still booting" in str(excinfo.value)
    assert not proc.is_running


def test_port_in_use_refused_before_spawning(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert not port_is_free(port)
        assert tcp_port_open(port)
        proc = ManagedProcess("busy", ["/bin/true"], log_dir=tmp_path, ports=[port])
        with pytest.raises(PortInUseError, match=str(port)):
            proc.start()
        assert proc.pid is None


def test_restart_appends_to_the_same_log(tmp_path: Path) -> None:
    proc = ManagedProcess("echo", ["/bin/sh", "-c", "echo run; sleep 300"], log_dir=tmp_path)
    for _ in range(2):
        proc.start()
        proc.stop()
    log = (tmp_path / "echo.log").read_text()
    assert log.count("starting: /bin/sh") == 2


def test_child_dies_with_its_parent(tmp_path: Path) -> None:
    """If Vigil is killed without stopping its services, they do not linger holding ports."""
    parent = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from vigil.embedded import ManagedProcess
        proc = ManagedProcess("orphan", ["sleep", "300"], log_dir=Path({str(tmp_path)!r}))
        proc.start()
        print(proc.pid, flush=True)
        os._exit(0)  # no stop(): a crash
        """
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [PY, "-c", parent], capture_output=True, text=True, timeout=30, check=True, cwd=repo
    )
    pid = int(out.stdout.split()[-1])
    try:
        deadline = time.monotonic() + 30  # a bound, not an expectation: the parent is gone
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_free_ports() -> None:
    base = free_port_block((0, 1, 10000))
    assert all(port_is_free(base + offset) for offset in (0, 1, 10000))
    assert 20000 <= free_port() <= 32000  # below the ephemeral range
