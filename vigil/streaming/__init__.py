"""The detection dataflow's logic in plain Python (no Bytewax): camera specs and catalogs, the
per-camera pipeline, camera slots, and the lake / Kafka / database outputs. `dataflows/` wires
these into Bytewax; tests drive them directly."""
