"""Retention: per-camera ages and a global size cap over recordings, clips, snapshots, face
thumbnails and the lake, deleting files, objects and rows consistently."""

from vigil.retention.journal import Doomed, DrainReport, drain, enqueue
from vigil.retention.sweep import RetentionPolicy, SweepReport, plan, sweep

__all__ = [
    "Doomed",
    "DrainReport",
    "RetentionPolicy",
    "SweepReport",
    "drain",
    "enqueue",
    "plan",
    "sweep",
]
