"""JWT access tokens (pyjwt, HS256 only).

Decoding pins the algorithm list, so `alg: none` and algorithm-confusion tokens are refused,
and requires `exp`, `iat` and `sub`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"


class InvalidTokenError(Exception):
    pass


def create_access_token(user_id: int, secret: str, lifetime: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": now, "exp": now + lifetime, "typ": "access"}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> int:
    """The user id in a valid token; raises InvalidTokenError for anything else."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from None
    if claims.get("typ") != "access":
        raise InvalidTokenError("not an access token")
    try:
        return int(claims["sub"])
    except (TypeError, ValueError):
        raise InvalidTokenError("malformed subject") from None
