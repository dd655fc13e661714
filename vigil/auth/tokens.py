"""JWT access tokens (pyjwt, HS256 only).

Decoding pins the algorithm list, so `alg: none` and algorithm-confusion tokens are refused,
and requires `exp`, `iat`, `sub` and `key`. `sub` is the user id as plain ASCII digits that
fit the id column; `key` is the user's random token key (users.token_key), so a token names
the very user it was issued to: once that user is deleted no later user, whatever its id,
accepts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
MAX_USER_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL
_SUBJECT = re.compile(r"[1-9][0-9]{0,9}")  # re.ASCII is implied by the explicit class


class InvalidTokenError(Exception):
    pass


@dataclass(frozen=True)
class TokenSubject:
    user_id: int
    token_key: str


def create_access_token(user_id: int, token_key: str, secret: str, lifetime: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "key": token_key,
        "iat": now,
        "exp": now + lifetime,
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def parse_user_id(text: object) -> int:
    """A user id from untrusted text: ASCII digits only (no signs, spaces, other scripts'
    digits or underscores, all of which int() accepts) and within the column's range."""
    if not isinstance(text, str) or not _SUBJECT.fullmatch(text):
        raise InvalidTokenError("malformed subject")
    value = int(text)
    if value > MAX_USER_ID:
        raise InvalidTokenError("malformed subject")
    return value


def decode_access_token(token: str, secret: str) -> TokenSubject:
    """Who a valid token names; raises InvalidTokenError for anything else."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "key"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from None
    if claims.get("typ") != "access":
        raise InvalidTokenError("not an access token")
    key = claims["key"]
    if not isinstance(key, str) or not key:
        raise InvalidTokenError("malformed token key")
    return TokenSubject(parse_user_id(claims["sub"]), key)
