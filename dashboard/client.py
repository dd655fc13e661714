"""A typed client of the Vigil REST API: the dashboard's only way to data (never the database).

Every failure becomes an `ApiError` whose `message` can be shown to a user as is, and whose
`fields` maps a request field to the API's 422 message, so a form can show it next to the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from dashboard.models import (
    AlertSettings,
    Camera,
    CameraPage,
    DeliveryPage,
    Event,
    EventPage,
    Face,
    FaceDetail,
    FacePage,
    HealthPage,
    HourlyStat,
    HourlyStats,
    SystemStatus,
    TestResult,
    Timeline,
    Token,
    User,
    Zone,
)

API = "/api/v1"
M = TypeVar("M", bound=BaseModel)
_VALUE_ERROR = "Value error, "


class ApiError(Exception):
    """The API refused a request, or could not be reached (status 0)."""

    def __init__(
        self,
        status: int,
        message: str,
        fields: dict[str, str] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}
        self.retry_after = retry_after

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        try:
            detail: Any = response.json().get("detail")
        except (ValueError, AttributeError):
            detail = None
        retry = response.headers.get("retry-after")
        retry_after = int(retry) if retry and retry.isdigit() else None
        if isinstance(detail, list):
            fields = _field_errors(detail)
            message = "; ".join(f"{k}: {v}" if k else v for k, v in fields.items())
            return cls(response.status_code, message or "invalid request", fields, retry_after)
        if isinstance(detail, str) and detail:
            return cls(response.status_code, detail, retry_after=retry_after)
        return cls(response.status_code, f"the API answered HTTP {response.status_code}")


def _field_errors(detail: list[Any]) -> dict[str, str]:
    """FastAPI's `[{loc, msg}]` as {field: message}; the first message per field wins."""
    fields: dict[str, str] = {}
    for item in detail:
        if not isinstance(item, dict):
            continue
        loc = [p for p in item.get("loc", []) if p not in ("body", "query", "path")]
        field = str(loc[0]) if loc and isinstance(loc[0], str) else ""
        message = str(item.get("msg", "invalid value")).removeprefix(_VALUE_ERROR)
        if len(loc) > 1 and isinstance(loc[1], int) and field == "polygon":
            message = f"point {loc[1]}: {message}"  # counted from 0, like the API's own
        fields.setdefault(field, message)
    return fields


@dataclass(frozen=True)
class EventFilter:
    camera_id: int | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_confidence: float | None = None
    has_clip: bool | None = None

    def params(self) -> dict[str, str]:
        values: dict[str, object | None] = {
            "camera_id": self.camera_id,
            "type": self.type,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "min_confidence": self.min_confidence,
            "has_clip": None if self.has_clip is None else str(self.has_clip).lower(),
        }
        return {k: str(v) for k, v in values.items() if v is not None}


