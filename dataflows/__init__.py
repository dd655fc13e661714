"""Bytewax dataflows: thin wiring over the plain per-camera logic in vigil.streaming."""
