"""How times, durations and statuses read on screen, in the browser's own time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>:$])")
# Badge colour and label per camera status (st.badge colours).
STATUS_BADGES: dict[str, tuple[str, str]] = {
    "online": ("green", "online"),
    "offline": ("orange", "offline"),
    "error": ("red", "error"),
    "unknown": ("gray", "unknown"),
}


def browser_tz() -> tzinfo:
    """The viewer's time zone as the browser reports it; UTC when it does not."""
    try:
        name = st.context.timezone
    except Exception:  # outside a script run (unit tests)
        name = None
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def now() -> datetime:
    return datetime.now(UTC)


def local_time(when: datetime, tz: tzinfo, with_date: bool = True) -> str:
    local = when.astimezone(tz)
    return local.strftime("%a %d %b %H:%M:%S" if with_date else "%H:%M:%S")


def ago(when: datetime | None, reference: datetime) -> str:
    if when is None:
        return "never"
    seconds = (reference - when).total_seconds()
    if seconds < 0:
        return "just now"
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count = int(seconds // size)
            plural = "s" if unit == "day" and count > 1 else ""
            return f"{count} {unit}{plural} ago"
    return "just now" if seconds < 5 else f"{int(seconds)} s ago"


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def status_badge(status: str, enabled: bool = True) -> tuple[str, str]:
    """(label, colour) for a camera's status; a disabled camera says so first."""
    if not enabled:
        return "disabled", "gray"
    colour, label = STATUS_BADGES.get(status, ("gray", status))
    return label, colour


def md(text: str) -> str:
    """User text (a camera's name) made inert inside Streamlit markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def size(num_bytes: float | None) -> str:
    """Bytes for people: 1.5 GB, 820 MB, 12 kB (decimal units, as disks are sold)."""
    if num_bytes is None:
        return "—"
    value = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