class VigilClient:
    """Synchronous client; share one `httpx.Client` (connection pool) between users' clients."""

    def __init__(self, http: httpx.Client, token: str | None = None) -> None:
        self.http = http
        self.token = token

    @classmethod
    def connect(cls, base_url: str, token: str | None = None, timeout: float = 15.0) -> VigilClient:
        return cls(httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout), token)

    def with_token(self, token: str | None) -> VigilClient:
        return VigilClient(self.http, token)

    # --- plumbing ------------------------------------------------------------------------------
    def _send(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self.http.request(method, API + path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise ApiError(
                0, f"cannot reach the Vigil API at {self.http.base_url} ({type(exc).__name__})"
            ) from None
        if response.status_code not in ok:
            raise ApiError.from_response(response)
        return response

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        return model.model_validate_json(self._send("GET", path, params=params).content)

    # --- auth ----------------------------------------------------------------------------------
    def signup(self, email: str, password: str) -> None:
        """The API answers alike whether or not the email was taken: logging in tells."""
        body = {"email": email, "password": password}
        self._send("POST", "/auth/signup", json=body, ok=(202,))

    def login(self, email: str, password: str) -> Token:
        body = {"email": email, "password": password}
        return Token.model_validate_json(self._send("POST", "/auth/login", json=body).content)

    def me(self) -> User:
        return self._get(User, "/auth/me")

    # --- cameras -------------------------------------------------------------------------------
    def cameras(self, limit: int = 200, offset: int = 0) -> CameraPage:
        return self._get(CameraPage, "/cameras", limit=limit, offset=offset)

    def all_cameras(self) -> list[Camera]:
        cameras: list[Camera] = []
        while True:
            page = self.cameras(offset=len(cameras))
            cameras.extend(page.items)
            if not page.items or len(cameras) >= page.total:
                return cameras

    def camera(self, camera_id: int) -> Camera:
        return self._get(Camera, f"/cameras/{camera_id}")

    def create_camera(self, fields: dict[str, Any]) -> Camera:
        response = self._send("POST", "/cameras", json=fields, ok=(201,))
        return Camera.model_validate_json(response.content)

    def update_camera(self, camera_id: int, changes: dict[str, Any]) -> Camera:
        response = self._send("PATCH", f"/cameras/{camera_id}", json=changes)
        return Camera.model_validate_json(response.content)

    def delete_camera(self, camera_id: int) -> None:
        self._send("DELETE", f"/cameras/{camera_id}", ok=(204,))

    def camera_health(self, camera_id: int, limit: int = 20) -> HealthPage:
        return self._get(HealthPage, f"/cameras/{camera_id}/health", limit=limit)

    def camera_snapshot(self, camera_id: int) -> bytes | None:
        """The newest JPEG of the camera, None while it has none yet."""
        response = self._send("GET", f"/cameras/{camera_id}/snapshot.jpg", ok=(200, 404))
        return response.content if response.status_code == 200 else None

    # --- zones ---------------------------------------------------------------------------------
    def zones(self, camera_id: int) -> list[Zone]:
        response = self._send("GET", f"/cameras/{camera_id}/zones")
        return [Zone.model_validate(item) for item in response.json()]

    def create_zone(self, camera_id: int, fields: dict[str, Any]) -> Zone:
        response = self._send("POST", f"/cameras/{camera_id}/zones", json=fields, ok=(201,))
        return Zone.model_validate_json(response.content)

    def update_zone(self, camera_id: int, zone_id: int, changes: dict[str, Any]) -> Zone:
        response = self._send("PATCH", f"/cameras/{camera_id}/zones/{zone_id}", json=changes)
        return Zone.model_validate_json(response.content)

    def delete_zone(self, camera_id: int, zone_id: int) -> None:
        self._send("DELETE", f"/cameras/{camera_id}/zones/{zone_id}", ok=(204,))

    # --- events --------------------------------------------------------------------------------
    def events(self, filters: EventFilter, cursor: str | None = None, limit: int = 50) -> EventPage:
        params: dict[str, Any] = {**filters.params(), "limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._get(EventPage, "/events", **params)

    def iter_events(self, filters: EventFilter, cap: int) -> Iterator[Event]:
        """Every matching event, newest first, at most `cap` of them."""
        cursor: str | None = None
        seen = 0
        while seen < cap:
            page = self.events(filters, cursor, limit=min(200, cap - seen))
            for event in page.items:
                seen += 1
                yield event
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def event(self, event_id: str) -> Event:
        return self._get(Event, f"/events/{event_id}")

    # --- stats ---------------------------------------------------------------------------------
    def hourly_stats(self, since: datetime, until: datetime) -> list[HourlyStat] | None:
        """Hourly counts per camera from `GET /stats/hourly`; None when this API has no such
        endpoint (older versions), so callers can fall back to counting events."""
        params = {"since": since.isoformat(), "until": until.isoformat()}
        response = self._send("GET", "/stats/hourly", params=params, ok=(200, 404))
        if response.status_code == 404:
            return None
        return HourlyStats.model_validate_json(response.content).items

    # --- system --------------------------------------------------------------------------------
    def system(self) -> SystemStatus:
        """Services' health and the caller's cameras' figures, from `GET /system`."""
        return self._get(SystemStatus, "/system")

    # --- alerts --------------------------------------------------------------------------------
    def alert_settings(self, camera_id: int) -> AlertSettings:
        return self._get(AlertSettings, f"/cameras/{camera_id}/alerts")

    def save_alert_settings(self, camera_id: int, body: dict[str, Any]) -> AlertSettings:
        response = self._send("PUT", f"/cameras/{camera_id}/alerts", json=body)
        return AlertSettings.model_validate_json(response.content)

    def send_test_alert(self, camera_id: int) -> TestResult:
        response = self._send("POST", f"/cameras/{camera_id}/alerts/test")
        return TestResult.model_validate_json(response.content)

    def deliveries(
        self,
        camera_id: int | None = None,
        status: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> DeliveryPage:
        params: dict[str, Any] = {"limit": limit}
        for name, value in (("camera_id", camera_id), ("status", status), ("cursor", cursor)):
            if value is not None:
                params[name] = value
        return self._get(DeliveryPage, "/alerts/deliveries", **params)

    # --- faces ---------------------------------------------------------------------------------
    def faces(self, cursor: str | None = None, limit: int = 50, **filters: Any) -> FacePage:
        params = {k: v for k, v in filters.items() if v is not None}
        if cursor:
            params["cursor"] = cursor
        return self._get(FacePage, "/faces", limit=limit, **params)

    def face(self, face_id: int, limit: int = 100) -> FaceDetail:
        return self._get(FaceDetail, f"/faces/{face_id}", limit=limit)

    def face_timeline(
        self, since: datetime, until: datetime, camera_id: int | None = None
    ) -> Timeline:
        params: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat()}
        if camera_id is not None:
            params["camera_id"] = camera_id
        return self._get(Timeline, "/faces/timeline", **params)

    def label_face(self, face_id: int, label: str | None) -> Face:
        response = self._send("PATCH", f"/faces/{face_id}", json={"label": label})
        return Face.model_validate_json(response.content)

    def merge_face(self, face_id: int, into: int) -> Face:
        response = self._send("POST", f"/faces/{face_id}/merge", json={"into": into})
        return Face.model_validate_json(response.content)

    def split_face(self, face_id: int, detection_ids: list[str]) -> Face:
        body = {"detection_ids": detection_ids}
        response = self._send("POST", f"/faces/{face_id}/split", json=body, ok=(201,))
        return Face.model_validate_json(response.content)

    def delete_face(self, face_id: int) -> None:
        self._send("DELETE", f"/faces/{face_id}", ok=(204,))
