from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import NEVER_REUSED, Base, UTCDateTime, serial_id, utcnow


def new_token_key() -> str:
    return secrets.token_hex(16)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (NEVER_REUSED,)

    id: Mapped[int] = serial_id()
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # IANA name; alert subjects and quiet hours use it.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Admins create the other accounts when signup is closed (the production default).
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Random per user and carried in every token: a token names this very user, never merely
    # an id; changing it signs the user out everywhere.
    token_key: Mapped[str] = mapped_column(String(64), default=new_token_key)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
