"""A slot: the cameras one dataflow partition owns (camera_id % slots), run one after the other.

The slot re-reads the camera catalog every `sync_seconds`: a new camera gets a pipeline (from
its recovery snapshot when there is one), an edited one is updated in place, a removed or
disabled one is finished (its open events close) and dropped. The other cameras of the slot
are not touched. Replays that reached the end of their file are remembered as done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vigil.logs import get_logger
from vigil.records.convert import event_row
from vigil.rules import CameraRules
from vigil.streaming.catalog import CatalogCache
from vigil.streaming.metrics import CAMERAS
from vigil.streaming.outputs import CameraOutput, EventWrite, Heartbeat
from vigil.streaming.pipeline import CameraPipeline, CameraSnapshot, PipelineEnv
from vigil.streaming.specs import CameraSpec, slot_of

log = get_logger(__name__)


@dataclass(frozen=True)
class SlotSnapshot:
    cameras: dict[int, CameraSnapshot]
    done: frozenset[int]  # replays already finished


class CameraSlot:
    def __init__(
        self,
        slot: int,
        slots: int,
        catalog: CatalogCache,
        env: PipelineEnv,
        resume: SlotSnapshot | None = None,
        *,
        sync_seconds: float = 5.0,
        idle_poll_seconds: float = 0.02,
        heartbeat_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= slot < slots:
            raise ValueError(f"slot {slot} is not in 0..{slots - 1}")
        self.slot, self.slots = slot, slots
        self.catalog = catalog
        self.env = env
        self.sync_seconds = sync_seconds
        self.idle_poll_seconds = idle_poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.clock = clock
        self._pipelines: dict[int, CameraPipeline] = {}
        self._resume: dict[int, CameraSnapshot] = dict(resume.cameras) if resume else {}
        self._done: set[int] = set(resume.done) if resume else set()
        self._next_sync = clock()
        self._last_emit = clock()
        self._synced = False

    @property
    def camera_ids(self) -> list[int]:
        return sorted(self._pipelines)

    def pipeline(self, camera_id: int) -> CameraPipeline | None:
        return self._pipelines.get(camera_id)

    @property
    def exhausted(self) -> bool:
        """A replay slot whose every camera reached the end of its file."""
        return self.catalog.finite and self._synced and not self._pipelines

    def poll(self) -> list[CameraOutput | Heartbeat]:
        """Sync if due, then one step of every camera."""
        now = self.clock()
        out: list[CameraOutput | Heartbeat] = []
        if now >= self._next_sync:
            out += self._sync()
            self._next_sync = now + self.sync_seconds
        for camera_id, pipeline in list(self._pipelines.items()):
            result = pipeline.step()
            if result is not None:
                out.append(result)
            if pipeline.finished:
                self._done.add(camera_id)
                self._drop(camera_id)
        if out:
            self._last_emit = now
        elif now - self._last_emit >= self.heartbeat_seconds:
            out.append(Heartbeat(self.slot))
            self._last_emit = now
        return out

    def next_awake(self) -> datetime | None:
        """When to poll next: now if a frame waits, soon if cameras run, else at the next sync."""
        if any(p.has_frame for p in self._pipelines.values()):
            return None
        now = self.clock()
        due = min(self._next_sync, self._last_emit + self.heartbeat_seconds)
        if self._pipelines:
            due = min(due, now + self.idle_poll_seconds)
        return datetime.now(UTC) + timedelta(seconds=max(0.0, due - now))

    def _sync(self) -> list[CameraOutput | Heartbeat]:
        specs = self.catalog.cameras()
        if specs is None:
            return []  # the catalog was never readable: keep waiting (it's logged)
        self._synced = True
        mine = {
            cid: spec
            for cid, spec in specs.items()
            if slot_of(cid, self.slots) == self.slot and cid not in self._done
        }
        out: list[CameraOutput | Heartbeat] = []
        for camera_id in sorted(set(self._pipelines) - set(mine)):
            log.info("camera_removed", camera_id=str(camera_id))
            out.append(self._pipelines[camera_id].finish())
            self._drop(camera_id)
        for camera_id in sorted(set(self._resume) - set(mine)):
            out.append(self._finish_orphan(self._resume.pop(camera_id)))
        for camera_id, spec in sorted(mine.items()):
            pipeline = self._pipelines.get(camera_id)
            if pipeline is None:
                self._add(camera_id, spec)
            elif spec != pipeline.spec:
                pipeline.update(spec)
        return out

    def _add(self, camera_id: int, spec: CameraSpec) -> None:
        resume = self._resume.pop(camera_id, None)
        try:
            pipeline = CameraPipeline(spec, self.env, resume)
        except (ValueError, OSError) as exc:
            log.error("camera_start_failed", camera_id=str(camera_id), error=str(exc))
            return
        self._pipelines[camera_id] = pipeline
        CAMERAS.inc()
        pipeline.start()

    def _drop(self, camera_id: int) -> None:
        pipeline = self._pipelines.pop(camera_id)
        pipeline.close()
        CAMERAS.dec()

    def _finish_orphan(self, snapshot: CameraSnapshot) -> CameraOutput:
        """A camera removed while the dataflow was down: close the events its state holds."""
        log.info("camera_removed_while_stopped", camera_id=str(snapshot.camera_id))
        rules = CameraRules(str(snapshot.camera_id), (), self.env.rules)
        _, changes = rules.finish(snapshot.rules_state, self.env.clock())
        out = CameraOutput(snapshot.camera_id)
        out.events = [event_row(c) for c in changes]
        out.event_writes = [EventWrite(c.event, None) for c in changes]
        return out

    def snapshot(self) -> SlotSnapshot:
        cameras = {cid: p.snapshot() for cid, p in self._pipelines.items()}
        return SlotSnapshot({**self._resume, **cameras}, frozenset(self._done))

    def close(self) -> None:
        for camera_id in list(self._pipelines):
            self._drop(camera_id)
