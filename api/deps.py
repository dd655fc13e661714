"""Shared dependencies: settings, database session, the current user, owned resources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.params import CameraIdPath
from vigil.auth.tokens import InvalidTokenError, decode_access_token
from vigil.db.models import Camera, User
from vigil.settings import Settings

TOKEN_URL = "/api/v1/auth/login"  # noqa: S105 (a path, not a secret)
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back if it
    raises (an HTTPException included)."""
    with request.app.state.sessionmaker.begin() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit before the response is sent, so the next request sees the change.
DbDep = Annotated[Session, Depends(get_db, scope="function")]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def current_user(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> User:
    if token is None:
        # Media players (HLS, <video>) cannot send headers; they may pass the token in the URL.
        token = request.query_params.get("access_token")
    if not token:
        raise _unauthorized("not authenticated")
    try:
        user_id = decode_access_token(token, settings.jwt_secret_value())
    except InvalidTokenError:
        raise _unauthorized("invalid or expired token") from None
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        raise _unauthorized("invalid or expired token")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
CameraId = CameraIdPath


def owned_camera(camera_id: CameraId, user: CurrentUser, db: DbDep) -> Camera:
    """The camera if it belongs to the caller; 404 otherwise, so ids of others don't leak."""
    camera = db.scalar(select(Camera).where(Camera.id == camera_id, Camera.owner_id == user.id))
    if camera is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="camera not found")
    return camera


OwnedCamera = Annotated[Camera, Depends(owned_camera)]
