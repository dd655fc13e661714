"""Login and signup throttling with the `limits` library (memory by default, Redis when
configured).

slowapi's decorator binds one global limiter at import time; a small dependency over `limits`
lets every app instance (and every test) own its limiter and storage.

Logins count against three limits, in this order, and stop at the first one exceeded:
- per (account, client address), tight: one guesser is stopped quickly;
- per client address: spraying many accounts from one place;
- per account, loose: only many addresses together reach it. Since a guesser's refused
  attempts stop at the first limit, they never count towards the account's, so a remote
  guesser cannot lock the owner out of their own account from their own address.
The client address is the connection's peer, or what a trusted proxy says (api.proxies).
"""

from __future__ import annotations

from fastapi import HTTPException, Request, status
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from vigil.logs import get_logger

log = get_logger(__name__)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class AuthRateLimiter:
    def __init__(
        self,
        *,
        pair_limit: str,
        account_limit: str,
        address_limit: str,
        signup_limit: str,
        storage_url: str,
    ) -> None:
        self.pair_limit = parse(pair_limit)
        self.account_limit = parse(account_limit)
        self.address_limit = parse(address_limit)
        self.signup_limit = parse(signup_limit)
        self.storage = storage_from_string(storage_url)
        self.limiter = MovingWindowRateLimiter(self.storage)

    def check_login(self, request: Request, email: str) -> None:
        """Count one attempt; 429 when a limit is exceeded (see the module doc)."""
        account = email.strip().lower()
        client = client_address(request)
        self._hit(
            "too many login attempts, try again later",
            client,
            (self.pair_limit, ("login-pair", account, client)),
            (self.address_limit, ("login-ip", client)),
            (self.account_limit, ("login-email", account)),
        )

    def check_signup(self, request: Request) -> None:
        client = client_address(request)
        self._hit(
            "too many signups from this address, try again later",
            client,
            (self.signup_limit, ("signup-ip", client)),
        )

    def _hit(
        self, message: str, client: str, *checks: tuple[RateLimitItem, tuple[str, ...]]
    ) -> None:
        for limit, key in checks:
            if not self.limiter.hit(limit, *key):
                log.warning("auth_rate_limited", client=client, limit=key[0])
                raise HTTPException(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    detail=message,
                    headers={"Retry-After": str(max(1, int(limit.get_expiry())))},
                )
