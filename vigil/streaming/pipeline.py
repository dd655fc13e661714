"""One camera in the dataflow, in plain Python: frames in, rows and side effects out.

reader (newest frame, or every frame of a replay) -> CameraAnalyzer (motion, gate, persons,
tracks, faces) -> rows (vigil.records.convert) -> the event rules, fed from those same rows
with `rule_frame` so a Dagster replay over the lake sees exactly what the live rules saw ->
event changes, each with the JPEG of its peak frame when that frame is at hand.

The state that must survive a restart (tracks, frame numbering, pending faces, the rules'
state, a replay's position) is `snapshot()`; `CameraPipeline(spec, env, resume=snapshot)`
continues from it.
"""

from __future__ import annotations

import copy
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import cv2

from vigil.cameras.urls import InvalidStreamURL, validate_rtsp_url
from vigil.logs import get_logger
from vigil.media.diagnostics import Status
from vigil.media.frame_reader import FileFrameReader, LiveFrameReader, TimedFrame
from vigil.records.convert import (
    detection_rows,
    event_row,
    face_detection_id,
    face_row,
    frame_row,
    rule_frame,
)
from vigil.rules import CameraRules, CameraState, EventChange, RulesConfig
from vigil.storage.keys import event_snapshot_key, face_thumbnail_key
from vigil.streaming.backends import VisionBackends
from vigil.streaming.health import HealthBoard
from vigil.streaming.metrics import CameraMeter
from vigil.streaming.outputs import Blob, CameraOutput, EventWrite
from vigil.streaming.specs import CameraSpec
from vigil.vision import AnalyzerConfig, AnalyzerSnapshot, CameraAnalyzer, VisionError
from vigil.vision.detection_path import PathConfig, PathMode
from vigil.vision.frames import Frame
from vigil.vision.motion import MotionConfig
from vigil.vision.tracker import TrackerConfig
from vigil.vision.types import FaceObservation, FrameAnalysis

log = get_logger(__name__)

SNAPSHOT_VERSION = 1
RECENT_JPEG_SECONDS = 4.0  # how far back an event's peak frame can still get its snapshot
JPEG_QUALITY = 85


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PipelineEnv:
    """Everything a camera pipeline needs besides its spec (shared by all cameras)."""

    ffmpeg: str
    backends: VisionBackends
    gating: bool = True
    regions: bool = True  # search squares around motion and tracks when few enough
    region_size: int = 320  # their side: the region detector's input, so pixels stay native
    max_regions: int = 2
    tracker_confidence: float = 0.4  # VIGIL_DETECTOR_CONFIDENCE: the score that starts a track
    # Regions or whole frames, or chosen per camera from measured recall (VIGIL_DETECTOR_PATH*)
    path: PathConfig = field(default_factory=PathConfig)
    camera_paths: Mapping[int, PathMode] = field(default_factory=dict)  # per-camera override
    rules: RulesConfig = field(default_factory=RulesConfig)
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    stall_seconds: float = 10.0
    health: HealthBoard | None = None
    clock: Callable[[], datetime] = _now

    def analyzer_config(self, spec: CameraSpec) -> AnalyzerConfig:
        return AnalyzerConfig(
            motion=MotionConfig(masks=spec.motion_masks),
            tracker=TrackerConfig(frame_rate=spec.fps, confidence=self.tracker_confidence),
            gating=self.gating,
            region_detection=self.regions,
            region_min_side=self.region_size,
            region_max_count=self.max_regions,
            path=replace(self.path, mode=self.camera_paths.get(spec.camera_id, self.path.mode)),
            face_mode=spec.face_mode,
            faces_enabled=spec.face_recognition,
        )


@dataclass(frozen=True)
class CameraSnapshot:
    version: int
    camera_id: int
    analyzer: AnalyzerSnapshot
    rules_state: CameraState
    next_index: int  # replays: frames of the file already analysed
    status: str | None
    finished: bool  # a replay that reached the end of its file


