"""The broker goes down mid-stream: the dataflow keeps analysing and writing the lake, the
producer holds the records and delivers them when the broker is back; none is lost."""

from __future__ import annotations

import time
import uuid
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
from vigil.broker import JsonConsumer, Topics
from vigil.embedded import TansuBroker

pytestmark = pytest.mark.slow


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 90.0) -> set[str]:
    """The distinct `ts` of a topic's records, until `expected` or `timeout`."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    with JsonConsumer(bootstrap, f"test-{uuid.uuid4().hex[:8]}", [topic]) as consumer:
        while len(seen) < expected and time.monotonic() < deadline:
            seen.update(record.value["ts"] for record in consumer.consume(500, 1.0))
    return seen


def test_records_wait_out_a_broker_outage(
    tmp_path: Path,
    database: str,
    make_tansu_s3: Callable[[], TansuBroker],
    dataflow_env: Callable[..., dict[str, str]],
    dataflows: Callable[..., DataflowProcess],
    gated_video: Callable[[int], GatedVideo],
) -> None:
    broker = make_tansu_s3()  # S3 storage: the broker restarts with its data and producer ids
    camera = add_camera(database, "rtsp://127.0.0.1:1/unused")
    # The replay is fed in thirds: the second only once the broker is down, the last once it
    # is back, so the outage falls mid-stream whatever the machine's speed.
    video = gated_video(3)
    replay = write_replay(
        tmp_path / "cameras.json",
        [{"camera_id": camera, "file": str(video.fifo), "duration_seconds": 48}],
    )
    env = dataflow_env(VIGIL_KAFKA_BOOTSTRAP=broker.bootstrap)
    lake = Path(env["VIGIL_DATA_DIR"]) / "lake"
    topic = Topics(env["VIGIL_KAFKA_TOPIC_PREFIX"]).motion
    run = dataflows(env, "--cameras-file", str(replay)).start()

    assert len(read_topic(broker.bootstrap, topic, 3)) >= 3  # flowing before the outage
    broker.stop()
    video.release(1)

    def frames() -> int:
        return lake_rows(lake, "SELECT count(*) FROM frames")[0][0] if lake.exists() else 0

    at_outage = frames()
    assert wait_for(lambda: frames() >= at_outage + 8 or not run.running, 180), run.log()
    assert run.running, run.log()[-3000:]
    broker.start()
    video.release()
    assert run.wait() == 0, run.log()[-3000:]

    lake_ts = {ts.isoformat() for (ts,) in lake_rows(lake, "SELECT ts FROM frames")}
    assert len(lake_ts) == 120  # 48 s at 2.5 fps
    assert read_topic(broker.bootstrap, topic, len(lake_ts)) == lake_ts
    (closed,) = log_events(run.log(), "kafka_output_closed")
    assert (closed["failed"], closed["lost"], closed["undelivered"]) == (0, 0, 0)
    assert closed["delivered"] == closed["sent"]
