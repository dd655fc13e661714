"""Run one retention sweep in this process and SIGKILL it in the middle: after the first
batch's references are committed, before its objects are deleted.

    python -m tests.retention.crash_sweep DATABASE_URL OBJECTS_DIR MEDIA_DIR LAKE_DIR NOW
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from vigil.db.session import session_factory
from vigil.media.paths import MediaPaths
from vigil.retention import RetentionPolicy, sweep
from vigil.storage import LocalObjectStore


def main(url: str, objects: str, media: str, lake: str, now: str) -> None:
    def die(batch: int, done: int, planned: int) -> None:
        if batch == 1:
            os.kill(os.getpid(), signal.SIGKILL)

    sweep(
        session_factory(url),
        LocalObjectStore(Path(objects)),
        MediaPaths(Path(media)),
        Path(lake),
        RetentionPolicy(batch_size=4),
        now=datetime.fromisoformat(now),
        on_batch=die,
    )


if __name__ == "__main__":
    main(*sys.argv[1:6])
