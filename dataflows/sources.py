"""The camera source: one Bytewax partition per camera slot (camera_id % slots).

Bytewax spreads the slots over workers and processes (round-robin), snapshots each slot's
state (tracks, rules, replay positions) at every epoch, and hands it back on resume. A slot
re-reads the camera catalog itself, so cameras come and go without a restart.
"""

from __future__ import annotations

from datetime import datetime

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from vigil.streaming.outputs import CameraOutput, Heartbeat
from vigil.streaming.runtime import DataflowRuntime
from vigil.streaming.slot import CameraSlot, SlotSnapshot
from vigil.streaming.specs import slot_key

Item = tuple[str, CameraOutput | Heartbeat]


class SlotPartition(StatefulSourcePartition[Item, SlotSnapshot]):
    def __init__(self, key: str, slot: CameraSlot, runtime: DataflowRuntime) -> None:
        self.key = key
        self.slot = slot
        self.runtime = runtime

    def next_batch(self) -> list[Item]:
        if self.runtime.stop.is_set() or self.slot.exhausted:
            raise StopIteration  # a clean end: the sinks flush, the state is snapshotted
        return [(self.key, item) for item in self.slot.poll()]

    def next_awake(self) -> datetime | None:
        return self.slot.next_awake()

    def snapshot(self) -> SlotSnapshot:
        return self.slot.snapshot()

    def close(self) -> None:
        self.slot.close()


class CameraSource(FixedPartitionedSource[Item, SlotSnapshot]):
    def __init__(self, runtime: DataflowRuntime) -> None:
        self.runtime = runtime

    def list_parts(self) -> list[str]:
        return [slot_key(slot) for slot in range(self.runtime.slots)]

    def build_part(
        self, step_id: str, for_part: str, resume_state: SlotSnapshot | None
    ) -> SlotPartition:
        runtime = self.runtime
        slot = CameraSlot(
            int(for_part),
            runtime.slots,
            runtime.catalog,
            runtime.env,
            resume_state,
            sync_seconds=runtime.settings.dataflow_sync_seconds,
        )
        return SlotPartition(for_part, slot, runtime)
