"""Sinks of the detection dataflow: the Parquet lake and the database/object store are
partitioned like the camera source (same slot names, so a slot's rows stay on its worker) and
keep their unwritten work in Bytewax's snapshots; Kafka is one producer per worker."""

from __future__ import annotations

from bytewax.outputs import (
    DynamicSink,
    FixedPartitionedSink,
    StatefulSinkPartition,
    StatelessSinkPartition,
)

from vigil.broker import JsonProducer
from vigil.lake.store import lake_from_settings
from vigil.streaming.kafka_output import KafkaOutput
from vigil.streaming.lake_output import LakeOutput, LakeSnapshot
from vigil.streaming.outbox import EventOutbox
from vigil.streaming.outputs import CameraOutput, Heartbeat
from vigil.streaming.runtime import DataflowRuntime
from vigil.streaming.specs import slot_key
from vigil.streaming.store_output import StoreOutput, StoreWork

Value = CameraOutput | Heartbeat
Item = tuple[str, Value]


class LakePartition(StatefulSinkPartition[Value, LakeSnapshot]):
    def __init__(self, output: LakeOutput) -> None:
        self.output = output

    def write_batch(self, values: list[Value]) -> None:
        self.output.write(values)

    def snapshot(self) -> LakeSnapshot:
        return self.output.snapshot()

    def close(self) -> None:
        self.output.close()


class LakeSink(FixedPartitionedSink[Value, LakeSnapshot]):
    def __init__(self, runtime: DataflowRuntime) -> None:
        self.runtime = runtime

    def list_parts(self) -> list[str]:
        return [slot_key(slot) for slot in range(self.runtime.slots)]

    def part_fn(self, item_key: str) -> int:
        return int(item_key)  # items are keyed by their slot: same partition, same worker

    def build_part(
        self, step_id: str, for_part: str, resume_state: LakeSnapshot | None
    ) -> LakePartition:
        s = self.runtime.settings
        return LakePartition(
            LakeOutput(
                lake_from_settings(s),
                for_part,
                roll_seconds=s.lake_roll_seconds,
                roll_rows=s.lake_roll_rows,
                resume=resume_state,
            )
        )


class StorePartition(StatefulSinkPartition[Value, list[StoreWork]]):
    def __init__(self, output: StoreOutput, outbox: EventOutbox | None = None) -> None:
        self.output = output
        self.outbox = outbox

    def write_batch(self, values: list[Value]) -> None:
        self.output.write(values)

    def snapshot(self) -> list[StoreWork]:
        return self.output.snapshot()

    def close(self) -> None:
        self.output.close()
        if self.outbox is not None:
            self.outbox.close()


class StoreSink(FixedPartitionedSink[Value, list[StoreWork]]):
    def __init__(self, runtime: DataflowRuntime) -> None:
        self.runtime = runtime

    def list_parts(self) -> list[str]:
        return [slot_key(slot) for slot in range(self.runtime.slots)]

    def part_fn(self, item_key: str) -> int:
        return int(item_key)

    def build_part(
        self, step_id: str, for_part: str, resume_state: list[StoreWork] | None
    ) -> StorePartition:
        runtime = self.runtime
        outbox = EventOutbox(
            runtime.settings.resolved_database_url,
            JsonProducer(runtime.bootstrap, client_id=f"vigil-store-events-{for_part}"),
            runtime.topics,
            slot=int(for_part),
            slots=runtime.slots,
        )
        return StorePartition(
            StoreOutput(
                runtime.settings.resolved_database_url,
                runtime.object_store,
                for_part,
                resume=resume_state,
                face_reload_seconds=runtime.settings.face_live_reload_seconds,
                face_visit_gap_seconds=runtime.settings.face_visit_gap_seconds,
                outbox=outbox,
            ),
            outbox,
        )


class KafkaPartition(StatelessSinkPartition[Item]):
    def __init__(self, output: KafkaOutput) -> None:
        self.output = output

    def write_batch(self, items: list[Item]) -> None:
        self.output.write(value for _key, value in items)

    def close(self) -> None:
        self.output.close()


class KafkaSink(DynamicSink[Item]):
    def __init__(self, runtime: DataflowRuntime) -> None:
        self.runtime = runtime

    def build(self, step_id: str, worker_index: int, worker_count: int) -> KafkaPartition:
        runtime, s = self.runtime, self.runtime.settings
        return KafkaPartition(
            KafkaOutput(
                runtime.bootstrap,
                runtime.topics,
                worker=worker_index,
                partitions=s.kafka_topic_partitions,
                message_timeout_ms=int(s.kafka_message_timeout_seconds * 1000),
                buffer_max_messages=s.kafka_buffer_max_messages,
            )
        )
