"""What /healthz of `vigil dataflow` reports: is the dataflow running, and each camera's state.

A camera that is offline does not make the service unhealthy (that's the camera's problem,
reported per camera); a dataflow that stopped or failed does.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass
class CameraHealth:
    status: str | None = None  # online | offline | error; None before the first frame
    error: str | None = None  # credentials masked
    last_frame_ts: datetime | None = None
    frames_analysed: int = 0


class HealthBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cameras: dict[int, CameraHealth] = {}
        self.state = "starting"  # starting | running | stopping | stopped | failed
        self.failure: str | None = None

    def update(self, camera_id: int, **changes: Any) -> None:
        with self._lock:
            camera = self._cameras.setdefault(camera_id, CameraHealth())
            for name, value in changes.items():
                setattr(camera, name, value)

    def analysed(self, camera_id: int, ts: datetime) -> None:
        with self._lock:
            camera = self._cameras.setdefault(camera_id, CameraHealth())
            camera.last_frame_ts = ts
            camera.frames_analysed += 1

    def remove(self, camera_id: int) -> None:
        with self._lock:
            self._cameras.pop(camera_id, None)

    def check(self) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            cameras = {
                str(cid): {
                    **asdict(c),
                    "last_frame_ts": c.last_frame_ts.isoformat() if c.last_frame_ts else None,
                }
                for cid, c in sorted(self._cameras.items())
            }
            healthy = self.state in ("starting", "running")
            details: dict[str, Any] = {
                "dataflow": self.state,
                "checked_at": datetime.now(UTC).isoformat(),
                "cameras": cameras,
            }
            if self.failure:
                details["failure"] = self.failure
            return healthy, details
