"""One camera's pipeline without Bytewax: real footage, real models, real rules."""

from __future__ import annotations

import pickle
import subprocess
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.dataflow.conftest import ROOT, T0
from vigil.media.ffmpeg import find_ffmpeg
from vigil.records.convert import rule_observations
from vigil.rules import RulesConfig, ZoneRule, replay
from vigil.streaming.backends import BackendConfig, VisionBackends
from vigil.streaming.outputs import CameraOutput
from vigil.streaming.pipeline import CameraPipeline, PipelineEnv
from vigil.streaming.specs import CameraSpec, ReplaySpec

CAMERA = 7
LOWER_HALF = ZoneRule("1", str(CAMERA), "walkway", ((0, 0.5), (1, 0.5), (1, 1), (0, 1)))


@pytest.fixture(scope="module")
def env() -> PipelineEnv:
    return PipelineEnv(find_ffmpeg(), VisionBackends(BackendConfig(detector_threads=1)))


def spec(footage: Path, seconds: float, **fields: object) -> CameraSpec:
    values: dict[str, object] = {
        "camera_id": CAMERA,
        "source": str(footage),
        "fps": 2.5,
        "zones": (LOWER_HALF,),
        "replay": ReplaySpec(T0, duration_seconds=seconds),
        **fields,
    }
    return CameraSpec(**values)  # type: ignore[arg-type]


def run(pipeline: CameraPipeline, frames: int | None = None) -> list[CameraOutput]:
    """Step until `frames` frames were analysed, or until the replay ends."""
    outputs: list[CameraOutput] = []
    analysed = 0
    deadline = time.monotonic() + 120
    while True:
        out = pipeline.step()  # at least once: a step also reports status changes
        if out is not None:
            outputs.append(out)
            analysed += len(out.frames)
        if pipeline.finished or (frames is not None and analysed >= frames):
            return outputs
        assert time.monotonic() < deadline, "the pipeline stalled"
        if out is None:
            time.sleep(0.01)


@pytest.fixture(scope="module")
def replayed(footage: Path, env: PipelineEnv) -> tuple[CameraPipeline, list[CameraOutput]]:
    pipeline = CameraPipeline(spec(footage, 8), env)
    pipeline.start()
    outputs = run(pipeline)
    pipeline.close()
    return pipeline, outputs


def test_replay_yields_rows_events_and_snapshots(
    replayed: tuple[CameraPipeline, list[CameraOutput]],
) -> None:
    pipeline, outputs = replayed
    frames = [row for out in outputs for row in out.frames]
    detections = [row for out in outputs for row in out.detections]
    assert [f["frame_index"] for f in frames] == list(range(20))
    assert [f["ts"] for f in frames] == [T0 + timedelta(seconds=i / 2.5) for i in range(20)]
    tracked = [d for d in detections if d["track_id"] is not None]
    assert len({d["track_id"] for d in tracked}) >= 3
    writes = [w for out in outputs for w in out.event_writes]
    assert {w.event.type for w in writes} >= {"intrusion"}
    assert all(w.rules_fingerprint == pipeline.rules.fingerprint for w in writes)
    blobs = {b.key: b.data for out in outputs for b in out.blobs}
    keys = {w.snapshot_key for w in writes if w.snapshot_key}
    assert keys and keys <= set(blobs)
    assert all(blobs[k][:2] == b"\xff\xd8" for k in keys)  # JPEG
    assert all(not w.event.is_open for w in writes[-2:])  # the end of a replay closes events


def test_the_ultralytics_backend_runs_the_same_pipeline(footage: Path) -> None:
    """VIGIL_DETECTOR_BACKEND=ultralytics (the test setup installs the extra) end to end."""
    backends = VisionBackends(
        BackendConfig(detector_backend="ultralytics", detector_threads=1, face_backend=None)
    )
    pipeline = CameraPipeline(spec(footage, 8), PipelineEnv(find_ffmpeg(), backends))
    pipeline.start()
    outputs = run(pipeline)
    pipeline.close()
    detections = [row for out in outputs for row in out.detections]
    assert len({d["track_id"] for d in detections if d["track_id"] is not None}) >= 3
    writes = [w for out in outputs for w in out.event_writes]
    assert {w.event.type for w in writes} >= {"intrusion"}


def test_live_rules_equal_a_replay_of_the_rows(
    replayed: tuple[CameraPipeline, list[CameraOutput]],
) -> None:
    """The rules see the rows, not the analyzer's objects: Dagster's replay over the lake
    re-derives exactly the events the stream produced."""
    _, outputs = replayed
    live: dict[str, object] = {}
    for out in outputs:
        for write in out.event_writes:
            live[str(write.event.event_id)] = write.event
    frames = [row for out in outputs for row in out.frames]
    detections = [row for out in outputs for row in out.detections]
    batch = replay(
        rule_observations(frames, detections),
        [LOWER_HALF],
        RulesConfig(),
        T0,
        T0 + timedelta(hours=1),
        camera_id=str(CAMERA),
        close_at_end=True,
    )
    assert live and {str(e.event_id): e for e in batch} == live


