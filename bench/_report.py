"""How every benchmark describes the machine it ran on and saves its JSON in bench/results/."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def machine(load_at_start: tuple[float, float, float] | None = None) -> dict[str, Any]:
    """CPU, cores and load: figures from a busy machine are read with that in mind."""
    info: dict[str, Any] = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }
    if load_at_start is not None:
        info["load_average_at_start"] = list(load_at_start)
    info["load_average_at_end"] = list(os.getloadavg())
    return info


def save_report(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
