"""RTSP stream URLs: validation and credential masking.

A camera URL may carry credentials (`rtsp://user:pass@host/path`). They are stored so ingest can
connect, but every value shown to a user or written to a log goes through `mask_url` first.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = frozenset({"rtsp", "rtsps"})
MASK = "***"

# RFC 3986 host: a registered name (letters, digits, -, ., _ and %-escapes), IPv4, or [IPv6].
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-_.%]{0,251}[A-Za-z0-9])?$")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
# Anything that looks like `scheme://user:password@` inside free text (ffmpeg stderr, exceptions).
_CREDENTIALS_IN_TEXT = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s]+)@")


class InvalidStreamURL(ValueError):
    """The URL is not a usable RTSP stream address; the message says why."""


def validate_rtsp_url(value: str) -> str:
    """Return the URL unchanged if it is a well-formed rtsp/rtsps address, else raise."""
    if not isinstance(value, str) or not value:
        raise InvalidStreamURL("must be a non-empty rtsp:// or rtsps:// URL")
    if len(value) > MAX_URL_LENGTH:
        raise InvalidStreamURL(f"must be at most {MAX_URL_LENGTH} characters")
    if _CONTROL_OR_SPACE.search(value):
        raise InvalidStreamURL("must not contain whitespace or control characters")
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise InvalidStreamURL(f"is malformed: {exc}") from None
    try:
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError:
        raise InvalidStreamURL("port must be a number between 1 and 65535") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise InvalidStreamURL("must use the rtsp:// or rtsps:// scheme")
    if not parts.netloc or not parts.hostname:
        raise InvalidStreamURL("must include a host")
    if port == 0:
        raise InvalidStreamURL("port must be between 1 and 65535")
    if not _valid_host(parts):
        raise InvalidStreamURL(f"host {parts.hostname!r} is not a valid host name or address")
    if parts.fragment:
        raise InvalidStreamURL("must not contain a #fragment")
    return value


def _valid_host(parts: SplitResult) -> bool:
    host = parts.hostname or ""
    if "[" in parts.netloc:  # bracketed IPv6 literal; urlsplit already checked the brackets
        return ":" in host
    return bool(_HOSTNAME.match(host)) and ".." not in host


def mask_url(url: str) -> str:
    """The URL with its password (if any) replaced by `***`; the user name stays visible."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_credentials_in_text(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))


def mask_credentials_in_text(text: str) -> str:
    """Mask `user:password@` in any URL inside free text such as an FFmpeg error message."""

    def _mask(match: re.Match[str]) -> str:
        user = match.group("userinfo").split(":", 1)[0]
        return f"{match.group('scheme')}{user}:{MASK}@"

    return _CREDENTIALS_IN_TEXT.sub(_mask, text)
