"""Scale-out: the same replay on 1 worker, 2 worker threads and 2 processes gives the same
detections. Replays decode at fixed timestamps and every slot runs on exactly one worker, so
the results are equal row for row, not only in number."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.dataflow.conftest import DataflowProcess, add_camera, lake_rows, write_replay

pytestmark = pytest.mark.slow

DETECTIONS = (
    "SELECT camera_id, ts, index, track_id, score, bbox, detected FROM detections ORDER BY ALL"
)


def test_one_worker_two_workers_and_two_processes_find_the_same_people(
    tmp_path: Path,
    database: str,
    dataflow_env: Callable[..., dict[str, str]],
    dataflows: Callable[..., DataflowProcess],
) -> None:
    cameras = [add_camera(database, "rtsp://127.0.0.1:1/unused") for _ in range(2)]
    replay = write_replay(
        tmp_path / "cameras.json",
        [
            {"camera_id": cameras[0], "duration_seconds": 4},
            {"camera_id": cameras[1], "offset_seconds": 30, "duration_seconds": 4},
        ],
    )
    results = {}
    for name, args in {"1 worker": [], "-w 2": ["-w", "2"], "-p 2": ["-p", "2"]}.items():
        data = tmp_path / name.replace(" ", "_")
        env = dataflow_env(VIGIL_DATA_DIR=str(data))
        run = dataflows(env, "--cameras-file", str(replay), *args, name=data.name).start()
        assert run.wait() == 0, run.log()[-3000:]
        results[name] = lake_rows(data / "lake", DETECTIONS)
        frames = lake_rows(data / "lake", "SELECT camera_id, count(*) FROM frames GROUP BY ALL")
        assert sorted(frames) == [(cameras[0], 10), (cameras[1], 10)], name  # 4 s at 2.5 fps

    baseline = results["1 worker"]
    assert len(baseline) > 20
    assert {row[0] for row in baseline} == set(cameras)
    assert results["-w 2"] == baseline
    assert results["-p 2"] == baseline
