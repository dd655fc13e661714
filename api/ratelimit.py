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
    def __init__(self, limit: str, storage_url: str) -> None:
        self.limit = parse(limit)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    def check(self, request: Request, email: str) -> None:
        """Count one attempt per client address and per account; refuse with 429 over limit."""
        client = request.client.host if request.client else "unknown"
        keys = (("login-ip", client), ("login-email", email.strip().lower()))
        allowed = [self.limiter.hit(self.limit, *key) for key in keys]
        if not all(allowed):
            log.warning("login_rate_limited", client=client)
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail="too many login attempts, try again later",
                headers={"Retry-After": str(max(1, int(self.limit.get_expiry())))},
            )
