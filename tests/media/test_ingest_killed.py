"""An ingest process killed outright (SIGKILL, the OOM killer) takes its FFmpeg recorders with it:
FFmpeg ignores SIGPIPE, so an orphan would keep recording beside the restarted service's own
(the soak benchmark found two such orphans after killing `vigil up`'s ingest)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.media.conftest import processes_mentioning, wait_for
from vigil.simulator import RtspSimulator

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from tests.media.conftest import TEST_OPTIONS
    from vigil.media.paths import MediaPaths
    from vigil.media.supervisor import CameraProcess, CameraSpec, SupervisorConfig

    config = SupervisorConfig(paths=MediaPaths(Path(sys.argv[2])), options=TEST_OPTIONS)
    CameraProcess(CameraSpec(id=1, record_url=sys.argv[1]), config).start()
    threading.Event().wait()
    """
)


def test_recorders_die_with_a_killed_ingest(simulator: RtspSimulator, tmp_path: Path) -> None:
    media = tmp_path / "media"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, simulator.url("/stream"), str(media)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        # Recording: FFmpeg is writing this camera's live playlist.
        assert wait_for(lambda: (media / "live" / "1" / "index.m3u8").exists(), 60)
        recorders = processes_mentioning(f"{media}/live/1/")
        assert recorders
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert wait_for(lambda: not processes_mentioning(f"{media}/live/1/"), 30), recorders
    finally:
        child.kill()
        child.wait()
        for pid in processes_mentioning(f"{media}/live/1/"):
            os.kill(pid, signal.SIGKILL)
