"""Shared parameter types: canonical ids and time filters every router uses the same way."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BeforeValidator

MAX_ID = 2**31 - 1
_PLAIN_ID = re.compile(r"[1-9][0-9]{0,9}")


def plain_digits(value: Any) -> Any:
    """One spelling per id: int() would also take `1.0`, ` 1`, `+1`, `01` and non-ASCII
    digits."""
    if isinstance(value, str) and not _PLAIN_ID.fullmatch(value):
        raise ValueError("must be a positive whole number in plain ASCII digits")
    return value


def utc_representable(value: datetime) -> datetime:
    """Aware datetimes whose UTC time exists: `0001-01-01T00:00+05:00` is before year 1 in UTC
    and cannot be compared in the database."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the supported date range") from None
    return value


def id_path(description: str) -> Any:
    return Path(ge=1, le=MAX_ID, description=description)


def id_query(description: str) -> Any:
    return Query(ge=1, le=MAX_ID, description=description)


CameraIdPath = Annotated[int, id_path("camera id"), BeforeValidator(plain_digits)]
ZoneIdPath = Annotated[int, id_path("zone id"), BeforeValidator(plain_digits)]
CameraIdQuery = Annotated[int | None, id_query("only this camera's"), BeforeValidator(plain_digits)]
Instant = Annotated[AwareDatetime, AfterValidator(utc_representable)]
