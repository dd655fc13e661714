from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import ValidationError

from api.deps import CurrentUser, DbDep, SettingsDep
from api.jsonbody import StrictJSONRoute
from api.schemas.auth import (
    LoginRequest,
    SignupAccepted,
    SignupRequest,
    TokenResponse,
    UserResponse,
)
from vigil.auth.passwords import WeakPasswordError
from vigil.auth.tokens import create_access_token
from vigil.auth.users import (
    EmailTakenError,
    authenticate,
    create_user,
    has_users,
    serialize_signups,
)
from vigil.logs import get_logger

router = APIRouter(prefix="/auth", tags=["auth"], route_class=StrictJSONRoute)
log = get_logger(__name__)

_WRONG_CREDENTIALS = "incorrect email or password"


SIGNUP_ACCEPTED = "signup received: log in with this email and password"
_SIGNUP_DOC: dict[int | str, dict[str, Any]] = {
    202: {"description": "the same answer whether or not the email was already registered"},
    403: {"description": "signup is closed: an administrator creates accounts"},
    422: {"description": "invalid email, or a password that is too easy to guess"},
    429: {"description": "too many signups from this address"},
}


def weak_password(exc: WeakPasswordError) -> HTTPException:
    """422 naming the field and why, never the password."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": ["body", "password"], "msg": str(exc), "type": "weak_password"}],
    )


@router.post(
    "/signup",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SignupAccepted,
    responses=_SIGNUP_DOC,
)
def signup(body: SignupRequest, request: Request, db: DbDep, settings: SettingsDep) -> Any:
    """Open signup answers 202 with the same body whether or not the email was taken (and
    hashes the password either way), so it does not tell which emails have accounts. The
    first account of an install is always accepted and becomes the administrator; after
    that, signup is open only if VIGIL_SIGNUP_OPEN (default: open in development, closed in
    production)."""
    request.app.state.auth_limiter.check_signup(request)
    serialize_signups(db)
    first = not has_users(db)
    if not first and not settings.resolved_signup_open:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="signup is closed: ask an administrator"
        )
    try:
        user = create_user(
            db, body.email, body.password, min_score=settings.password_min_score, is_admin=first
        )
        log.info("user_signed_up", user_id=user.id, admin=first)
    except WeakPasswordError as exc:
        raise weak_password(exc) from None
    except EmailTakenError:
        log.info("signup_email_taken")
    return SignupAccepted(detail=SIGNUP_ACCEPTED)


async def _login_body(request: Request) -> LoginRequest:
    """JSON `{email, password}` or the OAuth2 password form (the /docs Authorize button)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/x-www-form-urlencoded":
            form = await request.form()
            return LoginRequest(
                email=str(form.get("username") or form.get("email") or ""),
                password=str(form.get("password") or ""),
            )
        return LoginRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = [
            {"loc": ["body", *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=errors) from None


_LOGIN_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string", "description": "email"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
        },
    }
}


@router.post(
    "/login",
    response_model=TokenResponse,
    openapi_extra=_LOGIN_BODY_DOC,
    responses={401: {"description": "wrong credentials"}, 429: {"description": "throttled"}},
)
def login(
    request: Request,
    body: Annotated[LoginRequest, Depends(_login_body)],
    db: DbDep,
    settings: SettingsDep,
) -> TokenResponse:
    request.app.state.auth_limiter.check_login(request, body.email)
    user = authenticate(db, body.email, body.password)
    if user is None:
        log.info("login_failed")
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=_WRONG_CREDENTIALS,
            headers={"WWW-Authenticate": "Bearer"},
        )
    lifetime = timedelta(minutes=settings.jwt_lifetime_minutes)
    token = create_access_token(user.id, user.token_key, settings.jwt_secret_value(), lifetime)
    log.info("login_succeeded", user_id=user.id)
    return TokenResponse(access_token=token, expires_in=int(lifetime.total_seconds()))


@router.get("/me", response_model=UserResponse)
def me(user: CurrentUser) -> Any:
    return user
