"""When to alert: pure decisions over one opened event and a camera's configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vigil.alerts.config import AlertConfig, QuietRange


@dataclass(frozen=True)
class AlertEvent:
    """What an alert needs of an 'open' change on the events topic."""

    event_id: str
    camera_id: int
    kind: str  # intrusion | motion | face
    opened_at: datetime  # the frame time at which the rules opened it
    start: datetime
    confidence: float
    zone_id: int | None
    people: int
    label: str | None = None  # face: the identity's label

    @classmethod
    def from_record(cls, value: dict[str, Any]) -> AlertEvent | None:
        """The event if `value` opens one; None for updates, closes and foreign records."""
        if value.get("change") != "open":
            return None
        try:
            opened = datetime.fromisoformat(str(value["at"]))
            start = datetime.fromisoformat(str(value.get("start") or value["at"]))
            zone = value.get("zone_id")
            return cls(
                event_id=str(value["event_id"]),
                camera_id=int(value["camera_id"]),
                kind=str(value["type"]),
                opened_at=opened,
                start=start,
                confidence=float(value.get("confidence") or 0.0),
                zone_id=int(zone) if zone is not None else None,
                people=len(value.get("track_ids") or ()),
                label=value.get("label"),
            )
        except (KeyError, TypeError, ValueError):
            return None


def zone_info(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet_hours(ranges: tuple[QuietRange, ...], when: datetime, time_zone: str) -> bool:
    local = when.astimezone(zone_info(time_zone)).time().replace(tzinfo=None)
    return any(r.contains(local) for r in ranges)


def filtered_out(config: AlertConfig, event: AlertEvent) -> str | None:
    """Why no alert is due for `event`, or None if one is."""
    if event.kind not in config.kinds:
        return "kind off"
    if config.min_confidence is not None and event.confidence < config.min_confidence:
        return "below minimum confidence"
    if config.zone_ids is not None and event.zone_id not in config.zone_ids:
        return "zone not selected"
    if in_quiet_hours(config.quiet_hours, event.opened_at, config.time_zone):
        return "quiet hours"
    if not config.email_enabled and not config.webhook_url:
        return "no channel"
    return None


def within_cooldown(last_alert: datetime | None, when: datetime, cooldown_seconds: int) -> bool:
    """True if an alert of the same camera and kind went out less than the cooldown before."""
    if last_alert is None or cooldown_seconds <= 0:
        return False
    return 0 <= (when - last_alert).total_seconds() < cooldown_seconds
