"""Accounts an administrator creates: with signup closed (the production default), the way
other people get in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status

from api.deps import CurrentUser, DbDep, SettingsDep
from api.jsonbody import StrictJSONRoute
from api.routers.auth import weak_password
from api.schemas.auth import UserCreate, UserResponse
from vigil.auth.passwords import WeakPasswordError
from vigil.auth.users import EmailTakenError, create_user
from vigil.db.models import User
from vigil.logs import get_logger

router = APIRouter(prefix="/users", tags=["users"], route_class=StrictJSONRoute)
log = get_logger(__name__)


def admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="administrators only")
    return user


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserResponse,
    responses={403: {"description": "not an administrator"}, 409: {}},
)
def create_account(
    body: UserCreate, by: Annotated[User, Depends(admin)], db: DbDep, settings: SettingsDep
) -> Any:
    try:
        user = create_user(
            db,
            body.email,
            body.password,
            min_score=settings.password_min_score,
            is_admin=body.is_admin,
        )
    except WeakPasswordError as exc:
        raise weak_password(exc) from None
    except EmailTakenError:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="email already registered") from None
    log.info("user_created", user_id=user.id, by=by.id, admin=body.is_admin)
    return user
