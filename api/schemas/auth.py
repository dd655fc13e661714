from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api.schemas.common import StrictModel


class SignupRequest(StrictModel):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class UserCreate(SignupRequest):
    """An account an administrator creates (when signup is closed, the only way in)."""

    is_admin: bool = False


class SignupAccepted(BaseModel):
    detail: str


class LoginRequest(StrictModel):
    # Not EmailStr: a malformed email must get the same 401 as a wrong one. Control characters
    # (NUL above all, which PostgreSQL refuses) are still a 422.
    email: str = Field(min_length=1, max_length=320, pattern=r"^[^\x00-\x1f\x7f]+$")
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int = Field(description="seconds until the token expires")


class UserResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    time_zone: str
    is_admin: bool
    created_at: datetime
