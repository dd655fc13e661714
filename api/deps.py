"""Shared dependencies: settings, database session, the current user, owned resources."""

from __future__ import annotations

import hmac
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


def _user_for_token(token: str | None, db: Session, settings: Settings) -> User:
    if not token:
        raise _unauthorized("not authenticated")
    try:
        subject = decode_access_token(token, settings.jwt_secret_value())
    except InvalidTokenError:
        raise _unauthorized("invalid or expired token") from None
    user = db.get(User, subject.user_id)
    if (
        user is None
        or not user.is_active
        or not hmac.compare_digest(
            user.token_key.encode(), subject.token_key.encode("utf-8", "surrogatepass")
        )
    ):
        raise _unauthorized("invalid or expired token")
    return user


def current_user(
    db: DbDep, settings: SettingsDep, token: Annotated[str | None, Depends(_bearer)]
) -> User:
    """The caller, from the Authorization header only: a token in a URL leaks into logs,
    history and Referer headers, so only media routes accept one (media_user)."""
    return _user_for_token(token, db, settings)


def media_user(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> User:
    """The caller of a media route: players (HLS, <video>, <img>) cannot send headers, so
    these routes also accept `?access_token=`."""
    if token is None:
        token = request.query_params.get("access_token")
    return _user_for_token(token, db, settings)


CurrentUser = Annotated[User, Depends(current_user)]
MediaUser = Annotated[User, Depends(media_user)]
CameraId = CameraIdPath


def _owned(db: Session, camera_id: int, user: User) -> Camera:
    camera = db.scalar(select(Camera).where(Camera.id == camera_id, Camera.owner_id == user.id))
    if camera is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="camera not found")
    return camera


def owned_camera(camera_id: CameraId, user: CurrentUser, db: DbDep) -> Camera:
    """The camera if it belongs to the caller; 404 otherwise, so ids of others don't leak."""
    return _owned(db, camera_id, user)


def media_camera(camera_id: CameraId, user: MediaUser, db: DbDep) -> Camera:
    """owned_camera for media routes (the token may come in the URL)."""
    return _owned(db, camera_id, user)


OwnedCamera = Annotated[Camera, Depends(owned_camera)]
MediaCamera = Annotated[Camera, Depends(media_camera)]