def test_a_restored_pipeline_continues_tracks_and_frame_numbers(
    footage: Path, env: PipelineEnv
) -> None:
    first = CameraPipeline(spec(footage, 6), env)
    first.start()
    before = run(first, frames=8)
    snapshot = pickle.loads(pickle.dumps(first.snapshot()))  # noqa: S301 (as Bytewax does)
    first.close()
    assert snapshot.next_index == 8

    resumed = CameraPipeline(spec(footage, 6), env, resume=snapshot)
    resumed.start()
    after = run(resumed)
    resumed.close()
    indexes = [f["frame_index"] for out in before + after for f in out.frames]
    assert indexes == list(range(15))
    tracks_before = {d["track_id"] for out in before for d in out.detections}
    tracks_after = {d["track_id"] for out in after for d in out.detections}
    assert (tracks_before & tracks_after) - {None}, "no track survived the restore"


def test_editing_zones_keeps_the_camera_running(footage: Path, env: PipelineEnv) -> None:
    pipeline = CameraPipeline(spec(footage, 6), env)
    pipeline.start()
    run(pipeline, frames=8)
    pipeline.update(spec(footage, 6, zones=()))  # the zone is deleted
    after = run(pipeline)
    pipeline.close()
    closes = [w.event for out in after for w in out.event_writes if w.event.type == "intrusion"]
    assert closes and all(not e.is_open for e in closes)  # the deleted zone's event closed
    assert [f["frame_index"] for out in after for f in out.frames] == list(range(8, 15))


@pytest.fixture(scope="module")
def faces_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two people facing the camera (zidane.jpg from ../shared/data/faces), held for 3 s."""
    still = ROOT.parent / "shared" / "data" / "faces" / "zidane.jpg"
    out = tmp_path_factory.mktemp("faces") / "faces.mp4"
    cmd = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-loop", "1", "-i", str(still)]
    cmd += ["-t", "3", "-r", "5", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-y", str(out)]
    subprocess.run(cmd, check=True, timeout=60)
    return out


def test_faces_come_with_thumbnails_and_stable_ids(faces_video: Path, env: PipelineEnv) -> None:
    face_spec = spec(faces_video, 3, fps=5, width=1280, face_mode=True, zones=())
    outputs = []
    for _ in range(2):  # twice: the same frames give the same face ids
        pipeline = CameraPipeline(face_spec, env)
        pipeline.start()
        outputs.append(run(pipeline))
        pipeline.close()
    faces = [row for out in outputs[0] for row in out.faces]
    assert len(faces) >= 2
    blobs = {b.key: b.data for out in outputs[0] for b in out.blobs}
    for row in faces:
        assert row["thumbnail_key"].startswith(f"faces/{CAMERA}/2026-11-23/")
        assert blobs[row["thumbnail_key"]][:2] == b"\xff\xd8"  # a JPEG thumbnail
        assert len(row["embedding"]) == 128
    again = [row["face_detection_id"] for out in outputs[1] for row in out.faces]
    assert [row["face_detection_id"] for row in faces] == again


def test_a_camera_with_face_recognition_off_computes_no_faces(
    faces_video: Path, env: PipelineEnv
) -> None:
    off = spec(faces_video, 3, fps=5, width=1280, face_mode=True, face_recognition=False)
    pipeline = CameraPipeline(off, env)
    pipeline.start()
    outputs = run(pipeline)
    pipeline.close()
    assert sum(len(out.frames) for out in outputs) >= 10  # frames were analysed
    assert [row for out in outputs for row in out.faces] == []
    assert not any(b.key.startswith("faces/") for out in outputs for b in out.blobs)
    # Turning it on is an analyzer change the running pipeline applies (tracks are kept).
    on = replace(off, face_recognition=True)
    assert on.analyzer_key() != off.analyzer_key()


def test_an_unreadable_replay_ends_instead_of_waiting(tmp_path: Path, env: PipelineEnv) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    for source in (junk, tmp_path / "deleted.mp4"):
        pipeline = CameraPipeline(spec(source, 4), env)
        pipeline.start()
        outputs = run(pipeline)
        pipeline.close()
        assert pipeline.finished and pipeline.status == "error"
        assert [row for out in outputs for row in out.frames] == []


def test_a_bad_camera_is_refused_clearly(footage: Path) -> None:
    with pytest.raises(ValueError, match="fps"):
        spec(footage, 4, fps=0)
    with pytest.raises(ValueError, match="camera_id"):
        spec(footage, 4, camera_id=0)
    with pytest.raises(ValueError, match="mask"):
        spec(footage, 4, motion_masks=(((0.0, 0.0), (2.0, 0.0), (0.0, 1.0)),))
