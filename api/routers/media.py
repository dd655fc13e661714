"""Live view (HLS) and snapshots of a camera, for its owner only. Paths derive from the camera
id; a requested name is checked against strict patterns (vigil.media.paths) before any file
system access, and anything else is a plain 404."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from api.deps import MediaCamera, SettingsDep
from api.jsonbody import StrictJSONRoute
from vigil.media.paths import PLAYLIST_NAME, InvalidMediaPathError, MediaPaths

router = APIRouter(prefix="/cameras/{camera_id}", tags=["media"], route_class=StrictJSONRoute)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such camera or media"}}
SegmentName = Annotated[str, PathParam(max_length=64)]
NO_STORE = {"Cache-Control": "no-store"}


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="media not found")
    return path


@router.get("/live/index.m3u8", responses=NOT_FOUND, response_class=Response)
def live_playlist(camera: MediaCamera, settings: SettingsDep, request: Request) -> Response:
    """The rolling HLS playlist. With `?access_token=` (players that cannot send headers) the
    segment URIs carry the token too."""
    path = _existing(MediaPaths(settings.media_dir).playlist(camera.id))
    text = path.read_text()
    token = request.query_params.get("access_token")
    if token and not request.headers.get("authorization"):
        suffix = f"?access_token={quote(token, safe='')}"
        text = "\n".join(
            line + suffix if line and not line.startswith("#") else line
            for line in text.splitlines()
        )
    return Response(text, media_type="application/vnd.apple.mpegurl", headers=NO_STORE)


@router.get("/live/{segment}", responses=NOT_FOUND, response_class=FileResponse)
def live_segment(segment: SegmentName, camera: MediaCamera, settings: SettingsDep) -> FileResponse:
    if segment == PLAYLIST_NAME:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="media not found")
    try:
        path = MediaPaths(settings.media_dir).live_file(camera.id, segment)
    except InvalidMediaPathError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="media not found") from None
    return FileResponse(_existing(path), media_type="video/mp2t")


@router.get("/snapshot.jpg", responses=NOT_FOUND, response_class=FileResponse)
def snapshot(camera: MediaCamera, settings: SettingsDep) -> FileResponse:
    """The newest snapshot JPEG, refreshed by ingest every few seconds."""
    path = _existing(MediaPaths(settings.media_dir).snapshot(camera.id))
    return FileResponse(path, media_type="image/jpeg", headers=NO_STORE)
