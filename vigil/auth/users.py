"""Creating and authenticating users; shared by the API and `vigil seed`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.auth.passwords import (
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


def create_user(session: Session, email: str, password: str) -> User:
    email = normalise_email(email)
    check_password_policy(password, email)
    if get_user_by_email(session, email) is not None:
        raise EmailTakenError(email)
    user = User(email=email, password_hash=hash_password(password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # a concurrent signup won the race
        session.rollback()
        raise EmailTakenError(email) from None
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user when the credentials match; None otherwise, in constant-ish time."""
    user = get_user_by_email(session, email)
    if user is None:
        verify_password(password, DUMMY_HASH)
        return None
    if not user.is_active or not verify_password(password, user.password_hash):
        return None
    return user
