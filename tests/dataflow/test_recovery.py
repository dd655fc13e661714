"""Kill the dataflow mid-stream (SIGKILL: nothing flushed) and start it again: it resumes from
its Bytewax snapshots, and the lake holds every frame exactly once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.dataflow.conftest import (
    DataflowProcess,
    GatedVideo,
    add_camera,
    lake_rows,
    log_events,
    write_replay,
)
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.slow


def test_killed_dataflow_resumes_without_duplicates_or_gaps(
    tmp_path: Path,
    database: str,
    dataflow_env: Callable[..., dict[str, str]],
    dataflows: Callable[..., DataflowProcess],
    gated_video: Callable[[int], GatedVideo],
) -> None:
    camera = add_camera(database, "rtsp://127.0.0.1:1/unused")
    # Fed in quarters of 12 s, the rest only after the kill: the kill falls mid-replay.
    video = gated_video(4)
    replay = write_replay(
        tmp_path / "cameras.json",
        [{"camera_id": camera, "file": str(video.fifo), "duration_seconds": 16}],
    )
    env = dataflow_env()
    lake = Path(env["VIGIL_DATA_DIR"]) / "lake"
    run = dataflows(env, "--cameras-file", str(replay)).start()

    def frames_in_lake() -> int:
        return lake_rows(lake, "SELECT count(*) FROM frames")[0][0] if lake.exists() else 0

    assert wait_for(lambda: frames_in_lake() >= 12 or not run.running, 180), run.log()
    assert run.running, run.log()[-2000:]
    run.kill()
    killed_at = frames_in_lake()
    assert killed_at < 40
    video.release()  # the killed run's FFmpeg reads on, fails to write its frames and ends
    assert wait_for(lambda: video.rounds == 1, 60), "the killed run's reader did not end"

    run.start()
    assert run.wait() == 0, run.log()[-3000:]
    resumed = log_events(run.log(), "analyzer_restored")
    assert resumed, "the second run did not resume from the recovery snapshot"
    assert resumed[0]["frame_index"] > 0

    frames = lake_rows(lake, "SELECT frame_index, count(*) FROM frames GROUP BY 1 ORDER BY 1")
    assert frames == [(i, 1) for i in range(40)]  # 16 s at 2.5 fps: each frame exactly once
    duplicates = lake_rows(
        lake, "SELECT ts, index, count(*) FROM detections GROUP BY 1, 2 HAVING count(*) > 1"
    )
    assert duplicates == []
    assert lake_rows(lake, "SELECT count(*) FROM detections")[0][0] > 0
    assert "Traceback" not in run.log()
