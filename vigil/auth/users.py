"""Creating and authenticating users; shared by the API and `vigil seed`."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.auth.passwords import (
    DEFAULT_MIN_SCORE,
    DUMMY_HASH,
    check_password_policy,
    hash_password,
    verify_password,
)
from vigil.db.models import User


class EmailTakenError(Exception):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    session: Session,
    email: str,
    password: str,
    *,
    min_score: int = DEFAULT_MIN_SCORE,
    is_admin: bool = False,
) -> User:
    """A new user; WeakPasswordError or EmailTakenError otherwise. The password is hashed
    before the email is looked up, so a taken email costs the same time as a free one."""
    email = normalise_email(email)
    check_password_policy(password, email, min_score)
    password_hash = hash_password(password)
    if get_user_by_email(session, email) is not None:
        raise EmailTakenError(email)
    user = User(email=email, password_hash=password_hash, is_admin=is_admin)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # a concurrent signup won the race
        session.rollback()
        raise EmailTakenError(email) from None
    return user


_SIGNUP_LOCK = 0x5616_11  # any constant: one advisory lock for "who signs up first"


def serialize_signups(session: Session) -> None:
    """Hold signups one at a time until the caller's transaction ends, so two concurrent first
    signups cannot both become the administrator: an advisory lock on PostgreSQL; on SQLite a
    write statement (matching no row) that takes the database's single write lock before the
    transaction reads anything."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SIGNUP_LOCK})
    else:
        session.execute(text("UPDATE users SET is_admin = is_admin WHERE id < 0"))


def has_users(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user when the credentials match; None otherwise, in constant-ish time."""
    user = get_user_by_email(session, email)
    if user is None:
        verify_password(password, DUMMY_HASH)
        return None
    if not user.is_active or not verify_password(password, user.password_hash):
        return None
    return user
