"""Child processes in their own process group: dying with Vigil, stopped as a whole group, and
restarted after an exponential backoff. Shared by the embedded services, Dagster, the RTSP
simulator, the ingest supervisor and the dataflow's sinks and readers."""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """A `preexec_fn`: if Vigil dies without stopping the child (kill -9, crash), the kernel
    sends it SIGTERM instead of leaving it holding ports. Caveat: "parent" is the thread that
    forked; start long-lived children from a long-lived thread."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group, read from /proc (Linux)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp ...
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def signal_group(pgid: int, signum: int) -> None:
    """`signum` to a process group that may already be gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def stop_group(
    proc: subprocess.Popen[Any], grace: float, stop_signal: int = signal.SIGTERM
) -> tuple[int, bool]:
    """`stop_signal` to the group the child leads (started with `start_new_session`), SIGKILL
    to whatever outlives `grace` (the leader, or children that ignored the signal); reaps the
    child. Returns its exit code (negative: killed by that signal) and whether SIGKILL was
    needed."""
    pgid = proc.pid
    signal_group(pgid, stop_signal)
    deadline = time.monotonic() + grace
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)  # children got the signal too; give them the same grace
    killed = proc.poll() is None or bool(group_members(pgid))
    if killed:
        signal_group(pgid, signal.SIGKILL)
    return proc.wait(), killed


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """Exponential backoff with "equal jitter" (half fixed, half random), capped. Hand-rolled:
    tenacity's wait functions need a RetryCallState, and these loops aren't retried calls."""
    base = min(maximum, initial * 2 ** min(attempt, 30))
    return base / 2 + random.uniform(0, base / 2)
