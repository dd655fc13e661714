"""A camera's alert configuration as the rules see it: the stored row, or the defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Literal, get_args

from vigil.db.models import AlertSettings

Kind = Literal["intrusion", "motion", "face"]
KINDS: tuple[Kind, ...] = get_args(Kind)
DEFAULT_KINDS: tuple[Kind, ...] = ("intrusion",)
DEFAULT_COOLDOWN_SECONDS = 300
MAX_RECIPIENTS = 20
MAX_QUIET_RANGES = 10


@dataclass(frozen=True)
class QuietRange:
    """Local wall-clock times; `end` before `start` spans midnight (22:00 → 07:00)."""

    start: time
    end: time

    def contains(self, when: time) -> bool:
        if self.start <= self.end:
            return self.start <= when < self.end
        return when >= self.start or when < self.end

    @classmethod
    def parse(cls, raw: dict[str, str]) -> QuietRange:
        return cls(time.fromisoformat(raw["start"]), time.fromisoformat(raw["end"]))

    def dump(self) -> dict[str, str]:
        return {"start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M")}


@dataclass(frozen=True)
class AlertConfig:
    camera_id: int
    owner_email: str
    time_zone: str = "UTC"
    email_enabled: bool = True
    kinds: frozenset[str] = frozenset(DEFAULT_KINDS)
    recipients: tuple[str, ...] = ()  # empty: the owner
    cooldowns: dict[str, int] = field(default_factory=dict)
    default_cooldown: int = DEFAULT_COOLDOWN_SECONDS
    quiet_hours: tuple[QuietRange, ...] = ()
    min_confidence: float | None = None
    zone_ids: frozenset[int] | None = None  # None: events of any zone (or none)
    webhook_url: str | None = None
    webhook_secret: str | None = None

    @property
    def email_recipients(self) -> tuple[str, ...]:
        return self.recipients or (self.owner_email,)

    def cooldown(self, kind: str) -> int:
        return int(self.cooldowns.get(kind, self.default_cooldown))

    @classmethod
    def of(
        cls, camera_id: int, owner_email: str, time_zone: str, row: AlertSettings | None
    ) -> AlertConfig:
        if row is None:
            return cls(camera_id, owner_email, time_zone)
        return cls(
            camera_id=camera_id,
            owner_email=owner_email,
            time_zone=time_zone,
            email_enabled=row.email_enabled,
            kinds=frozenset(str(k) for k in row.event_types),
            recipients=tuple(str(r) for r in row.recipients),
            cooldowns={str(k): int(v) for k, v in (row.cooldowns or {}).items()},
            default_cooldown=row.cooldown_seconds,
            quiet_hours=tuple(QuietRange.parse(r) for r in row.quiet_hours or ()),
            min_confidence=row.min_confidence or None,
            zone_ids=None if row.zone_ids is None else frozenset(int(z) for z in row.zone_ids),
            webhook_url=row.webhook_url,
            webhook_secret=row.webhook_secret,
        )
