"""Argon2 password hashing (pwdlib) and the password policy.

The policy follows NIST SP 800-63B: a minimum length and a block list of common passwords,
no composition rules that push people to `Password1!`.
"""

from __future__ import annotations

from pwdlib import PasswordHash

MIN_LENGTH = 10
MAX_LENGTH = 128  # Argon2 has no limit, but unbounded input is a cheap DoS

_hasher = PasswordHash.recommended()

_COMMON = frozenset(
    {
        "password", "password1", "password12", "password123", "password1234", "passw0rd",
        "123456789", "1234567890", "12345678910", "qwertyuiop", "qwerty1234", "qwerty12345",
        "1q2w3e4r5t", "iloveyou12", "letmein123", "welcome123", "admin12345", "administrator",
        "changeme123", "football12", "baseball12", "sunshine12", "princess12", "trustno1234",
        "0987654321", "abcdefghij", "abc1234567", "aaaaaaaaaa", "1111111111", "0000000000",
    }
)  # fmt: skip


class WeakPasswordError(ValueError):
    pass


def check_password_policy(password: str, email: str | None = None) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"password must be at most {MAX_LENGTH} characters long")
    lowered = password.lower()
    if lowered in _COMMON or len(set(lowered)) < 4:
        raise WeakPasswordError("password is too common or too repetitive; choose another")
    if email and lowered in {email.lower(), email.split("@", 1)[0].lower()}:
        raise WeakPasswordError("password must not be your email address")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


# Verified against when the email is unknown, so a miss costs the same time as a wrong password.
DUMMY_HASH = _hasher.hash("vigil-timing-equaliser")
