"""Login throttling with the `limits` library (memory by default, Redis when configured).

slowapi's decorator binds one global limiter at import time; a small dependency over `limits`
lets every app instance (and every test) own its limiter and storage.
"""

from __future__ import annotations

from fastapi import HTTPException, Request, status
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from vigil.logs import get_logger

log = get_logger(__name__)


class LoginRateLimiter:
    def __init__(self, account_limit: str, address_limit: str, storage_url: str) -> None:
        self.account_limit = parse(account_limit)
        self.address_limit = parse(address_limit)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    def check(self, request: Request, email: str) -> None:
        """Count one attempt for the account and one for the client address; refuse with 429
        when either is over its limit (guessing one password, or spraying many accounts)."""
        client = request.client.host if request.client else "unknown"
        checks = (
            (self.account_limit, ("login-email", email.strip().lower())),
            (self.address_limit, ("login-ip", client)),
        )
        exceeded = [limit for limit, key in checks if not self.limiter.hit(limit, *key)]
        if exceeded:
            log.warning("login_rate_limited", client=client)
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail="too many login attempts, try again later",
                headers={"Retry-After": str(max(1, int(exceeded[0].get_expiry())))},
            )
