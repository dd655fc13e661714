from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from api.schemas.common import StrictModel
from vigil.rules.zones import MAX_DWELL_SECONDS, validate_polygon


def _polygon(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in validate_polygon(points)]


Polygon = Annotated[
    list[tuple[float, float]],
    Field(description="[[x, y], ...] normalised to 0..1 of the frame (x right, y down)"),
    AfterValidator(_polygon),
]
ZoneName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^\S(?:[^\x00-\x1f\x7f]*\S)?$")
]
Dwell = Annotated[float, Field(ge=0, le=MAX_DWELL_SECONDS, description="seconds in the zone")]


class ZoneCreate(StrictModel):
    name: ZoneName
    polygon: Polygon
    intrusion_enabled: bool = True
    min_dwell_seconds: Dwell = 1.0


class ZoneUpdate(StrictModel):
    """Only the fields given are changed; none of them may be null (as for cameras)."""

    name: ZoneName | None = None
    polygon: Polygon | None = None
    intrusion_enabled: bool | None = None
    min_dwell_seconds: Dwell | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class ZoneResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    camera_id: int
    name: str
    polygon: list[tuple[float, float]]
    intrusion_enabled: bool
    min_dwell_seconds: float
    created_at: datetime
    updated_at: datetime
