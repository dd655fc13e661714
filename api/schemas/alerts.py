from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, EmailStr, Field, HttpUrl, model_validator

from api.schemas.common import StrictModel
from vigil.alerts.config import (
    DEFAULT_COOLDOWN_SECONDS,
    DEFAULT_KINDS,
    KINDS,
    MAX_QUIET_RANGES,
    MAX_RECIPIENTS,
    AlertConfig,
    Kind,
)

_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
DeliveryStatus = Literal["pending", "sent", "failed", "skipped", "merged"]
Channel = Literal["email", "webhook"]


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())  # scans the tz database: once


def _time_zone(name: str) -> str:
    if name not in _time_zones():
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)")
    return name


TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_time_zone)]
Secret = Annotated[
    str, Field(min_length=16, max_length=128, pattern=r"^[\x21-\x7e]+$", description="HMAC key")
]


class KindSettings(StrictModel):
    enabled: bool
    cooldown_seconds: int = Field(default=DEFAULT_COOLDOWN_SECONDS, ge=0, le=86400)


class QuietHours(StrictModel):
    start: str = Field(pattern=_HHMM, description="local time HH:MM")
    end: str = Field(pattern=_HHMM, description="local time HH:MM; before start: over midnight")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end are the same time")
        return self


def _default_kinds() -> dict[Kind, KindSettings]:
    return {k: KindSettings(enabled=k in DEFAULT_KINDS) for k in KINDS}


def _webhook(url: HttpUrl | None) -> HttpUrl | None:
    if url is not None and url.scheme not in ("http", "https"):
        raise ValueError("the webhook must be an http(s) URL")
    return url


class AlertSettingsUpdate(StrictModel):
    """The whole alert configuration of a camera (fields left out take their defaults)."""

    kinds: dict[Kind, KindSettings] = Field(default_factory=_default_kinds)
    email_enabled: bool = True
    recipients: list[EmailStr] = Field(
        default_factory=list,
        max_length=MAX_RECIPIENTS,
        description="email addresses; empty: the camera owner's",
    )
    quiet_hours: list[QuietHours] = Field(default_factory=list, max_length=MAX_QUIET_RANGES)
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    zone_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        default=None, max_length=64, description="only events of these zones; null: any"
    )
    webhook_url: Annotated[HttpUrl | None, AfterValidator(_webhook)] = Field(
        default=None, description="POSTed a signed JSON body per alert"
    )
    webhook_secret: Secret | None = Field(
        default=None, description="HMAC-SHA256 key; generated when a webhook has none"
    )
    time_zone: TimeZone | None = Field(
        default=None, description="your time zone (all your cameras): quiet hours and subjects"
    )

    @model_validator(mode="after")
    def _unique_recipients(self) -> AlertSettingsUpdate:
        lowered = [str(r).lower() for r in self.recipients]
        if len(set(lowered)) != len(lowered):
            raise ValueError("recipients: an address is listed twice")
        if len(str(self.webhook_url or "")) > 2048:
            raise ValueError("webhook_url: at most 2048 characters")
        return self


class AlertSettingsResponse(BaseModel):
    camera_id: int
    kinds: dict[Kind, KindSettings]
    email_enabled: bool
    recipients: list[str]
    effective_recipients: list[str]
    quiet_hours: list[QuietHours]
    min_confidence: float | None
    zone_ids: list[int] | None
    webhook_url: str | None
    webhook_secret: str | None
    time_zone: str
    smtp_configured: bool

    @classmethod
    def of(cls, config: AlertConfig, *, smtp_configured: bool) -> AlertSettingsResponse:
        return cls(
            camera_id=config.camera_id,
            kinds={
                k: KindSettings(enabled=k in config.kinds, cooldown_seconds=config.cooldown(k))
                for k in KINDS
            },
            email_enabled=config.email_enabled,
            recipients=list(config.recipients),
            effective_recipients=list(config.email_recipients),
            quiet_hours=[QuietHours(**r.dump()) for r in config.quiet_hours],
            min_confidence=config.min_confidence,
            zone_ids=sorted(config.zone_ids) if config.zone_ids is not None else None,
            webhook_url=config.webhook_url,
            webhook_secret=config.webhook_secret,
            time_zone=config.time_zone,
            smtp_configured=smtp_configured,
        )


class DeliveryResponse(BaseModel):
    id: int
    camera_id: int
    event_id: str | None
    channel: Channel
    kind: str
    recipient: str
    status: DeliveryStatus
    error: str | None
    attempts: int
    merged_count: int
    event_ts: datetime | None
    created_at: datetime
    completed_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryResponse]
    next_cursor: str | None


class TestResult(BaseModel):
    deliveries: list[DeliveryResponse]
