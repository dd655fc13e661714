"""A slot follows the cameras table: cameras added, disabled and resumed, live over RTSP, while
the other cameras of the slot keep their state."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable

import pytest
from sqlalchemy import update

from tests.dataflow.conftest import add_camera
from vigil.db.models import Camera
from vigil.db.session import session_scope
from vigil.media.ffmpeg import find_ffmpeg
from vigil.simulator import RtspSimulator
from vigil.streaming.backends import BackendConfig, VisionBackends
from vigil.streaming.catalog import CatalogCache, DatabaseCatalog
from vigil.streaming.outputs import CameraOutput
from vigil.streaming.pipeline import PipelineEnv
from vigil.streaming.slot import CameraSlot

pytestmark = pytest.mark.slow


def poll_until(
    slot: CameraSlot, done: Callable[[list[CameraOutput]], bool], timeout: float = 90.0
) -> list[CameraOutput]:
    outputs: list[CameraOutput] = []
    deadline = time.monotonic() + timeout
    while not done(outputs):
        assert time.monotonic() < deadline, f"gave up after {len(outputs)} outputs"
        outputs += [o for o in slot.poll() if isinstance(o, CameraOutput)]
        time.sleep(0.02)
    return outputs


def frames_of(outputs: list[CameraOutput], camera_id: int) -> list[int]:
    return [f["frame_index"] for o in outputs if o.camera_id == camera_id for f in o.frames]


def test_cameras_come_and_go_without_disturbing_the_others(
    database: str, plaza_camera: RtspSimulator
) -> None:
    env = PipelineEnv(find_ffmpeg(), VisionBackends(BackendConfig(detector_threads=1)))
    catalog = CatalogCache(DatabaseCatalog(database), ttl=0)
    slot = CameraSlot(0, 1, catalog, env, sync_seconds=0)
    first = add_camera(database, plaza_camera.url(), detect_fps=5, detect_width=320)
    seen = poll_until(slot, lambda out: len(frames_of(out, first)) >= 3)
    pipeline = slot.pipeline(first)

    second = add_camera(database, plaza_camera.url(), detect_fps=5, detect_width=320)
    seen += poll_until(slot, lambda out: len(frames_of(out, second)) >= 3)
    assert slot.pipeline(first) is pipeline  # untouched by the new camera
    indexes = frames_of(seen, first)
    assert indexes == list(range(len(indexes)))  # one unbroken sequence

    with session_scope(database) as session:
        session.execute(update(Camera).where(Camera.id == first).values(enabled=False))
    poll_until(slot, lambda _: slot.camera_ids == [second])
    later = poll_until(slot, lambda out: len(frames_of(out, second)) >= 2)
    assert frames_of(later, first) == []

    snapshot = pickle.loads(pickle.dumps(slot.snapshot()))  # noqa: S301 (as Bytewax does)
    slot.close()
    resumed = CameraSlot(0, 1, catalog, env, snapshot, sync_seconds=0)
    after = poll_until(resumed, lambda out: len(frames_of(out, second)) >= 1)
    resumed.close()
    assert frames_of(after, second)[0] > frames_of(seen + later, second)[-1]  # numbering goes on
