"""Argon2 password hashing (pwdlib) and the password policy.

The policy follows NIST SP 800-63B: a length range and a check against what attackers try
first, with no composition rules that push people to `Password1!`. The check is zxcvbn's
strength estimate (dictionaries, keyboard walks, sequences, repeats, dates, l33t), whose
score 0-4 must reach the configured minimum (VIGIL_PASSWORD_MIN_SCORE).
"""

from __future__ import annotations

from pwdlib import PasswordHash
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128  # Argon2 has no limit, but unbounded input is a cheap DoS
DEFAULT_MIN_SCORE = 3  # zxcvbn: "safely unguessable: moderate protection from offline attack"

_hasher = PasswordHash.recommended()


class WeakPasswordError(ValueError):
    pass


def check_password_policy(
    password: str, email: str | None = None, min_score: int = DEFAULT_MIN_SCORE
) -> None:
    """Raise WeakPasswordError with a message that says why, never the password itself."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"password must be at most {MAX_LENGTH} characters long")
    personal = [email, email.split("@", 1)[0], "vigil"] if email else ["vigil"]
    if email and password.lower() in {p.lower() for p in personal[:2]}:
        raise WeakPasswordError("password must not be your email address")
    result = zxcvbn(password, user_inputs=personal)
    if result["score"] < min_score:
        feedback = result["feedback"]
        hints = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        raise WeakPasswordError(
            "password is too easy to guess; choose another"
            + (f" ({hints.rstrip('.')})" if hints else "")
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


# Verified against when the email is unknown, so a miss costs the same time as a wrong password.
DUMMY_HASH = _hasher.hash("vigil-timing-equaliser")
