"""A camera's detection path: when it checks, how a check's recall moves it, how it is forced
and exported. (On real footage, with real detectors: test_detection_accuracy.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from vigil.streaming.backends import BackendConfig, VisionBackends
from vigil.streaming.metrics import CameraMeter
from vigil.streaming.pipeline import PipelineEnv
from vigil.streaming.specs import CameraSpec
from vigil.vision.detection_path import PathChooser, PathConfig

from .conftest import T0, VTEST

CONFIG = PathConfig(mode="auto", check_interval_seconds=60.0, check_people=10, check_max_frames=5)


def check(chooser: PathChooser, start: float, people: int, found: int) -> float:
    """One check of 5 frames from `start` s, `people` per frame of which `found` are found;
    the time of its last frame."""
    ts = start
    for i in range(CONFIG.check_max_frames):
        ts = start + i * 0.2
        assert chooser.checking(T0 + timedelta(seconds=ts))
        done = chooser.record(people, found, T0 + timedelta(seconds=ts))
        if done is not None:
            return ts
    raise AssertionError("the check did not end")


def test_a_check_below_the_floor_moves_the_camera_to_the_whole_frame_and_back() -> None:
    chooser = PathChooser(CONFIG, "7")
    assert chooser.path == "regions"
    end = check(chooser, 0.0, 4, 4)  # 12 people in 3 frames, all found
    assert chooser.last_check is not None and chooser.last_check.frames == 3
    assert chooser.path == "regions" and chooser.last_check.recall == 1.0
    assert not chooser.checking(T0 + timedelta(seconds=end + 59))  # not due before the interval
    end = check(chooser, end + 60, 4, 3)  # 75 %
    assert chooser.path == "whole" and chooser.last_check.recall == 0.75
    check(chooser, end + 60, 4, 4)  # the regions hold again: back to the cheap path
    assert chooser.path == "regions"


def test_a_check_without_people_ends_after_its_frames_and_keeps_the_path() -> None:
    chooser = PathChooser(CONFIG)
    check(chooser, 0.0, 4, 2)
    assert chooser.path == "whole"
    end = check(chooser, 100.0, 0, 0)
    assert end == pytest.approx(100.8)  # all 5 frames
    assert chooser.path == "whole" and chooser.last_check is not None
    assert chooser.last_check.recall is None


@pytest.mark.parametrize("mode", ["regions", "whole"])
def test_a_forced_path_never_checks(mode: str) -> None:
    chooser = PathChooser(PathConfig(mode=mode))  # type: ignore[arg-type]
    assert chooser.path == mode
    assert not chooser.checking(T0)
    assert not chooser.checking(T0 + timedelta(days=1))


def test_cameras_take_the_global_path_unless_overridden() -> None:
    env = PipelineEnv(
        "ffmpeg",
        VisionBackends(BackendConfig(face_backend=None)),
        path=PathConfig(mode="auto"),
        camera_paths={2: "whole"},
    )
    assert env.analyzer_config(CameraSpec(1, str(VTEST), fps=5.0)).path.mode == "auto"
    assert env.analyzer_config(CameraSpec(2, str(VTEST), fps=5.0)).path.mode == "whole"


def test_the_path_and_its_recall_are_exported_per_camera() -> None:
    meter = CameraMeter(9101)

    def value(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"camera_id": "9101", **labels})

    meter.detection_path("whole", 0.8)
    assert value("vigil_dataflow_detection_path", path="whole") == 1
    assert value("vigil_dataflow_detection_path", path="regions") == 0
    assert value("vigil_dataflow_detection_path_recall") == 0.8
    meter.forget()
    assert value("vigil_dataflow_detection_path", path="whole") is None
    assert value("vigil_dataflow_detection_path_recall") is None