class CameraPipeline:
    def __init__(
        self, spec: CameraSpec, env: PipelineEnv, resume: CameraSnapshot | None = None
    ) -> None:
        if resume is not None and (resume.version, resume.camera_id) != (
            SNAPSHOT_VERSION,
            spec.camera_id,
        ):
            raise ValueError(
                f"snapshot of camera {resume.camera_id} (v{resume.version}) cannot resume "
                f"camera {spec.camera_id} (v{SNAPSHOT_VERSION})"
            )
        self.spec = spec
        self.env = env
        self.camera_id = spec.camera_id
        self._log = log.bind(camera_id=str(spec.camera_id))
        self.meter = CameraMeter(spec.camera_id)
        detector, faces = env.backends.get()
        config = env.analyzer_config(spec)
        self.rules = CameraRules(str(spec.camera_id), spec.zones, env.rules)
        if resume is None:
            self.analyzer = CameraAnalyzer(str(spec.camera_id), detector, faces, config)
            self.rules_state = self.rules.initial_state()
            self.next_index, self.status, self.finished = 0, None, False
        else:
            restored = replace(resume.analyzer, config=config)
            self.analyzer = CameraAnalyzer.from_snapshot(restored, detector, faces)
            self.rules_state = copy.deepcopy(resume.rules_state)
            self.next_index, self.finished = resume.next_index, resume.finished
            self.status = resume.status
        self.reader: LiveFrameReader | FileFrameReader | None = None
        self._health_changes: deque[tuple[Status, str | None]] = deque()
        self._jpegs: OrderedDict[int, bytes] = OrderedDict()  # frame index -> JPEG
        self._jpeg_limit = max(4, round(RECENT_JPEG_SECONDS * spec.fps))
        self._snapshot_keys: dict[str, tuple[str, int]] = {}  # event id -> (key, peak frame)
        self._last_ts: datetime | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self.finished:
            return
        spec, env = self.spec, self.env
        if spec.replay is not None:
            try:
                self.reader = FileFrameReader(
                    spec.source_path,
                    spec.decode_options(),
                    env.ffmpeg,
                    spec.replay.start,
                    start_index=self.next_index,
                ).start()
            except (OSError, ValueError) as exc:
                self._on_status("error", str(exc))
                self.finished = True  # a replay that can't be read is over (and said why)
                return
            self._on_status("online", None)
        else:
            try:
                url = validate_rtsp_url(spec.source)
            except InvalidStreamURL as exc:
                self._on_status("error", f"invalid stream URL: {exc}")
                return
            self.reader = LiveFrameReader(
                url,
                spec.decode_options(),
                env.ffmpeg,
                on_status=self._on_status,
                backoff_initial_seconds=env.backoff_initial_seconds,
                backoff_max_seconds=env.backoff_max_seconds,
                stall_seconds=env.stall_seconds,
                camera_id=spec.camera_id,
                clock=env.clock,
            ).start()
        self._log.info(
            "camera_started",
            source=spec.masked_source,
            fps=spec.fps,
            width=spec.width,
            resumed_at=self.analyzer.state_snapshot().next_frame_index,
        )

    def update(self, spec: CameraSpec) -> None:
        """Apply an edited camera: a new reader for a new stream, a new analyzer configuration
        (tracks kept), new zones (open events of changed zones close, the rest carry on)."""
        old, self.spec = self.spec, spec
        if spec.analyzer_key() != old.analyzer_key():
            snapshot = replace(
                self.analyzer.state_snapshot(), config=self.env.analyzer_config(spec)
            )
            detector, faces = self.env.backends.get()
            self.analyzer = CameraAnalyzer.from_snapshot(snapshot, detector, faces)
        if spec.zones != old.zones:
            self.rules = CameraRules(str(spec.camera_id), spec.zones, self.env.rules)
            self._log.info("camera_zones_updated", zones=len(spec.zones))
        if spec.reader_key() != old.reader_key():
            self.stop_reader()
            self.start()

    def stop_reader(self) -> None:
        if self.reader is not None:
            self.reader.stop()
            self.reader = None

    def close(self) -> None:
        """Stop decoding (the state stays valid for a snapshot)."""
        self.stop_reader()
        self.meter.forget()
        if self.env.health is not None:
            self.env.health.remove(self.camera_id)

    # --- stepping ------------------------------------------------------------------------------
    @property
    def has_frame(self) -> bool:
        return self.reader is not None and self.reader.stats.queued > 0

    def step(self) -> CameraOutput | None:
        """Analyse the next frame if one is ready; None when there's nothing to report."""
        out = CameraOutput(self.camera_id)
        self._drain_health()
        reader = self.reader
        if reader is None or self.finished:
            return out or None
        item = reader.take() if isinstance(reader, LiveFrameReader) else reader.poll()
        stats = reader.stats
        self.meter.reader(stats.frames_in, stats.dropped, stats.queued)
        if item is not None:
            self._analyse(item, out)
        elif isinstance(reader, FileFrameReader) and reader.finished:
            if reader.error is not None:
                self._on_status("error", reader.error)
                self._drain_health()
            # Close at the last frame's time: a replay's events don't depend on the wall clock.
            self._end(out, self._last_ts or reader.ts_of(max(self.next_index - 1, 0)))
            self.stop_reader()
        return out or None

    def finish(self) -> CameraOutput:
        """The camera goes away (deleted, disabled): release pending faces, close its events."""
        out = CameraOutput(self.camera_id)
        self._drain_health()
        self._end(out, self.env.clock())
        return out

    def _analyse(self, item: TimedFrame, out: CameraOutput) -> None:
        try:
            cpu = time.thread_time()
            analysis = self.analyzer.process(item.frame, item.ts)
            cpu = time.thread_time() - cpu
        except VisionError as exc:
            self._log.error("frame_analysis_failed", error=str(exc), frame=item.index)
            return
        cid = self.camera_id
        frame, detections = frame_row(analysis, cid), detection_rows(analysis, cid)
        out.frame_ts, out.frames, out.detections = analysis.ts, [frame], detections
        self._faces(analysis.faces, out)
        if analysis.persons or analysis.motion_boxes:
            self._remember(analysis, item.frame)
        self.rules_state, changes = self.rules.step(self.rules_state, rule_frame(frame, detections))
        self._events(changes, out)
        self.next_index, self._last_ts = item.index + 1, analysis.ts
        # Stages are timed by the clock; on a busy machine the thread also waits for a core,
        # so each stage gets its share of the CPU the thread really used.
        share = min(1.0, 1000 * cpu / analysis.total_ms) if analysis.total_ms > 0 else 1.0
        self.meter.analysed(
            analysis.analysed,
            analysis.inference_ms,
            {
                "motion": analysis.motion_ms * share,
                "detection": analysis.inference_ms * share,
                "tracking": analysis.tracking_ms * share,
                "faces": analysis.face_ms * share,
            },
        )
        path = self.analyzer.detection_path
        self.meter.detection_path(path.path, path.last_check.recall if path.last_check else None)
        if self.env.health is not None:
            self.env.health.analysed(cid, analysis.ts)

    def _end(self, out: CameraOutput, ts: datetime) -> None:
        self._faces(self.analyzer.flush_faces(), out)
        self.rules_state, changes = self.rules.finish(self.rules_state, ts)
        self._events(changes, out)
        self.finished = self.spec.replay is not None
        if self.finished:
            self._log.info("replay_finished", frames=self.next_index)

    def _faces(self, faces: tuple[FaceObservation, ...], out: CameraOutput) -> None:
        for face in faces:
            face_id = face_detection_id(self.camera_id, face)
            key = face_thumbnail_key(self.camera_id, face.ts, face_id)
            out.faces.append(face_row(face, self.camera_id, key))
            out.blobs.append(Blob(key, face.thumbnail_jpeg))

    def _remember(self, analysis: FrameAnalysis, frame: Frame) -> None:
        """Keep a JPEG of a frame that could become an event's peak (people or motion)."""
        ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            self._jpegs[analysis.frame_index] = encoded.tobytes()
            while len(self._jpegs) > self._jpeg_limit:
                self._jpegs.popitem(last=False)

    def _events(self, changes: list[EventChange], out: CameraOutput) -> None:
        for change in changes:
            event = change.event
            event_id = str(event.event_id)
            row = event_row(change)
            out.events.append(row)
            stored = self._snapshot_keys.get(event_id)
            jpeg = self._jpegs.get(event.peak_frame_id)
            if jpeg is not None and (stored is None or stored[1] != event.peak_frame_id):
                stored = (event_snapshot_key(self.camera_id, event_id), event.peak_frame_id)
                out.blobs.append(Blob(stored[0], jpeg))
                self._snapshot_keys[event_id] = stored
            out.event_writes.append(
                EventWrite(
                    event,
                    stored[0] if stored else None,
                    self.rules.fingerprint,
                    opened=row if change.kind == "open" else None,
                )
            )
            if change.kind == "close":
                self._snapshot_keys.pop(event_id, None)

    # --- health --------------------------------------------------------------------------------
    def _on_status(self, status: Status, error: str | None) -> None:
        """Called from the reader thread: queue the change for the next step."""
        self._health_changes.append((status, error))
        if self.env.health is not None:
            self.env.health.update(self.camera_id, status=status, error=error)

    def _drain_health(self) -> None:
        """Log the reader's status changes. The camera_health topic and table belong to ingest
        (one writer per status); the detect stream's state is in the log, /healthz, metrics."""
        while self._health_changes:
            status, error = self._health_changes.popleft()
            previous, self.status = self.status, status
            if status == "online":
                self._log.info("detect_stream_online", previous=previous)
            else:
                self._log.warning("detect_stream_unavailable", status=status, error=error)

    def snapshot(self) -> CameraSnapshot:
        return CameraSnapshot(
            version=SNAPSHOT_VERSION,
            camera_id=self.camera_id,
            analyzer=self.analyzer.state_snapshot(),
            rules_state=copy.deepcopy(self.rules_state),
            next_index=self.next_index,
            status=self.status,
            finished=self.finished,
        )
