"""The detection dataflow: camera slots -> lake, Kafka, database and object store.

    cameras (slot partitions: decode -> motion -> persons -> tracks -> faces -> event rules)
      ├──► lake    Parquet per record type, hive-partitioned, rolled atomically
      ├──► kafka   one topic per record type, keyed by camera
      └──► store   events upserted into the database, JPEGs into the object store

Run it with `vigil dataflow` (see vigil/cli/dataflow.py and the README's scaling section).
"""

from __future__ import annotations

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from dataflows.sinks import KafkaSink, LakeSink, StoreSink
from dataflows.sources import CameraSource
from vigil.streaming.runtime import DataflowRuntime

FLOW_ID = "vigil_detect"


def build_flow(runtime: DataflowRuntime) -> Dataflow:
    flow = Dataflow(FLOW_ID)
    outputs = op.input("cameras", flow, CameraSource(runtime))
    op.output("lake", outputs, LakeSink(runtime))
    op.output("kafka", outputs, KafkaSink(runtime))
    op.output("store", outputs, StoreSink(runtime))
    return flow
